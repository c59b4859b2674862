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

    /// <summary>
    /// A partition that received no row during the last this-many input rows has its buffer written as a row group
    /// (its file stays open). Keeps memory low when the log is roughly in time order and hours finish one after
    /// another. Default 16,384.
    /// </summary>
    public int IdleFlushRows { get; set; } = 16_384;

    /// <summary>Part files open at once; past this the least recently written one is finished. Default 32.</summary>
    public int MaxOpenFiles { get; set; } = 32;

    /// <summary>
    /// Rows after which the export commits (finishes its files, renames them into place, writes the checkpoint)
    /// and goes on; bounds the work a crash loses. Default 1,000,000.
    /// </summary>
    public long CommitEveryRows { get; set; } = 1_000_000;

    /// <summary>
    /// fsync part files, the checkpoint and the folders they are renamed in, so a commit survives power loss.
    /// Turning it off keeps crash safety against process crashes (renames stay atomic) but not against power loss;
    /// for throwaway lakes and tests only. Default true.
    /// </summary>
    public bool FlushToDisk { get; set; } = true;

    /// <summary>
    /// Dictionary-encode the repetitive string columns (type, user, scene, request, device, IP, user agent, ...) and
    /// delta-encode offsets; about 40% smaller files. Default true.
    /// </summary>
    public bool ColumnEncodings { get; set; } = true;

    /// <summary>Parquet compression (at its fastest level). Default Snappy.</summary>
    public CompressionMethod Compression { get; set; } = CompressionMethod.Snappy;
}

