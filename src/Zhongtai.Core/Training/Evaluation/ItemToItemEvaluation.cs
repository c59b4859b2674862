using System.Numerics.Tensors;
using Zhongtai.Training.Recall;

namespace Zhongtai.Training.Evaluation;

/// <summary>
/// Embedding quality as item-to-item recall: for every test user, the query is the user's latest train item, the
/// candidates are the K items nearest to it by cosine (excluding the user's train items), and a hit is a held-out item
/// among them (use with <c>leave-last-out</c>: next-item HitRate@K).
/// </summary>
public static class ItemToItemEvaluation
{
    /// <summary>
    /// Next-item HitRate@K over a row-major embedding table (<paramref name="dim"/> floats per item, item id = row).
    /// Rows of items the embedding never saw may be zero; they score 0.
    /// </summary>
    public static double NextItemHitRate(ReadOnlySpan<float> table, int dim, EvalSplit split, int k)
    {
        ArgumentNullException.ThrowIfNull(split);
        var normalized = Embeddings.Normalized(table, dim);
        int items = Math.Min(normalized.Length / dim, split.Train.ItemCount);
        var scores = new float[items];
        var top = new int[Math.Min(k, items)];
        int hits = 0, users = 0;
        for (int u = 0; u < split.Test.Count; u++)
        {
            var test = split.Test[u];
            if (test.Length == 0 || split.Train.CountOf(u) == 0)
            {
                continue;
            }

            users++;
            var seq = split.Train.SequenceOf(u);
            int query = seq[^1];
            var q = normalized.AsSpan(query * dim, dim);
            for (int j = 0; j < items; j++)
            {
                scores[j] = TensorPrimitives.Dot(q, normalized.AsSpan(j * dim, dim));
            }

            foreach (int seen in split.Train.ItemsOf(u))
            {
                if (seen < items)
                {
                    scores[seen] = float.NegativeInfinity;
                }
            }

            int m = TopK.Select(scores, top);
            if (RankingMetrics.Hits(top.AsSpan(0, m), test, k) > 0)
            {
                hits++;
            }
        }

        return users == 0 ? 0 : (double)hits / users;
    }
}
