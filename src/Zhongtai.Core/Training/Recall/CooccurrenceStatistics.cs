namespace Zhongtai.Training.Recall;

/// <summary>
/// The sufficient statistics of <see cref="ItemCfModel"/>: per item, the sorted ids of the items it co-occurs with and
/// the co-occurrence counts (the diagonal excluded), the item counts, and the user histories they were counted from.
/// Rows that a warm start does not touch are shared between versions.
/// </summary>
public sealed class CooccurrenceStatistics
{
    internal CooccurrenceStatistics(int[][] ids, int[][] counts, int[] itemCounts, UserHistories histories)
    {
        Ids = ids;
        Counts = counts;
        ItemCounts = itemCounts;
        Histories = histories;
    }

    /// <summary>Items.</summary>
    public int ItemCount => Ids.Length;

    /// <summary>Users counted.</summary>
    public int UserCount => Histories.UserCount;

    /// <summary>Distinct co-occurring ordered pairs (i ≠ j).</summary>
    public long PairCount => Ids.Sum(r => (long)r.Length);

    internal int[][] Ids { get; }

    internal int[][] Counts { get; }

    internal int[] ItemCounts { get; }

    internal UserHistories Histories { get; }

    /// <summary>Number of users with both <paramref name="i"/> and <paramref name="j"/> (i ≠ j).</summary>
    public int CountOf(int i, int j)
    {
        int p = Array.BinarySearch(Ids[i], j);
        return p >= 0 ? Counts[i][p] : 0;
    }

    /// <summary>Number of users of <paramref name="item"/>.</summary>
    public int ItemCountOf(int item) => ItemCounts[item];

    internal static CooccurrenceStatistics Build(InteractionMatrix data, ParallelOptions po)
    {
        int n = data.ItemCount;
        var ids = new int[n][];
        var counts = new int[n][];
        Parallel.For(
            0,
            n,
            po,
            () => (Co: new int[n], Touched: new List<int>()),
            (i, _, s) =>
            {
                s.Touched.Clear();
                foreach (int u in data.UsersOf(i))
                {
                    foreach (int j in data.ItemsOf(u))
                    {
                        if (s.Co[j]++ == 0 && j != i)
                        {
                            s.Touched.Add(j);
                        }
                    }
                }

                s.Co[i] = 0;
                s.Touched.Sort();
                var rowIds = s.Touched.ToArray();
                var rowCounts = new int[rowIds.Length];
                for (int t = 0; t < rowIds.Length; t++)
                {
                    rowCounts[t] = s.Co[rowIds[t]];
                    s.Co[rowIds[t]] = 0;
                }

                ids[i] = rowIds;
                counts[i] = rowCounts;
                return s;
            },
            _ => { });
        return new CooccurrenceStatistics(ids, counts, data.ItemCounts(), UserHistories.From(data));
    }

    /// <summary>
    /// The statistics of <paramref name="data"/>, computed from these by applying only the users whose item sets changed:
    /// one linear pass over the data finds them, then each changed user costs O((|added| + |removed|) · |items|) count
    /// updates, and only the touched rows are rebuilt (merged). These statistics are left unchanged.
    /// </summary>
    internal CooccurrenceStatistics Update(InteractionMatrix data)
    {
        int n = data.ItemCount;
        if (n < ItemCount)
        {
            throw new ArgumentException($"The data has {n} items, fewer than the {ItemCount} the previous model was trained on: ids are never removed.", nameof(data));
        }

        var itemCounts = new int[n];
        ItemCounts.CopyTo(itemCounts, 0);
        var delta = new List<(int Row, int Col, int Delta)>();
        var added = new List<int>();
        var removed = new List<int>();
        var mark = new bool[n];
        var histories = Histories.Diff(data, (u, before, now) =>
        {
            UserHistories.Delta(before, now, added, removed);
            foreach (int i in added)
            {
                itemCounts[i]++;
            }

            foreach (int i in removed)
            {
                itemCounts[i]--;
            }

            PairsTouching(before, removed, -1, mark, delta);
            PairsTouching(now, added, +1, mark, delta);
        });

        var ids = new int[n][];
        var counts = new int[n][];
        Array.Copy(Ids, ids, ItemCount);
        Array.Copy(Counts, counts, ItemCount);
        for (int i = ItemCount; i < n; i++)
        {
            ids[i] = [];
            counts[i] = [];
        }

        delta.Sort((x, y) => x.Row != y.Row ? x.Row.CompareTo(y.Row) : x.Col.CompareTo(y.Col));
        var mergedIds = new List<int>();
        var mergedCounts = new List<int>();
        for (int start = 0; start < delta.Count;)
        {
            int row = delta[start].Row;
            int end = start;
            while (end < delta.Count && delta[end].Row == row)
            {
                end++;
            }

            mergedIds.Clear();
            mergedCounts.Clear();
            var oldIds = ids[row];
            var oldCounts = counts[row];
            int a = 0, d = start;
            while (a < oldIds.Length || d < end)
            {
                int col = d == end || (a < oldIds.Length && oldIds[a] < delta[d].Col) ? oldIds[a] : delta[d].Col;
                int c = 0;
                if (a < oldIds.Length && oldIds[a] == col)
                {
                    c = oldCounts[a++];
                }

                while (d < end && delta[d].Col == col)
                {
                    c += delta[d++].Delta;
                }

                if (c != 0)
                {
                    mergedIds.Add(col);
                    mergedCounts.Add(c);
                }
            }

            ids[row] = [.. mergedIds];
            counts[row] = [.. mergedCounts];
            start = end;
        }

        return new CooccurrenceStatistics(ids, counts, itemCounts, histories);
    }

    // Emits (i, j, w) for every ordered pair i ≠ j of items × items with i or j in changed (changed ⊆ items), each pair once.
    private static void PairsTouching(ReadOnlySpan<int> items, List<int> changed, int w, bool[] mark, List<(int, int, int)> delta)
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
            foreach (int j in items)
            {
                if (j == a)
                {
                    continue;
                }

                delta.Add((a, j, w));
                if (!mark[j])
                {
                    delta.Add((j, a, w));
                }
            }
        }

        foreach (int a in changed)
        {
            mark[a] = false;
        }
    }
}
