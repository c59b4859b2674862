using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Zhongtai.Events;
using Zhongtai.Events.Ingest;

namespace Zhongtai.Serving;

/// <summary>
/// Appends served lists to the project's event log as <c>exposure</c> events, off the request path: requests enqueue
/// (never wait), one loop drains the queue in batches through the ingestor (validation, then the log's group commit),
/// so one fsync covers many lists. When the queue is full the oldest waiting list is dropped and counted.
/// </summary>
internal sealed partial class ExposureLogger(EventIngestor ingestor, ServingOptions options, ILogger logger)
{
    private readonly Channel<Event[]> _queue = Channel.CreateBounded<Event[]>(
        new BoundedChannelOptions(options.ExposureQueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
        _ => Interlocked.Increment(ref _droppedLists));

    private static long _droppedLists;
    private long _logged;

    /// <summary>Exposure events written so far.</summary>
    public long Logged => Interlocked.Read(ref _logged);

    /// <summary>Served lists dropped because the queue was full (all engines of the process).</summary>
    public static long DroppedLists => Interlocked.Read(ref _droppedLists);

    public void Enqueue(Event[] list) => _queue.Writer.TryWrite(list);

    /// <summary>Drains the queue until <paramref name="cancellationToken"/> is cancelled, then writes what is left.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var batch = new List<Event>(options.ExposureBatchSize);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                await DrainAsync(batch, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }

        await DrainAsync(batch, CancellationToken.None).ConfigureAwait(false);
    }

    private async Task DrainAsync(List<Event> batch, CancellationToken cancellationToken)
    {
        while (true)
        {
            batch.Clear();
            while (batch.Count < options.ExposureBatchSize && _queue.Reader.TryRead(out var list))
            {
                batch.AddRange(list);
            }

            if (batch.Count == 0)
            {
                return;
            }

            try
            {
                await ingestor.IngestAsync(batch.ToArray(), backfill: false, cancellationToken).ConfigureAwait(false);
                Interlocked.Add(ref _logged, batch.Count);
            }
            catch (Exception ex) when (ex is EventBatchException or IOException or InvalidOperationException or ObjectDisposedException)
            {
                LogFailed(logger, ex, batch.Count);
            }
        }
    }

    [LoggerMessage(EventId = 6010, Level = LogLevel.Error, Message = "{Count} exposure events could not be logged")]
    private static partial void LogFailed(ILogger logger, Exception exception, int count);
}
