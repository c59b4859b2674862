using System.Diagnostics;
using System.Globalization;
using Zhongtai.Datasets;
using Zhongtai.Hosting;
using Zhongtai.Lake;
using Zhongtai.Samples;

namespace Zhongtai.Pipeline;

/// <summary>
/// The offline pipeline of a project: export → anti-cheat (optional, <see cref="IAntiCheatStage"/>) → samples →
/// recall data → splits. Every stage registers its output as a dataset whose lineage names its inputs (lake offsets and
/// partitions, input dataset ids); re-running over the same lake with the same options reuses the same versions.
/// A failing stage registers nothing and leaves no directory behind.
/// </summary>
public sealed class PipelineRunner
{
    private readonly DatasetRegistry _datasets;
    private readonly PipelineOptions _options;
    private readonly TimeProvider _time;
    private readonly IAntiCheatStage? _antiCheat;

    public PipelineRunner(DatasetRegistry datasets, PipelineOptions options, TimeProvider? time = null, IAntiCheatStage? antiCheat = null)
    {
        _datasets = datasets ?? throw new ArgumentNullException(nameof(datasets));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _options.Validate();
        _time = time ?? TimeProvider.System;
        _antiCheat = antiCheat;
    }

    /// <summary>Receives each SQL statement's first line and seconds (see <see cref="SampleBuilder.Trace"/>). Default none.</summary>
    public Action<string, double>? Trace { get; set; }

    /// <summary>Runs the pipeline on a project: exports its log to its lake (unless <see cref="PipelineOptions.Export"/> is off), then the rest.</summary>
    public Task<PipelineReport> RunAsync(Project project, IProgress<string>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        return RunAsync(project.LakeDirectory, _options.Export ? c => ExportAsync(project, c) : null, progress, ct);
    }

