using System.Text.Json;
using System.Text.Json.Serialization;

namespace Zhongtai.Serving;

/// <summary>The scenes of a project (<c>projects/P/scenes.json</c>): what each surface recalls, how it ranks, which rules it applies.</summary>
public sealed class SceneSet
{
    /// <summary>Scenes by name (e.g. <c>home</c>, <c>detail</c>, <c>search</c>).</summary>
    public Dictionary<string, SceneConfig> Scenes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The built-in scenes used when a project has no <c>scenes.json</c>: <c>home</c>, <c>detail</c> and <c>search</c>.</summary>
    public static SceneSet Default() => new()
    {
        Scenes = new(StringComparer.Ordinal)
        {
            ["home"] = new SceneConfig
            {
                Channels =
                [
                    new ChannelConfig { Name = ChannelNames.I2i, Quota = 150 },
                    new ChannelConfig { Name = ChannelNames.Vector, Quota = 150 },
                    new ChannelConfig { Name = ChannelNames.Inverted, Quota = 100 },
                    new ChannelConfig { Name = ChannelNames.Content, Quota = 100 },
                    new ChannelConfig { Name = ChannelNames.Graph, Quota = 100 },
                    new ChannelConfig { Name = ChannelNames.Popular, Quota = 100 },
                    new ChannelConfig { Name = ChannelNames.Fresh, Quota = 30 },
                ],
                Rules = new RerankRules { Diversity = new DiversityRule { Method = DiversityMethods.CategoryCap, MaxPerCategory = 3 } },
            },
            ["detail"] = new SceneConfig
            {
                Channels =
                [
                    new ChannelConfig { Name = ChannelNames.I2i, Quota = 200 },
                    new ChannelConfig { Name = ChannelNames.Vector, Quota = 150 },
                    new ChannelConfig { Name = ChannelNames.Graph, Quota = 100 },
                    new ChannelConfig { Name = ChannelNames.Popular, Quota = 50 },
                ],
            },
            ["search"] = new SceneConfig
            {
                Channels =
                [
                    new ChannelConfig { Name = ChannelNames.Inverted, Quota = 300 },
                    new ChannelConfig { Name = ChannelNames.Popular, Quota = 50 },
                ],
                Rules = new RerankRules { FrequencyCap = null },
            },
        },
    };

    /// <summary>Parses and validates a scenes file; throws <see cref="SceneConfigException"/> with every problem found.</summary>
    public static SceneSet Parse(ReadOnlySpan<byte> json)
    {
        SceneSet? set;
        try
        {
            set = JsonSerializer.Deserialize(json, ServingJsonContext.Default.SceneSet);
        }
        catch (JsonException ex)
        {
            throw new SceneConfigException([$"not valid scenes JSON: {ex.Message}"]);
        }

        if (set is null)
        {
            throw new SceneConfigException(["the file holds null"]);
        }

        set.Scenes = new Dictionary<string, SceneConfig>(set.Scenes, StringComparer.Ordinal);
        var errors = set.Validate();
        return errors.Count > 0 ? throw new SceneConfigException(errors) : set;
    }

    /// <summary>Every problem of the configuration, each naming the scene and field.</summary>
    public List<string> Validate()
    {
        var errors = new List<string>();
        if (Scenes.Count == 0)
        {
            errors.Add("scenes: at least one scene is needed");
        }

        foreach (var (name, scene) in Scenes)
        {
            scene.Validate(name, errors);
        }

        return errors;
    }
}

/// <summary>One scene: recall channels, ranking, rerank rules and count limits.</summary>
public sealed class SceneConfig
{
    /// <summary>Recall channels with their quotas and timeouts. Default: popular only.</summary>
    public List<ChannelConfig> Channels { get; set; } = [new ChannelConfig { Name = ChannelNames.Popular }];

    /// <summary>Run the channels concurrently (each on the thread pool) rather than one after another. Default true.</summary>
    public bool Parallel { get; set; } = true;

    /// <summary>The registry model whose factors feed the <c>vector</c> channel. Default <c>als</c>.</summary>
    public string RecallModel { get; set; } = "als";

    /// <summary>The registry alias of <see cref="RecallModel"/> to serve. Default <c>production</c>.</summary>
    public string RecallModelAlias { get; set; } = "production";

