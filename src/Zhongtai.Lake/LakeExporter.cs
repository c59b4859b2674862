using Parquet;
using Zhongtai.Events;

namespace Zhongtai.Lake;

/// <summary>Options of <see cref="LakeExporter"/>.</summary>
public sealed class LakeExportOptions
{
    /// <summary>Rows per Parquet row group (a partition's buffer is flushed when it reaches this). Default 65,536.</summary>
    public int RowGroupSize { get; set; } = 65_536;

    /// <summary>
    /// Rows buffered over all partitions before the largest buffer is flushed early as a (smaller) row group;
    /// bounds memory when many partitions are active. Default 262,144.
    /// </summary>
    public int MaxBufferedRows { get; set; } = 262_144;

    /// <summary>Part files open at once; past this the least recently written one is finished. Default 32.</summary>
    public int MaxOpenFiles { get; set; } = 32;

    /// <summary>
    /// Rows after which the export commits (finishes its files, renames them into place, writes the checkpoint)
    /// and goes on; bounds the work a crash loses. Default 1,000,000.
    /// </summary>
    public long CommitEveryRows { get; set; } = 1_000_000;

    /// <summary>Parquet compression. Default Snappy.</summary>
    public CompressionMethod Compression { get; set; } = CompressionMethod.Snappy;
}

/// <summary>What one <see cref="LakeExporter.ExportAsync"/> call did.</summary>
/// <param name="Rows">Rows written by this call.</param>
/// <param name="Files">Part files written by this call.</param>
/// <param name="Partitions">Distinct date/hour partitions written to by this call.</param>
/// <param name="LastOffset">The checkpointed offset after this call (-1 when nothing was ever exported).</param>
/// <param name="Skipped">Input events at or below the previous checkpoint, skipped as already exported.</param>
/// <param name="Commits">Checkpoint commits made by this call.</param>
public sealed record ExportResult(long Rows, int Files, int Partitions, long LastOffset, long Skipped, int Commits);

/// <summary>
/// Exports a range of the event log to Parquet under <c>&lt;lakeDir&gt;/events/date=YYYY-MM-DD/hour=HH/</c>,
/// exactly once: part files are written under temporary names, fsync'd and renamed into place at a commit, and
/// only then the checkpoint (<c>events/_export.json</c>) moves to the last offset of the commit. A re-run skips what
/// the checkpoint covers and cleans up what a crash left behind (temp files, parts past the checkpoint).
/// </summary>
public sealed class LakeExporter
{
    private readonly LakeExportOptions _options;
    private readonly TimeProvider _time;

    public LakeExporter(LakeExportOptions? options = null, TimeProvider? time = null)
    {
        _options = options ?? new LakeExportOptions();
        _time = time ?? TimeProvider.System;
        if (_options.RowGroupSize < 1 || _options.MaxBufferedRows < 1 || _options.MaxOpenFiles < 1 || _options.CommitEveryRows < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Export options must be positive.");
        }
    }

    /// <summary>The checkpoint of a lake (<see cref="LakeCheckpoint.Empty"/> when nothing was exported yet).</summary>
    public static LakeCheckpoint ReadCheckpoint(string lakeDir) => CheckpointFile.Read(lakeDir);

    /// <summary>Synchronous <see cref="ExportAsync"/>.</summary>
    public ExportResult Export(string lakeDir, IEnumerable<(long Offset, Event Event)> events, CancellationToken ct = default) =>
        ExportAsync(lakeDir, events, ct).GetAwaiter().GetResult();

