using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Zhongtai.Events;
using Zhongtai.Events.Log;

namespace Zhongtai.Serving;

/// <summary>
/// Appends served lists to the project's event log as <c>exposure</c> events, off the request path. A request encodes
/// its list straight into binary log records (<see cref="EventBinary.WriteExposure"/>) in one pooled buffer and
/// enqueues it (never waits); one loop drains the queue in batches into the log's group commit, so one fsync covers
/// many lists. Nothing here allocates per item. The fields are valid by construction (the engine validated the request;
/// item ids come from the catalog), so the ingestor's validation is not repeated. When the queue is full the oldest
/// waiting list is dropped and counted (<see cref="ServingCounters.ExposureListsDropped"/>).
/// </summary>
internal sealed partial class ExposureLogger
{
    [ThreadStatic]
    private static Scratch? t_scratch;

    private readonly EventLog _log;
    private readonly ServingOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<Chunk> _queue;
    private readonly ChunkBuffers _buffers = new();
    private readonly ConcurrentDictionary<IReadOnlyList<string>, JsonEncodedText> _channelLabels = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentDictionary<string, JsonEncodedText> _buckets = new(StringComparer.Ordinal);
    private const int MaxLabels = 10_000;
    private long _logged;
    private int _labels;

    public ExposureLogger(EventLog log, ServingOptions options, ILogger logger)
    {
        _log = log;
        _options = options;
        _logger = logger;
        _queue = Channel.CreateBounded<Chunk>(
            new BoundedChannelOptions(options.ExposureQueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            dropped =>
            {
                ServingCounters.ListDropped(dropped.Records);
                _buffers.Return(dropped.Buffer);
            });
    }

    /// <summary>Exposure events written so far by this logger.</summary>
    public long Logged => Interlocked.Read(ref _logged);

    /// <summary>Encodes the served list's exposures and queues them for the log.</summary>
    public void Enqueue(RecommendResult result, string userId, string? device, DateTimeOffset now) =>
        Enqueue(userId, result.Scene, result.RequestId, result.Models, result.Bucket, result.Items, 0, device, now);

    /// <summary>Encodes a served list's exposures (positions from <paramref name="firstPosition"/>) and queues them for the log.</summary>
    public void Enqueue(string userId, string scene, string requestId, IReadOnlyList<string> modelList, string? bucketLabel,
        IReadOnlyList<RecommendedItem> items, int firstPosition, string? device, DateTimeOffset now)
    {
        var scratch = t_scratch ??= new Scratch();
        var records = scratch.Records;
        records.ResetWrittenCount();
        var models = Models(modelList, scratch);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            var properties = scratch.Properties;
            properties.ResetWrittenCount();
            var json = scratch.Json(properties);
            json.WriteStartObject();
            json.WriteString("channel"u8, Label(_channelLabels, item.Channels, static names => string.Join(",", names)));
            if (bucketLabel is { } bucket)
            {
                json.WriteString("bucket"u8, Label(_buckets, bucket, static b => b));
            }

            if (models.Length > 0)
            {
                json.WriteString("models"u8, models);
            }

            json.WriteEndObject();
            json.Flush();

            // Each record is prefixed by its length, so the drain loop can slice the chunk.
            var lengthAt = records.WrittenCount;
            records.GetSpan(4);
            records.Advance(4);
            EventBinary.WriteExposure(records, userId, item.ItemId, scene, firstPosition + i, requestId, device, now, properties.WrittenSpan);
            var length = records.WrittenCount - lengthAt - 4;
            BinaryPrimitives.WriteInt32LittleEndian(scratch.RecordsArray.AsSpan(lengthAt), length);
        }

        var buffer = _buffers.Rent(records.WrittenCount);
        records.WrittenSpan.CopyTo(buffer);
        _queue.Writer.TryWrite(new Chunk(buffer, records.WrittenCount, items.Count));
    }

