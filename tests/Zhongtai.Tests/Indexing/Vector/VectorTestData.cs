using Zhongtai.Indexing.Vector;

namespace Zhongtai.Tests.Indexing.Vector;

internal static class VectorTestData
{
    public static float[] Clustered(int count, int dim, int seed) =>
        new ClusteredVectors(dim, clusters: 20, subspace: 8, noise: 0.05f, seed: 99).Sample(count, seed);

    public static int[] Ids(int count, int offset = 0)
    {
        var ids = new int[count];
        for (int i = 0; i < count; i++)
        {
            ids[i] = i + offset;
        }
        return ids;
    }

    /// <summary>Mean recall@k of <paramref name="index"/> against an exact index over the same data.</summary>
    public static double Recall(IVectorIndex index, IVectorIndex exact, float[] queries, int dim, int k, int ef, Func<int, bool>? filter = null)
    {
        int nq = queries.Length / dim;
        long hits = 0;
        long total = 0;
        for (int q = 0; q < nq; q++)
        {
            var query = queries.AsSpan(q * dim, dim);
            var truth = exact.Search(query, k, filter);
            var got = index.Search(query, k, filter, ef);
            var truthIds = truth.Select(h => h.Id).ToHashSet();
            hits += got.Count(h => truthIds.Contains(h.Id));
            total += truth.Length;
        }
        return hits / (double)total;
    }
}
