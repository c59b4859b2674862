namespace Zhongtai.Training.Evaluation;

/// <summary>
/// Ranking metrics at K with binary relevance, per user (average over users for the data-set value). <c>ranked</c> is the
/// recommended list best first (only its first K entries count); <c>relevant</c> is the user's test items, sorted ascending.
/// </summary>
public static class RankingMetrics
{
    /// <summary>
    /// NDCG@K, the recommenders way: DCG = Σ 1/log2(rank+1) over hits in the top K; ideal DCG over min(K, |relevant|) hits.
    /// </summary>
    public static double Ndcg(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevant, int k)
    {
        if (relevant.IsEmpty)
        {
            return 0;
        }

        int n = Math.Min(k, ranked.Length);
        double dcg = 0;
        for (int r = 0; r < n; r++)
        {
            if (relevant.BinarySearch(ranked[r]) >= 0)
            {
                dcg += 1.0 / Math.Log2(r + 2);
            }
        }

        double idcg = 0;
        int ideal = Math.Min(k, relevant.Length);
        for (int r = 0; r < ideal; r++)
        {
            idcg += 1.0 / Math.Log2(r + 2);
        }

        return dcg / idcg;
    }

    /// <summary>Recall@K: hits in the top K / |relevant|.</summary>
    public static double Recall(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevant, int k) =>
        relevant.IsEmpty ? 0 : (double)Hits(ranked, relevant, k) / relevant.Length;

    /// <summary>Precision@K: hits in the top K / K.</summary>
    public static double Precision(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevant, int k) =>
        k <= 0 ? 0 : (double)Hits(ranked, relevant, k) / k;

    /// <summary>HitRate@K: 1 when at least one relevant item is in the top K.</summary>
    public static double HitRate(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevant, int k) => Hits(ranked, relevant, k) > 0 ? 1 : 0;

    /// <summary>MRR@K: 1 / rank of the first relevant item in the top K (0 when none).</summary>
    public static double Mrr(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevant, int k)
    {
        int n = Math.Min(k, ranked.Length);
        for (int r = 0; r < n; r++)
        {
            if (relevant.BinarySearch(ranked[r]) >= 0)
            {
                return 1.0 / (r + 1);
            }
        }

        return 0;
    }

    /// <summary>AP@K (the MAP@K term): Σ precision@r over hit ranks r ≤ K, divided by min(K, |relevant|).</summary>
    public static double AveragePrecision(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevant, int k)
    {
        if (relevant.IsEmpty)
        {
            return 0;
        }

        int n = Math.Min(k, ranked.Length), hits = 0;
        double sum = 0;
        for (int r = 0; r < n; r++)
        {
            if (relevant.BinarySearch(ranked[r]) >= 0)
            {
                hits++;
                sum += (double)hits / (r + 1);
            }
        }

        return sum / Math.Min(k, relevant.Length);
    }

    /// <summary>Catalog coverage: distinct recommended items / catalog size.</summary>
    public static double Coverage(IEnumerable<int> recommendedItems, int catalogSize)
    {
        ArgumentNullException.ThrowIfNull(recommendedItems);
        return catalogSize <= 0 ? 0 : (double)new HashSet<int>(recommendedItems).Count / catalogSize;
    }

    /// <summary>Number of relevant items in the top K.</summary>
    public static int Hits(ReadOnlySpan<int> ranked, ReadOnlySpan<int> relevant, int k)
    {
        int n = Math.Min(k, ranked.Length), hits = 0;
        for (int r = 0; r < n; r++)
        {
            if (relevant.BinarySearch(ranked[r]) >= 0)
            {
                hits++;
            }
        }

        return hits;
    }
}

/// <summary>Metrics for rankers that score (user, item) pairs: AUC and log-loss.</summary>
public static class ClassificationMetrics
{
    /// <summary>
    /// ROC AUC: the probability that a random positive scores above a random negative (ties count half).
    /// Returns NaN when either class is absent.
    /// </summary>
    public static double Auc(ReadOnlySpan<float> scores, ReadOnlySpan<bool> labels)
    {
        if (scores.Length != labels.Length)
        {
            throw new ArgumentException($"scores ({scores.Length}) and labels ({labels.Length}) must have the same length.");
        }

        int n = scores.Length;
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }

        var keys = scores.ToArray();
        Array.Sort(keys, order);

        // average ranks over ties, sum the ranks of the positives (Mann-Whitney U)
        double rankSumPos = 0;
        long pos = 0;
        int start = 0;
        while (start < n)
        {
            int end = start;
            while (end + 1 < n && keys[end + 1] == keys[start])
            {
                end++;
            }

            double avgRank = ((start + end) / 2.0) + 1;
            for (int t = start; t <= end; t++)
            {
                if (labels[order[t]])
                {
                    rankSumPos += avgRank;
                    pos++;
                }
            }

            start = end + 1;
        }

        long neg = n - pos;
        if (pos == 0 || neg == 0)
        {
            return double.NaN;
        }

        return (rankSumPos - (pos * (pos + 1) / 2.0)) / ((double)pos * neg);
    }

    /// <summary>Mean binary cross-entropy of predicted probabilities (clipped to [1e-15, 1 - 1e-15]).</summary>
    public static double LogLoss(ReadOnlySpan<float> probabilities, ReadOnlySpan<bool> labels)
    {
        if (probabilities.Length != labels.Length)
        {
            throw new ArgumentException($"probabilities ({probabilities.Length}) and labels ({labels.Length}) must have the same length.");
        }

        if (probabilities.IsEmpty)
        {
            return double.NaN;
        }

        const double Eps = 1e-15;
        double sum = 0;
        for (int i = 0; i < probabilities.Length; i++)
        {
            double p = Math.Clamp(probabilities[i], Eps, 1 - Eps);
            sum -= labels[i] ? Math.Log(p) : Math.Log(1 - p);
        }

        return sum / probabilities.Length;
    }
}
