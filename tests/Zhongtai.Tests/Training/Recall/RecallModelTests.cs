using Zhongtai.Training.Evaluation;
using Zhongtai.Training.Recall;

namespace Zhongtai.Tests.Training.Recall;

public class RecallModelTests
{
    private static readonly RecallModelSettings Small = new()
    {
        Als = new AlsOptions { Factors = 4, Iterations = 10, Threads = 1 },
        Bpr = new BprOptions { Factors = 8, Epochs = 40, LearningRate = 0.05, Threads = 1 },
        Item2Vec = new Item2VecOptions { Dimension = 16, Epochs = 30, SubSample = 0, Window = 5 },
        DeepWalk = new DeepWalkOptions { Dimension = 16, Epochs = 3, SubSample = 0, WalksPerItem = 5, WalkLength = 20 },
    };

    [Theory]
    [InlineData("itemcf")]
    [InlineData("als")]
    [InlineData("bpr")]
    [InlineData("ease")]
    [InlineData("item2vec")]
    [InlineData("deepwalk")]
    [InlineData("rp3beta")]
    public void Model_LearnsPlantedBlocks_AndBeatsPopularity(string name)
    {
        var split = PlantedData.Split();
        var model = RecallModelFactory.Train(name, split.Train, Small);
        var pop = RecallModelFactory.Train("pop", split.Train, Small);
        var r = RecallEvaluation.Evaluate(model, split, "random-split", 10);
        var rp = RecallEvaluation.Evaluate(pop, split, "random-split", 10);

        // 14 items per user: 4 test, 10 train; the 10 unseen in-block items fill the top 10 when the blocks are learned
        Assert.True(r.Recall >= 0.95, $"{name} recall@10 {r.Recall:F3}");
        Assert.True(r.Ndcg > rp.Ndcg + 0.1, $"{name} ndcg {r.Ndcg:F3} vs pop {rp.Ndcg:F3}");
        Assert.True(PlantedData.InBlockShare(model, split.Train) >= 0.95);
    }

    [Fact]
    public void Recommend_ExcludesHistory_AndReturnsK()
    {
        var m = PlantedData.Matrix();
        var model = ItemCfModel.Train(m);
        var top = model.Recommend(0, m.ItemsOf(0), 5);
        Assert.Equal(5, top.Length);
        Assert.DoesNotContain(top, i => m.Contains(0, i));
    }

    [Fact]
    public void ItemCf_WeightsMatchHandComputedCooccurrence()
    {
        // users: {0,1}, {0,1}, {0,2}: n0=3, n1=2, n2=1, c01=2, c02=1
        var m = InteractionMatrix.FromArrays([0, 0, 1, 1, 2, 2], [0, 1, 0, 1, 0, 2]);
        var cos = ItemCfModel.Train(m, new ItemCfOptions { Similarity = ItemSimilarity.Cosine });
        Assert.Equal([1, 2], cos.NeighborsOf(0).ToArray());
        Assert.Equal(2 / Math.Sqrt(6), cos.WeightsOf(0)[0], 5);
        Assert.Equal(1 / Math.Sqrt(3), cos.WeightsOf(0)[1], 5);

        var cp = ItemCfModel.Train(m, new ItemCfOptions { Similarity = ItemSimilarity.ConditionalProbability, Alpha = 0.5 });

        // P(1|0) damped: 2 / (3 * 2^0.5); P(0|1): 2 / (2 * 3^0.5) — asymmetric
        Assert.Equal(2 / (3 * Math.Sqrt(2)), cp.SimilarItems(0, 1)[0].Score, 5);
        Assert.Equal(1 / Math.Sqrt(3), cp.SimilarItems(1, 1)[0].Score, 5);
        Assert.DoesNotContain(2, cp.NeighborsOf(1).ToArray());
    }

    [Fact]
    public void Popularity_CountsDecaysAndFiltersByCategory()
    {
        const long Day = 86400;

        // item 0: two users today; item 1: three users 10 days ago; item 2: one user today
        var m = InteractionMatrix.FromArrays([0, 1, 0, 1, 2, 3], [0, 0, 1, 1, 1, 2], timestamps: [10 * Day, 10 * Day, 0, 0, 0, 10 * Day]);
        var plain = PopularityModel.Train(m);
        Assert.Equal([1, 0, 2], plain.TopItems(3));

        var decayed = PopularityModel.Train(m, new PopularityOptions { HalfLifeDays = 5, ItemCategories = [7, 8, 7] });
        Assert.Equal(0.75f, decayed.Scores[1], 4); // 3 * 0.5^(10/5)
        Assert.Equal([0, 2, 1], decayed.TopItems(3));
        Assert.Equal([0, 2], decayed.TopItems(5, category: 7));
        Assert.Equal([1], decayed.TopItems(5, category: 8));
    }

