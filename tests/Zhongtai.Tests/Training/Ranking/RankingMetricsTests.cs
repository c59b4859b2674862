using Zhongtai.Training.Ranking;

namespace Zhongtai.Tests.Training.Ranking;

public class RankingMetricsTests
{
    [Fact]
    public void Auc_WithTies_CountsTiesAsOneHalf()
    {
        // Positive 0.4 beats negative 0.1 (1) and ties negative 0.4 (1/2); positive 0.8 beats both (2): 3.5 / 4.
        float[] scores = [0.1f, 0.4f, 0.4f, 0.8f];
        float[] labels = [0, 0, 1, 1];
        Assert.Equal(0.875, RankingMetrics.Auc(scores, labels), 12);
    }

    [Fact]
    public void Auc_AllTied_IsOneHalf()
    {
        float[] scores = [0.3f, 0.3f, 0.3f, 0.3f, 0.3f];
        float[] labels = [1, 0, 0, 1, 0];
        Assert.Equal(0.5, RankingMetrics.Auc(scores, labels), 12);
    }

    [Fact]
    public void Auc_Weighted_MatchesHandComputedValue()
    {
        // Pairs (pos, neg) with weight product: (0.9 vs 0.5) 2*1 won, (0.9 vs 0.95) 2*3 lost, (0.2 vs 0.5) 1*1 lost, (0.2 vs 0.95) lost.
        float[] scores = [0.9f, 0.2f, 0.5f, 0.95f];
        float[] labels = [1, 1, 0, 0];
        float[] weights = [2, 1, 1, 3];
        Assert.Equal(2.0 / (3 * 4), RankingMetrics.Auc(scores, labels, weights), 12);
    }

    [Fact]
    public void Auc_PerfectAndReversed()
    {
        float[] labels = [0, 0, 1, 1];
        Assert.Equal(1.0, RankingMetrics.Auc([0.1f, 0.2f, 0.3f, 0.4f], labels), 12);
        Assert.Equal(0.0, RankingMetrics.Auc([0.4f, 0.3f, 0.2f, 0.1f], labels), 12);
    }

    [Fact]
    public void Auc_OneClassOrEmpty_Throws()
    {
        Assert.Throws<ArgumentException>(() => RankingMetrics.Auc([0.1f, 0.2f], [1f, 1f]));
        Assert.Throws<ArgumentException>(() => RankingMetrics.Auc([], []));
        Assert.Throws<ArgumentException>(() => RankingMetrics.Auc([0.1f], [1f, 0f]));
    }

    [Fact]
    public void LogLoss_MatchesHandComputedValue()
    {
        double expected = -(Math.Log(0.9) + Math.Log(0.8)) / 2; // 0.16425...
        Assert.Equal(expected, RankingMetrics.LogLoss([0.9f, 0.2f], [1f, 0f]), 6);
        Assert.Equal(0.164252, RankingMetrics.LogLoss([0.9f, 0.2f], [1f, 0f]), 5);
    }

    [Fact]
    public void LogLoss_Weighted_AndClampsCertainWrongAnswers()
    {
        double expected = -((3 * Math.Log(0.9)) + Math.Log(0.8)) / 4;
        Assert.Equal(expected, RankingMetrics.LogLoss([0.9f, 0.2f], [1f, 0f], [3f, 1f]), 6);
        Assert.Equal(-Math.Log(RankingMetrics.Epsilon), RankingMetrics.LogLoss([0f], [1f]), 6);
    }

    [Fact]
    public void Ndcg_MatchesHandComputedValue()
    {
        // One group ranked by score: relevances 0, 1, 2. DCG = 0 + 1/log2(3) + 3/log2(4); IDCG = 3 + 1/log2(3).
        double dcg = (1 / Math.Log2(3)) + 1.5;
        double idcg = 3 + (1 / Math.Log2(3));
        Assert.Equal(dcg / idcg, RankingMetrics.Ndcg([3f, 2f, 1f], [0f, 1f, 2f], [5, 5, 5], k: 10), 10);
    }

    [Fact]
    public void Ndcg_AveragesGroupsSkipsGroupsWithoutRelevanceAndCutsAtK()
    {
        // Group 1 is perfect (1.0); group 2 puts its only relevant item second: at k=1 it scores 0, at k=2 1/log2(3).
        // Group 3 has no relevant items and is skipped. Rows are interleaved on purpose.
        float[] scores = [0.9f, 0.9f, 0.1f, 0.1f, 0.5f, 0.4f];
        float[] labels = [1f, 0f, 0f, 1f, 0f, 0f];
        int[] groups = [1, 2, 1, 2, 3, 3];
        Assert.Equal(0.5, RankingMetrics.Ndcg(scores, labels, groups, k: 1), 10);
        Assert.Equal((1 + (1 / Math.Log2(3))) / 2, RankingMetrics.Ndcg(scores, labels, groups, k: 2), 10);
    }

    [Fact]
    public void Ndcg_TiedScores_ArePessimistic()
    {
        Assert.Equal(1 / Math.Log2(3), RankingMetrics.Ndcg([1f, 1f], [1f, 0f], [0, 0], k: 0), 10);
    }

    [Fact]
    public void Ndcg_NoRelevantSample_Throws()
    {
        Assert.Throws<ArgumentException>(() => RankingMetrics.Ndcg([1f, 2f], [0f, 0f], [0, 0]));
    }
}
