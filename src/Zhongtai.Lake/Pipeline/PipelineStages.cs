using Zhongtai.Lake;

namespace Zhongtai.Pipeline;

/// <summary>What an anti-cheat stage is given.</summary>
/// <param name="LakeDirectory">The lake (open it with <see cref="OpenLake"/> to get DuckDB with the pipeline's limits).</param>
/// <param name="Checkpoint">The lake checkpoint the run reads up to (<c>offset &lt;= LastOffset</c>).</param>
/// <param name="OutputFile">
/// Where to write the quarantine: a Parquet file with at least the column <c>offset BIGINT</c> (one row per quarantined
/// event; reason columns welcome). Write it even when nothing is quarantined (zero rows).
/// </param>
/// <param name="OpenLake">Opens the lake with the pipeline's DuckDB thread count and memory limit; dispose it.</param>
public sealed record AntiCheatInput(string LakeDirectory, LakeCheckpoint Checkpoint, string OutputFile, Func<LakeQuery> OpenLake);

/// <summary>What an anti-cheat stage did.</summary>
/// <param name="Quarantined">Rows written to the quarantine file.</param>
/// <param name="Config">The stage's configuration (rules, thresholds); hashed into the quarantine dataset's lineage.</param>
public sealed record AntiCheatResult(long Quarantined, object Config);

/// <summary>
/// The anti-cheat hook of the pipeline: runs after the export and before the samples, and writes
/// <see cref="AntiCheatInput.OutputFile"/>. The pipeline registers that file as the dataset
/// <see cref="PipelineOptions.QuarantineDataset"/> and the samples stage leaves its offsets out (anti-join).
/// </summary>
public interface IAntiCheatStage
{
    /// <summary>The stage's name in progress and reports, e.g. "anti-cheat".</summary>
    string Name { get; }

    Task<AntiCheatResult> RunAsync(AntiCheatInput input, CancellationToken ct);
}

/// <summary>One stage of a run: its time, its counts, and the datasets it registered (or reused).</summary>
public sealed record StageReport(string Stage, double Seconds, IReadOnlyDictionary<string, long> Counts, IReadOnlyList<string> Datasets, bool Reused)
{
    /// <summary>CPU time of the whole process (all threads, DuckDB's included) during the stage.</summary>
    public double CpuSeconds { get; init; }
}

/// <summary>A pipeline run.</summary>
/// <param name="Stages">The stages, in order.</param>
/// <param name="Seconds">Wall time of the run.</param>
/// <param name="PeakWorkingSetBytes">Peak resident memory of the process (VmHWM), DuckDB included; 0 where unknown.</param>
public sealed record PipelineReport(IReadOnlyList<StageReport> Stages, double Seconds, long PeakWorkingSetBytes);
