using System.Text;
using System.Text.Json;

namespace Zhongtai.Serving;

/// <summary>
/// Reads <c>userId</c>, <c>itemId</c> and <c>timestamp</c> of an <c>exposure</c> log record without materialising the
/// rest. A binary record (what serving logs) is read field by field with repeated ids taken from a string cache; a JSON
/// one straight from its text, skipping everything else (the properties would otherwise each become a
/// <see cref="JsonDocument"/>). Of JSON only the plain shape is accepted — exact property names, each at most once,
/// unescaped — and anything else returns false so that the caller decodes the record whole: for every record the
/// event codec decodes, the fields are the ones the full decode gives. One instance per reader (not thread-safe).
/// </summary>
internal sealed class ExposureScan
{
    private readonly Zhongtai.Events.Utf8StringCache _strings = new();
    private readonly Zhongtai.Events.Event _event = new();

    public bool TryRead(ReadOnlySpan<byte> payload, out string? userId, out string? itemId, out long seconds)
    {
        if (Zhongtai.Events.EventBinary.IsBinary(payload))
        {
            userId = itemId = null;
            seconds = 0;
            if (payload.Length < 2 || payload[1] != Zhongtai.Events.EventBinary.ExposureCode)
            {
                return false;
            }

            Zhongtai.Events.EventBinary.ReadInto(payload, _event, _strings, structured: false);
            (userId, itemId, seconds) = (_event.UserId, _event.ItemId, _event.Timestamp.ToUnixTimeSeconds());
            return true;
        }

        return TryReadJson(payload, out userId, out itemId, out seconds);
    }

    public static bool TryReadJson(ReadOnlySpan<byte> json, out string? userId, out string? itemId, out long seconds)
    {
        userId = itemId = null;
        seconds = 0;
        bool type = false, user = false, item = false, time = false;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    break;
                }

                if (reader.TokenType != JsonTokenType.PropertyName || reader.ValueIsEscaped)
                {
                    return false;
                }

                var name = reader.ValueSpan;
                if (!reader.Read())
                {
                    return false;
                }

                if (name.SequenceEqual("type"u8))
                {
                    if (type || reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped || !reader.ValueSpan.SequenceEqual("exposure"u8))
                    {
                        return false; // not an exposure (or not plain): decode it whole
                    }

                    type = true;
                }
                else if (name.SequenceEqual("userId"u8))
                {
                    if (user || !TryString(ref reader, out userId))
                    {
                        return false;
                    }

                    user = true;
                }
                else if (name.SequenceEqual("itemId"u8))
                {
                    if (item || !TryString(ref reader, out itemId))
                    {
                        return false;
                    }

                    item = true;
                }
                else if (name.SequenceEqual("timestamp"u8))
                {
                    if (time || reader.TokenType != JsonTokenType.String || !reader.TryGetDateTimeOffset(out var timestamp))
                    {
                        return false;
                    }

                    seconds = timestamp.ToUnixTimeSeconds();
                    time = true;
                }
                else if (IsOneOfOurs(name))
                {
                    return false; // another spelling of a field we read: leave it to the decoder's rules
                }
                else
                {
                    reader.Skip();
                }
            }

            return type && time && reader.IsFinalBlock;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool TryString(ref Utf8JsonReader reader, out string? value)
    {
        value = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return true;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            return false;
        }

        value = reader.GetString();
        return true;
    }

    private static bool IsOneOfOurs(ReadOnlySpan<byte> name) =>
        Ascii.EqualsIgnoreCase(name, "type"u8) || Ascii.EqualsIgnoreCase(name, "userid"u8) || Ascii.EqualsIgnoreCase(name, "itemid"u8) || Ascii.EqualsIgnoreCase(name, "timestamp"u8);
}
