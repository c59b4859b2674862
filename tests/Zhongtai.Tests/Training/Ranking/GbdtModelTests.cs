using Zhongtai.Training.LightGbm;
using Zhongtai.Training.Ranking;

namespace Zhongtai.Tests.Training.Ranking;

public class GbdtModelTests
{
    private static readonly GbdtOptions BinaryOptions = new() { NumberOfIterations = 60, NumberOfLeaves = 15, NumberOfThreads = 1 };

    /// <summary>Five numeric features; the click logit is non-linear (a threshold and a product), as in CTR/recency features.</summary>
    private static DenseDataset PlantedBinary(int count, int seed, out float[] truth)
    {
        var random = new Random(seed);
        const int d = 5;
        var x = new float[count * d];
        var y = new float[count];
        truth = new float[count];
        for (int i = 0; i < count; i++)
        {
            for (int j = 0; j < d; j++)
            {
                x[(i * d) + j] = (float)random.NextDouble();
            }

            double margin = -1 + (2.5 * (x[i * d] > 0.5f ? 1 : 0)) + (3 * x[(i * d) + 1] * x[(i * d) + 2]) - (1.5 * x[(i * d) + 3]);
            double p = 1 / (1 + Math.Exp(-margin));
            truth[i] = (float)p;
            y[i] = random.NextDouble() < p ? 1f : 0f;
        }

        return new DenseDataset(x, d, y);
    }

    /// <summary>Queries of 20 candidates; relevance 0..3 from a hidden non-linear utility of 4 features.</summary>
    private static DenseDataset PlantedRanking(int queries, int seed)
    {
        var random = new Random(seed);
        const int d = 4, perQuery = 20;
        int n = queries * perQuery;
        var x = new float[n * d];
        var y = new float[n];
        var groups = new int[n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++)
            {
                x[(i * d) + j] = (float)random.NextDouble();
            }

            double utility = (2 * x[i * d]) + (x[(i * d) + 1] > 0.7f ? 1.5 : 0) - x[(i * d) + 2] + (0.3 * random.NextDouble());
            y[i] = utility switch { > 2.2 => 3, > 1.6 => 2, > 1.0 => 1, _ => 0 };
            groups[i] = (i / perQuery * 7919) % 100_003; // group ids are arbitrary ints
        }

        return new DenseDataset(x, d, y, groups: groups);
    }

    [Fact]
    public void Binary_LearnsPlantedNonLinearModel()
    {
        DenseDataset train = PlantedBinary(6_000, seed: 1, out _);
        DenseDataset test = PlantedBinary(3_000, seed: 2, out float[] truth);
        GbdtModel model = GbdtModel.Train(train, BinaryOptions);
        float[] p = model.Predict(test);

        double auc = RankingMetrics.Auc(p, test.Labels);
        double bestAuc = RankingMetrics.Auc(truth, test.Labels);
        Assert.True(auc > bestAuc - 0.03, $"AUC {auc:F4} vs generating model {bestAuc:F4}");
        Assert.All(p, v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void LambdaRank_LearnsPlantedRelevance()
    {
        DenseDataset train = PlantedRanking(300, seed: 3);
        DenseDataset test = PlantedRanking(100, seed: 4);
        GbdtModel model = GbdtModel.Train(train, new GbdtOptions { Objective = GbdtObjective.LambdaRank, NumberOfIterations = 50, NumberOfLeaves = 15, NumberOfThreads = 1 });
        float[] scores = model.Predict(test);

        double ndcg = RankingMetrics.Ndcg(scores, test.Labels, test.Groups, k: 5);
        var random = new Random(5);
        float[] noise = test.Labels.Select(_ => (float)random.NextDouble()).ToArray();
        double randomNdcg = RankingMetrics.Ndcg(noise, test.Labels, test.Groups, k: 5);
        Assert.True(ndcg > 0.9, $"NDCG@5 {ndcg:F4} (random ordering {randomNdcg:F4})");
        Assert.True(ndcg > randomNdcg + 0.3, $"NDCG@5 {ndcg:F4} vs random {randomNdcg:F4}");
    }

    [Fact]
    public void SaveAndLoad_RoundTrip_GivesIdenticalPredictions()
    {
        DenseDataset train = PlantedBinary(2_000, seed: 6, out _);
        DenseDataset test = PlantedBinary(500, seed: 7, out _);
        GbdtModel model = GbdtModel.Train(train, new GbdtOptions { NumberOfIterations = 20, NumberOfThreads = 1 });
        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        GbdtModel loaded = GbdtModel.Load(stream);
        Assert.Equal(GbdtObjective.Binary, loaded.Objective);
        Assert.Equal(model.Predict(test), loaded.Predict(test));
    }

    [Fact]
    public void SaveAndLoad_ThroughAFile_RanksIdentically()
    {
        DenseDataset train = PlantedRanking(60, seed: 10);
        DenseDataset test = PlantedRanking(20, seed: 11);
        GbdtModel model = GbdtModel.Train(train, new GbdtOptions { Objective = GbdtObjective.LambdaRank, NumberOfIterations = 10, NumberOfThreads = 1 });
        string path = Path.Combine(Path.GetTempPath(), $"zt-gbdt-{Guid.NewGuid():N}.bin");
        try
        {
            model.Save(path);
            GbdtModel loaded = GbdtModel.Load(path);
            Assert.Equal(GbdtObjective.LambdaRank, loaded.Objective);
            Assert.Equal(4, loaded.FeatureCount);
            Assert.Equal(model.Predict(test), loaded.Predict(test));
            Assert.Throws<ArgumentException>(() => loaded.Predict(PlantedBinary(10, seed: 12, out _)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_CorruptedFile_IsRefused()
    {
        GbdtModel model = GbdtModel.Train(PlantedBinary(1_000, seed: 8, out _), new GbdtOptions { NumberOfIterations = 5, NumberOfThreads = 1 });
        using var stream = new MemoryStream();
        model.Save(stream);
        byte[] bytes = stream.ToArray();
        Assert.Throws<InvalidDataException>(() => GbdtModel.Load(new MemoryStream(bytes[..(bytes.Length / 2)])));
        byte[] garbage = (byte[])bytes.Clone();
        for (int i = 16; i < garbage.Length; i += 7)
        {
            garbage[i] ^= 0x5A;
        }

        Assert.Throws<InvalidDataException>(() => GbdtModel.Load(new MemoryStream(garbage)));
        Assert.Throws<InvalidDataException>(() => GbdtModel.Load(new MemoryStream(new byte[40])));
    }

    [Fact]
    public void BadInputs_AreRejectedWithClearMessages()
    {
        Assert.Contains("NumberOfLeaves", Assert.Throws<ArgumentException>(() => GbdtModel.Train(PlantedBinary(100, 9, out _), new GbdtOptions { NumberOfLeaves = 1 })).Message, StringComparison.Ordinal);
        Assert.Contains("LearningRate", Assert.Throws<ArgumentException>(() => new GbdtOptions { LearningRate = 0 }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => new DenseDataset([], 3, [])).Message, StringComparison.Ordinal);
        var noGroups = new DenseDataset([0.1f, 0.2f], 1, [0f, 1f]);
        Assert.Contains("group", Assert.Throws<ArgumentException>(() => GbdtModel.Train(noGroups, new GbdtOptions { Objective = GbdtObjective.LambdaRank })).Message, StringComparison.Ordinal);
        var graded = new DenseDataset([0.1f, 0.2f], 1, [0f, 2f]);
        Assert.Throws<ArgumentException>(() => GbdtModel.Train(graded, BinaryOptions));
    }
}
