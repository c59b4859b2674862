using Zhongtai.Training.Recall;

namespace Zhongtai.Tests.Training.Recall;

/// <summary>
/// EASE and item-CF warm starts update the sufficient statistics kept in the previous model; training on A, then warm on
/// A ∪ B, must give the same model as training on A ∪ B from scratch — users and items first seen in B included.
/// </summary>
public class ClosedFormWarmStartTests
{
    // A: 60 users × 50 items with a popularity skew; B: more items for old users, repeats of A's pairs, 10 new users
    // and 8 new items (ids 50..57) that only B knows.
    private static (List<(int User, int Item)> A, List<(int User, int Item)> B) Parts(int seed = 11)
    {
        var rng = new Random(seed);
        var a = new List<(int, int)>();
        var b = new List<(int, int)>();
        for (int u = 0; u < 60; u++)
        {
            int n = 3 + rng.Next(15);
            for (int t = 0; t < n; t++)
            {
                a.Add((u, (int)(50 * Math.Pow(rng.NextDouble(), 1.7))));
            }
        }

        for (int t = 0; t < 120; t++)
        {
            int u = rng.Next(70);
            int item = rng.Next(4) == 0 ? 50 + rng.Next(8) : (int)(50 * Math.Pow(rng.NextDouble(), 1.7));
            b.Add((u, item));
        }

        b.AddRange(a.Take(15));
        return (a, b);
    }

    private static InteractionMatrix Matrix(IEnumerable<(int User, int Item)> pairs, int users = -1, int items = -1)
    {
        var list = pairs.ToList();
        return InteractionMatrix.FromArrays([.. list.Select(p => p.User)], [.. list.Select(p => p.Item)], userCount: users, itemCount: items);
    }

    private static void AssertSameScores(IRecallModel full, IRecallModel warm, InteractionMatrix data, float tolerance)
    {
        Assert.Equal(full.UserCount, warm.UserCount);
        Assert.Equal(full.ItemCount, warm.ItemCount);
        var a = new float[full.ItemCount];
        var b = new float[full.ItemCount];
        for (int u = 0; u < data.UserCount; u++)
        {
            full.ScoreItems(u, data.ItemsOf(u), a);
            warm.ScoreItems(u, data.ItemsOf(u), b);
            for (int i = 0; i < a.Length; i++)
            {
                Assert.True(Math.Abs(a[i] - b[i]) <= tolerance * (1 + Math.Abs(a[i])), $"user {u} item {i}: full {a[i]} warm {b[i]}");
            }
        }
    }

    [Theory]
    [InlineData(0.0, true, 0.0)]
    [InlineData(0.5, true, 0.0)]
    [InlineData(0.5, false, 0.2)]
    public void Ease_WarmOnTheUnion_EqualsFullOnTheUnion_WithNewUsersAndItems(double gamma, bool zeroDiagonal, double beta)
    {
        var (a, b) = Parts();
        var o = new EaseOptions { Lambda = 5, DropoutRegularization = 0.5, UserWeightExponent = gamma, ZeroDiagonal = zeroDiagonal, PopularityExponent = beta, Threads = 1 };
        var mA = Matrix(a);
        var mAll = Matrix(a.Concat(b));
        Assert.True(mAll.UserCount > mA.UserCount && mAll.ItemCount > mA.ItemCount);

        var previous = EaseModel.Train(mA, o);
        var warm = EaseModel.Train(mAll, o, previous);
        var full = EaseModel.Train(mAll, o);

        for (int i = 0; i < mAll.ItemCount; i++)
        {
            for (int j = 0; j < mAll.ItemCount; j++)
            {
                Assert.Equal(full.Statistics.GramAt(i, j), warm.Statistics.GramAt(i, j), 1e-4f);
            }
        }

        AssertSameScores(full, warm, mAll, 1e-3f);

        // the previous model is left as it was
        Assert.Equal(mA.ItemCount, previous.Statistics.ItemCount);
        AssertSameScores(EaseModel.Train(mA, o), previous, mA, 1e-6f);
    }

    [Fact]
    public void Ease_WarmStartAlsoAppliesRemovedInteractions()
    {
        var (a, b) = Parts(seed: 5);
        var o = new EaseOptions { Lambda = 5, Threads = 1 };
        var mAll = Matrix(a.Concat(b));
        var mA = Matrix(a, mAll.UserCount, mAll.ItemCount);
        var warm = EaseModel.Train(mA, o, EaseModel.Train(mAll, o));
        AssertSameScores(EaseModel.Train(mA, o), warm, mA, 1e-3f);
    }

    [Fact]
    public void Ease_WithAnotherUserWeightExponent_RecountsFromScratch()
    {
        var (a, b) = Parts();
        var mAll = Matrix(a.Concat(b));
        var previous = EaseModel.Train(Matrix(a), new EaseOptions { Lambda = 5, UserWeightExponent = 0 });
        var o = new EaseOptions { Lambda = 5, UserWeightExponent = 1 };
        AssertSameScores(EaseModel.Train(mAll, o), EaseModel.Train(mAll, o, previous), mAll, 1e-5f);
    }