    /// <summary>The ranking model: <c>ftrl</c> (the realtime click model of the nearline consumer) or <c>none</c> (recall order). Default <c>ftrl</c>.</summary>
    public string RankingModel { get; set; } = RankingModels.Ftrl;

    /// <summary>At most this many merged candidates are ranked (the best by recall order). Default 500.</summary>
    public int MaxCandidates { get; set; } = 500;

    /// <summary>Items returned when the request names no count. Default 10.</summary>
    public int DefaultCount { get; set; } = 10;

    /// <summary>The largest count a request may ask for. Default 100.</summary>
    public int MaxCount { get; set; } = 100;

    /// <summary>Rerank and control rules.</summary>
    public RerankRules Rules { get; set; } = new();

    internal void Validate(string name, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 64)
        {
            errors.Add($"scene '{name}': the name must be 1..64 characters");
        }

        if (Channels is null || Channels.Count == 0)
        {
            errors.Add($"scene '{name}': channels must list at least one channel");
        }
        else
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var c in Channels)
            {
                if (c is null || !ChannelNames.All.Contains(c.Name))
                {
                    errors.Add($"scene '{name}': unknown channel '{c?.Name}' (known: {string.Join(", ", ChannelNames.All)})");
                    continue;
                }

                if (!seen.Add(c.Name))
                {
                    errors.Add($"scene '{name}': channel '{c.Name}' is listed twice");
                }

                if (c.Quota is < 1 or > 5000)
                {
                    errors.Add($"scene '{name}': channel '{c.Name}' quota must be 1..5000");
                }

                if (c.TimeoutMs is < 1 or > 10_000)
                {
                    errors.Add($"scene '{name}': channel '{c.Name}' timeoutMs must be 1..10000");
                }
            }
        }

        if (RankingModel is not (RankingModels.Ftrl or RankingModels.None))
        {
            errors.Add($"scene '{name}': rankingModel must be '{RankingModels.Ftrl}' or '{RankingModels.None}'");
        }

        if (string.IsNullOrWhiteSpace(RecallModel) || string.IsNullOrWhiteSpace(RecallModelAlias))
        {
            errors.Add($"scene '{name}': recallModel and recallModelAlias must be set");
        }

        if (MaxCandidates is < 1 or > 10_000)
        {
            errors.Add($"scene '{name}': maxCandidates must be 1..10000");
        }

        if (MaxCount is < 1 or > 1000 || DefaultCount < 1 || DefaultCount > MaxCount)
        {
            errors.Add($"scene '{name}': maxCount must be 1..1000 and defaultCount 1..maxCount");
        }

        (Rules ?? new RerankRules()).Validate(name, errors);
    }
}

/// <summary>One recall channel of a scene.</summary>
public sealed class ChannelConfig
{
    /// <summary>One of <see cref="ChannelNames.All"/>.</summary>
    public string Name { get; set; } = "";

    /// <summary>At most this many candidates from the channel. Default 100.</summary>
    public int Quota { get; set; } = 100;

    /// <summary>A channel that has not answered within this many milliseconds is left out of the request (and reported as timed out). Default 30.</summary>
    public int TimeoutMs { get; set; } = 30;
}

/// <summary>Rerank and control rules, applied after ranking in this order: block, boost and freshness, frequency cap, diversity, pins.</summary>
public sealed class RerankRules
{
    /// <summary>Diversity: <c>mmr</c> or <c>categoryCap</c>; null for none. Default null.</summary>
    public DiversityRule? Diversity { get; set; }

