using System.Numerics.Tensors;

namespace Zhongtai.Training.Recall;

/// <summary>
/// A matrix-factorization model: user and item factors (row-major, <see cref="Factors"/> per row) and optional item biases;
/// the score of (u, i) is <c>x_u·y_i + b_i</c>. Produced by <see cref="ImplicitAls"/> and <see cref="Bpr"/>, and passed back
/// to them as the previous model for a warm start.
/// </summary>
public sealed class FactorModel : IRecallModel, IItemEmbeddingModel, ISimilarItemsModel
{
    internal FactorModel(string name, int userCount, int itemCount, int factors, float[] userFactors, float[] itemFactors, float[]? itemBias)
    {
        Name = name;
        UserCount = userCount;
        ItemCount = itemCount;
        Factors = factors;
        UserFactors = userFactors;
        ItemFactors = itemFactors;
        ItemBias = itemBias;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public int UserCount { get; }

    /// <inheritdoc/>
    public int ItemCount { get; }

    /// <summary>Latent dimension.</summary>
    public int Factors { get; }

    /// <inheritdoc/>
    public int Dimension => Factors;

    internal float[] UserFactors { get; }

    internal float[] ItemFactors { get; }

    internal float[]? ItemBias { get; }

    /// <summary>The factors of <paramref name="user"/>.</summary>
    public ReadOnlySpan<float> UserVector(int user) => UserFactors.AsSpan(user * Factors, Factors);

    /// <summary>The factors of <paramref name="item"/>.</summary>
    public ReadOnlySpan<float> ItemVector(int item) => ItemFactors.AsSpan(item * Factors, Factors);

    /// <inheritdoc/>
    public float[] GetItemVector(int item) => ItemVector(item).ToArray();

    /// <inheritdoc/>
    public void ScoreItems(int user, ReadOnlySpan<int> history, Span<float> scores)
    {
        if ((uint)user >= (uint)UserCount)
        {
            scores.Clear();
            return;
        }

        var x = UserVector(user);
        for (int i = 0; i < ItemCount; i++)
        {
            scores[i] = TensorPrimitives.Dot(x, ItemFactors.AsSpan(i * Factors, Factors)) + (ItemBias?[i] ?? 0f);
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<(int Item, float Score)> SimilarItems(int item, int k) => Embeddings.NearestByCosine(ItemFactors, Factors, item, k);

    internal static (float[] Users, float[] Items, float[]? Bias) WarmStart(
        FactorModel? previous, int userCount, int itemCount, int factors, bool bias, float initScale, Random rng, string trainer)
    {
        if (previous is not null && previous.Factors != factors)
        {
            throw new ArgumentException(
                $"Warm start needs the same factor count: the previous {trainer} model has {previous.Factors}, the options ask for {factors}.");
        }

        userCount = Math.Max(userCount, previous?.UserCount ?? 0);
        itemCount = Math.Max(itemCount, previous?.ItemCount ?? 0);
        var users = new float[userCount * factors];
        var items = new float[itemCount * factors];
        var b = bias ? new float[itemCount] : null;
        Init(users, rng, initScale);
        Init(items, rng, initScale);
        if (previous is not null)
        {
            previous.UserFactors.CopyTo(users, 0);
            previous.ItemFactors.CopyTo(items, 0);
            if (b is not null)
            {
                previous.ItemBias?.CopyTo(b, 0);
            }
        }

        return (users, items, b);
    }

    private static void Init(float[] a, Random rng, float scale)
    {
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = (float)((rng.NextDouble() * 2) - 1) * scale;
        }
    }
}

/// <summary>Helpers over row-major embedding tables.</summary>
public static class Embeddings
{
    /// <summary>Rows scaled to unit length (zero rows stay zero).</summary>
    public static float[] Normalized(ReadOnlySpan<float> table, int dim)
    {
        var result = table.ToArray();
        for (int r = 0; r < result.Length / dim; r++)
        {
            var row = result.AsSpan(r * dim, dim);
            float norm = TensorPrimitives.Norm(row);
            if (norm > 0)
            {
                TensorPrimitives.Divide(row, norm, row);
            }
        }

        return result;
    }

    /// <summary>The <paramref name="k"/> rows most cosine-similar to row <paramref name="item"/> (brute force), excluding itself.</summary>
    public static IReadOnlyList<(int Item, float Score)> NearestByCosine(ReadOnlySpan<float> table, int dim, int item, int k)
    {
        int n = table.Length / dim;
        var q = table.Slice(item * dim, dim);
        float qn = TensorPrimitives.Norm(q);
        var scores = new float[n];
        for (int j = 0; j < n; j++)
        {
            var row = table.Slice(j * dim, dim);
            float d = qn * TensorPrimitives.Norm(row);
            scores[j] = d > 0 ? TensorPrimitives.Dot(q, row) / d : 0f;
        }

        scores[item] = float.NegativeInfinity;
        var top = new int[Math.Min(k, n)];
        int m = TopK.Select(scores, top);
        var list = new (int, float)[m];
        for (int t = 0; t < m; t++)
        {
            list[t] = (top[t], scores[top[t]]);
        }

        return list;
    }
}
