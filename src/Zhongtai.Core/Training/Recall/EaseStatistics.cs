namespace Zhongtai.Training.Recall;

/// <summary>
/// The sufficient statistics of <see cref="EaseModel"/>: the user-weighted Gram matrix <c>G = Xᵀ W X</c> (raw weights
/// <c>n_u^-γ</c>, not yet normalised), the sum of the weights over interactions, the item counts and the user histories it
/// was counted from. A warm start updates them with the users whose items changed instead of recounting everything.
/// </summary>
public sealed class EaseStatistics
{
    internal EaseStatistics(double userWeightExponent, int itemCount, float[] gram, double weightSum, int[] itemCounts, UserHistories histories)
    {
        UserWeightExponent = userWeightExponent;
        ItemCount = itemCount;
        Gram = gram;
        WeightSum = weightSum;
        ItemCounts = itemCounts;
        Histories = histories;
    }

    /// <summary>The γ of the user weights <c>n_u^-γ</c> the Gram was counted with.</summary>
    public double UserWeightExponent { get; }

    /// <summary>Items (the Gram is ItemCount × ItemCount, row-major, no padding).</summary>
    public int ItemCount { get; }

    /// <summary>Users counted.</summary>
    public int UserCount => Histories.UserCount;

    /// <summary>Distinct (user, item) pairs counted.</summary>
    public long NonZeroCount => Histories.NonZeroCount;

    internal float[] Gram { get; }

    internal double WeightSum { get; }

    internal int[] ItemCounts { get; }

    internal UserHistories Histories { get; }

    /// <summary>The Gram entry (raw user weights).</summary>
    public float GramAt(int i, int j) => Gram[((long)i * ItemCount) + j];

    internal static float UserWeight(int count, double gamma) => count == 0 ? 0f : gamma == 0 ? 1f : (float)Math.Pow(count, -gamma);

    /// <summary>Counts the statistics of <paramref name="data"/> from scratch.</summary>
    internal static EaseStatistics Build(InteractionMatrix data, double gamma, ParallelOptions po)
    {
        int n = data.ItemCount;
        var weight = new float[data.UserCount];
        double weightSum = 0;
        for (int u = 0; u < weight.Length; u++)
        {
            int c = data.CountOf(u);
            weight[u] = UserWeight(c, gamma);
            weightSum += (double)weight[u] * c;
        }

        var g = new float[(long)n * n];
        Parallel.For(0, n, po, i =>
        {
            long row = (long)i * n;
            foreach (int u in data.UsersOf(i))
            {
                float w = weight[u];
                foreach (int j in data.ItemsOf(u))
                {
                    g[row + j] += w;
                }
            }
        });
        return new EaseStatistics(gamma, n, g, weightSum, data.ItemCounts(), UserHistories.From(data));
    }

    /// <summary>
    /// The statistics of <paramref name="data"/>, computed from these by applying only the users whose item sets changed
    /// (new users, new items, added or removed pairs). Costs one O(n²) copy of the Gram (plus growth to the new item
    /// count), one linear pass over the data to find the changes, and per changed user O(|changed items| · |items|) — or
    /// O(|items|²) when γ &gt; 0 and the user's count (so its weight) changed. These statistics are left unchanged.
    /// </summary>
    internal EaseStatistics Update(InteractionMatrix data)
    {
        int n = data.ItemCount;
        if (n < ItemCount)
        {
            throw new ArgumentException($"The data has {n} items, fewer than the {ItemCount} the previous model was trained on: ids are never removed.", nameof(data));
        }

        var g = new float[(long)n * n];
        for (int i = 0; i < ItemCount; i++)
        {
            Gram.AsSpan((int)((long)i * ItemCount), ItemCount).CopyTo(g.AsSpan((int)((long)i * n), ItemCount));
        }

        var counts = new int[n];
        ItemCounts.CopyTo(counts, 0);
        double weightSum = WeightSum;
        double gamma = UserWeightExponent;
        var added = new List<int>();
        var removed = new List<int>();
        var mark = new bool[n];
        var histories = Histories.Diff(data, (u, before, now) =>
        {
            float wBefore = UserWeight(before.Length, gamma);
            float wNow = UserWeight(now.Length, gamma);
            weightSum += ((double)wNow * now.Length) - ((double)wBefore * before.Length);
            UserHistories.Delta(before, now, added, removed);
            foreach (int i in added)
            {
                counts[i]++;
            }

            foreach (int i in removed)
            {
                counts[i]--;
            }

            if (wBefore == wNow)
            {
                AddPairsTouching(g, n, before, removed, -wBefore, mark);
                AddPairsTouching(g, n, now, added, wNow, mark);
            }
            else
            {
                AddOuter(g, n, before, -wBefore);
                AddOuter(g, n, now, wNow);
            }
        });
        return new EaseStatistics(gamma, n, g, weightSum, counts, histories);
    }

    private static void AddOuter(float[] g, int n, ReadOnlySpan<int> items, float w)
    {
        foreach (int i in items)
        {
            long row = (long)i * n;
            foreach (int j in items)
            {
                g[row + j] += w;
            }
        }
    }

    // Adds w to every ordered pair (i, j) of items × items with i or j in changed (changed ⊆ items), each pair once.
    private static void AddPairsTouching(float[] g, int n, ReadOnlySpan<int> items, List<int> changed, float w, bool[] mark)
    {
        if (changed.Count == 0)
        {
            return;
        }

        foreach (int a in changed)
        {
            mark[a] = true;
        }

        foreach (int a in changed)
        {
            long row = (long)a * n;
            foreach (int j in items)
            {
                g[row + j] += w;
                if (!mark[j])
                {
                    g[((long)j * n) + a] += w;
                }
            }
        }

        foreach (int a in changed)
        {
            mark[a] = false;
        }
    }
}
