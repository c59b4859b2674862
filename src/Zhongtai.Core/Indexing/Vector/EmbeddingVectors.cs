using Zhongtai.Training.Evaluation;
using Zhongtai.Training.Recall;

namespace Zhongtai.Indexing.Vector;

/// <summary>
/// Real benchmark vectors: item embeddings trained by the project's own recall trainers on a ratings file, with the
/// queries the model serves — user factors against item factors by inner product for ALS (the model's score is
/// <c>dot(user, item)</c>), item vectors against item vectors by cosine for item2vec (its similar-items score).
/// </summary>
public static class EmbeddingVectors
{
    /// <summary>The models <see cref="Train"/> accepts.</summary>
    public static IReadOnlyList<string> Models { get; } = ["als", "item2vec"];

    /// <summary>
    /// Loads <paramref name="ratingsPath"/> (<c>.csv</c>: ml-latest <c>ratings.csv</c>; otherwise ml-100k <c>u.data</c>), trains
    /// <paramref name="model"/> with the trainer defaults the recall evaluation uses, and returns row-major item vectors (row =
    /// dense item id), <paramref name="queryCount"/> query vectors picked with <paramref name="seed"/> (users for ALS, items
    /// for item2vec; all of them when there are fewer), the dimension and the metric the model scores with.
    /// </summary>
    public static (float[] Items, float[] Queries, int Dimension, VectorMetric Metric, string Description) Train(
        string model, string ratingsPath, int queryCount, int seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(ratingsPath);
        var format = ratingsPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? "csv" : "movielens";
        var matrix = RatingsLoader.Load(ratingsPath, format).ToMatrix();
        var rng = new Random(seed);
        switch (model.ToUpperInvariant())
        {
            case "ALS":
            {
                var als = (FactorModel)RecallModelFactory.Train("als", matrix, cancellationToken: cancellationToken);
                int d = als.Dimension;
                var items = new float[als.ItemCount * d];
                for (int i = 0; i < als.ItemCount; i++)
                {
                    als.ItemVector(i).CopyTo(items.AsSpan(i * d, d));
                }
                var users = Pick(als.UserCount, queryCount, rng);
                var queries = new float[users.Length * d];
                for (int q = 0; q < users.Length; q++)
                {
                    als.UserVector(users[q]).CopyTo(queries.AsSpan(q * d, d));
                }
                return (items, queries, d, VectorMetric.InnerProduct,
                    $"ALS item factors of {Path.GetFileName(ratingsPath)} ({als.ItemCount} items x {d}), {users.Length} user queries, inner product");
            }
            case "ITEM2VEC":
            {
                var sg = (SkipGramItemModel)RecallModelFactory.Train("item2vec", matrix, cancellationToken: cancellationToken);
                int d = sg.Dimension;
                var items = new float[sg.ItemCount * d];
                for (int i = 0; i < sg.ItemCount; i++)
                {
                    var v = items.AsSpan(i * d, d);
                    sg.Input.AsSpan(i * d, d).CopyTo(v);
                    if (System.Numerics.Tensors.TensorPrimitives.Norm(v) == 0)
                    {
                        v[0] = 1e-6f; // cosine rejects zero vectors; an item never trained is kept but unreachable by similarity
                    }
                }
                var picked = Pick(sg.ItemCount, queryCount, rng);
                var queries = new float[picked.Length * d];
                for (int q = 0; q < picked.Length; q++)
                {
                    items.AsSpan(picked[q] * d, d).CopyTo(queries.AsSpan(q * d, d));
                }
                return (items, queries, d, VectorMetric.Cosine,
                    $"item2vec input vectors of {Path.GetFileName(ratingsPath)} ({sg.ItemCount} items x {d}), {picked.Length} item queries, cosine");
            }
            default:
                throw new ArgumentException($"Unknown embedding model '{model}'; expected one of: {string.Join(", ", Models)}.", nameof(model));
        }
    }

    private static int[] Pick(int count, int wanted, Random rng)
    {
        var all = Enumerable.Range(0, count).ToArray();
        if (wanted >= count)
        {
            return all;
        }
        rng.Shuffle(all);
        return all[..wanted];
    }
}
