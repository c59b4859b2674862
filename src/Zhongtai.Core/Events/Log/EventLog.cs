using System.Buffers;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Zhongtai.Events.Log;

/// <summary>
/// The embedded, durable, append-only log: segmented files of CRC-framed records with dense offsets.
/// Appends from any number of threads go through one writer that batches them into one write and one
/// fsync (group commit); readers see only durable records; a torn tail is truncated on open.
/// </summary>
public sealed partial class EventLog : IAsyncDisposable
{
    private readonly string _directory;
    private readonly EventLogOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<AppendRequest> _requests = Channel.CreateUnbounded<AppendRequest>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _segmentsLock = new();
    private readonly DedupIndex _dedup;
    private readonly Task _writer;
    private readonly CancellationTokenSource _stopping = new();
    private List<Segment> _segments;
    private long _nextOffset;
    private TaskCompletionSource _newData = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _fault;

    private EventLog(string directory, EventLogOptions options, TimeProvider time, ILogger logger, List<Segment> segments)
    {
        _directory = directory;
        _options = options;
        _time = time;
        _logger = logger;
        _segments = segments;
        _nextOffset = segments[^1].NextOffset;
        _dedup = new DedupIndex(options.DedupMaxKeys);
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>The directory holding the segments.</summary>
    public string Directory => _directory;

    /// <summary>The offset the next appended record will get (= the number of records ever appended).</summary>
    public long NextOffset => Volatile.Read(ref _nextOffset);

    /// <summary>The first offset still retained.</summary>
    public long StartOffset
    {
        get
        {
            lock (_segmentsLock)
            {
                return _segments[0].BaseOffset;
            }
        }
    }

    /// <summary>How many durable records the log holds.</summary>
    public long Count => NextOffset - StartOffset;

    /// <summary>Opens (creating if needed) the log in <paramref name="directory"/>, truncating a torn tail.</summary>
    public static EventLog Open(string directory, EventLogOptions options, TimeProvider time, ILogger logger)
    {
        System.IO.Directory.CreateDirectory(directory);
        foreach (var tmp in System.IO.Directory.EnumerateFiles(directory, "*.tmp"))
        {
            File.Delete(tmp);
        }

        var segments = System.IO.Directory.EnumerateFiles(directory, "*.log")
            .Select(p => (Path: p, Name: System.IO.Path.GetFileNameWithoutExtension(p)))
            .Where(x => x.Name.Length == 20 && x.Name.All(char.IsAsciiDigit))
            .Select(x => new Segment(x.Path, long.Parse(x.Name, System.Globalization.CultureInfo.InvariantCulture)))
            .OrderBy(s => s.BaseOffset)
            .ToList();
        if (segments.Count == 0)
        {
            segments.Add(CreateSegmentFile(directory, 0));
        }

        for (var i = 0; i < segments.Count - 1; i++)
        {
            segments[i].Length = new FileInfo(segments[i].Path).Length;
            segments[i].NextOffset = segments[i + 1].BaseOffset;
        }

        var active = segments[^1];
        var fileLength = new FileInfo(active.Path).Length;
        var (length, next, _) = active.Recover(options.MaxRecordBytes);
        if (length < fileLength)
        {
            LogTornTail(logger, active.Path, fileLength - length, length);
            using var fs = new FileStream(active.Path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            fs.SetLength(length);
            fs.Flush(flushToDisk: true);
        }

        active.Length = length;
        active.NextOffset = next;
        active.WriteHandle = File.OpenHandle(active.Path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        var log = new EventLog(directory, options, time, logger, segments);
        log.RebuildDedup();
        LogOpened(logger, directory, log.StartOffset, log.NextOffset, segments.Count);
        return log;
    }

    /// <summary>
    /// Appends records durably (per <see cref="EventLogOptions.Durability"/>) and returns their offsets.
    /// A record whose non-zero key was appended within the dedup window is not written again.
    /// </summary>
    public ValueTask<AppendResult> AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> payloads, IReadOnlyList<UInt128>? keys = null, CancellationToken cancellationToken = default)
    {
        if (keys is not null && keys.Count != payloads.Count)
        {
            throw new ArgumentException("keys must match payloads one to one.", nameof(keys));
        }

        foreach (var p in payloads)
        {
            if (p.Length > _options.MaxRecordBytes)
            {
                throw new ArgumentException($"A record of {p.Length} bytes exceeds MaxRecordBytes ({_options.MaxRecordBytes}).", nameof(payloads));
            }
        }

        if (_fault is not null)
        {
            throw new LogFaultedException("The event log failed an earlier write and accepts no more until it is reopened.", _fault);
        }

        if (payloads.Count == 0)
        {
            return ValueTask.FromResult(new AppendResult([], 0));
        }

        var request = new AppendRequest(payloads, keys, cancellationToken);
        if (!_requests.Writer.TryWrite(request))
        {
            throw new ObjectDisposedException(nameof(EventLog));
        }

        return new ValueTask<AppendResult>(request.Completion.Task);
    }

    /// <summary>
    /// Reads durable records from <paramref name="fromOffset"/> up to (not including) <paramref name="toOffset"/>,
    /// or up to what is durable when the read starts. Throws <see cref="CorruptLogException"/> rather than serve a bad record.
    /// </summary>
    public IEnumerable<LogRecord> Read(long fromOffset, long toOffset = long.MaxValue)
    {
        using var reader = OpenReader(fromOffset, toOffset);
        while (reader.NextCopy() is { } record)
        {
            yield return record;
        }
    }

    /// <summary>
    /// Like <see cref="Read"/>, without copying: <see cref="LogReader.TryRead"/> hands each payload out as a span over
    /// a pooled buffer (followers that tail the log under traffic use this). Dispose the reader.
    /// </summary>
    public LogReader OpenReader(long fromOffset, long toOffset = long.MaxValue)
    {
        (Segment Segment, long Length, long Next)[] view;
        lock (_segmentsLock)
        {
            if (fromOffset < _segments[0].BaseOffset)
            {
                throw new ArgumentOutOfRangeException(nameof(fromOffset), $"Offset {fromOffset} is before the first retained offset {_segments[0].BaseOffset}.");
            }

            view = new (Segment, long, long)[_segments.Count];
            for (var i = 0; i < view.Length; i++)
            {
                view[i] = (_segments[i], _segments[i].Length, _segments[i].NextOffset);
            }
        }

        return new LogReader(view, fromOffset, Math.Min(toOffset, view[^1].Next), _options.MaxRecordBytes);
    }

    /// <summary>Completes when a record at or after <paramref name="offset"/> is durable (or at once if one is).</summary>
    public Task WaitForAsync(long offset, CancellationToken cancellationToken)
    {
        var signal = Volatile.Read(ref _newData);
        return NextOffset > offset ? Task.CompletedTask : signal.Task.WaitAsync(cancellationToken);
    }

    /// <summary>A consumer that reads in order and remembers, durably, how far it got.</summary>
    public LogConsumer Consumer(string name) => new(this, System.IO.Path.Combine(_directory, "consumers"), name);

    /// <summary>Deletes sealed segments past the retention limits. Returns how many were deleted.</summary>
    public int ApplyRetention()
    {
        if (_options.RetentionHours <= 0 && _options.RetentionBytes <= 0)
        {
            return 0;
        }

        var removed = new List<Segment>();
        lock (_segmentsLock)
        {
            var total = _segments.Sum(s => s.Length);
            var cutoff = _time.GetUtcNow().UtcDateTime - TimeSpan.FromHours(_options.RetentionHours);
            while (_segments.Count > 1)
            {
                var oldest = _segments[0];
                var tooOld = _options.RetentionHours > 0 && File.GetLastWriteTimeUtc(oldest.Path) < cutoff;
                var tooBig = _options.RetentionBytes > 0 && total > _options.RetentionBytes;
                if (!tooOld && !tooBig)
                {
                    break;
                }

                total -= oldest.Length;
                _segments = [.. _segments.Skip(1)];
                removed.Add(oldest);
            }
        }

        foreach (var segment in removed)
        {
            File.Delete(segment.Path);
            LogSegmentDeleted(_logger, segment.Path);
        }

        return removed.Count;
    }

    public async ValueTask DisposeAsync()
    {
        _requests.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        _stopping.Dispose();
        lock (_segmentsLock)
        {
            foreach (var s in _segments)
            {
                s.Dispose();
            }
        }
    }

    private static Segment CreateSegmentFile(string directory, long baseOffset)
    {
        var path = System.IO.Path.Combine(directory, Segment.FileName(baseOffset));
        using (File.Open(path, FileMode.CreateNew, FileAccess.Write))
        {
        }

        Zhongtai.Storage.Durable.SyncDirectory(directory);
        return new Segment(path, baseOffset) { NextOffset = baseOffset };
    }

    private void RebuildDedup()
    {
        if (_options.DedupWindowMinutes <= 0 || _options.DedupMaxKeys <= 0)
        {
            return;
        }

        var cutoff = _time.GetUtcNow().ToUnixTimeMilliseconds() - (_options.DedupWindowMinutes * 60_000L);
        // Walk back from the newest segment while its records may be inside the window.
        var first = _segments.Count - 1;
        while (first > 0 && File.GetLastWriteTimeUtc(_segments[first - 1].Path) >= DateTimeOffset.FromUnixTimeMilliseconds(cutoff).UtcDateTime)
        {
            first--;
        }

        for (var i = first; i < _segments.Count; i++)
        {
            try
            {
                foreach (var record in Read(_segments[i].BaseOffset, _segments[i].NextOffset))
                {
                    if (record.Key != 0 && record.IngestTimeMs >= cutoff)
                    {
                        _dedup.Add(record.Key, record.Offset, record.IngestTimeMs);
                    }
                }
            }
            catch (CorruptLogException ex)
            {
                // Keep serving: the corrupt record is refused to readers; its neighbours stay readable by offset.
                LogCorruptSegment(_logger, ex, _segments[i].Path);
            }
        }
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<AppendRequest>();
        var buffer = new ArrayBufferWriter<byte>(1 << 20);
        var pendingKeys = new Dictionary<UInt128, long>();
        while (await _requests.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            if (_options.Durability == Durability.GroupCommit && _options.GroupCommitWindowMs > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(_options.GroupCommitWindowMs), _time).ConfigureAwait(false);
            }

            batch.Clear();
            long bytes = 0;
            while (bytes < 16 << 20 && _requests.Reader.TryRead(out var r))
            {
                batch.Add(r);
                bytes += r.Bytes;
            }

            if (_fault is not null)
            {
                foreach (var r in batch)
                {
                    r.Completion.TrySetException(new LogFaultedException("The event log failed an earlier write.", _fault));
                }

                continue;
            }

            WriteBatch(batch, buffer, pendingKeys);
        }
    }

    private void WriteBatch(List<AppendRequest> batch, ArrayBufferWriter<byte> buffer, Dictionary<UInt128, long> pendingKeys)
    {
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (_options.DedupWindowMinutes > 0)
        {
            _dedup.Evict(nowMs - (_options.DedupWindowMinutes * 60_000L));
        }

        buffer.ResetWrittenCount();
        pendingKeys.Clear();
        var offset = _nextOffset;
        var active = _segments[^1];
        var results = new List<(AppendRequest Request, long[] Offsets, int Duplicates)>(batch.Count);
        foreach (var request in batch)
        {
            if (request.CancellationToken.IsCancellationRequested)
            {
                request.Completion.TrySetCanceled(request.CancellationToken);
                continue;
            }

            var offsets = new long[request.Payloads.Count];
            var duplicates = 0;
            for (var i = 0; i < offsets.Length; i++)
            {
                var key = request.Keys?[i] ?? 0;
                if (key != 0 && (_dedup.TryGet(key, out var existing) || pendingKeys.TryGetValue(key, out existing)))
                {
                    offsets[i] = existing;
                    duplicates++;
                    continue;
                }

                var payload = request.Payloads[i].Span;
                var span = buffer.GetSpan(Segment.HeaderSize + payload.Length);
                Segment.WriteHeader(span, payload.Length, offset, nowMs, key, payload);
                payload.CopyTo(span[Segment.HeaderSize..]);
                buffer.Advance(Segment.HeaderSize + payload.Length);
                if (key != 0)
                {
                    pendingKeys[key] = offset;
                }

                offsets[i] = offset++;
            }

            results.Add((request, offsets, duplicates));
        }

        try
        {
            if (buffer.WrittenCount > 0)
            {
                if (active.Length > 0 && active.Length + buffer.WrittenCount > _options.SegmentBytes)
                {
                    active = Roll(active);
                }

                RandomAccess.Write(active.WriteHandle!, buffer.WrittenSpan, active.Length);
                if (_options.Durability != Durability.OsBuffer)
                {
                    RandomAccess.FlushToDisk(active.WriteHandle!);
                }
            }
        }
        catch (Exception ex)
        {
            // The state of the file after a failed write or fsync is unknown: stop accepting writes.
            _fault = ex;
            LogWriteFailed(_logger, ex, active.Path);
            foreach (var (request, _, _) in results)
            {
                request.Completion.TrySetException(new LogFaultedException("The event log could not make the batch durable.", ex));
            }

            return;
        }

        // Publish: index the new frames, then move the durable end.
        var position = active.Length;
        var frameOffset = _nextOffset;
        var written = buffer.WrittenSpan;
        while (position - active.Length < written.Length)
        {
            var rel = (int)(position - active.Length);
            var size = Segment.HeaderSize + System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(written[rel..]);
            active.NoteFrame(frameOffset++, position, size);
            position += size;
        }

        foreach (var (key, keyOffset) in pendingKeys)
        {
            _dedup.Add(key, keyOffset, nowMs);
        }

        lock (_segmentsLock)
        {
            active.Length = position;
            active.NextOffset = offset;
        }

        Volatile.Write(ref _nextOffset, offset);
        var signal = Interlocked.Exchange(ref _newData, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        signal.TrySetResult();
        foreach (var (request, offsets, duplicates) in results)
        {
            request.Completion.TrySetResult(new AppendResult(offsets, duplicates));
        }
    }

    private Segment Roll(Segment active)
    {
        var next = CreateSegmentFile(_directory, active.NextOffset);
        next.WriteHandle = File.OpenHandle(next.Path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        lock (_segmentsLock)
        {
            active.WriteHandle?.Dispose();
            active.WriteHandle = null;
            _segments = [.. _segments, next];
        }

        LogSegmentRolled(_logger, next.Path, next.BaseOffset);
        ApplyRetention();
        return next;
    }

    private sealed class AppendRequest(IReadOnlyList<ReadOnlyMemory<byte>> payloads, IReadOnlyList<UInt128>? keys, CancellationToken cancellationToken)
    {
        public IReadOnlyList<ReadOnlyMemory<byte>> Payloads { get; } = payloads;
        public IReadOnlyList<UInt128>? Keys { get; } = keys;
        public CancellationToken CancellationToken { get; } = cancellationToken;
        public TaskCompletionSource<AppendResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public long Bytes => Payloads.Sum(p => (long)p.Length + Segment.HeaderSize);
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Event log {Directory} opened: offsets {Start}..{Next}, {Segments} segment(s)")]
    private static partial void LogOpened(ILogger logger, string directory, long start, long next, int segments);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Truncated a torn tail of {Bytes} bytes in {Path}; durable end is {Length}")]
    private static partial void LogTornTail(ILogger logger, string path, long bytes, long length);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Rolled to segment {Path} at offset {Offset}")]
    private static partial void LogSegmentRolled(ILogger logger, string path, long offset);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Retention deleted segment {Path}")]
    private static partial void LogSegmentDeleted(ILogger logger, string path);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Error, Message = "Segment {Path} holds a corrupt record; it is never served")]
    private static partial void LogCorruptSegment(ILogger logger, Exception exception, string path);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Critical, Message = "Write to {Path} failed; the log refuses further writes until reopened")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string path);
}
