using System.Text.Json.Serialization;
using Zhongtai.Events;
using Zhongtai.Events.Ingest;

namespace Zhongtai.Server.Api;

/// <summary>Every 4xx/5xx answer: a machine-readable code, a message for a person, and per-item details where there are some.</summary>
public sealed record ApiError(int Status, string Code, string Message, IReadOnlyList<EventError>? Errors = null);

public sealed record HealthResponse(string Status);

public sealed record EventsStats(string Project, long Count, long StartOffset, long NextOffset);

public sealed record StoredEvent(long Offset, Event Event);

public sealed record EventsPage(IReadOnlyList<StoredEvent> Events, long NextOffset);

public sealed record PromoteRequest(int Version);

public sealed record AppInfo(string AppKey, string Name, string Project, IReadOnlyList<string> Scopes, string Status, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(IngestResult))]
[JsonSerializable(typeof(EventsStats))]
[JsonSerializable(typeof(EventsPage))]
[JsonSerializable(typeof(AppInfo))]
[JsonSerializable(typeof(List<Zhongtai.Registry.ModelVersion>))]
[JsonSerializable(typeof(PromoteRequest))]
[JsonSerializable(typeof(List<PopularItem>))]
[JsonSerializable(typeof(RealtimeItem))]
[JsonSerializable(typeof(FeaturesResponse))]
[JsonSerializable(typeof(SearchRequest))]
[JsonSerializable(typeof(SearchResponse))]
[JsonSerializable(typeof(RecommendHttpRequest))]
[JsonSerializable(typeof(Zhongtai.Serving.RecommendResult))]
public sealed partial class ApiJsonContext : JsonSerializerContext;
