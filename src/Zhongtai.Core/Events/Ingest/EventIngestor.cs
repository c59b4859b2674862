using System.Buffers;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using Zhongtai.Events.Log;

namespace Zhongtai.Events.Ingest;

/// <summary>
/// Validates batches of events and appends them to a project's log. A batch is all or nothing:
/// if any event is invalid, none is written. Returns only once the batch is durable.
/// </summary>
public sealed class EventIngestor(EventLog log, IngestOptions options, TimeProvider time)
{
    private readonly EventValidator _validator = new(options);

    public IngestOptions Options => options;

    /// <summary>Parses, validates and appends a body (JSON array or NDJSON).</summary>
    public Task<IngestResult> IngestAsync(ReadOnlyMemory<byte> body, bool backfill, CancellationToken cancellationToken)
    {
        if (body.Length > options.MaxBodyBytes)
        {
            throw new EventBatchException([new EventError(-1, "", "too_large", $"The body is {body.Length} bytes; the limit is {options.MaxBodyBytes}.")]);
        }

        var errors = new List<EventError>();
        var events = EventBatchParser.Parse(body.Span, options, errors);
        return IngestAsync(events, backfill, errors, body, cancellationToken);
    }

    /// <summary>Validates and appends events built in-process (importers, the demo world).</summary>
    public Task<IngestResult> IngestAsync(IReadOnlyList<Event> events, bool backfill, CancellationToken cancellationToken)
    {
        for (var i = 0; i < events.Count; i++)
        {
            events[i].BatchIndex = i;
            events[i].Source = default;
        }

        return IngestAsync(events, backfill, [], default, cancellationToken);
    }

    private async Task<IngestResult> IngestAsync(IReadOnlyList<Event> events, bool backfill, List<EventError> errors, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var e in events)
        {
            _validator.Validate(e, now, backfill, errors);
        }

        if (errors.Count > 0)
        {
            errors.Sort((a, b) => a.Index.CompareTo(b.Index));
            throw new EventBatchException(errors);
        }

        if (events.Count == 0)
        {
            return new IngestResult(0, 0, -1, -1, []);
        }

        var (payloads, keys) = Encode(events, body);
        var result = await log.AppendAsync(payloads, keys, cancellationToken).ConfigureAwait(false);
        return new IngestResult(events.Count, result.Duplicates, result.Offsets[0], result.Offsets[^1], result.Offsets);
    }

    /// <summary>
    /// The payload of each event: its JSON exactly as received when it was parsed from a body (validated, so it
    /// decodes to the same event), else its binary record (<see cref="EventBinary"/>). Events without an id are
    /// identified by their offset.
    /// </summary>
    private static (ReadOnlyMemory<byte>[] Payloads, UInt128[] Keys) Encode(IReadOnlyList<Event> events, ReadOnlyMemory<byte> body)
    {
        var payloads = new ReadOnlyMemory<byte>[events.Count];
        var keys = new UInt128[events.Count];
        ArrayBufferWriter<byte>? buffer = null;
        var serialized = new List<(int Index, int Start, int Length)>();
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (e.Id is not null)
            {
                keys[i] = KeyOf(e.Id);
            }

            if (e.Source.Length > 0)
            {
                payloads[i] = body.Slice(e.Source.Start, e.Source.Length);
                continue;
            }

            buffer ??= new ArrayBufferWriter<byte>(events.Count * 128);
            var start = buffer.WrittenCount;
            EventBinary.Write(buffer, e);
            serialized.Add((i, start, buffer.WrittenCount - start));
        }

        foreach (var (index, start, length) in serialized)
        {
            payloads[index] = buffer!.WrittenMemory.Slice(start, length);
        }

        return (payloads, keys);
    }

    /// <summary>The idempotency key of a client-supplied event id (never zero).</summary>
    public static UInt128 KeyOf(string id)
    {
        var key = XxHash128.HashToUInt128(Encoding.UTF8.GetBytes(id));
        return key == 0 ? 1 : key;
    }
}

/// <summary>Turns log records (JSON as received, or <see cref="EventBinary"/>) back into events.</summary>
public static class EventCodec
{
    public static Event Decode(ReadOnlySpan<byte> payload) =>
        EventBinary.IsBinary(payload)
            ? EventBinary.Read(payload)
            : JsonSerializer.Deserialize(payload, EventJsonContext.Default.Event) ?? throw new CorruptLogException("A log record holds a null event.");

    /// <summary>The record as JSON text: as received, or the binary record's event serialized.</summary>
    public static string ToJson(ReadOnlySpan<byte> payload) =>
        EventBinary.IsBinary(payload) ? JsonSerializer.Serialize(EventBinary.Read(payload), EventJsonContext.Default.Event) : Encoding.UTF8.GetString(payload);

    /// <summary>
    /// False only when the record is certainly not of type <paramref name="type"/> (UTF-8), found without decoding it:
    /// a follower that needs one type skips the rest this way.
    /// </summary>
    public static bool MayBeType(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> type)
    {
        if (EventBinary.IsBinary(payload))
        {
            return payload.Length < 2 || payload[1] == 0 || EventBinary.TypeName(payload[1]) is not { } name || Ascii.Equals(type, name);
        }

        try
        {
            var reader = new Utf8JsonReader(payload);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return true;
            }

            var sawType = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isType = !reader.ValueIsEscaped && reader.ValueSpan.SequenceEqual("type"u8);
                if (!reader.Read())
                {
                    return true;
                }

                if (isType)
                {
                    // Every "type" is looked at: whichever the decoder takes, a match is never skipped.
                    if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped || reader.ValueSpan.SequenceEqual(type))
                    {
                        return true;
                    }

                    sawType = true;
                }

                reader.Skip();
            }

            return !sawType;
        }
        catch (JsonException)
        {
            return true; // let the decoder say what is wrong
        }
    }

    /// <summary>Reads events with their offsets from a log.</summary>
    public static IEnumerable<(long Offset, Event Event)> ReadEvents(this EventLog log, long fromOffset, long toOffset = long.MaxValue)
    {
        foreach (var record in log.Read(fromOffset, toOffset))
        {
            yield return (record.Offset, Decode(record.Payload.Span));
        }
    }
}
