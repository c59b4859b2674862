namespace Zhongtai.Serving;

/// <summary>Puts a request into an experiment bucket. Called on the request path: must be thread-safe and fast.</summary>
public interface IExperimentAssigner
{
    /// <summary>The user's bucket in an experiment running on <paramref name="scene"/>, or null when none applies.</summary>
    ExperimentAssignment? Assign(string userId, string scene);
}

/// <summary>A bucket and what it changes in the scene.</summary>
/// <param name="ExperimentId">The experiment, e.g. <c>exp-ranker-7</c>.</param>
/// <param name="Bucket">The bucket, e.g. <c>control</c> or <c>b</c>.</param>
/// <param name="Overrides">Changes to the scene for this bucket; null for none (a control bucket).</param>
/// <param name="Label">What the response and the exposure log record; default <c>experiment:bucket</c> (several layers: comma-joined).</param>
public sealed record ExperimentAssignment(string ExperimentId, string Bucket, SceneOverride? Overrides = null, string? Label = null)
{
    public string Label { get; init; } = Label ?? ExperimentId + ":" + Bucket;
}

/// <summary>What an experiment bucket may change in a scene. Null members keep the scene's setting.</summary>
public sealed record SceneOverride
{
    /// <summary>Serve another alias of the recall model (e.g. <c>candidate</c>).</summary>
    public string? RecallModelAlias { get; init; }

    /// <summary><c>ftrl</c> or <c>none</c>.</summary>
    public string? RankingModel { get; init; }

    /// <summary>New quotas by channel name; 0 switches a channel off. Channels not in the scene are not added.</summary>
    public IReadOnlyDictionary<string, int>? ChannelQuotas { get; init; }

    /// <summary>Replaces the scene's rerank rules.</summary>
    public RerankRules? Rules { get; init; }
}

/// <summary>The default: no experiments.</summary>
public sealed class NoExperiments : IExperimentAssigner
{
    public static readonly NoExperiments Instance = new();

    public ExperimentAssignment? Assign(string userId, string scene) => null;
}
