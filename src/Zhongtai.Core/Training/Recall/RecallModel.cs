namespace Zhongtai.Training.Recall;

/// <summary>A trained recall model: scores every item for a user.</summary>
public interface IRecallModel
{
    /// <summary>Short model name (<c>pop</c>, <c>itemcf</c>, <c>als</c>, ...).</summary>
    string Name { get; }

    /// <summary>Number of users the model has parameters for.</summary>
    int UserCount { get; }

    /// <summary>Number of items the model scores.</summary>
    int ItemCount { get; }

    /// <summary>
    /// Writes a score for every item (higher is better) into <paramref name="scores"/> (length <see cref="ItemCount"/>).
    /// <paramref name="history"/> is the user's known items (sorted or not); item-based models score from it, factor models
    /// use the user's parameters and ignore it. Users without parameters get scores from the history or zeros.
    /// </summary>
    void ScoreItems(int user, ReadOnlySpan<int> history, Span<float> scores);
}

/// <summary>A model that has item-to-item neighbours (for item-to-item recall).</summary>
public interface ISimilarItemsModel
{
    /// <summary>The <paramref name="k"/> most similar items to <paramref name="item"/>, best first, excluding the item itself.</summary>
    IReadOnlyList<(int Item, float Score)> SimilarItems(int item, int k);
}

/// <summary>A model with one dense vector per item, for a vector index.</summary>
public interface IItemEmbeddingModel
{
    /// <summary>Vector dimension.</summary>
    int Dimension { get; }

    /// <summary>A copy of the vector of <paramref name="item"/> (length <see cref="Dimension"/>).</summary>
    float[] GetItemVector(int item);
}

/// <summary>Top-K helpers over <see cref="IRecallModel"/>.</summary>
public static class RecallModelExtensions
{
    /// <summary>
    /// Top <paramref name="k"/> items for <paramref name="user"/>, best first, excluding the items in <paramref name="history"/>.
    /// </summary>
    public static int[] Recommend(this IRecallModel model, int user, ReadOnlySpan<int> history, int k)
    {
        ArgumentNullException.ThrowIfNull(model);
        var scores = new float[model.ItemCount];
        var result = new int[Math.Min(k, model.ItemCount)];
        int n = model.RecommendInto(user, history, scores, result);
        return n == result.Length ? result : result[..n];
    }

    /// <summary>
    /// Allocation-free variant: <paramref name="scores"/> is scratch (length ItemCount); fills <paramref name="result"/>
    /// with up to <c>result.Length</c> items and returns how many were written.
    /// </summary>
    public static int RecommendInto(this IRecallModel model, int user, ReadOnlySpan<int> history, Span<float> scores, Span<int> result)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.ScoreItems(user, history, scores);
        foreach (int i in history)
        {
            if ((uint)i < (uint)scores.Length)
            {
                scores[i] = float.NegativeInfinity;
            }
        }

        return TopK.Select(scores, result);
    }
}

/// <summary>Top-K selection with a small binary min-heap; ties go to the lower index; -inf and NaN are never selected.</summary>
public static class TopK
{
    /// <summary>Writes the indices of the largest scores into <paramref name="result"/>, best first; returns the count written.</summary>
    public static int Select(ReadOnlySpan<float> scores, Span<int> result)
    {
        int k = result.Length;
        if (k == 0)
        {
            return 0;
        }

        Span<float> hs = k <= 256 ? stackalloc float[k] : new float[k];
        int size = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            float s = scores[i];
            if (!(s > float.NegativeInfinity))
            {
                continue;
            }

            if (size < k)
            {
                // sift up
                int c = size++;
                while (c > 0)
                {
                    int p = (c - 1) >> 1;
                    if (!Worse(s, i, hs[p], result[p]))
                    {
                        break;
                    }

                    hs[c] = hs[p];
                    result[c] = result[p];
                    c = p;
                }

                hs[c] = s;
                result[c] = i;
            }
            else if (s > hs[0])
            {
                SiftDown(hs, result, size, s, i);
            }
        }

        // heap-sort: pop the worst to the end
        for (int end = size - 1; end > 0; end--)
        {
            float s = hs[end];
            int id = result[end];
            hs[end] = hs[0];
            result[end] = result[0];
            SiftDown(hs[..end], result[..end], end, s, id);
        }

        return size;
    }

    // a is worse than b: lower score, or equal score and higher index.
    private static bool Worse(float sa, int ia, float sb, int ib) => sa < sb || (sa == sb && ia > ib);

    private static void SiftDown(Span<float> hs, Span<int> ids, int size, float s, int id)
    {
        int c = 0;
        while (true)
        {
            int l = (2 * c) + 1;
            if (l >= size)
            {
                break;
            }

            int r = l + 1;
            int m = r < size && Worse(hs[r], ids[r], hs[l], ids[l]) ? r : l;
            if (!Worse(hs[m], ids[m], s, id))
            {
                break;
            }

            hs[c] = hs[m];
            ids[c] = ids[m];
            c = m;
        }

        hs[c] = s;
        ids[c] = id;
    }
}
