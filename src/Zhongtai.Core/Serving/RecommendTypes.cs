namespace Zhongtai.Serving;

/// <summary>A recommendation request, as the engine takes it (the HTTP layer maps its JSON onto this).</summary>
public sealed record RecommendRequest
{
    /// <summary>The user (required). An id the project has never seen gets a cold-start answer.</summary>
    public required string UserId { get; init; }

    /// <summary>The scene; default <c>home</c>.</summary>
    public string Scene { get; init; } = "home";

    /// <summary>How many items; default the scene's <see cref="SceneConfig.DefaultCount"/>, at most its <see cref="SceneConfig.MaxCount"/>.</summary>
    public int? Count { get; init; }

    /// <summary>Query text for the inverted channel.</summary>
    public string? Query { get; init; }

    /// <summary>Only items of this category.</summary>
    public string? Category { get; init; }

    /// <summary>Only items whose attributes have these values (compared as text).</summary>
    public IReadOnlyDictionary<string, string>? Attributes { get; init; }

    /// <summary>Items never to return (e.g. already on the page).</summary>
    public IReadOnlyList<string>? Exclude { get; init; }

    /// <summary>The device (a ranking feature, and logged with the exposures).</summary>
    public string? Device { get; init; }
}

/// <summary>One recommended item (a struct: a list of them is one array, not an object per item).</summary>
/// <param name="Channels">Every recall channel that proposed it (or <c>pin</c>).</param>
public readonly record struct RecommendedItem(string ItemId, float Score, IReadOnlyList<string> Channels);

/// <summary>A served list.</summary>
/// <param name="RequestId">Send it back with clicks on these items (<c>requestId</c>) to attribute them.</param>
/// <param name="Models">Model versions used, e.g. <c>als@v3</c>, <c>ftrl@12345</c> (samples learned).</param>
/// <param name="Bucket">The experiment bucket as <c>experiment:bucket</c>, or null.</param>
/// <param name="ColdStart">True when the user had no history and no factors: popular and fresh items shaped by the request.</param>
/// <param name="Degraded">Channels left out because they timed out or failed.</param>
public sealed record RecommendResult(
    string RequestId,
    string Scene,
    IReadOnlyList<string> Models,
    string? Bucket,
    bool ColdStart,
    IReadOnlyList<RecommendedItem> Items,
    IReadOnlyList<string> Degraded);

/// <summary>A request the engine cannot serve as asked: a machine-readable code and every reason.</summary>
public sealed class RecommendException(string code, IReadOnlyList<(string Field, string Message)> errors)
    : Exception(string.Join("; ", errors.Select(e => e.Message)))
{
    /// <summary><c>unknown_scene</c> or <c>invalid_argument</c>.</summary>
    public string Code { get; } = code;

    public IReadOnlyList<(string Field, string Message)> Errors { get; } = errors;
}
