using System.Text.Json.Serialization;

namespace Zhongtai.Datasets;

/// <summary>Where a dataset came from: the lake offsets and partitions it read and the datasets it was built from.</summary>
public sealed record DatasetLineage
{
    /// <summary>First event-log offset read from the lake; -1 when the dataset was not built from the lake.</summary>
    public long FromOffset { get; init; } = -1;

    /// <summary>Last event-log offset read from the lake (the lake checkpoint); -1 when not built from the lake.</summary>
    public long ToOffset { get; init; } = -1;

    /// <summary>Lake partitions read, as <c>date=YYYY-MM-DD/hour=HH</c>.</summary>
    public IReadOnlyList<string> Partitions { get; init; } = [];

    /// <summary>Ids (<c>name@version</c>) of the datasets this one was built from.</summary>
    public IReadOnlyList<string> Inputs { get; init; } = [];
}

/// <summary>Statistics of one column (one DuckDB scan: min, max, count, approx_count_distinct): min and max as text, nulls, approximate distinct count.</summary>
public sealed record ColumnStats(string Name, string Type, string? Min, string? Max, long Nulls, long DistinctApprox);

/// <summary>One table of a dataset: a Parquet file <c>&lt;name&gt;.parquet</c> in the dataset's directory.</summary>
public sealed record DatasetTable(string Name, string File, long Rows, long Bytes, string Sha256, IReadOnlyList<ColumnStats> Columns);

/// <summary>A registered, immutable dataset version.</summary>
public sealed record DatasetRecord
{
    /// <summary><c>name@version</c>.</summary>
    public required string Id { get; init; }

    public required string Project { get; init; }

    public required string Name { get; init; }

    public required int Version { get; init; }

    /// <summary>What the dataset holds, e.g. <c>ranking-samples</c>, <c>recall</c>, <c>splits</c>, <c>quarantine</c>.</summary>
    public required string Kind { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>SHA-256 over the tables' names and file checksums: equal content, equal checksum.</summary>
    public required string Checksum { get; init; }

    /// <summary>SHA-256 of the canonical JSON (sorted keys, no whitespace) of <see cref="Config"/>.</summary>
    public required string ConfigHash { get; init; }

    /// <summary>The configuration that built it, as canonical JSON.</summary>
    public required string Config { get; init; }

    /// <summary>The informational version of the code that built it.</summary>
    public required string CodeVersion { get; init; }

    /// <summary>Rows over all tables.</summary>
    public required long Rows { get; init; }

    /// <summary>The dataset's directory (<c>projects/P/datasets/&lt;name&gt;/&lt;version&gt;/</c>).</summary>
    public required string Path { get; init; }

    public required DatasetLineage Lineage { get; init; }

    public required IReadOnlyList<DatasetTable> Tables { get; init; }

    /// <summary>True when a commit found this version already registered with the same checksum and reused it.</summary>
    [JsonIgnore]
    public bool Reused { get; init; }

    /// <summary>The Parquet file of a table; throws when the dataset has no such table.</summary>
    public string TablePath(string table) =>
        System.IO.Path.Combine(Path, (Tables.FirstOrDefault(t => t.Name == table)
            ?? throw new DatasetException($"Dataset {Id} has no table '{table}' (it has: {string.Join(", ", Tables.Select(t => t.Name))}).")).File);
}

/// <summary>A dataset operation failed for a reason a person can act on.</summary>
public sealed class DatasetException : Zhongtai.Lake.LakeException
{
    public DatasetException() { }
    public DatasetException(string message) : base(message) { }
    public DatasetException(string message, Exception inner) : base(message, inner) { }
}
