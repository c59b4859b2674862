using System.Text.Json;
using System.Text.Unicode;

namespace Zhongtai.Events.Ingest;

/// <summary>Parses a request body (a JSON array, or NDJSON: one JSON object a line) into events, each error tied to its event.</summary>
public static class EventBatchParser
{
    /// <summary>Parses <paramref name="body"/>; <paramref name="errors"/> gets one entry per unparseable event (or one for the body).</summary>
    public static List<Event> Parse(ReadOnlySpan<byte> body, IngestOptions options, List<EventError> errors)
    {
        var events = new List<Event>();
        if (!Utf8.IsValid(body))
        {
            errors.Add(new EventError(-1, "", "invalid_utf8", "The body is not valid UTF-8."));
            return events;
        }

        var trimmed = TrimStart(body);
        if (trimmed.IsEmpty)
        {
            errors.Add(new EventError(-1, "", "empty_body", "The body is empty: send a JSON array or NDJSON of events."));
            return events;
        }

        if (trimmed[0] == (byte)'[')
        {
            ParseArray(body, options, events, errors);
        }
        else
        {
            ParseLines(body, options, events, errors);
        }

        if (events.Count + errors.Count(e => e.Index >= 0) > options.MaxEventsPerBatch)
        {
            errors.Add(new EventError(-1, "", "too_many_events", $"A batch holds at most {options.MaxEventsPerBatch} events."));
        }

        return events;
    }

    private static void ParseArray(ReadOnlySpan<byte> body, IngestOptions options, List<Event> events, List<EventError> errors)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 32 });
        var index = 0;
        try
        {
            reader.Read(); // [
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var start = (int)reader.TokenStartIndex;
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    errors.Add(new EventError(index++, "", "invalid_value", "Each element of the array must be a JSON object."));
                    continue;
                }

                reader.Skip();
                var end = (int)reader.BytesConsumed;
                ParseOne(body, start, end - start, index++, options, events, errors);
            }

            if (reader.TokenType != JsonTokenType.EndArray || (reader.Read() && reader.TokenType != JsonTokenType.None))
            {
                throw new JsonException("Unexpected content after the array.");
            }
        }
        catch (JsonException ex)
        {
            errors.Add(new EventError(-1, "", "malformed_json", $"Malformed JSON at byte {reader.BytesConsumed}: {FirstLine(ex.Message)}"));
        }
    }

    private static void ParseLines(ReadOnlySpan<byte> body, IngestOptions options, List<Event> events, List<EventError> errors)
    {
        var whole = body;
        var index = 0;
        var line = 0;
        while (!body.IsEmpty)
        {
            var nl = body.IndexOf((byte)'\n');
            var current = nl < 0 ? body : body[..nl];
            body = nl < 0 ? [] : body[(nl + 1)..];
            line++;
            if (TrimStart(current).IsEmpty)
            {
                continue;
            }

            try
            {
                var reader = new Utf8JsonReader(current);
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    errors.Add(new EventError(index++, "", "invalid_value", $"Line {line} is not a JSON object."));
                    continue;
                }

                reader.Skip();
                if (reader.Read())
                {
                    throw new JsonException("Unexpected content after the object.");
                }
            }
            catch (JsonException ex)
            {
                errors.Add(new EventError(index++, "", "malformed_json", $"Line {line}: {FirstLine(ex.Message)}"));
                continue;
            }

            ParseOne(whole, whole.Length - body.Length - current.Length - (nl < 0 ? 0 : 1), current.Length, index++, options, events, errors);
        }
    }

    private static void ParseOne(ReadOnlySpan<byte> body, int start, int length, int index, IngestOptions options, List<Event> events, List<EventError> errors)
    {
        var json = body.Slice(start, length);
        if (json.Length > options.MaxEventBytes)
        {
            errors.Add(new EventError(index, "", "too_large", $"The event is {json.Length} bytes; the limit is {options.MaxEventBytes}."));
            return;
        }

        try
        {
            var e = JsonSerializer.Deserialize(json, EventJsonContext.Default.Event);
            if (e is null)
            {
                errors.Add(new EventError(index, "", "invalid_value", "The event is null."));
                return;
            }

            // Parsed events carry their batch index so validation errors point at the right element.
            events.Add(e);
            e.BatchIndex = index;
            e.Source = (start, length);
        }
        catch (JsonException ex)
        {
            var field = ex.Path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal) ? p[2..] : "";
            var message = FirstLine(ex.Message);
            var code = message.Contains("could not be mapped", StringComparison.Ordinal) ? "unknown_field" : "invalid_value";
            if (code == "unknown_field")
            {
                field = ExtractQuoted(message) ?? field;
                message = $"Unknown field '{field}'; put free data in 'properties'.";
            }
            else if (message.Contains("could not be converted", StringComparison.Ordinal))
            {
                message = field.Length > 0 ? $"{field} has the wrong JSON type or an invalid value." : "The event has a value of the wrong JSON type.";
            }

            errors.Add(new EventError(index, field, code, message));
        }
    }

    private static ReadOnlySpan<byte> TrimStart(ReadOnlySpan<byte> s) => s.TrimStart(" \t\r\n"u8);

    private static string FirstLine(string message)
    {
        var i = message.IndexOf(". Path:", StringComparison.Ordinal);
        return i > 0 ? message[..(i + 1)] : message;
    }

    private static string? ExtractQuoted(string message)
    {
        var a = message.IndexOf('\'', StringComparison.Ordinal);
        var b = a < 0 ? -1 : message.IndexOf('\'', a + 1);
        return b > a ? message[(a + 1)..b] : null;
    }
}
