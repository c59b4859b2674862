using System.ComponentModel.DataAnnotations;

namespace Zhongtai.Training;

/// <summary>One rule of the admission gate over an offline metric.</summary>
public sealed class GateRule
{
    /// <summary>The metric, e.g. <c>ndcg@10</c>, <c>auc</c>, <c>coverage@10</c>.</summary>
    [Required]
    public string Metric { get; set; } = "";

    /// <summary>True when lower is better (log-loss); default false.</summary>
    public bool LowerIsBetter { get; set; }

    /// <summary>The candidate may be worse than production by at most this fraction of production's value (0.01 = 1%). Null: no relative rule.</summary>
    public double? MaxRelativeDrop { get; set; }

    /// <summary>The candidate may be worse than production by at most this much, in the metric's units (AUC 0.005). Null: no absolute rule.</summary>
    public double? MaxAbsoluteDrop { get; set; }

    /// <summary>The candidate's value must be at least this (at most, when lower is better), production or not.</summary>
    public double? Floor { get; set; }
}

/// <summary>The admission gate of one model (configuration <c>Training:Models:NAME:Gate</c>).</summary>
public sealed class GateOptions
{
    /// <summary>The metric rules. Default: none (only the sanity checks).</summary>
    public List<GateRule> Rules { get; set; } = [];

    /// <summary>Promote a passing candidate at once; false leaves it as candidate for a person to promote. Default true.</summary>
    public bool AutoPromote { get; set; } = true;

    /// <summary>Sanity: the standard deviation of the candidate's predictions on the holdout must exceed this (a collapsed model predicts a constant). Default 1e-6.</summary>
    public double MinPredictionStd { get; set; } = 1e-6;

    /// <summary>Sanity: the candidate's catalog coverage must be at least this fraction of production's. Default 0.5.</summary>
    public double MinCoverageRatio { get; set; } = 0.5;
}

/// <summary>What the gate decided, and why.</summary>
public sealed record GateDecision(bool Passed, IReadOnlyList<string> Reasons);

/// <summary>
/// Compares a candidate with the current production version, both evaluated on the same fresh holdout.
/// Sanity checks (no NaN or infinite parameters or metrics, predictions not collapsed, coverage not collapsed)
/// always apply; the configured rules compare metric by metric.
/// </summary>
public static class AdmissionGate
{
    /// <summary>Metric names the sanity checks read when the evaluation reports them.</summary>
    public const string NonFiniteParameters = "nonFiniteParameters";
    public const string PredictionStd = "predictionStd";
    public const string Coverage = "coverage@10";

    public static GateDecision Evaluate(IReadOnlyDictionary<string, double> candidate, IReadOnlyDictionary<string, double>? production, GateOptions options)
    {
        var reasons = new List<string>();
        foreach (var (name, value) in candidate)
        {
            if (!double.IsFinite(value))
            {
                reasons.Add($"metric {name} is {value}");
            }
        }

        if (candidate.TryGetValue(NonFiniteParameters, out var bad) && bad > 0)
        {
            reasons.Add($"{bad:N0} parameters are NaN or infinite");
        }

        if (candidate.TryGetValue(PredictionStd, out var std) && std <= options.MinPredictionStd)
        {
            reasons.Add($"predictions collapsed: std {std:G3} <= {options.MinPredictionStd:G3}");
        }

        if (production is not null && candidate.TryGetValue(Coverage, out var coverage) && production.TryGetValue(Coverage, out var prodCoverage)
            && prodCoverage > 0 && coverage < options.MinCoverageRatio * prodCoverage)
        {
            reasons.Add($"coverage collapsed: {coverage:G4} < {options.MinCoverageRatio:P0} of production's {prodCoverage:G4}");
        }

        foreach (var rule in options.Rules)
        {
            if (!candidate.TryGetValue(rule.Metric, out var value))
            {
                reasons.Add($"the candidate reports no {rule.Metric}");
                continue;
            }

            var sign = rule.LowerIsBetter ? -1 : 1;
            if (rule.Floor is { } floor && sign * (value - floor) < 0)
            {
                reasons.Add($"{rule.Metric} {value:G4} is {(rule.LowerIsBetter ? "above the ceiling" : "below the floor")} {floor:G4}");
            }

            if (production is null || !production.TryGetValue(rule.Metric, out var prod))
            {
                continue;
            }

            var drop = sign * (prod - value); // > 0: the candidate is worse
            if (rule.MaxAbsoluteDrop is { } abs && drop > abs)
            {
                reasons.Add($"{rule.Metric} {value:G4} is worse than production's {prod:G4} by {drop:G4} (> {abs:G4} allowed)");
            }

            if (rule.MaxRelativeDrop is { } rel && prod != 0 && drop / Math.Abs(prod) > rel)
            {
                reasons.Add($"{rule.Metric} {value:G4} is worse than production's {prod:G4} by {drop / Math.Abs(prod):P2} (> {rel:P2} allowed)");
            }
        }

        return new GateDecision(reasons.Count == 0, reasons);
    }

    /// <summary>
    /// Acts on a decision for a registered version: approved and promoted (or set as <c>candidate</c> awaiting approval
    /// when <paramref name="autoPromote"/> is off), or rejected with the reasons. Returns true when it was promoted.
    /// </summary>
    public static bool Apply(Registry.ModelRegistry models, string model, int version, GateDecision decision, bool autoPromote)
    {
        if (!decision.Passed)
        {
            models.SetStatus(model, version, Registry.ModelStatus.Rejected, decision.Reasons);
            return false;
        }

        models.SetStatus(model, version, Registry.ModelStatus.Approved, []);
        if (!autoPromote)
        {
            models.SetAlias(model, Registry.ModelAliases.Candidate, version, "awaiting approval");
            return false;
        }

        models.Promote(model, version, "admission gate passed");
        return true;
    }
}