    /// <summary>Drains the queue until <paramref name="cancellationToken"/> is cancelled, then writes what is left.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var chunks = new List<Chunk>();
        var payloads = new List<ReadOnlyMemory<byte>>(_options.ExposureBatchSize);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                await DrainAsync(chunks, payloads).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }

        await DrainAsync(chunks, payloads).ConfigureAwait(false);
    }

    private async Task DrainAsync(List<Chunk> chunks, List<ReadOnlyMemory<byte>> payloads)
    {
        while (true)
        {
            chunks.Clear();
            payloads.Clear();
            while (payloads.Count < _options.ExposureBatchSize && _queue.Reader.TryRead(out var chunk))
            {
                chunks.Add(chunk);
                var memory = chunk.Buffer.AsMemory(0, chunk.Length);
                for (var at = 0; at < chunk.Length;)
                {
                    var length = BinaryPrimitives.ReadInt32LittleEndian(memory.Span[at..]);
                    payloads.Add(memory.Slice(at + 4, length));
                    at += 4 + length;
                }
            }

            if (payloads.Count == 0)
            {
                return;
            }

            try
            {
                await _log.AppendAsync(payloads).ConfigureAwait(false);
                Interlocked.Add(ref _logged, payloads.Count);
                ServingCounters.Logged(payloads.Count);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException or ArgumentException)
            {
                ServingCounters.Failed(payloads.Count);
                LogFailed(_logger, ex, payloads.Count);
            }
            finally
            {
                foreach (var chunk in chunks)
                {
                    _buffers.Return(chunk.Buffer);
                }
            }
        }
    }

    /// <summary>
    /// A label pre-encoded for JSON, cached by its source: channel lists are the engine's per-mask arrays and buckets come
    /// from the experiments file, so the caches stay small; past <see cref="MaxLabels"/> (a caller passing new objects
    /// every time) labels are encoded without caching. <c>ConcurrentDictionary.Count</c> takes every lock, hence the counter.
    /// </summary>
    private JsonEncodedText Label<TKey>(ConcurrentDictionary<TKey, JsonEncodedText> cache, TKey key, Func<TKey, string> text)
        where TKey : notnull
    {
        if (cache.TryGetValue(key, out var label))
        {
            return label;
        }

        label = JsonEncodedText.Encode(text(key));
        if (Volatile.Read(ref _labels) < MaxLabels && cache.TryAdd(key, label))
        {
            Interlocked.Increment(ref _labels);
        }

        return label;
    }

    /// <summary>The models as one comma-separated value, built in the thread's scratch (no string per request).</summary>
    private static ReadOnlySpan<char> Models(IReadOnlyList<string> models, Scratch scratch)
    {
        var length = 0;
        foreach (var model in models)
        {
            length += model.Length + 1;
        }

        if (scratch.Chars.Length < length)
        {
            scratch.Chars = new char[length * 2];
        }

        var written = 0;
        foreach (var model in models)
        {
            if (written > 0)
            {
                scratch.Chars[written++] = ',';
            }

            model.CopyTo(scratch.Chars.AsSpan(written));
            written += model.Length;
        }

        return scratch.Chars.AsSpan(0, written);
    }

    [LoggerMessage(EventId = 6010, Level = LogLevel.Error, Message = "{Count} exposure events could not be logged")]
    private static partial void LogFailed(ILogger logger, Exception exception, int count);

    /// <summary>One served list's records, each prefixed by its i32 length, in a pooled buffer.</summary>
    private readonly record struct Chunk(byte[] Buffer, int Length, int Records);

    /// <summary>
    /// The chunks' buffers: rented on request threads, returned by the drain loop. The shared
    /// <see cref="ArrayPool{T}"/> serves that pattern badly (a returned array lands in the drain thread's cache and the
    /// per-core stacks, which overflow after a large batch, so most rents allocated); a free list of fixed-size buffers
    /// keeps them in circulation. Lists longer than a buffer get an array of their own.
    /// </summary>
    private sealed class ChunkBuffers
    {
        private const int BufferBytes = 8192;
        private const int MaxFree = 512; // 4 MB kept at most
        private readonly ConcurrentQueue<byte[]> _free = new();
        private int _count;

        public byte[] Rent(int length)
        {
            if (length <= BufferBytes && _free.TryDequeue(out var buffer))
            {
                Interlocked.Decrement(ref _count);
                return buffer;
            }

            return new byte[Math.Max(length, BufferBytes)];
        }

        public void Return(byte[] buffer)
        {
            if (buffer.Length == BufferBytes && Interlocked.Increment(ref _count) <= MaxFree)
            {
                _free.Enqueue(buffer);
            }
            else if (buffer.Length == BufferBytes)
            {
                Interlocked.Decrement(ref _count);
            }
        }
    }

    /// <summary>Per-thread buffers of the encoder.</summary>
    private sealed class Scratch
    {
        private Utf8JsonWriter? _json;

        public ArrayBufferWriter<byte> Records { get; } = new(4096);
        public ArrayBufferWriter<byte> Properties { get; } = new(256);
        public char[] Chars { get; set; } = new char[128];

        /// <summary>The array under <see cref="Records"/> (its written span, writable).</summary>
        public byte[] RecordsArray => System.Runtime.InteropServices.MemoryMarshal.TryGetArray(Records.WrittenMemory, out var segment) ? segment.Array! : throw new InvalidOperationException();

        public Utf8JsonWriter Json(IBufferWriter<byte> output)
        {
            if (_json is null)
            {
                _json = new Utf8JsonWriter(output);
            }
            else
            {
                _json.Reset(output);
            }

            return _json;
        }
    }
}

/// <summary>Process-wide counters of the exposure log-back (exported as metrics by the server).</summary>
public static class ServingCounters
{
    private static long s_logged;
    private static long s_dropped;
    private static long s_listsDropped;
    private static long s_failed;

    /// <summary>Exposure events made durable.</summary>
    public static long ExposuresLogged => Interlocked.Read(ref s_logged);

    /// <summary>Exposure events dropped because the queue was full (serving outran the log).</summary>
    public static long ExposuresDropped => Interlocked.Read(ref s_dropped);

    /// <summary>Served lists dropped because the queue was full.</summary>
    public static long ExposureListsDropped => Interlocked.Read(ref s_listsDropped);

    /// <summary>Exposure events the log refused (I/O failure).</summary>
    public static long ExposuresFailed => Interlocked.Read(ref s_failed);

    internal static void Logged(int events) => Interlocked.Add(ref s_logged, events);

    internal static void Failed(int events) => Interlocked.Add(ref s_failed, events);

    internal static void ListDropped(int events)
    {
        Interlocked.Increment(ref s_listsDropped);
        Interlocked.Add(ref s_dropped, events);
    }
}
