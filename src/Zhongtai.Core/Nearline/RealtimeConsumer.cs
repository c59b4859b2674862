using Microsoft.Extensions.Logging;
using Zhongtai.Events;
using Zhongtai.Events.Ingest;
using Zhongtai.Events.Log;
using Zhongtai.Hosting;

namespace Zhongtai.Nearline;

/// <summary>
/// Tails a project's event log and keeps the <see cref="RealtimeState"/> current. Every
/// <see cref="RealtimeOptions.SnapshotSeconds"/> it publishes a snapshot (<c>realtime/state.bin</c>: the state and
/// the offset it covers, in one file replaced atomically) and commits the consumer position. After a crash it loads
/// the snapshot and resumes at the snapshot's offset, so no event is lost or counted twice.
/// </summary>
public sealed partial class RealtimeConsumer
{
    private readonly Project _project;
    private readonly RealtimeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _snapshotPath;
    private readonly Lock _lock = new();
    private readonly Lock _followLock = new();
    private readonly Utf8StringCache _strings = new();
    private readonly Event _event = new();
    private RealtimeState _state;
    private Task _durable = Task.CompletedTask; // the snapshot being made durable in the background, if any

    public RealtimeConsumer(Project project, RealtimeOptions options, TimeProvider time, ILogger logger)
    {
        _project = project;
        _options = options;
        _time = time;
        _logger = logger;
        _snapshotPath = Path.Combine(project.Directory, "realtime", "state.bin");
        _state = LoadSnapshot() ?? new RealtimeState(options);
    }

    /// <summary>
    /// Called after each event is applied, on the consumer's thread, in log order (e.g. <c>RealtimeFeatureFeed.Apply</c>, which
    /// writes realtime counters to the online feature store). Set it before the consumer runs. Default none. The event
    /// is lent for the call: for binary records the consumer reuses it for the next one and leaves its properties,
    /// attributes and turns undecoded, so copy what you keep and read those from the log if you need them.
    /// </summary>
    public Action<long, Event>? Applied { get; set; }

    /// <summary>Runs <paramref name="read"/> against the current state under the consumer's lock (the state changes as events arrive).</summary>
    public T Read<T>(Func<RealtimeState, T> read)
    {
        lock (_lock)
        {
            return read(_state);
        }
    }

    /// <summary>Applies every durable event not yet applied; returns how many.</summary>
    public int CatchUp(int max = int.MaxValue)
    {
        lock (_followLock)
        {
            var applied = 0;
            using var reader = _project.Events.OpenReader(Math.Max(_state.NextOffset, _project.Events.StartOffset));
            while (applied < max && reader.TryRead(out var record))
            {
                Event e;
                if (EventBinary.IsBinary(record.Payload))
                {
                    // Binary records (served lists logged back, most of the log under traffic) are read into one reused
                    // event with cached ids and without their JSON properties: nothing here reads those.
                    EventBinary.ReadInto(record.Payload, _event, _strings, structured: false);
                    e = _event;
                }
                else
                {
                    e = EventCodec.Decode(record.Payload);
                }

                lock (_lock)
                {
                    _state.Apply(record.Offset, e);
                }

                Applied?.Invoke(record.Offset, e);
                applied++;
            }

            return applied;
        }
    }

    /// <summary>
    /// Writes the snapshot (temp file, fsync, rename, directory fsync) and commits the consumer position, waiting for
    /// a snapshot still being made durable in the background first.
    /// </summary>
    public void Publish()
    {
        FollowerThread.Wait(_durable);
        MakeDurable(WriteSnapshot());
    }

    /// <summary>
    /// The loop's publish: the state is written to the temp file under the lock (into the page cache), and the fsync,
    /// rename and commit run in the background while the consumer goes on applying events — under heavy traffic the
    /// fsync of a snapshot with millions of pending exposures took seconds, during which nothing was applied. A publish
    /// that comes due while the previous one is still being made durable waits for the next interval.
    /// </summary>
    private void PublishInBackground()
    {
        if (!_durable.IsCompleted)
        {
            return;
        }

        var next = WriteSnapshot();
        _durable = Task.Run(() =>
        {
            try
            {
                MakeDurable(next);
            }
            catch (IOException ex)
            {
                LogPublishFailed(_logger, ex, _project.Name); // the previous snapshot and position stand; the next interval tries again
            }
        });
    }

    /// <summary>Writes the state to the temp file (not yet durable); returns the offset it covers.</summary>
    private long WriteSnapshot()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_snapshotPath)!);
        using var fs = new FileStream(_snapshotPath + ".tmp", FileMode.Create, FileAccess.Write);
        lock (_lock)
        {
            _state.Save(fs);
            return _state.NextOffset;
        }
    }

    /// <summary>fsyncs the temp file, renames it over the snapshot, fsyncs the directory, then commits <paramref name="next"/>.</summary>
    private void MakeDurable(long next)
    {
        var tmp = _snapshotPath + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Open, FileAccess.ReadWrite))
        {
            fs.Flush(flushToDisk: true); // fsync flushes the file's pages whichever descriptor wrote them
        }

        File.Move(tmp, _snapshotPath, overwrite: true);
        Zhongtai.Storage.Durable.SyncDirectory(Path.GetDirectoryName(_snapshotPath)!);
        _project.Events.Consumer("realtime").Commit(next);
        LogPublished(_logger, _project.Name, next);
    }

    /// <summary>Follows the log until cancelled, publishing a snapshot every interval and once more at the end.</summary>
    public Task RunAsync(CancellationToken cancellationToken) => FollowerThread.Start("zt realtime", () => Run(cancellationToken));

    private void Run(CancellationToken cancellationToken)
    {
        var lastPublish = _time.GetTimestamp();
        var interval = TimeSpan.FromSeconds(_options.SnapshotSeconds);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                CatchUp();
                if (_time.GetElapsedTime(lastPublish) >= interval)
                {
                    PublishInBackground();
                    lastPublish = _time.GetTimestamp();
                }

                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(interval);
                try
                {
                    FollowerThread.Wait(_project.Events.WaitForAsync(_state.NextOffset, timeout.Token));
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        CatchUp();
        Publish();
    }

    private RealtimeState? LoadSnapshot()
    {
        if (!File.Exists(_snapshotPath))
        {
            return null;
        }

        try
        {
            using var fs = File.OpenRead(_snapshotPath);
            var state = RealtimeState.Load(fs, _options);
            LogResumed(_logger, _project.Name, state.NextOffset);
            return state;
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
        {
            // A snapshot is only ever replaced whole, so this is damage at rest: rebuild from the log.
            LogBadSnapshot(_logger, ex, _snapshotPath);
            return null;
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Realtime models of {Project} published at offset {Offset}")]
    private static partial void LogPublished(ILogger logger, string project, long offset);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Error, Message = "The realtime snapshot of {Project} could not be made durable; the previous one stands")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, string project);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Realtime models of {Project} resumed from the snapshot at offset {Offset}")]
    private static partial void LogResumed(ILogger logger, string project, long offset);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Error, Message = "Realtime snapshot {Path} is unreadable; rebuilding from the log")]
    private static partial void LogBadSnapshot(ILogger logger, Exception exception, string path);
}
