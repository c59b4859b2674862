namespace Zhongtai.Training.Ranking;

/// <summary>
/// Offline metrics for click and ranking models: ROC AUC (ties count one half), log-loss, and NDCG@k
/// over grouped samples (one group per request or user).
/// </summary>
public static class RankingMetrics
{
    /// <summary>The probability clamp used by <see cref="LogLoss"/>: predictions are kept in [Epsilon, 1 - Epsilon].</summary>
    public const double Epsilon = 1e-15;

    /// <summary>
    /// Weighted ROC AUC: the probability that a random positive scores above a random negative, where a tie
    /// counts one half (equivalently, the Mann–Whitney statistic with average ranks for ties).
    /// A label above 0.5 is positive. Without <paramref name="weights"/> every sample weighs 1.
    /// </summary>
    /// <exception cref="ArgumentException">Lengths differ, the input is empty, or it lacks positives or negatives.</exception>
    public static double Auc(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels, ReadOnlySpan<float> weights = default)
    {
        CheckLengths(scores.Length, labels.Length, weights, "AUC");
        int n = scores.Length;
        var order = new int[n];
        var keys = scores.ToArray();
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
            if (float.IsNaN(keys[i]))
            {
                throw new ArgumentException($"AUC: score {i} is NaN.", nameof(scores));
            }
        }

        Array.Sort(keys, order);
        double positives = 0, negatives = 0, area = 0;
        int start = 0;
        while (start < n)
        {
            int end = start;
            double groupPos = 0, groupNeg = 0;
            while (end < n && keys[end] == keys[start])
            {
                int s = order[end];
                double w = weights.IsEmpty ? 1.0 : weights[s];
                if (labels[s] > 0.5f)
                {
                    groupPos += w;
                }
                else
                {
                    groupNeg += w;
                }

                end++;
            }

            // Every positive in this tie group beats every negative seen so far and ties the group's negatives.
            area += groupPos * (negatives + 0.5 * groupNeg);
            positives += groupPos;
            negatives += groupNeg;
            start = end;
        }

        if (positives <= 0 || negatives <= 0)
        {
            throw new ArgumentException($"AUC needs both positive and negative samples (positive weight {positives}, negative weight {negatives}).", nameof(labels));
        }

        return area / (positives * negatives);
    }

    /// <summary>
    /// Weighted mean binary cross-entropy, <c>-Σ w (y log p + (1 - y) log(1 - p)) / Σ w</c>, with p clamped to
    /// [<see cref="Epsilon"/>, 1 - <see cref="Epsilon"/>]. Labels are used as given (0/1, or a soft label in [0, 1]).
    /// </summary>
    public static double LogLoss(ReadOnlySpan<float> probabilities, ReadOnlySpan<float> labels, ReadOnlySpan<float> weights = default)
    {
        CheckLengths(probabilities.Length, labels.Length, weights, "Log-loss");
        double sum = 0, total = 0;
        for (int i = 0; i < probabilities.Length; i++)
        {
            double p = Math.Clamp((double)probabilities[i], Epsilon, 1 - Epsilon);
            double y = labels[i];
            double w = weights.IsEmpty ? 1.0 : weights[i];
            sum -= w * ((y * Math.Log(p)) + ((1 - y) * Math.Log(1 - p)));
            total += w;
        }

        if (total <= 0)
        {
            throw new ArgumentException("Log-loss: the weights sum to zero.", nameof(weights));
        }

        return sum / total;
    }

    /// <summary>
    /// Mean NDCG@k over groups: samples sharing a group id form one ranked list (they need not be contiguous).
    /// Gain is <c>2^relevance - 1</c>, discount <c>1 / log2(rank + 1)</c>. Tied scores are ordered pessimistically
    /// (lower relevance first), so a constant scorer earns no credit from input order. Groups whose ideal DCG is
    /// zero (no relevant sample) are skipped; <paramref name="k"/> ≤ 0 means the whole list.
    /// </summary>
    /// <exception cref="ArgumentException">Lengths differ, the input is empty, or no group has a relevant sample.</exception>
    public static double Ndcg(ReadOnlySpan<float> scores, ReadOnlySpan<float> labels, ReadOnlySpan<int> groups, int k = 10)
    {
        CheckLengths(scores.Length, labels.Length, default, "NDCG");
        if (groups.Length != scores.Length)
        {
            throw new ArgumentException($"NDCG: {groups.Length} group ids for {scores.Length} scores.", nameof(groups));
        }

        int n = scores.Length;
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }

        var groupArray = groups.ToArray();
        var scoreArray = scores.ToArray();
        var labelArray = labels.ToArray();

        // Group, then score descending, then relevance ascending (pessimistic ties).
        Array.Sort(order, (a, b) =>
        {
            int c = groupArray[a].CompareTo(groupArray[b]);
            if (c != 0)
            {
                return c;
            }

            c = scoreArray[b].CompareTo(scoreArray[a]);
            return c != 0 ? c : labelArray[a].CompareTo(labelArray[b]);
        });

        var ideal = new List<float>();
        double sum = 0;
        int counted = 0;
        int start = 0;
        while (start < n)
        {
            int end = start;
            while (end < n && groupArray[order[end]] == groupArray[order[start]])
            {
                end++;
            }

            int cutoff = k <= 0 ? end - start : Math.Min(k, end - start);
            double dcg = 0;
            ideal.Clear();
            for (int r = start; r < end; r++)
            {
                ideal.Add(labelArray[order[r]]);
                if (r - start < cutoff)
                {
                    dcg += Gain(labelArray[order[r]]) / Math.Log2(r - start + 2);
                }
            }

            ideal.Sort((a, b) => b.CompareTo(a));
            double idcg = 0;
            for (int r = 0; r < cutoff; r++)
            {
                idcg += Gain(ideal[r]) / Math.Log2(r + 2);
            }

            if (idcg > 0)
            {
                sum += dcg / idcg;
                counted++;
            }

            start = end;
        }

        if (counted == 0)
        {
            throw new ArgumentException("NDCG: no group has a sample with positive relevance.", nameof(labels));
        }

        return sum / counted;
    }

    private static double Gain(float relevance) => Math.Pow(2, relevance) - 1;

    private static void CheckLengths(int scores, int labels, ReadOnlySpan<float> weights, string metric)
    {
        if (scores == 0)
        {
            throw new ArgumentException($"{metric}: no samples.");
        }

        if (labels != scores)
        {
            throw new ArgumentException($"{metric}: {labels} labels for {scores} scores.");
        }

        if (!weights.IsEmpty && weights.Length != scores)
        {
            throw new ArgumentException($"{metric}: {weights.Length} weights for {scores} scores.");
        }
    }
}
