namespace Zhongtai.Registry;

/// <summary>Well-known aliases. Any other alias name (e.g. an experiment bucket's) is allowed too.</summary>
public static class ModelAliases
{
    public const string Production = "production";
    public const string Candidate = "candidate";
    public const string Previous = "previous";
}

/// <summary>The state of a version.</summary>
public static class ModelStatus
{
    /// <summary>Registered, not yet judged.</summary>
    public const string Registered = "registered";

    /// <summary>Passed the admission gate (or was approved by a person).</summary>
    public const string Approved = "approved";

    /// <summary>Failed the admission gate; the reasons say why.</summary>
    public const string Rejected = "rejected";
}

/// <summary>What a trainer hands to the registry.</summary>
/// <param name="Format">The artifact's format, e.g. <c>zt-ftrl/1</c> or <c>onnx</c>: how a reader decodes it.</param>
/// <param name="Config">The trainer's configuration, as JSON.</param>
/// <param name="Datasets">The dataset versions it learned from.</param>
/// <param name="Metrics">Offline metrics (NDCG@10, AUC, ...).</param>
public sealed record ModelRegistration(
    string Name,
    string Trainer,
    string Format,
    string Config,
    IReadOnlyList<string> Datasets,
    IReadOnlyDictionary<string, double> Metrics,
    int? ParentVersion,
    string CreatedBy);

/// <summary>One immutable version of a model.</summary>
public sealed record ModelVersion(
    string Project,
    string Name,
    int Version,
    string Checksum,
    long Size,
    string Format,
    string Trainer,
    string Config,
    IReadOnlyList<string> Datasets,
    int? ParentVersion,
    IReadOnlyDictionary<string, double> Metrics,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    string Status,
    IReadOnlyList<string> StatusReasons,
    IReadOnlyList<string> Aliases);

/// <summary>A registry request that cannot be done, with a machine-readable code.</summary>
public sealed class RegistryException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>An artifact's bytes do not match its checksum: it is never served.</summary>
public sealed class CorruptArtifactException(string message) : IOException(message);