/// <summary>What one <see cref="LakeExporter.ExportAsync(string, IEnumerable{ValueTuple{long, Event}}, CancellationToken)"/> call did.</summary>
/// <param name="Rows">Rows written by this call.</param>
/// <param name="Files">Part files written by this call.</param>
/// <param name="Partitions">Distinct date/hour partitions written to by this call.</param>
/// <param name="LastOffset">The checkpointed offset after this call (-1 when nothing was ever exported).</param>
/// <param name="Skipped">Input events at or below the previous checkpoint, skipped as already exported.</param>
/// <param name="Commits">Checkpoint commits made by this call.</param>
/// <param name="PeakBufferedRows">The most rows held in memory at once (bounded by the options).</param>
public sealed record ExportResult(long Rows, int Files, int Partitions, long LastOffset, long Skipped, int Commits, long PeakBufferedRows);

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
        if (_options.RowGroupSize < 1 || _options.MaxBufferedRows < 1 || _options.MaxOpenFiles < 1 || _options.CommitEveryRows < 1
            || _options.IdleFlushRows < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Export options must be positive.");
        }
    }

    /// <summary>The checkpoint of a lake (<see cref="LakeCheckpoint.Empty"/> when nothing was exported yet).</summary>
    public static LakeCheckpoint ReadCheckpoint(string lakeDir) => CheckpointFile.Read(lakeDir);

    /// <summary>Exports what a project's lake does not have yet from its log (the lake's checkpoint says where to start).</summary>
    public Task<ExportResult> ExportAsync(Zhongtai.Hosting.Project project, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        var from = Math.Max(project.Events.StartOffset, ReadCheckpoint(project.LakeDirectory).LastOffset + 1);
        return ExportAsync(project.LakeDirectory, Zhongtai.Events.Ingest.EventCodec.ReadEvents(project.Events, from), ct);
    }

    /// <summary>Synchronous <see cref="ExportAsync(string, IEnumerable{ValueTuple{long, Event}}, CancellationToken)"/>.</summary>
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
        if (checkpoint.LastOffset < 0 && Directory.EnumerateFiles(eventsDir, "part-*.parquet", SearchOption.AllDirectories).Any())
        {
            // Without a checkpoint every part would look uncommitted and recovery would delete the lake.
            throw new LakeException(
                $"The lake '{eventsDir}' has part files but no export checkpoint '{LakeLayout.CheckpointPath(lakeDir)}'. " +
                "Restore the checkpoint, or move the part files away to export from scratch.");
        }

        Recover(eventsDir, checkpoint.LastOffset);

        using var run = new ExportRun(eventsDir, _options);
        long skipped = 0, rowsSinceCommit = 0, totalRows = 0;
        long startOffset = checkpoint.LastOffset;
        long lastSeen = startOffset;
        int commits = 0, files = 0;
        var partitions = new HashSet<long>();
        try
        {
            foreach (var (offset, e) in events)
            {
                ct.ThrowIfCancellationRequested();
                if (offset <= lastSeen)
                {
                    if (lastSeen == startOffset)
                    {
                        // The already exported prefix of the log.
                        skipped++;
                        continue;
                    }

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

        return new ExportResult(totalRows, files, partitions.Count, checkpoint.LastOffset, skipped, commits, run.PeakBuffered);
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
        CheckpointFile.Write(lakeDir, next, _options.FlushToDisk);
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

    /// <summary>
    /// The partitions, buffers and uncommitted files of one export call. Rows are buffered per partition; a part file
    /// is opened only when a buffer is written as a row group, so out-of-order timestamps over many hours do not
    /// splinter the output into tiny files. At most <see cref="LakeExportOptions.MaxOpenFiles"/> files are open; past
    /// that the least recently used one is finished.
    /// </summary>
    private sealed class ExportRun(string eventsDir, LakeExportOptions options) : IDisposable
    {
        private readonly Dictionary<long, Partition> _partitions = [];
        private readonly List<(string Temp, string Final)> _finished = [];
        private readonly EventColumns _columns = new(options.RowGroupSize);
        private readonly ParquetOptions _parquet = EventColumns.WriterOptions(options.Compression, options.ColumnEncodings);
        private long _buffered;
        private long _clock;
        private int _openFiles;

        public int LastCommitFiles { get; private set; }

        public long PeakBuffered { get; private set; }

        public async Task AddAsync(long hour, long offset, Event e, CancellationToken ct)
        {
            if (!_partitions.TryGetValue(hour, out var part))
            {
                part = new Partition(hour, Path.Combine(eventsDir, LakeLayout.PartitionPath(hour)));
                _partitions.Add(hour, part);
            }

            part.LastUsed = ++_clock;
            part.Buffer.Add((offset, e));
            PeakBuffered = Math.Max(PeakBuffered, ++_buffered);
            if (part.Buffer.Count >= options.RowGroupSize)
            {
                await FlushAsync(part, ct).ConfigureAwait(false);
            }
            else if (_buffered >= options.MaxBufferedRows)
            {
                var largest = _partitions.Values.MaxBy(p => p.Buffer.Count)!;
                await FlushAsync(largest, ct).ConfigureAwait(false);
            }

            if (_clock % IdleCheckEvery == 0)
            {
                await FlushIdleAsync(ct).ConfigureAwait(false);
            }
        }

        private const int IdleCheckEvery = 1024;

        /// <summary>Writes out the buffers of partitions that stopped receiving rows (finished hours).</summary>
        private async Task FlushIdleAsync(CancellationToken ct)
        {
            foreach (var part in _partitions.Values)
            {
                if (part.Buffer.Count > 0 && _clock - part.LastUsed >= options.IdleFlushRows)
                {
                    await FlushAsync(part, ct).ConfigureAwait(false);
                }
            }
        }

        /// <summary>Writes a partition's buffer as one row group, opening its part file if needed.</summary>
        private async Task FlushAsync(Partition part, CancellationToken ct)
        {
            if (part.Buffer.Count == 0)
            {
                return;
            }

            if (part.File is null)
            {
                if (_openFiles >= options.MaxOpenFiles)
                {
                    var lru = _partitions.Values.Where(p => p.File is not null).MinBy(p => p.LastUsed)!;
                    await FinishAsync(lru, ct).ConfigureAwait(false);
                }

                part.File = await PartFile.CreateAsync(part.Dir, part.Buffer[0].Offset, _parquet, ct).ConfigureAwait(false);
                _openFiles++;
            }

            await _columns.WriteRowGroupAsync(part.File.Writer!, part.Buffer, ct).ConfigureAwait(false);
            part.File.LastOffset = part.Buffer[^1].Offset;
            _buffered -= part.Buffer.Count;
            part.Buffer.Clear();
        }

        /// <summary>Flushes a partition and finishes its open file (footer, fsync, close); the file waits for the commit.</summary>
        private async Task FinishAsync(Partition part, CancellationToken ct)
        {
            await FlushAsync(part, ct).ConfigureAwait(false);
            if (part.File is { } file)
            {
                await file.CloseAsync(options.FlushToDisk).ConfigureAwait(false);
                _finished.Add((file.TempPath, Path.Combine(part.Dir, LakeLayout.PartFileName(file.FirstOffset, file.LastOffset))));
                part.File = null;
                _openFiles--;
            }
        }

        /// <summary>Finishes every partition and renames all finished files into place; returns how many.</summary>
        public async Task<int> CommitFilesAsync(CancellationToken ct)
        {
            foreach (var part in _partitions.Values.OrderBy(p => p.Hour))
            {
                await FinishAsync(part, ct).ConfigureAwait(false);
            }

            _partitions.Clear();
            var dirs = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var (temp, final) in _finished)
            {
                File.Move(temp, final, overwrite: false);
                var hourDir = Path.GetDirectoryName(final)!;
                dirs.Add(hourDir);
                dirs.Add(Path.GetDirectoryName(hourDir)!);
            }

            // The renames, and the partition folders themselves, must be on disk before the checkpoint moves.
            if (options.FlushToDisk && dirs.Count > 0)
            {
                dirs.Add(eventsDir);
                foreach (var dir in dirs.Reverse())
                {
                    Zhongtai.Storage.Durable.SyncDirectory(dir);
                }
            }

            LastCommitFiles = _finished.Count;
            _finished.Clear();
            return LastCommitFiles;
        }

        /// <summary>Deletes every uncommitted file of this call.</summary>
        public void Abort()
        {
            foreach (var part in _partitions.Values)
            {
                if (part.File is { } file)
                {
                    file.DisposeQuietly();
                    TryDelete(file.TempPath);
                    part.File = null;
                }
            }

            _partitions.Clear();
            _openFiles = 0;
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

    /// <summary>One date/hour partition of an export call: rows not yet in a row group and the open part file, if any.</summary>
    private sealed class Partition(long hour, string dir)
    {
        public long Hour { get; } = hour;
        public string Dir { get; } = dir;
        public long LastUsed { get; set; }
        public List<(long Offset, Event Event)> Buffer { get; } = [];
        public PartFile? File { get; set; }
    }

    /// <summary>A part file being written under a temp name in its partition folder.</summary>
    private sealed class PartFile
    {
        public required string TempPath { get; init; }
        public required long FirstOffset { get; init; }
        public long LastOffset { get; set; }
        public FileStream? Stream { get; private set; }
        public ParquetWriter? Writer { get; private set; }

        public static async Task<PartFile> CreateAsync(string dir, long firstOffset, ParquetOptions options, CancellationToken ct)
        {
            Directory.CreateDirectory(dir);
            var temp = Path.Combine(dir, "." + LakeLayout.PartFileName(firstOffset, firstOffset) + ".tmp");
            var file = new PartFile { TempPath = temp, FirstOffset = firstOffset, LastOffset = firstOffset };
            file.Stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
            file.Writer = await ParquetWriter.CreateAsync(EventColumns.Schema, file.Stream, options, false, ct).ConfigureAwait(false);
            return file;
        }

        /// <summary>Writes the footer, fsyncs (when asked) and closes the temp file.</summary>
        public async Task CloseAsync(bool flushToDisk)
        {
            await Writer!.DisposeAsync().ConfigureAwait(false);
            Writer = null;
            Stream!.Flush(flushToDisk);
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