    /// <summary>
    /// Runs the pipeline on a lake directory; <paramref name="export"/> (optional) brings the lake up to date first and
    /// returns counts for the report.
    /// </summary>
    public async Task<PipelineReport> RunAsync(string lakeDirectory, Func<CancellationToken, Task<IReadOnlyDictionary<string, long>>>? export,
        IProgress<string>? progress = null, CancellationToken ct = default)
    {
        var total = Stopwatch.StartNew();
        var stages = new List<StageReport>();
        _datasets.Recover();
        TimeSpan cpuMark = TimeSpan.Zero;
        void Mark(string stage)
        {
            progress?.Report(stage);
            cpuMark = ProcessCpu();
        }

        void Add(StageReport report) => stages.Add(report with { CpuSeconds = (ProcessCpu() - cpuMark).TotalSeconds });

        var tempDir = Path.Combine(Path.GetTempPath(), "zt-pipeline-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(tempDir);
        try
        {
            if (export is not null)
            {
                Mark("export");
                var sw = Stopwatch.StartNew();
                var counts = await export(ct).ConfigureAwait(false);
                Add(new StageReport("export", sw.Elapsed.TotalSeconds, counts, [], false));
            }

            Mark("check");
            var check = Stopwatch.StartNew();
            var (lakeLineage, checkpoint, lakeRows) = CheckLake(lakeDirectory, tempDir);
            Add(new StageReport("check", check.Elapsed.TotalSeconds, new Dictionary<string, long> { ["events"] = lakeRows, ["lastOffset"] = checkpoint.LastOffset }, [], false));

            string? quarantineFile = null;
            var inputs = new List<string>();
            if (_antiCheat is not null)
            {
                Mark(_antiCheat.Name);
                var sw = Stopwatch.StartNew();
                using var draft = _datasets.Begin(_options.QuarantineDataset, "quarantine");
                var file = draft.TablePath("quarantine");
                var result = await _antiCheat.RunAsync(new AntiCheatInput(lakeDirectory, checkpoint, file, () => Open(lakeDirectory, tempDir)), ct).ConfigureAwait(false);
                if (!File.Exists(file))
                {
                    throw new DatasetException($"The anti-cheat stage '{_antiCheat.Name}' did not write its quarantine file '{file}'.");
                }

                CheckQuarantine(file, tempDir);
                var record = _datasets.Commit(draft, new { stage = _antiCheat.Name, config = result.Config }, lakeLineage, ct);
                quarantineFile = record.TablePath("quarantine");
                inputs.Add(record.Id);
                Add(new StageReport(_antiCheat.Name, sw.Elapsed.TotalSeconds, new Dictionary<string, long> { ["quarantined"] = result.Quarantined }, [record.Id], record.Reused));
            }
            else if (_options.QuarantineFile is { } external)
            {
                if (!File.Exists(external))
                {
                    throw new DatasetException($"The quarantine file '{Path.GetFullPath(external)}' does not exist.");
                }

                CheckQuarantine(external, tempDir);
                quarantineFile = Path.GetFullPath(external);
            }

            var builder = new SampleBuilder(_options.Samples) { Trace = Trace };
            var sampleLineage = lakeLineage with { Inputs = inputs };
            var sampleConfig = new { samples = _options.Samples, quarantine = quarantineFile is null ? null : Checksum(quarantineFile) };

            var samples = DatasetStage("samples", _options.SamplesDataset, "ranking-samples", (lake, draft) =>
            {
                var ranking = builder.BuildRanking(lake, quarantineFile, draft.TablePath("samples"), ct);
                return new Dictionary<string, long>
                {
                    ["samples"] = ranking.Rows,
                    ["positives"] = ranking.Positives,
                    ["eventsRead"] = ranking.EventsRead,
                    ["quarantined"] = ranking.Quarantined,
                    ["fromExposures"] = ranking.FromExposures ? 1 : 0,
                };
            }, () => sampleConfig, sampleLineage);

            if (_options.Recall)
            {
                DatasetStage("recall", _options.RecallDataset, "recall", (lake, draft) =>
                {
                    var r = builder.BuildRecall(lake, quarantineFile, draft.TablePath("histories"), draft.TablePath("sessions"), draft.TablePath("negatives"), ct);
                    return new Dictionary<string, long>
                    {
                        ["users"] = r.Users,
                        ["interactions"] = r.Interactions,
                        ["sessions"] = r.Sessions,
                        ["negatives"] = r.Negatives,
                    };
                }, () => sampleConfig, sampleLineage);
            }

            SplitResult? s = null;
            DatasetStage("splits", _options.SplitsDataset, "splits", (lake, draft) =>
            {
                s = builder.Split(lake, samples.TablePath("samples"), draft.TablePath("train"), draft.TablePath("validation"), draft.TablePath("test"), ct);
                return new Dictionary<string, long> { ["train"] = s.Train, ["validation"] = s.Validation, ["test"] = s.Test };
            }, () => new { samples = samples.Id, _options.Samples.TrainRatio, _options.Samples.ValidationRatio, trainEnd = s!.TrainEnd, validationEnd = s.ValidationEnd },
                new DatasetLineage { FromOffset = lakeLineage.FromOffset, ToOffset = lakeLineage.ToOffset, Inputs = [samples.Id] });

            if (_options.Features)
            {
                DatasetStage("features", _options.FeaturesDataset, "features", (lake, draft) =>
                {
                    var (items, users) = FeatureTables.Build(lake, quarantineFile, _options.Samples, draft.TablePath("items"), draft.TablePath("users"));
                    return new Dictionary<string, long> { ["items"] = items, ["users"] = users };
                }, () => sampleConfig, sampleLineage);
            }

            // One stage that writes a dataset: build its tables into a draft over the lake, commit it, report its counts.
            DatasetRecord DatasetStage(string name, string dataset, string kind, Func<LakeQuery, DatasetDraft, Dictionary<string, long>> build, Func<object> config, DatasetLineage lineage)
            {
                Mark(name);
                var sw = Stopwatch.StartNew();
                Dictionary<string, long> counts;
                DatasetRecord record;
                using (var draft = _datasets.Begin(dataset, kind))
                {
                    using (var lake = Open(lakeDirectory, tempDir))
                    {
                        counts = build(lake, draft);
                    }

                    record = _datasets.Commit(draft, config(), lineage, ct);
                }

                Add(new StageReport(name, sw.Elapsed.TotalSeconds, counts, [record.Id], record.Reused));
                return record;
            }
        }
        finally
        {
            try
            {
                Directory.Delete(tempDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        return new PipelineReport(stages, total.Elapsed.TotalSeconds, PeakWorkingSet());
    }

    /// <summary>Exports what the project's lake lacks from its log (exactly once, see <see cref="LakeExporter"/>).</summary>
    public async Task<IReadOnlyDictionary<string, long>> ExportAsync(Project project, CancellationToken ct)
    {
        var result = await new LakeExporter(time: _time).ExportAsync(project, ct).ConfigureAwait(false);
        return new Dictionary<string, long> { ["rows"] = result.Rows, ["files"] = result.Files, ["lastOffset"] = result.LastOffset };
    }

    private LakeQuery Open(string lakeDirectory, string tempDir)
    {
        var lake = LakeQuery.Open(lakeDirectory, _options.DuckDbThreads > 0 ? _options.DuckDbThreads : null, _options.DuckDbMemoryLimit);
        lake.Execute($"SET temp_directory = {SampleSql.Literal(tempDir)}");
        lake.Execute("SET preserve_insertion_order = true");
        return lake;
    }

    /// <summary>
    /// Checks that every part file of the lake is readable and that none is missing (the files hold as many rows as
    /// the checkpoint says were exported); returns the lineage of a read of the whole lake.
    /// </summary>
    private (DatasetLineage Lineage, LakeCheckpoint Checkpoint, long Rows) CheckLake(string lakeDirectory, string tempDir)
    {
        using var lake = Open(lakeDirectory, tempDir);
        foreach (var (path, reason) in lake.FindCorruptFiles())
        {
            throw new LakeCorruptFileException(path, reason, null);
        }

        var checkpoint = lake.Checkpoint;
        var eventsDir = Path.GetFullPath(LakeLayout.EventsDir(lakeDirectory));
        var files = Directory.Exists(eventsDir)
            ? Directory.EnumerateFiles(eventsDir, "part-*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()
            : [];
        long inFiles = files.Count == 0 ? 0
            : lake.Scalar<long>($"SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata({SampleSql.Literal(Path.Combine(eventsDir, "**", "part-*.parquet"))})");
        if (inFiles != checkpoint.TotalRows)
        {
            var gaps = lake.Rows("""
                SELECT "offset" + 1, next - 1 FROM (SELECT "offset", lead("offset") OVER (ORDER BY "offset") AS next FROM events)
                WHERE next > "offset" + 1 ORDER BY 1 LIMIT 5
                """).Select(r => string.Create(CultureInfo.InvariantCulture, $"{r[0]}..{r[1]}"));
            throw new LakeException(
                $"The lake '{eventsDir}' is missing part files: its checkpoint says {checkpoint.TotalRows:N0} events were exported, the part files hold {inFiles:N0}" +
                (gaps.Any() ? $"; missing offsets {string.Join(", ", gaps)}" : "") +
                ". A partition folder was deleted or moved; restore it, or re-export the lake from scratch.");
        }

        var range = lake.Rows("SELECT min(\"offset\"), max(\"offset\") FROM events")[0];
        var partitions = files.Select(f => Path.GetRelativePath(eventsDir, Path.GetDirectoryName(f)!).Replace('\\', '/')).Distinct().Order(StringComparer.Ordinal).ToList();
        var lineage = new DatasetLineage
        {
            FromOffset = range[0] is null ? -1 : Convert.ToInt64(range[0], CultureInfo.InvariantCulture),
            ToOffset = checkpoint.LastOffset,
            Partitions = partitions,
        };
        return (lineage, checkpoint, inFiles);
    }

    private void CheckQuarantine(string file, string tempDir)
    {
        using var duck = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        duck.Open();
        using var cmd = duck.CreateCommand();
        cmd.CommandText = $"SELECT column_type FROM (DESCRIBE SELECT * FROM read_parquet({SampleSql.Literal(file)})) WHERE column_name = 'offset'";
        object? type;
        try
        {
            type = cmd.ExecuteScalar();
        }
        catch (DuckDB.NET.Data.DuckDBException e)
        {
            throw new DatasetException($"The quarantine file '{file}' is not readable Parquet: {e.Message}", e);
        }

        if (type is not string t || !string.Equals(t, "BIGINT", StringComparison.Ordinal))
        {
            throw new DatasetException($"The quarantine file '{file}' must have a column \"offset\" of type BIGINT (found: {type ?? "none"}).");
        }

        _ = tempDir;
    }

    private static string Checksum(string file)
    {
        using var fs = File.OpenRead(file);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(fs));
    }

    private static TimeSpan ProcessCpu()
    {
        using var p = Process.GetCurrentProcess();
        return p.TotalProcessorTime;
    }

    /// <summary>Peak resident set size of this process (Linux VmHWM), 0 elsewhere.</summary>
    public static long PeakWorkingSet()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    var kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return Environment.WorkingSet;
    }
}
