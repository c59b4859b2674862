using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Zhongtai.Experiments;

/// <summary>
/// The file <c>projects/P/experiments.json</c>: <c>{ "experiments": [ ... ] }</c>. JSON is camelCase; comments and
/// trailing commas are allowed (people edit it); unknown fields are errors (a typo must not silently do nothing).
/// </summary>
public sealed class ExperimentsDocument
{
    /// <summary>The experiments, in the order that lays out slot ranges within a layer. Default none.</summary>
    public List<ExperimentConfig> Experiments { get; set; } = [];
}

/// <summary>Whether an experiment assigns traffic.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ExperimentStatus>))]
public enum ExperimentStatus
{
    /// <summary>Assigns its share of the layer's traffic.</summary>
    [JsonStringEnumMemberName("running")]
    Running,

    /// <summary>Assigns nothing, but keeps its slot range reserved so that the other experiments of its layer do not move.</summary>
    [JsonStringEnumMemberName("stopped")]
    Stopped,
}

/// <summary>
/// One online experiment. A unit (the user id, else the anonymous id) is hashed with the <see cref="Layer"/> into one of
/// <see cref="ExperimentSet.Slots"/> slots; experiments of the same layer own disjoint slot ranges (mutually
/// exclusive), experiments of different layers hash with different seeds (orthogonal). Inside the experiment a second
/// hash, seeded by <see cref="Salt"/>, picks the bucket by weight, so ramping <see cref="Traffic"/> up keeps every
/// user already in the experiment in the same bucket.
/// </summary>
public sealed class ExperimentConfig
{
    /// <summary>Unique id: letters, digits, <c>_ . -</c>. Logged as the part before ':' of <c>properties.bucket</c>. Required.</summary>
    public string Id { get; set; } = "";

    /// <summary>Free text for people. Default none.</summary>
    public string? Description { get; set; }

    /// <summary>The scenes the experiment applies to; <c>"*"</c> is every scene. Required, at least one.</summary>
    public List<string> Scenes { get; set; } = [];

    /// <summary>The layer (and its hash salt). Default: the experiment's own <see cref="Id"/> (a layer of its own, orthogonal to all others).</summary>
    public string? Layer { get; set; }

    /// <summary>The salt of the bucket hash. Default: <see cref="Id"/>. Change it to reshuffle users between buckets.</summary>
    public string? Salt { get; set; }

    /// <summary>Share of the layer's slots the experiment owns, in (0, 1]. Default 1 (all of the layer).</summary>
    public double Traffic { get; set; } = 1.0;

    /// <summary>
    /// First slot (0..9999) of the experiment's range in its layer. Default: right after the previous experiment of the
    /// same layer in file order (0 for the first). Set it explicitly to keep ranges stable when experiments are removed.
    /// </summary>
    public int? SlotStart { get; set; }

    /// <summary>Running or stopped. Default running.</summary>
    public ExperimentStatus Status { get; set; } = ExperimentStatus.Running;

    /// <summary>The control bucket the report compares against. Default: the bucket named <c>control</c>, else the first.</summary>
    public string? Control { get; set; }

    /// <summary>The buckets; their weights sum to 1. Required, at least one.</summary>
    public List<BucketConfig> Buckets { get; set; } = [];

    /// <summary>The layer after defaults.</summary>
    public string EffectiveLayer => string.IsNullOrEmpty(Layer) ? Id : Layer;

    /// <summary>The salt after defaults.</summary>
    public string EffectiveSalt => string.IsNullOrEmpty(Salt) ? Id : Salt;

    /// <summary>The control bucket's name after defaults (null when there are no buckets).</summary>
    public string? EffectiveControl =>
        Control ?? (Buckets.Exists(b => b.Name == "control") ? "control" : Buckets.Count > 0 ? Buckets[0].Name : null);
}

/// <summary>One bucket of an experiment and what it overrides in serving.</summary>
public sealed class BucketConfig
{
    /// <summary>Unique within the experiment: letters, digits, <c>_ . -</c>. Required.</summary>
    public string Name { get; set; } = "";

    /// <summary>Share of the experiment's traffic, in (0, 1]; the weights of an experiment sum to 1. Required.</summary>
    public double Weight { get; set; }

    /// <summary>The model alias serving ranks with (e.g. <c>candidate</c>). Default none: serving's own.</summary>
    public string? ModelAlias { get; set; }

    /// <summary>Recall channel → how many candidates it contributes. Default none: serving's own quotas.</summary>
    public Dictionary<string, int>? ChannelQuotas { get; set; }

    /// <summary>Free key/values the serving engine interprets (numbers and booleans are kept as their JSON text). Default none.</summary>
    [JsonConverter(typeof(ScalarStringDictionaryConverter))]
    public Dictionary<string, string>? Rules { get; set; }
}

/// <summary>Reads a JSON object of scalars (string, number, boolean) into strings; writes strings.</summary>
internal sealed class ScalarStringDictionaryConverter : JsonConverter<Dictionary<string, string>>
{
    public override Dictionary<string, string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("rules must be an object of key/values.");
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var key = reader.GetString()!;
            reader.Read();
            result[key] = reader.TokenType switch
            {
                JsonTokenType.String => reader.GetString()!,
                JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
                JsonTokenType.True => "true",
                JsonTokenType.False => "false",
                _ => throw new JsonException($"rules.{key} must be a string, a number or a boolean."),
            };
        }

        return result;
    }

    public override void Write(Utf8JsonWriter writer, Dictionary<string, string> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (k, v) in value)
        {
            writer.WriteString(k, v);
        }

        writer.WriteEndObject();
    }
}

/// <summary>Source-generated JSON for the experiments file.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(ExperimentsDocument))]
public sealed partial class ExperimentJsonContext : JsonSerializerContext;