    /// <summary>Score multipliers by item id (e.g. 1.5 promotes, 0.5 demotes). Default none.</summary>
    public Dictionary<string, double> Boost { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Items placed at a fixed zero-based position when they pass the filters. Default none.</summary>
    public Dictionary<string, int> Pin { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Items never served in this scene. Default none.</summary>
    public List<string> Block { get; set; } = [];

    /// <summary>A bonus for recently created items; null for none. Default null.</summary>
    public FreshnessRule? Freshness { get; set; }

    /// <summary>Drops items the user has already been shown this many times within the window. Default 3 exposures in 24 h.</summary>
    public FrequencyCapRule? FrequencyCap { get; set; } = new();

    internal void Validate(string scene, List<string> errors)
    {
        if (Diversity is { } d)
        {
            if (d.Method is not (DiversityMethods.Mmr or DiversityMethods.CategoryCap))
            {
                errors.Add($"scene '{scene}': diversity.method must be '{DiversityMethods.Mmr}' or '{DiversityMethods.CategoryCap}'");
            }

            if (d.Lambda is < 0 or > 1 || d.MaxPerCategory < 1)
            {
                errors.Add($"scene '{scene}': diversity.lambda must be 0..1 and maxPerCategory >= 1");
            }
        }

        foreach (var (item, boost) in Boost ?? [])
        {
            if (!double.IsFinite(boost) || boost < 0)
            {
                errors.Add($"scene '{scene}': boost of '{item}' must be a finite number >= 0");
            }
        }

        foreach (var (item, position) in Pin ?? [])
        {
            if (position is < 0 or > 999)
            {
                errors.Add($"scene '{scene}': pin position of '{item}' must be 0..999");
            }
        }

        if (Freshness is { } f && (!double.IsFinite(f.Bonus) || f.Bonus < 0 || !(f.HalfLifeHours > 0)))
        {
            errors.Add($"scene '{scene}': freshness.bonus must be >= 0 and halfLifeHours > 0");
        }

        if (FrequencyCap is { } cap && (cap.MaxExposures < 1 || !(cap.WindowHours > 0)))
        {
            errors.Add($"scene '{scene}': frequencyCap.maxExposures must be >= 1 and windowHours > 0");
        }
    }
}

/// <summary>Diversity in the final list.</summary>
public sealed class DiversityRule
{
    /// <summary><c>mmr</c> (maximal marginal relevance) or <c>categoryCap</c>. Default <c>categoryCap</c>.</summary>
    public string Method { get; set; } = DiversityMethods.CategoryCap;

    /// <summary>MMR trade-off: 1 is pure relevance, 0 pure novelty. Default 0.7.</summary>
    public double Lambda { get; set; } = 0.7;

    /// <summary>categoryCap: at most this many items of one category (filled from the rest only when too few remain). Default 3.</summary>
    public int MaxPerCategory { get; set; } = 3;
}

/// <summary>Freshness bonus: <c>score += bonus · 2^(-age / halfLife)</c>, age since the item's first catalog event.</summary>
public sealed class FreshnessRule
{
    /// <summary>The bonus of a brand-new item. Default 0.05.</summary>
    public double Bonus { get; set; } = 0.05;

    /// <summary>Default 24.</summary>
    public double HalfLifeHours { get; set; } = 24;
}

/// <summary>Per-user cap on repeated exposure of one item.</summary>
public sealed class FrequencyCapRule
{
    /// <summary>An item already shown this many times to the user within the window is not shown again. Default 3.</summary>
    public int MaxExposures { get; set; } = 3;

    /// <summary>Default 24.</summary>
    public double WindowHours { get; set; } = 24;
}

/// <summary>The built-in recall channels.</summary>
public static class ChannelNames
{
    public const string I2i = "i2i";
    public const string Vector = "vector";
    public const string Inverted = "inverted";
    public const string Popular = "popular";
    public const string Graph = "graph";
    public const string Fresh = "fresh";
    public const string Content = "content";

    /// <summary>Not a channel: an item placed by a pin rule.</summary>
    public const string Pin = "pin";

    public static readonly IReadOnlyList<string> All = [I2i, Vector, Inverted, Popular, Graph, Fresh, Content];
}

public static class RankingModels
{
    public const string Ftrl = "ftrl";
    public const string None = "none";
}

public static class DiversityMethods
{
    public const string Mmr = "mmr";
    public const string CategoryCap = "categoryCap";
}

/// <summary>A scenes file that cannot be used, with every reason.</summary>
public sealed class SceneConfigException(IReadOnlyList<string> errors) : Exception("Invalid scenes configuration: " + string.Join("; ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    WriteIndented = true)]
[JsonSerializable(typeof(SceneSet))]
internal sealed partial class ServingJsonContext : JsonSerializerContext;