    [Fact]
    public void Popularity_WarmStartAddsNewCountsToDecayedOldOnes()
    {
        const long Day = 86400;
        var first = PopularityModel.Train(InteractionMatrix.FromArrays([0, 1], [0, 0], timestamps: [0, 0]), new PopularityOptions { HalfLifeDays = 1 });
        var next = PopularityModel.Train(InteractionMatrix.FromArrays([2], [1], timestamps: [Day], itemCount: 2), new PopularityOptions { HalfLifeDays = 1 }, first);
        Assert.Equal(1f, next.Scores[0], 4); // 2 * 0.5
        Assert.Equal(1f, next.Scores[1], 4);
    }

    [Fact]
    public void Ease_RefusesLargeCatalogsWithAClearMessage()
    {
        var m = PlantedData.Matrix();
        var e = Assert.Throws<ArgumentException>(() => EaseModel.Train(m, new EaseOptions { MaxItems = 10 }));
        Assert.Contains("MaxItems", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ease_WeightsSolveTheRegularizedRegression()
    {
        // B = I - P diag(1/diag P): check against a direct double-precision inverse on a tiny matrix
        var m = InteractionMatrix.FromArrays([0, 0, 1, 1, 1, 2, 2, 3], [0, 1, 0, 1, 2, 1, 2, 2]);
        const double Lambda = 2, Rho = 0.5;
        var model = EaseModel.Train(m, new EaseOptions { Lambda = Lambda, DropoutRegularization = Rho, UserWeightExponent = 0 });
        var g = new double[3, 3];
        for (int u = 0; u < 4; u++)
        {
            foreach (int i in m.ItemsOf(u))
            {
                foreach (int j in m.ItemsOf(u))
                {
                    g[i, j]++;
                }
            }
        }

        for (int i = 0; i < 3; i++)
        {
            g[i, i] += Lambda + (Rho * g[i, i]);
        }

        var p = DenseSpdInverseTests.InvertDouble(g);
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                double expected = i == j ? 0 : -p[i, j] / p[j, j];
                Assert.Equal(expected, model.Weight(i, j), 4);
            }
        }
    }

    [Fact]
    public void Factory_UnknownNameListsTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => RecallModelFactory.Train("svd++", PlantedData.Matrix()));
        Assert.Contains("itemcf", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluation_RunReturnsOneResultPerModelWithEveryMetric()
    {
        var results = RecallEvaluation.Run(PlantedData.Create(), EvalProtocol.Parse("random-split"), ["pop", "itemcf"], 10, Small);
        Assert.Equal(["pop", "itemcf"], results.Select(r => r.Model));
        foreach (var r in results)
        {
            Assert.Equal(80, r.Users);
            Assert.InRange(r.Ndcg, 0, 1);
            Assert.InRange(r.Precision, 0.01, 1);
            Assert.True(r.Coverage > 0);
            Assert.True(r.TrainSeconds >= 0);
            Assert.True(r.PeakWorkingSetBytes > 0);
        }
    }

    [Fact]
    public void Blend_StandardisesAndWeightsEachModel()
    {
        var split = PlantedData.Split();
        var blend = RecallModelFactory.Train("ease+itemcf", split.Train, Small);
        Assert.Equal("ease+itemcf", blend.Name);
        Assert.True(RecallEvaluation.Evaluate(blend, split, "random-split", 10).Recall >= 0.95);

        // a blend of one model with weight 2 ranks exactly like the model itself
        var ease = EaseModel.Train(split.Train);
        var single = new BlendModel([ease], [2.0]);
        var history = split.Train.ItemsOf(3);
        Assert.Equal(ease.Recommend(3, history, 10), single.Recommend(3, history, 10));
        Assert.Throws<ArgumentException>(() => new BlendModel([ease], [1.0, 2.0]));
    }

    [Fact]
    public void Item2Vec_EmbeddingsServeItemToItemRecall()
    {
        var m = PlantedData.Matrix();
        var model = Item2Vec.Train(m, Small.Item2Vec);
        Assert.Equal(16, model.GetItemVector(3).Length);
        var similar = model.SimilarItems(3, 5);
        Assert.All(similar, s => Assert.True(s.Item < PlantedData.ItemsPerBlock));
        var split = EvalProtocol.Parse("leave-last-out").Split(PlantedData.Create());
        var trained = Item2Vec.Train(split.Train, Small.Item2Vec);
        double hr = ItemToItemEvaluation.NextItemHitRate(trained.Input, 16, split, 10);
        Assert.True(hr > 0.9, $"next-item hit rate {hr}");
    }
}
