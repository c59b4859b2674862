using Zhongtai.Training.Evaluation;

namespace Zhongtai.Tests.Training.Evaluation;

public class RankingMetricsTests
{
    // ranked: 5, 1, 7, 3 — relevant {1, 3, 9}: hits at ranks 2 and 4.
    private static readonly int[] Ranked = [5, 1, 7, 3];
    private static readonly int[] Relevant = [1, 3, 9];

    [Fact]
    public void Ndcg_UsesIdealOverMinOfKAndRelevantCount()
    {
        double dcg = (1 / Math.Log2(3)) + (1 / Math.Log2(5));
        double idcg = 1 + (1 / Math.Log2(3)) + (1 / Math.Log2(4));
        Assert.Equal(dcg / idcg, RankingMetrics.Ndcg(Ranked, Relevant, 4), 12);
        Assert.Equal(0.498187, RankingMetrics.Ndcg(Ranked, Relevant, 4), 5);

        // K=2: one hit at rank 2; ideal over min(2, 3) = 2 positions.
        Assert.Equal((1 / Math.Log2(3)) / (1 + (1 / Math.Log2(3))), RankingMetrics.Ndcg(Ranked, Relevant, 2), 12);
        Assert.Equal(0, RankingMetrics.Ndcg(Ranked, Relevant, 1));
    }

    [Fact]
    public void RecallPrecisionHitRate_CountHitsInTopK()
    {
        Assert.Equal(2.0 / 3, RankingMetrics.Recall(Ranked, Relevant, 4), 12);
        Assert.Equal(0.5, RankingMetrics.Precision(Ranked, Relevant, 4), 12);
        Assert.Equal(1.0 / 3, RankingMetrics.Recall(Ranked, Relevant, 2), 12);
        Assert.Equal(0.5, RankingMetrics.Precision(Ranked, Relevant, 2), 12);
        Assert.Equal(1, RankingMetrics.HitRate(Ranked, Relevant, 2));
        Assert.Equal(0, RankingMetrics.HitRate(Ranked, Relevant, 1));

        // a list shorter than K still divides precision by K
        Assert.Equal(0.1, RankingMetrics.Precision([1], Relevant, 10), 12);
    }

    [Fact]
    public void Mrr_IsReciprocalRankOfFirstHitWithinK()
    {
        Assert.Equal(0.5, RankingMetrics.Mrr(Ranked, Relevant, 4), 12);
        Assert.Equal(0, RankingMetrics.Mrr(Ranked, Relevant, 1));
        Assert.Equal(1, RankingMetrics.Mrr([3, 5], Relevant, 2));
    }

    [Fact]
    public void AveragePrecision_SumsPrecisionAtHitsOverMinOfKAndRelevant()
    {
        // hits at 2 (P=1/2) and 4 (P=2/4), divided by min(4, 3) = 3
        Assert.Equal((0.5 + 0.5) / 3, RankingMetrics.AveragePrecision(Ranked, Relevant, 4), 12);

        // K=2: one hit at rank 2 (P=1/2), divided by min(2, 3) = 2
        Assert.Equal(0.25, RankingMetrics.AveragePrecision(Ranked, Relevant, 2), 12);
        Assert.Equal(1, RankingMetrics.AveragePrecision([1, 3, 9], Relevant, 3), 12);
    }

    [Fact]
    public void Coverage_IsDistinctRecommendedOverCatalog()
    {
        Assert.Equal(0.3, RankingMetrics.Coverage([1, 2, 2, 3, 1], 10), 12);
        Assert.Equal(0, RankingMetrics.Coverage([], 10));
    }

    [Fact]
    public void EmptyRelevantSet_GivesZero()
    {
        Assert.Equal(0, RankingMetrics.Ndcg(Ranked, [], 4));
        Assert.Equal(0, RankingMetrics.Recall(Ranked, [], 4));
        Assert.Equal(0, RankingMetrics.AveragePrecision(Ranked, [], 4));
    }

    [Fact]
    public void Auc_MatchesHandComputedPairs()
    {
        // positives 0.35, 0.8; negatives 0.1, 0.4: ordered pairs (0.35>0.1), (0.8>0.1), (0.8>0.4) = 3 of 4
        Assert.Equal(0.75, ClassificationMetrics.Auc([0.1f, 0.4f, 0.35f, 0.8f], [false, false, true, true]), 12);

        // a tie counts half
        Assert.Equal(0.5, ClassificationMetrics.Auc([0.5f, 0.5f], [true, false]), 12);
        Assert.Equal(1, ClassificationMetrics.Auc([0.2f, 0.9f, 0.7f], [false, true, true]), 12);
        Assert.True(double.IsNaN(ClassificationMetrics.Auc([0.2f, 0.9f], [true, true])));
    }

    [Fact]
    public void LogLoss_IsMeanBinaryCrossEntropy()
    {
        double expected = -(Math.Log(0.9) + Math.Log(0.8)) / 2;
        Assert.Equal(expected, ClassificationMetrics.LogLoss([0.9f, 0.2f], [true, false]), 6);

        // clipped, not infinite
        Assert.True(ClassificationMetrics.LogLoss([0f], [true]) < 40);
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.LogLoss([0.5f], [true, false]));
    }
}
