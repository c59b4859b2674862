using System.Text.Json;
using Zhongtai.Datasets;
using Zhongtai.Hosting;
using Zhongtai.Jobs;
using Zhongtai.Risk;
using Zhongtai.Training;

namespace Zhongtai.Pipeline;

/// <summary>
/// The jobs the offline side adds to a host's job runner: <c>pipeline-run</c>, <c>graph-build</c>, and training for every model — recall
/// models from the log, rankers (<c>ftrl</c>, <c>fm</c>) from the pipeline's ranking splits. The server, the CLI and the
/// tests all take their handlers from here, so a scheduled job and a manual one run the same code.
/// </summary>
public static class LakeJobs
{
    /// <summary>Every job handler: pipeline, training (full and incremental) and the knowledge graph build.</summary>
    public static IReadOnlyList<IJobHandler> Handlers(ZhongtaiHost host) =>
        [.. TrainingJobHandler.Both(host, Trainers(host)), new PipelineJobHandler(host), new GraphJobHandler(host)];

    /// <summary>Trainers beyond the recall models: the rankers.</summary>
    public static IReadOnlyDictionary<string, ModelTrainer> Trainers(ZhongtaiHost host)
    {
        TrainingOutcome Ranker(string model, Project project, bool incremental, IReadOnlyDictionary<string, double> overrides, Action<string> log, CancellationToken ct) =>
            RankerTraining.Run(project, Datasets(host, project), model, incremental, host.Options.Training.Ranking, host.Options.Training.K, overrides, log, ct);

        return RankerTraining.Models.ToDictionary(m => m, m => (ModelTrainer)((p, i, o, l, c) => Ranker(m, p, i, o, l, c)), StringComparer.Ordinal);
    }

    /// <summary>A project's dataset registry.</summary>
    public static DatasetRegistry Datasets(ZhongtaiHost host, Project project) => new(host.Meta, project.Directory, project.Name, host.Time);

    /// <summary>A pipeline runner for a project with the host's options (section <c>Pipeline</c>) and the anti-cheat stage.</summary>
    public static PipelineRunner Runner(ZhongtaiHost host, Project project, PipelineOptions? options = null)
    {
        options ??= PipelineOptions.Load(host.DataDirectory);
        var antiCheat = options.AntiCheat && options.QuarantineFile is null
            ? new AntiCheatStage(project.Directory, AntiCheatOptions.From(ZhongtaiConfiguration.Build(host.DataDirectory)), host.Time)
            : null;
        return new(Datasets(host, project), options, host.Time, antiCheat);
    }
}

/// <summary>Runs <c>pipeline-run</c> jobs (no arguments): export → anti-cheat → samples → recall data → splits.</summary>
public sealed class PipelineJobHandler(ZhongtaiHost host) : IJobHandler
{
    public const string KindName = "pipeline-run";

    public string Kind => KindName;

    public async Task<string> RunAsync(JobContext context, CancellationToken cancellationToken)
    {
        var project = host.Project(context.Job.Project);
        var report = await LakeJobs.Runner(host, project).RunAsync(project, new Progress(context.Log), cancellationToken).ConfigureAwait(false);
        foreach (var stage in report.Stages)
        {
            context.Log($"{stage.Stage}: {stage.Seconds:F1} s, {string.Join(", ", stage.Counts.Select(c => $"{c.Key} {c.Value:N0}"))}{(stage.Reused ? " (reused)" : "")}");
        }

        return JsonSerializer.Serialize(report.Stages.ToDictionary(s => s.Stage, s => s.Datasets));
    }

    private sealed class Progress(Action<string> log) : IProgress<string>
    {
        public void Report(string value) => log("stage " + value);
    }
}
