using Zhongtai.Training.Ranking;

namespace Zhongtai.Tests.Training.Ranking;

public class SparseBatchTests
{
    [Fact]
    public void Builder_StoresSamplesContiguously()
    {
        var builder = new SparseBatchBuilder(expectedSamples: 1, expectedNonZerosPerSample: 1);
        builder.Add([3, 5], label: 1f, weight: 2f, group: 9);
        builder.Add([7], [0.5f], label: 0f);
        builder.Add([], label: 0f);
        SparseBatch batch = builder.Build();

        Assert.Equal(3, batch.Count);
        Assert.Equal(3, batch.NonZeros);
        Assert.Equal([0, 2, 3, 3], batch.Offsets.ToArray());
        Assert.Equal([3, 5, 7], batch.Indices.ToArray());
        Assert.Equal([1f, 1f, 0.5f], batch.Values.ToArray());
        Assert.Equal(8, batch.IndexBound());
        SparseSample first = batch[0];
        Assert.Equal(2f, first.Weight);
        Assert.Equal(9, first.Group);
        Assert.Equal(0, batch[2].Indices.Length);
        Assert.Equal(0, builder.Count);

        SparseBatch tail = batch.Slice(1, 2);
        Assert.Equal([0, 1, 1], tail.Offsets.ToArray());
        Assert.Equal([7], tail.Indices.ToArray());
    }

    [Fact]
    public void Builder_RejectsMismatchedValuesAndBadWeights()
    {
        var builder = new SparseBatchBuilder();
        Assert.Throws<ArgumentException>(() => builder.Add([1, 2], [1f], 1f));
        Assert.Throws<ArgumentException>(() => builder.Add([1], 1f, weight: -1f));
        Assert.Throws<ArgumentException>(() => builder.Add([1], float.NaN));
        Assert.Throws<ArgumentException>(() => builder.Add([1], [float.NegativeInfinity], 0f));
        Assert.Equal(0, builder.Count);
    }

    [Fact]
    public void FeatureHasher_IsStableAndFieldValueFormMatchesJoinedName()
    {
        var hasher = new FeatureHasher(20, seed: 0);
        int index = hasher.Index("user=u1");
        Assert.Equal(index, hasher.Index("user", "u1"));
        Assert.Equal(index, new FeatureHasher(20, seed: 0).Index("user=u1"));
        Assert.Equal(index, hasher.IndexOfUtf8("user=u1"u8));
        Assert.NotEqual(index, new FeatureHasher(20, seed: 1).Index("user=u1"));
        Assert.InRange(index, 0, (1 << 20) - 1);

        // Golden values: XXH3-64 of the UTF-8 name, seed 0, low 20 bits. A change here breaks every saved model.
        Assert.Equal(GoldenUser, index);
        Assert.Equal(GoldenLong, hasher.Index(new string('x', 600) + "=é"));
    }

    [Fact]
    public void FeatureHasher_SpreadsNamesOverTheSpace()
    {
        var hasher = new FeatureHasher(10);
        var counts = new int[1 << 10];
        for (int i = 0; i < 100_000; i++)
        {
            counts[hasher.Index("item", i.ToString(System.Globalization.CultureInfo.InvariantCulture))]++;
        }

        // Expected ~97.7 per bucket; a broken hash piles items up.
        Assert.InRange(counts.Max(), 50, 160);
        Assert.InRange(counts.Min(), 45, 150);
    }

    private const int GoldenUser = 154447;
    private const int GoldenLong = 472958;
}
