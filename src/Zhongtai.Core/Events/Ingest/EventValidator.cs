using System.Text.Json;

namespace Zhongtai.Events.Ingest;

/// <summary>The rules an event must satisfy to enter the log.</summary>
public sealed class EventValidator(IngestOptions options)
{
    private static readonly HashSet<string> Roles = new(StringComparer.Ordinal) { "system", "user", "assistant", "tool" };
    private readonly HashSet<string> _types = new(EventTypes.Behaviour.Concat([EventTypes.Item, EventTypes.User, EventTypes.Conversation]).Concat(options.CustomTypes), StringComparer.Ordinal);

    /// <summary>Appends to <paramref name="errors"/> every rule <paramref name="e"/> breaks.</summary>
    /// <param name="backfill">Historical import: the maximum-age window does not apply.</param>
    public void Validate(Event e, DateTimeOffset now, bool backfill, List<EventError> errors)
    {
        var i = e.BatchIndex;
        void Error(string field, string code, string message) => errors.Add(new EventError(i, field, code, message));

        CheckId(e.Id, "id", required: false);
        if (string.IsNullOrEmpty(e.Type))
        {
            Error("type", "missing_field", "type is required.");
            return;
        }

        if (!_types.Contains(e.Type))
        {
            Error("type", "unknown_type", $"Unknown event type '{Truncate(e.Type)}'. Known: {string.Join(", ", _types.Order(StringComparer.Ordinal))} (declare others in Events:Ingest:CustomTypes).");
            return;
        }

        if (e.Timestamp == default)
        {
            Error("timestamp", "missing_field", "timestamp is required (ISO 8601, e.g. 2026-11-22T10:00:00Z).");
        }
        else if (e.Timestamp > now.AddSeconds(options.MaxFutureSkewSeconds))
        {
            Error("timestamp", "out_of_window", $"timestamp {e.Timestamp:O} is more than {options.MaxFutureSkewSeconds}s in the future.");
        }
        else if (!backfill && e.Timestamp < now.AddHours(-options.MaxAgeHours))
        {
            Error("timestamp", "out_of_window", $"timestamp {e.Timestamp:O} is older than {options.MaxAgeHours}h; import history with backfill.");
        }

        switch (e.Type)
        {
            case EventTypes.Item:
                CheckId(e.ItemId, "itemId", required: true);
                CheckText(e.Title, "title", 1_000);
                CheckText(e.Text, "text", 32_000);
                CheckText(e.Category, "category", options.MaxIdLength);
                CheckTags();
                CheckMap(e.Attributes, "attributes");
                break;
            case EventTypes.User:
                CheckId(e.UserId, "userId", required: true);
                CheckMap(e.Attributes, "attributes");
                break;
            case EventTypes.Conversation:
                CheckId(e.SessionId, "sessionId", required: true);
                CheckId(e.UserId, "userId", required: false);
                if (e.Turns is not { Length: > 0 })
                {
                    Error("turns", "missing_field", "A conversation needs at least one turn.");
                }
                else
                {
                    for (var t = 0; t < e.Turns.Length; t++)
                    {
                        if (e.Turns[t] is null || !Roles.Contains(e.Turns[t].Role))
                        {
                            Error($"turns[{t}].role", "invalid_value", "role must be system, user, assistant or tool.");
                        }
                    }
                }

                break;
            default:
                CheckId(e.UserId, "userId", required: true);
                CheckId(e.ItemId, "itemId", required: true);
                if (e.Type is EventTypes.Dwell && e.Value is not >= 0)
                {
                    Error("value", e.Value is null ? "missing_field" : "invalid_value", "A dwell event needs value = seconds >= 0.");
                }

                if (e.Type is EventTypes.Rating && e.Value is null)
                {
                    Error("value", "missing_field", "A rating event needs a value.");
                }

                break;
        }

        if (e.Position is < 0)
        {
            Error("position", "invalid_value", "position must be >= 0.");
        }

        if (e.Value is double v && !double.IsFinite(v))
        {
            Error("value", "invalid_value", "value must be a finite number.");
        }

        CheckId(e.RequestId, "requestId", required: false);
        CheckText(e.Scene, "scene", options.MaxIdLength);
        CheckText(e.Device, "device", options.MaxIdLength);
        CheckText(e.Ip, "ip", 64);
        CheckText(e.UserAgent, "userAgent", 1_000);
        CheckMap(e.Properties, "properties");

        void CheckId(string? id, string field, bool required)
        {
            if (id is null)
            {
                if (required)
                {
                    Error(field, "missing_field", $"{field} is required for type '{e.Type}'.");
                }
            }
            else if (id.Length == 0 || id.Length > options.MaxIdLength || HasControl(id))
            {
                Error(field, "invalid_value", $"{field} must be 1..{options.MaxIdLength} characters without control characters.");
            }
        }

        void CheckText(string? text, string field, int max)
        {
            if (text is not null && text.Length > max)
            {
                Error(field, "too_large", $"{field} is longer than {max} characters.");
            }
        }

        void CheckTags()
        {
            if (e.Tags is { } tags && (tags.Length > 256 || tags.Any(t => string.IsNullOrEmpty(t) || t.Length > options.MaxIdLength)))
            {
                Error("tags", "invalid_value", $"tags: at most 256 non-empty strings of at most {options.MaxIdLength} characters.");
            }
        }

        void CheckMap(Dictionary<string, JsonElement>? map, string field)
        {
            if (map is { Count: > 256 })
            {
                Error(field, "too_large", $"{field} has more than 256 entries.");
            }
        }
    }

    private static bool HasControl(string s)
    {
        foreach (var c in s)
        {
            if (char.IsControl(c))
            {
                return true;
            }
        }

        return false;
    }

    private static string Truncate(string s) => s.Length <= 64 ? s : s[..64] + "…";
}
