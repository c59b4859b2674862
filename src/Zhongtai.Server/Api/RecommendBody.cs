using System.Text;
using System.Text.Json;
using Zhongtai.Serving;

namespace Zhongtai.Server.Api;

/// <summary>
/// Reads a <c>POST /v1/recommend</c> body (the shape of <see cref="RecommendHttpRequest"/>) straight into a
/// <see cref="RecommendRequest"/> with a <see cref="Utf8JsonReader"/>: the hottest endpoint's parse, without the
/// serializer's per-call state (stack frames, constructor arguments, the intermediate records). The contract is the
/// serializer's with <see cref="ApiJsonContext"/>: camelCase names, matched case-sensitively; unknown properties skipped;
/// null for a field means absent; the last of duplicate properties wins. A malformed document or a field of the wrong
/// type throws <see cref="JsonException"/> (the caller answers 400 <c>invalid_json</c>); an attribute filter that is not
/// a string, number or boolean is reported in <c>errors</c> by field (400 <c>invalid_argument</c>). Numbers and
/// booleans in attribute filters keep their JSON text, as <see cref="JsonElement.GetRawText"/> gives it.
/// </summary>
internal static class RecommendBody
{
    public static RecommendRequest Parse(ReadOnlySpan<byte> json, out List<(string Field, string Message)>? errors)
    {
        errors = null;
        var reader = new Utf8JsonReader(json);
        Next(ref reader);
        if (reader.TokenType == JsonTokenType.Null)
        {
            throw new JsonException("The body is null.");
        }

        Expect(ref reader, JsonTokenType.StartObject, "The body must be a JSON object.");
        string? userId = null, scene = null, query = null, category = null, device = null;
        int? count = null;
        List<string>? exclude = null;
        Dictionary<string, string>? attributes = null;
        while (Property(ref reader))
        {
            if (reader.ValueTextEquals("userId"u8))
            {
                userId = String(ref reader, "userId");
            }
            else if (reader.ValueTextEquals("scene"u8))
            {
                scene = String(ref reader, "scene");
            }
            else if (reader.ValueTextEquals("count"u8))
            {
                Next(ref reader);
                count = reader.TokenType switch
                {
                    JsonTokenType.Null => null,
                    JsonTokenType.Number when reader.TryGetInt32(out var n) => n,
                    _ => throw new JsonException("count must be an integer."),
                };
            }
            else if (reader.ValueTextEquals("query"u8))
            {
                query = String(ref reader, "query");
            }
            else if (reader.ValueTextEquals("exclude"u8))
            {
                exclude = Strings(ref reader, "exclude");
            }
            else if (reader.ValueTextEquals("filters"u8))
            {
                (category, attributes) = (null, null);
                if (Object(ref reader, "filters"))
                {
                    while (Property(ref reader))
                    {
                        if (reader.ValueTextEquals("category"u8))
                        {
                            category = String(ref reader, "filters.category");
                        }
                        else if (reader.ValueTextEquals("attributes"u8))
                        {
                            attributes = Attributes(ref reader, ref errors);
                        }
                        else
                        {
                            Skip(ref reader);
                        }
                    }
                }
            }
            else if (reader.ValueTextEquals("context"u8))
            {
                device = null;
                if (Object(ref reader, "context"))
                {
                    while (Property(ref reader))
                    {
                        if (reader.ValueTextEquals("device"u8))
                        {
                            device = String(ref reader, "context.device");
                        }
                        else
                        {
                            Skip(ref reader);
                        }
                    }
                }
            }
            else
            {
                Skip(ref reader);
            }
        }

        if (reader.Read())
        {
            throw new JsonException("The body has content after its object.");
        }

        return new RecommendRequest
        {
            UserId = userId ?? "",
            Scene = scene ?? "home",
            Count = count,
            Query = query,
            Category = category,
            Attributes = attributes,
            Exclude = exclude,
            Device = device,
        };
    }

    private static Dictionary<string, string>? Attributes(ref Utf8JsonReader reader, ref List<(string, string)>? errors)
    {
        if (!Object(ref reader, "filters.attributes"))
        {
            return null;
        }

        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        while (Property(ref reader))
        {
            var key = reader.GetString()!;
            Next(ref reader);
            var text = reader.TokenType switch
            {
                JsonTokenType.String => reader.GetString(),
                JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False => Encoding.UTF8.GetString(reader.ValueSpan),
                _ => null,
            };
            if (text is null)
            {
                reader.Skip();
                (errors ??= []).Add(($"filters.attributes.{key}", $"attribute filter '{key}' must be a string, number or boolean."));
                continue;
            }

            attributes[key] = text;
        }

        return attributes;
    }

    /// <summary>Moves to the next property name of the current object; false at its end.</summary>
    private static bool Property(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        return reader.TokenType == JsonTokenType.PropertyName;
    }

    /// <summary>Reads a property's value: true at the start of an object, false for null.</summary>
    private static bool Object(ref Utf8JsonReader reader, string field)
    {
        Next(ref reader);
        if (reader.TokenType == JsonTokenType.Null)
        {
            return false;
        }

        Expect(ref reader, JsonTokenType.StartObject, $"{field} must be an object.");
        return true;
    }

    private static string? String(ref Utf8JsonReader reader, string field)
    {
        Next(ref reader);
        return reader.TokenType switch
        {
            JsonTokenType.Null => null,
            JsonTokenType.String => reader.GetString(),
            _ => throw new JsonException($"{field} must be a string."),
        };
    }

    private static List<string>? Strings(ref Utf8JsonReader reader, string field)
    {
        Next(ref reader);
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        Expect(ref reader, JsonTokenType.StartArray, $"{field} must be an array of strings.");
        var values = new List<string>();
        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndArray)
            {
                return values;
            }

            Expect(ref reader, JsonTokenType.String, $"{field} must be an array of strings.");
            values.Add(reader.GetString()!);
        }
    }

    private static void Skip(ref Utf8JsonReader reader)
    {
        Next(ref reader);
        reader.Skip();
    }

    private static void Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("The body ends too early.");
        }
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string message)
    {
        if (reader.TokenType != type)
        {
            throw new JsonException(message);
        }
    }
}
