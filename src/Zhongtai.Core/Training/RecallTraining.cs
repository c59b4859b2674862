using System.Globalization;
using System.Text.Json;
using Zhongtai.Hosting;
using Zhongtai.Registry;
using Zhongtai.Samples;
using Zhongtai.Training.Evaluation;
using Zhongtai.Training.Recall;

namespace Zhongtai.Training;

/// <summary>Options of scheduled and manual training (configuration section <c>Training</c>).</summary>
public sealed class TrainingOptions
{
    /// <summary>The fresh holdout: interactions of the newest this-many hours, which neither candidate nor production trained on. Default 24.</summary>
    public int HoldoutHours { get; set; } = 24;

    /// <summary>Metrics are taken at this cut-off. Default 10.</summary>
    public int K { get; set; } = 10;

    /// <summary>The admission gate. Default: NDCG@10 may not drop by more than 1% relative to production; sanity checks.</summary>
    public GateOptions Gate { get; set; } = new() { Rules = [new GateRule { Metric = "ndcg@10", MaxRelativeDrop = 0.01 }] };

    /// <summary>How behaviour becomes implicit feedback.</summary>
    public InteractionOptions Interactions { get; set; } = new();

    /// <summary>The ranking models' training and gate.</summary>
    public RankerTrainingOptions Ranking { get; set; } = new();
}

/// <summary>What one training run did.</summary>
public sealed record TrainingOutcome(
    string Model,
    bool Incremental,
    int Version,
    int? ParentVersion,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, double>? ProductionMetrics,
    bool Passed,
    IReadOnlyList<string> Reasons,
    bool Promoted);

/// <summary>
/// Trains a recall model (<c>als</c>, <c>bpr</c>, <c>ease</c> or <c>itemcf</c>) on a project's log and puts it through the
/// admission gate: full runs start from scratch; incremental runs warm-start from the production version (factor models
/// continue their parameters; EASE and item-CF update the sufficient statistics kept in their artifact). The candidate and the
/// current production version are evaluated on the same fresh holdout (the newest <see cref="TrainingOptions.HoldoutHours"/>);
/// the candidate is registered either way, approved and (if configured) promoted, or rejected with the reasons —
/// a rejected or failed run leaves production untouched.
/// </summary>
public static class RecallTraining
{
    public static readonly IReadOnlyList<string> Models = ["als", "bpr", "ease", "itemcf"];