    [Theory]
    [InlineData(ItemSimilarity.Cosine, 1)]
    [InlineData(ItemSimilarity.ConditionalProbability, 2)]
    public void ItemCf_WarmOnTheUnion_EqualsFullOnTheUnion_WithNewUsersAndItems(ItemSimilarity similarity, int minCoCount)
    {
        var (a, b) = Parts();
        var o = new ItemCfOptions { Similarity = similarity, NeighborCount = 7, MinCoCount = minCoCount, Threads = 1 };
        var mA = Matrix(a);
        var mAll = Matrix(a.Concat(b));

        var previous = ItemCfModel.Train(mA, o);
        var warm = ItemCfModel.Train(mAll, o, previous);
        var full = ItemCfModel.Train(mAll, o);

        Assert.Equal(full.Statistics.PairCount, warm.Statistics.PairCount);
        for (int i = 0; i < mAll.ItemCount; i++)
        {
            Assert.Equal(full.Statistics.ItemCountOf(i), warm.Statistics.ItemCountOf(i));
            for (int j = 0; j < mAll.ItemCount; j++)
            {
                Assert.Equal(full.Statistics.CountOf(i, j), warm.Statistics.CountOf(i, j));
            }

            Assert.Equal(full.NeighborsOf(i).ToArray(), warm.NeighborsOf(i).ToArray());
            Assert.Equal(full.WeightsOf(i).ToArray(), warm.WeightsOf(i).ToArray());
        }

        AssertSameScores(full, warm, mAll, 0f);
        Assert.Contains(Enumerable.Range(50, 8), i => warm.NeighborsOf(i).Length > 0);

        // counts are users with both items: check one pair against the data
        int x = 3, y = 5;
        int expected = Enumerable.Range(0, mAll.UserCount).Count(u => mAll.Contains(u, x) && mAll.Contains(u, y));
        Assert.Equal(expected, warm.Statistics.CountOf(x, y));
    }

    [Fact]
    public void ItemCf_WarmStartAlsoAppliesRemovedInteractions()
    {
        var (a, b) = Parts(seed: 5);
        var o = new ItemCfOptions { NeighborCount = 7 };
        var mAll = Matrix(a.Concat(b));
        var mA = Matrix(a, mAll.UserCount, mAll.ItemCount);
        var warm = ItemCfModel.Train(mA, o, ItemCfModel.Train(mAll, o));
        var full = ItemCfModel.Train(mA, o);
        Assert.Equal(full.Statistics.PairCount, warm.Statistics.PairCount);
        AssertSameScores(full, warm, mA, 0f);
    }

    [Fact]
    public void WarmStart_RefusesDataWithFewerItemsThanThePreviousModel()
    {
        var (a, b) = Parts();
        var mAll = Matrix(a.Concat(b));
        var small = Matrix(a.Where(p => p.Item < 10));
        Assert.Throws<ArgumentException>(() => ItemCfModel.Train(small, null, ItemCfModel.Train(mAll)));
        Assert.Throws<ArgumentException>(() => EaseModel.Train(small, new EaseOptions(), EaseModel.Train(mAll)));
    }

    [Fact]
    public void Codec_RoundTripsBothModels_AndTheDecodedModelWarmStarts()
    {
        var (a, b) = Parts();
        var mA = Matrix(a);
        var mAll = Matrix(a.Concat(b));
        var eo = new EaseOptions { Lambda = 5, PopularityExponent = 0.1 };
        var ease = EaseModel.Train(mA, eo);
        var easeBack = ClosedFormModelCodec.DeserializeEase(ClosedFormModelCodec.Serialize(ease));
        AssertSameScores(ease, easeBack, mA, 0f);
        AssertSameScores(EaseModel.Train(mAll, eo), EaseModel.Train(mAll, eo, easeBack), mAll, 1e-3f);

        var io = new ItemCfOptions { NeighborCount = 5, Similarity = ItemSimilarity.ConditionalProbability, Alpha = 0.3 };
        var cf = ItemCfModel.Train(mA, io);
        var cfBack = ClosedFormModelCodec.DeserializeItemCf(ClosedFormModelCodec.Serialize(cf));
        AssertSameScores(cf, cfBack, mA, 0f);
        Assert.Equal(0.3, cfBack.Options.Alpha);
        AssertSameScores(ItemCfModel.Train(mAll, io), ItemCfModel.Train(mAll, io, cfBack), mAll, 0f);

        var bytes = ClosedFormModelCodec.Serialize(cf);
        Assert.Throws<InvalidDataException>(() => ClosedFormModelCodec.DeserializeItemCf(bytes[..^3]));
        Assert.Throws<InvalidDataException>(() => ClosedFormModelCodec.DeserializeEase(bytes));
    }
}