    /// <summary>
    /// Exports <paramref name="events"/> (in increasing offset order; those at or below the checkpoint are skipped).
    /// On cancellation or failure the uncommitted files of this call are deleted; earlier commits stay.
    /// </summary>
    public async Task<ExportResult> ExportAsync(string lakeDir, IEnumerable<(long Offset, Event Event)> events, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        var eventsDir = LakeLayout.EventsDir(lakeDir);
        Directory.CreateDirectory(eventsDir);
        using var exportLock = AcquireLock(lakeDir);

        var checkpoint = CheckpointFile.Read(lakeDir);
        Recover(eventsDir, checkpoint.LastOffset);

        using var run = new ExportRun(eventsDir, _options);
        long skipped = 0, rowsSinceCommit = 0, totalRows = 0;
        long lastSeen = checkpoint.LastOffset;
        int commits = 0, files = 0;
        var partitions = new HashSet<long>();
        try
        {
            foreach (var (offset, e) in events)
            {
                ct.ThrowIfCancellationRequested();
                if (offset <= checkpoint.LastOffset)
                {
                    skipped++;
                    continue;
                }

                if (offset <= lastSeen)
                {
                    throw new ArgumentException($"Offsets must increase: {offset} after {lastSeen}.", nameof(events));
                }

                ArgumentNullException.ThrowIfNull(e);
                lastSeen = offset;
                long hour = LakeLayout.HourKey(e.Timestamp);
                partitions.Add(hour);
                await run.AddAsync(hour, offset, e, ct).ConfigureAwait(false);
                rowsSinceCommit++;
                if (rowsSinceCommit >= _options.CommitEveryRows)
                {
                    files += await run.CommitFilesAsync(ct).ConfigureAwait(false);
                    checkpoint = Advance(lakeDir, checkpoint, lastSeen, rowsSinceCommit, run.LastCommitFiles);
                    totalRows += rowsSinceCommit;
                    rowsSinceCommit = 0;
                    commits++;
                }
            }

            if (rowsSinceCommit > 0)
            {
                files += await run.CommitFilesAsync(ct).ConfigureAwait(false);
                checkpoint = Advance(lakeDir, checkpoint, lastSeen, rowsSinceCommit, run.LastCommitFiles);
                totalRows += rowsSinceCommit;
                commits++;
            }
        }
        catch
        {
            run.Abort();
            throw;
        }

        return new ExportResult(totalRows, files, partitions.Count, checkpoint.LastOffset, skipped, commits);
    }

    private LakeCheckpoint Advance(string lakeDir, LakeCheckpoint previous, long lastOffset, long rows, int files)
    {
        var next = previous with
        {
            LastOffset = lastOffset,
            TotalRows = previous.TotalRows + rows,
            TotalFiles = previous.TotalFiles + files,
            UpdatedAt = _time.GetUtcNow(),
        };
        CheckpointFile.Write(lakeDir, next);
        return next;
    }

