using System.Text;
using System.Text.Json;

namespace Zhongtai.Serving;

/// <summary>
/// Reads <c>userId</c>, <c>itemId</c> and <c>timestamp</c> of an <c>exposure</c> log record straight from its JSON,
/// skipping everything else (the properties would otherwise each become a <see cref="JsonDocument"/>). Only the plain
/// shape the event codec writes is accepted — exact property names, each at most once, unescaped — and anything
/// else returns false so that the caller decodes the record whole: for every record the event codec decodes, the
/// fields are the ones the full decode gives.
/// </summary>
internal static class ExposureScan
{
    public static bool TryRead(ReadOnlySpan<byte> json, out string? userId, out string? itemId, out long seconds)
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
