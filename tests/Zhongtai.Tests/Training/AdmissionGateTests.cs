using Zhongtai.Training;

namespace Zhongtai.Tests.Training;

public class AdmissionGateTests
{
    private static readonly GateOptions Options = new()
    {
        Rules =
        [
            new GateRule { Metric = "ndcg@10", MaxRelativeDrop = 0.01 },
            new GateRule { Metric = "auc", MaxAbsoluteDrop = 0.005, Floor = 0.6 },
            new GateRule { Metric = "logloss", LowerIsBetter = true, MaxAbsoluteDrop = 0.01 },
        ],
    };

    private static Dictionary<string, double> Metrics(double ndcg, double auc, double logloss, double coverage = 0.3, double std = 0.1) => new()
    {
        ["ndcg@10"] = ndcg, ["auc"] = auc, ["logloss"] = logloss, [AdmissionGate.Coverage] = coverage, [AdmissionGate.PredictionStd] = std,
    };

    [Fact]
    public void BetterOrSlightlyWorseCandidate_Passes()
    {
        var production = Metrics(0.40, 0.75, 0.50);
        Assert.True(AdmissionGate.Evaluate(Metrics(0.41, 0.76, 0.49), production, Options).Passed);
        Assert.True(AdmissionGate.Evaluate(Metrics(0.397, 0.746, 0.505), production, Options).Passed);
    }

    [Fact]
    public void WorseCandidate_IsRejectedWithEachReason()
    {
        var decision = AdmissionGate.Evaluate(Metrics(0.38, 0.74, 0.52), Metrics(0.40, 0.75, 0.50), Options);
        Assert.False(decision.Passed);
        Assert.Equal(3, decision.Reasons.Count);
        Assert.Contains(decision.Reasons, r => r.StartsWith("ndcg@10", StringComparison.Ordinal) && r.Contains("5.00", StringComparison.Ordinal));
        Assert.Contains(decision.Reasons, r => r.StartsWith("auc", StringComparison.Ordinal));
        Assert.Contains(decision.Reasons, r => r.StartsWith("logloss", StringComparison.Ordinal));
    }

    [Fact]
    public void FirstModel_WithoutProduction_IsJudgedByFloorsAndSanity()
    {
        Assert.True(AdmissionGate.Evaluate(Metrics(0.1, 0.65, 0.6), null, Options).Passed);
        Assert.Contains("below the floor", AdmissionGate.Evaluate(Metrics(0.1, 0.55, 0.6), null, Options).Reasons[0], StringComparison.Ordinal);
    }

    [Fact]
    public void SanityChecks_CatchNaNCollapseAndCoverage()
    {
        var production = Metrics(0.40, 0.75, 0.50, coverage: 0.30);
        var nan = Metrics(double.NaN, 0.75, 0.50);
        Assert.Contains(AdmissionGate.Evaluate(nan, production, Options).Reasons, r => r.Contains("NaN", StringComparison.Ordinal));
        var collapsed = Metrics(0.40, 0.75, 0.50, std: 0);
        Assert.Contains(AdmissionGate.Evaluate(collapsed, production, Options).Reasons, r => r.StartsWith("predictions collapsed", StringComparison.Ordinal));
        var narrow = Metrics(0.40, 0.75, 0.50, coverage: 0.05);
        Assert.Contains(AdmissionGate.Evaluate(narrow, production, Options).Reasons, r => r.StartsWith("coverage collapsed", StringComparison.Ordinal));
        var broken = new Dictionary<string, double>(Metrics(0.4, 0.75, 0.5)) { [AdmissionGate.NonFiniteParameters] = 12 };
        Assert.Contains(AdmissionGate.Evaluate(broken, production, Options).Reasons, r => r.Contains("NaN or infinite", StringComparison.Ordinal));
    }

    [Fact]
    public void MissingMetric_IsARejection() =>
        Assert.Contains("reports no auc", AdmissionGate.Evaluate(new Dictionary<string, double> { ["ndcg@10"] = 0.5, ["logloss"] = 0.4 }, null, Options).Reasons[0], StringComparison.Ordinal);
}