    /// <param name="overrides">Hyperparameters to change for this run (<c>factors</c>, <c>iterations</c>), e.g. from a job's arguments.</param>
    public static TrainingOutcome Run(Project project, string model, bool incremental, TrainingOptions options, IReadOnlyDictionary<string, double>? overrides, Action<string> log, CancellationToken cancellationToken)
    {
        if (!Models.Contains(model, StringComparer.Ordinal))
        {
            throw new ArgumentException($"Training jobs support the models {string.Join(", ", Models)}; got '{model}'.", nameof(model));
        }

        var interactions = InteractionsBuilder.Build(project.Events, project.UserIds, project.ItemIds, options.Interactions);
        if (interactions.Count == 0)
        {
            throw new InvalidOperationException("The project's log has no interactions to train on.");
        }

        var cutoff = interactions.Timestamps.Max() - (options.HoldoutHours * 3600L);
        var train = Enumerable.Range(0, interactions.Count).Where(i => interactions.Timestamps[i] < cutoff).ToArray();
        var userCount = interactions.UserIds.Length;
        var itemCount = interactions.ItemIds.Length;
        var matrix = InteractionMatrix.FromArrays(
            [.. train.Select(i => interactions.Users[i])], [.. train.Select(i => interactions.Items[i])],
            [.. train.Select(i => interactions.Values[i])], [.. train.Select(i => interactions.Timestamps[i])], userCount, itemCount);
        var known = new HashSet<int>(train.Select(i => interactions.Users[i]));
        var test = new List<int>[userCount];
        for (var i = 0; i < interactions.Count; i++)
        {
            if (interactions.Timestamps[i] >= cutoff && known.Contains(interactions.Users[i]))
            {
                (test[interactions.Users[i]] ??= []).Add(interactions.Items[i]);
            }
        }

        var split = new EvalSplit(matrix, [.. test.Select(t => t is null ? Array.Empty<int>() : [.. t.Order()])]);
        if (split.Test.All(t => t.Length == 0))
        {
            throw new InvalidOperationException($"No fresh holdout: no known user interacted in the last {options.HoldoutHours} hours of the log.");
        }

        log($"{interactions.Count:N0} interactions ({train.Length:N0} before the holdout cut-off), {userCount:N0} users, {itemCount:N0} items");
        var production = project.Models.Resolve(model, ModelAliases.Production);
        IRecallModel? productionModel = production is null ? null : production.Format switch
        {
            ClosedFormModelCodec.EaseFormat => ClosedFormModelCodec.DeserializeEase(project.Models.ReadArtifact(production)),
            ClosedFormModelCodec.ItemCfFormat => ClosedFormModelCodec.DeserializeItemCf(project.Models.ReadArtifact(production)),
            _ => FactorModelCodec.Pad(FactorModelCodec.Deserialize(project.Models.ReadArtifact(production)), userCount, itemCount),
        };
        var previous = incremental ? productionModel : null;
        if (incremental && previous is null)
        {
            log("no production version yet: the incremental run trains from scratch");
        }

        var factors = (int?)overrides?.GetValueOrDefault("factors");
        var iterations = (int?)overrides?.GetValueOrDefault("iterations");
        IRecallModel candidate;
        string config;
        byte[] artifact;
        if (model is "ease" or "itemcf")
        {
            var settings = new RecallModelSettings();
            candidate = RecallModelFactory.Train(model, matrix, settings, previous, cancellationToken);
            artifact = candidate is EaseModel ease ? ClosedFormModelCodec.Serialize(ease) : ClosedFormModelCodec.Serialize((ItemCfModel)candidate);
            config = candidate is EaseModel
                ? JsonSerializer.Serialize(new Dictionary<string, double> { ["lambda"] = settings.Ease.Lambda, ["dropoutRegularization"] = settings.Ease.DropoutRegularization, ["userWeightExponent"] = settings.Ease.UserWeightExponent })
                : JsonSerializer.Serialize(new Dictionary<string, double> { ["neighbors"] = settings.ItemCf.NeighborCount });
        }
        else if (model == "als")
        {
            var prior = previous as FactorModel;
            var o = new AlsOptions();
            o.Factors = factors is > 0 ? factors.Value : prior?.Factors ?? o.Factors;
            o.Iterations = iterations is > 0 ? iterations.Value : incremental && prior is not null ? Math.Max(2, o.Iterations / 3) : o.Iterations;
            var trained = ImplicitAls.Train(matrix, o, prior, it => log($"als iteration {it + 1}/{o.Iterations}"), cancellationToken);
            (candidate, artifact) = (trained, FactorModelCodec.Serialize(trained));
            config = JsonSerializer.Serialize(new Dictionary<string, double> { ["factors"] = o.Factors, ["iterations"] = o.Iterations, ["regularization"] = o.Regularization, ["alpha"] = o.Alpha });
        }
        else
        {
            var prior = previous as FactorModel;
            var o = new BprOptions();
            o.Factors = factors is > 0 ? factors.Value : prior?.Factors ?? o.Factors;
            o.Epochs = iterations is > 0 ? iterations.Value : incremental && prior is not null ? Math.Max(5, o.Epochs / 3) : o.Epochs;
            var trained = Bpr.Train(matrix, o, prior, null, cancellationToken);
            (candidate, artifact) = (trained, FactorModelCodec.Serialize(trained));
            config = JsonSerializer.Serialize(new Dictionary<string, double> { ["factors"] = o.Factors, ["epochs"] = o.Epochs });
        }

        var metrics = Metrics(candidate, split, options.K, cancellationToken);
        metrics[AdmissionGate.NonFiniteParameters] = candidate is FactorModel factorModel ? FactorModelCodec.NonFinite(factorModel) : 0;
        var productionMetrics = productionModel is null ? null : Metrics(productionModel, split, options.K, cancellationToken);
        var decision = AdmissionGate.Evaluate(metrics, productionMetrics, options.Gate);
        log($"candidate ndcg@{options.K}={metrics[$"ndcg@{options.K}"]:F4}" + (productionMetrics is null ? " (no production yet)" : $", production v{production!.Version} ndcg@{options.K}={productionMetrics[$"ndcg@{options.K}"]:F4}"));

        var version = project.Models.Register(
            new ModelRegistration(model, model switch { "als" => "ImplicitAls", "bpr" => "Bpr", "ease" => "Ease", _ => "ItemCf" }, model switch { "ease" => ClosedFormModelCodec.EaseFormat, "itemcf" => ClosedFormModelCodec.ItemCfFormat, _ => FactorModelCodec.Format }, config,
                [$"events@{project.Events.StartOffset}..{project.Events.NextOffset - 1}", $"holdout>={DateTimeOffset.FromUnixTimeSeconds(cutoff).ToString("O", CultureInfo.InvariantCulture)}"],
                metrics, incremental ? production?.Version : null, incremental ? "train-incremental" : "train-full"),
            artifact);
        var promoted = AdmissionGate.Apply(project.Models, model, version.Version, decision, options.Gate.AutoPromote);
        log(decision.Passed ? $"v{version.Version} passed the gate{(promoted ? " and is production" : "")}" : $"v{version.Version} rejected: {string.Join("; ", decision.Reasons)}");
        return new TrainingOutcome(model, incremental, version.Version, version.ParentVersion, metrics, productionMetrics, decision.Passed, decision.Reasons, promoted);
    }

    private static Dictionary<string, double> Metrics(IRecallModel model, EvalSplit split, int k, CancellationToken cancellationToken)
    {
        var r = RecallEvaluation.Evaluate(model, split, "holdout", k, cancellationToken);
        return new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [$"ndcg@{k}"] = r.Ndcg,
            [$"recall@{k}"] = r.Recall,
            [$"precision@{k}"] = r.Precision,
            [$"map@{k}"] = r.Map,
            [$"coverage@{k}"] = r.Coverage,
            ["holdoutUsers"] = r.Users,
        };
    }
}
