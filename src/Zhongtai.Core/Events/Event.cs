using System.Text.Json;
using System.Text.Json.Serialization;

namespace Zhongtai.Events;

/// <summary>
/// One event as apps report it and as the event log stores it: a behaviour log (exposure, click, ...),
/// a catalog upsert (<c>item</c>, <c>user</c>) or a conversation log (<c>conversation</c>).
/// Fields that do not apply to a type stay null. JSON is camelCase.
/// </summary>
public sealed class Event
{
    /// <summary>Client-supplied id; retries with the same id are idempotent within the dedup window. Assigned by the server when absent.</summary>
    public string? Id { get; set; }

    /// <summary>The event type: see <see cref="EventTypes"/>.</summary>
    public string Type { get; set; } = "";

    public string? UserId { get; set; }
    public string? ItemId { get; set; }

    /// <summary>When the event happened (UTC, ISO 8601).</summary>
    public DateTimeOffset Timestamp { get; set; }

    public string? Scene { get; set; }

    /// <summary>Zero-based position in the served list.</summary>
    public int? Position { get; set; }

    /// <summary>The request that served the list this event refers to.</summary>
    public string? RequestId { get; set; }
    public string? Device { get; set; }
    public string? Ip { get; set; }
    public string? UserAgent { get; set; }

    /// <summary>Numeric value: dwell seconds, rating, purchase amount, ...</summary>
    public double? Value { get; set; }

    /// <summary>Free properties.</summary>
    public Dictionary<string, JsonElement>? Properties { get; set; }

    // Catalog (item / user upserts).
    public string? Title { get; set; }
    public string? Text { get; set; }
    public string? Category { get; set; }
    public string[]? Tags { get; set; }
    public Dictionary<string, JsonElement>? Attributes { get; set; }

    /// <summary>For <c>item</c>/<c>user</c>: true removes the entity from the catalog.</summary>
    public bool? Deleted { get; set; }

    // Conversation logs.
    public string? SessionId { get; set; }
    public string? Model { get; set; }
    public ConversationTurn[]? Turns { get; set; }

    /// <summary>User feedback on a conversation: e.g. "up", "down", or a score in <see cref="Value"/>.</summary>
    public string? Feedback { get; set; }

    /// <summary>Index of this event in the batch it arrived in (not serialized).</summary>
    internal int BatchIndex { get; set; }

    /// <summary>Where this event's JSON lies in the body it was parsed from (length 0: built in-process).</summary>
    internal (int Start, int Length) Source { get; set; }
}

/// <summary>One turn of a conversation.</summary>
public sealed class ConversationTurn
{
    /// <summary>system, user, assistant or tool.</summary>
    public string Role { get; set; } = "";
    public string Content { get; set; } = "";
}

/// <summary>The built-in event types.</summary>
public static class EventTypes
{
    public const string Exposure = "exposure";
    public const string Click = "click";
    public const string Like = "like";
    public const string Share = "share";
    public const string Purchase = "purchase";
    public const string Dwell = "dwell";
    public const string Rating = "rating";
    public const string Tag = "tag";
    public const string Item = "item";
    public const string User = "user";
    public const string Conversation = "conversation";

    /// <summary>Behaviour types: a user did something to an item.</summary>
    public static readonly IReadOnlySet<string> Behaviour = new HashSet<string>(StringComparer.Ordinal)
    {
        Exposure, Click, Like, Share, Purchase, Dwell, Rating, Tag,
    };

    /// <summary>True when <paramref name="type"/> is a catalog upsert.</summary>
    public static bool IsCatalog(string type) => type is Item or User;
}

/// <summary>Source-generated JSON for events: camelCase, nulls omitted.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowTrailingCommas = false)]
[JsonSerializable(typeof(Event))]
[JsonSerializable(typeof(Event[]))]
[JsonSerializable(typeof(Dictionary<string, JsonElement>))]
[JsonSerializable(typeof(ConversationTurn[]))]
[JsonSerializable(typeof(string))]
public sealed partial class EventJsonContext : JsonSerializerContext;