    private static FileStream AcquireLock(string lakeDir)
    {
        try
        {
            return new FileStream(LakeLayout.LockPath(lakeDir), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new LakeException($"Another export holds the lake lock '{LakeLayout.LockPath(lakeDir)}'.", e);
        }
    }

    /// <summary>
    /// Undoes what a crashed export left: temp files (never visible to readers) and part files whose first offset is
    /// past the checkpoint (renamed into place but not committed).
    /// </summary>
    internal static int Recover(string eventsDir, long checkpointOffset)
    {
        int removed = 0;
        foreach (var path in Directory.EnumerateFiles(eventsDir, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(path);
            bool orphan = name.EndsWith(".tmp", StringComparison.Ordinal)
                || (LakeLayout.TryParsePartFileName(name, out long first, out _) && first > checkpointOffset);
            if (orphan)
            {
                File.Delete(path);
                removed++;
            }
        }

        return removed;
    }

    /// <summary>The open partitions, buffers and uncommitted files of one export call.</summary>
    private sealed class ExportRun(string eventsDir, LakeExportOptions options) : IDisposable
    {
        private readonly Dictionary<long, PartitionFile> _open = [];
        private readonly List<(string Temp, string Final)> _finished = [];
        private readonly EventColumns _columns = new(options.RowGroupSize);
        private readonly ParquetOptions _parquet = new() { CompressionMethod = options.Compression };
        private long _buffered;
        private long _clock;

        public int LastCommitFiles { get; private set; }

        public async Task AddAsync(long hour, long offset, Event e, CancellationToken ct)
        {
            if (!_open.TryGetValue(hour, out var part))
            {
                if (_open.Count >= options.MaxOpenFiles)
                {
                    var lru = _open.Values.MinBy(p => p.LastUsed)!;
                    await FinishAsync(lru, ct).ConfigureAwait(false);
                }

                part = await PartitionFile.CreateAsync(eventsDir, hour, offset, _parquet, ct).ConfigureAwait(false);
                _open.Add(hour, part);
            }

            part.LastUsed = ++_clock;
            part.LastOffset = offset;
            part.Buffer.Add((offset, e));
            _buffered++;
            if (part.Buffer.Count >= options.RowGroupSize)
            {
                await FlushAsync(part, ct).ConfigureAwait(false);
            }
            else if (_buffered >= options.MaxBufferedRows)
            {
                var largest = _open.Values.MaxBy(p => p.Buffer.Count)!;
                await FlushAsync(largest, ct).ConfigureAwait(false);
            }
        }

        private async Task FlushAsync(PartitionFile part, CancellationToken ct)
        {
            if (part.Buffer.Count == 0)
            {
                return;
            }

            await _columns.WriteRowGroupAsync(part.Writer!, part.Buffer, ct).ConfigureAwait(false);
            _buffered -= part.Buffer.Count;
            part.Buffer.Clear();
        }

        private async Task FinishAsync(PartitionFile part, CancellationToken ct)
        {
            await FlushAsync(part, ct).ConfigureAwait(false);
            await part.CloseAsync().ConfigureAwait(false);
            _open.Remove(part.Hour);
            _finished.Add((part.TempPath, Path.Combine(part.Dir, LakeLayout.PartFileName(part.FirstOffset, part.LastOffset))));
        }

        /// <summary>Finishes every open file and renames all finished files into place; returns how many.</summary>
        public async Task<int> CommitFilesAsync(CancellationToken ct)
        {
            foreach (var part in _open.Values.ToList())
            {
                await FinishAsync(part, ct).ConfigureAwait(false);
            }

            foreach (var (temp, final) in _finished)
            {
                File.Move(temp, final, overwrite: false);
            }

            LastCommitFiles = _finished.Count;
            _finished.Clear();
            return LastCommitFiles;
        }

        /// <summary>Deletes every uncommitted file of this call.</summary>
        public void Abort()
        {
            foreach (var part in _open.Values)
            {
                part.DisposeQuietly();
                TryDelete(part.TempPath);
            }

            _open.Clear();
            foreach (var (temp, _) in _finished)
            {
                TryDelete(temp);
            }

            _finished.Clear();
        }

        public void Dispose() => Abort();

        private static void TryDelete(string path)
        {
            try
            {
                File.Delete(path);
            }
            catch (IOException)
            {
                // Left for the next run's recovery, which deletes *.tmp.
            }
        }
    }

    /// <summary>One part file being written: a temp file in its partition folder and the rows not yet in a row group.</summary>
    private sealed class PartitionFile
    {
        public required long Hour { get; init; }
        public required string Dir { get; init; }
        public required string TempPath { get; init; }
        public required long FirstOffset { get; init; }
        public long LastOffset { get; set; }
        public long LastUsed { get; set; }
        public List<(long Offset, Event Event)> Buffer { get; } = [];
        public FileStream? Stream { get; private set; }
        public ParquetWriter? Writer { get; private set; }

        public static async Task<PartitionFile> CreateAsync(string eventsDir, long hour, long firstOffset, ParquetOptions options, CancellationToken ct)
        {
            var dir = Path.Combine(eventsDir, LakeLayout.PartitionPath(hour));
            Directory.CreateDirectory(dir);
            var temp = Path.Combine(dir, "." + LakeLayout.PartFileName(firstOffset, firstOffset) + ".tmp");
            var part = new PartitionFile { Hour = hour, Dir = dir, TempPath = temp, FirstOffset = firstOffset, LastOffset = firstOffset };
            part.Stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
            part.Writer = await ParquetWriter.CreateAsync(EventColumns.Schema, part.Stream, options, false, ct).ConfigureAwait(false);
            return part;
        }

        /// <summary>Writes the footer, fsyncs and closes the temp file.</summary>
        public async Task CloseAsync()
        {
            await Writer!.DisposeAsync().ConfigureAwait(false);
            Writer = null;
            Stream!.Flush(flushToDisk: true);
            await Stream.DisposeAsync().ConfigureAwait(false);
            Stream = null;
        }

        public void DisposeQuietly()
        {
            try
            {
                Writer?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            catch (Exception)
            {
                // The file is deleted next; a failing footer write does not matter.
            }

            Stream?.Dispose();
            Writer = null;
            Stream = null;
        }
    }
}
