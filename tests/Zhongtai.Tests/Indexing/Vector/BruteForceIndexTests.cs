using Zhongtai.Indexing.Vector;

namespace Zhongtai.Tests.Indexing.Vector;

public sealed class BruteForceIndexTests
{
    private static float Naive(VectorMetric metric, float[] a, float[] b)
    {
        if (metric == VectorMetric.L2)
        {
            return a.Zip(b).Sum(p => (p.First - p.Second) * (p.First - p.Second));
        }
        if (metric == VectorMetric.Cosine)
        {
            float na = MathF.Sqrt(a.Sum(x => x * x));
            float nb = MathF.Sqrt(b.Sum(x => x * x));
            return 1f - (a.Zip(b).Sum(p => p.First * p.Second) / (na * nb));
        }
        return 1f - a.Zip(b).Sum(p => p.First * p.Second);
    }

    [Theory]
    [InlineData(VectorMetric.Cosine)]
    [InlineData(VectorMetric.InnerProduct)]
    [InlineData(VectorMetric.L2)]
    public void Search_ReturnsExactNearestInOrder(VectorMetric metric)
    {
        const int Dim = 19; // not a multiple of the SIMD width
        var rng = new Random(4);
        var vectors = Enumerable.Range(0, 300).Select(_ => Enumerable.Range(0, Dim).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray()).ToArray();
        using var index = new BruteForceIndex(Dim, metric, initialCapacity: 8);
        for (int i = 0; i < vectors.Length; i++)
        {
            index.Add(i * 2, vectors[i]);
        }
        var query = Enumerable.Range(0, Dim).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();

        var hits = index.Search(query, 7);

        var expected = vectors.Select((v, i) => (Id: i * 2, D: Naive(metric, query, v))).OrderBy(x => x.D).Take(7).ToArray();
        Assert.Equal(expected.Select(e => e.Id), hits.Select(h => h.Id));
        for (int i = 0; i < 7; i++)
        {
            Assert.Equal(expected[i].D, hits[i].Distance, 4);
        }
    }

    [Fact]
    public void RemoveAndFilter_AreRespected()
    {
        const int Dim = 8;
        var data = VectorTestData.Clustered(200, Dim, seed: 3);
        using var index = new BruteForceIndex(Dim, VectorMetric.L2);
        index.AddRange(VectorTestData.Ids(200), data);

        Assert.True(index.Remove(0));
        Assert.False(index.Remove(0));
        Assert.Equal(199, index.Count);
        Assert.NotEqual(0, index.Search(data.AsSpan(0, Dim), 1)[0].Id);
        Assert.True(index.Contains(199));
        Assert.Equal(199, index.Search(data.AsSpan(199 * Dim, Dim), 1)[0].Id);

        var filtered = index.Search(data.AsSpan(0, Dim), 200, id => id % 2 == 1);
        Assert.Equal(100, filtered.Length);
        Assert.All(filtered, h => Assert.Equal(1, h.Id % 2));
    }

    [Fact]
    public void SaveAndLoad_RoundTrip()
    {
        const int Dim = 8;
        var data = VectorTestData.Clustered(100, Dim, seed: 5);
        using var index = new BruteForceIndex(Dim, VectorMetric.InnerProduct);
        index.AddRange(VectorTestData.Ids(100, offset: 1000), data);
        index.Remove(1050);
        string path = Path.Combine(Path.GetTempPath(), $"zt-flat-{Guid.NewGuid():N}.ztv");
        try
        {
            index.Save(path);
            using var loaded = Assert.IsType<BruteForceIndex>(VectorIndexFile.Load(path));
            Assert.Equal(99, loaded.Count);
            Assert.Equal(index.Search(data.AsSpan(0, Dim), 5), loaded.Search(data.AsSpan(0, Dim), 5));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ExactKnn_MatchesIndexSearch()
    {
        const int Dim = 16;
        var data = VectorTestData.Clustered(500, Dim, seed: 6);
        var queries = VectorTestData.Clustered(13, Dim, seed: 7);
        using var index = new BruteForceIndex(Dim, VectorMetric.Cosine);
        index.AddRange(VectorTestData.Ids(500), data);

        int[] gt = BruteForceIndex.ExactKnn(data, queries, Dim, 5, VectorMetric.Cosine, threads: 2);

        for (int q = 0; q < 13; q++)
        {
            Assert.Equal(index.Search(queries.AsSpan(q * Dim, Dim), 5).Select(h => h.Id), gt.AsSpan(q * 5, 5).ToArray());
        }
    }
}
