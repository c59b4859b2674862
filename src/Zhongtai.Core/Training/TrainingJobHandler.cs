using System.Text.Json;
using Zhongtai.Hosting;
using Zhongtai.Jobs;

namespace Zhongtai.Training;

/// <summary>Trains one model of a project (full or incremental) through its admission gate.</summary>
/// <param name="overrides">Numeric hyperparameters from the job's arguments.</param>
public delegate TrainingOutcome ModelTrainer(Project project, bool incremental, IReadOnlyDictionary<string, double> overrides, Action<string> log, CancellationToken cancellationToken);

/// <summary>
/// Runs <c>train-full</c> and <c>train-incremental</c> jobs. Arguments (JSON): <c>{"model":"als"}</c>, optionally numeric
/// hyperparameters such as <c>"factors"</c> and <c>"iterations"</c>. Recall models train here; other modules add theirs
/// (e.g. the rankers, which learn from the pipeline's datasets) through <paramref name="trainers"/>.
/// </summary>
public sealed class TrainingJobHandler(ZhongtaiHost host, bool incremental, IReadOnlyDictionary<string, ModelTrainer>? trainers = null) : IJobHandler
{
    public const string Full = "train-full";
    public const string Incremental = "train-incremental";

    public string Kind => incremental ? Incremental : Full;

    public static IReadOnlyList<IJobHandler> Both(ZhongtaiHost host, IReadOnlyDictionary<string, ModelTrainer>? trainers = null) =>
        [new TrainingJobHandler(host, false, trainers), new TrainingJobHandler(host, true, trainers)];

    public Task<string> RunAsync(JobContext context, CancellationToken cancellationToken)
    {
        using var args = JsonDocument.Parse(context.Job.Args);
        var model = args.RootElement.TryGetProperty("model", out var m) ? m.GetString() ?? "" : "";
        var overrides = args.RootElement.EnumerateObject()
            .Where(p => p.Value.ValueKind == JsonValueKind.Number)
            .ToDictionary(p => p.Name, p => p.Value.GetDouble(), StringComparer.Ordinal);
        var project = host.Project(context.Job.Project);
        var outcome = trainers is not null && trainers.TryGetValue(model, out var trainer)
            ? trainer(project, incremental, overrides, context.Log, cancellationToken)
            : RecallTraining.Run(project, model, incremental, host.Options.Training, overrides, context.Log, cancellationToken);
        return Task.FromResult(JsonSerializer.Serialize(outcome, TrainingJson.Default.TrainingOutcome));
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(TrainingOutcome))]
internal sealed partial class TrainingJson : System.Text.Json.Serialization.JsonSerializerContext;
