using System.Text.Json;
using Zhongtai.Hosting;
using Zhongtai.Jobs;

namespace Zhongtai.Training;

/// <summary>
/// Runs <c>train-full</c> and <c>train-incremental</c> jobs. Arguments (JSON): <c>{"model":"als"}</c>, optionally
/// <c>"factors"</c> and <c>"iterations"</c>.
/// </summary>
public sealed class TrainingJobHandler(ZhongtaiHost host, bool incremental) : IJobHandler
{
    public const string Full = "train-full";
    public const string Incremental = "train-incremental";

    public string Kind => incremental ? Incremental : Full;

    public static IReadOnlyList<IJobHandler> Both(ZhongtaiHost host) => [new TrainingJobHandler(host, false), new TrainingJobHandler(host, true)];

    public Task<string> RunAsync(JobContext context, CancellationToken cancellationToken)
    {
        using var args = JsonDocument.Parse(context.Job.Args);
        var model = args.RootElement.TryGetProperty("model", out var m) ? m.GetString() ?? "" : "";
        var overrides = args.RootElement.EnumerateObject()
            .Where(p => p.Value.ValueKind == JsonValueKind.Number)
            .ToDictionary(p => p.Name, p => p.Value.GetDouble(), StringComparer.Ordinal);
        var outcome = RecallTraining.Run(host.Project(context.Job.Project), model, incremental, host.Options.Training, overrides, context.Log, cancellationToken);
        return Task.FromResult(JsonSerializer.Serialize(outcome, TrainingJson.Default.TrainingOutcome));
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(TrainingOutcome))]
internal sealed partial class TrainingJson : System.Text.Json.Serialization.JsonSerializerContext;
