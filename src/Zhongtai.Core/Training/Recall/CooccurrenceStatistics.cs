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
    /// one linear pass over the data finds them, each changed user contributes O((|added| + |removed|) · |items|) count
    /// changes (bucketed by row, no sort), and only the rows they touch are rebuilt (merged). These statistics are left
    /// unchanged (untouched rows are shared).
    /// </summary>
    internal CooccurrenceStatistics Update(InteractionMatrix data, ParallelOptions? po = null)
    {
        int n = data.ItemCount;
        if (n < ItemCount)
        {
            throw new ArgumentException($"The data has {n} items, fewer than the {ItemCount} the previous model was trained on: ids are never removed.", nameof(data));
        }

        po ??= new ParallelOptions();
        var itemCounts = new int[n];
        ItemCounts.CopyTo(itemCounts, 0);
        var changes = new List<(int[] Items, int[] Changed, sbyte Sign)>();
        var added = new List<int>();
        var removed = new List<int>();
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

            if (removed.Count > 0)
            {
                changes.Add((before.ToArray(), [.. removed], -1));
            }

            if (added.Count > 0)
            {
                changes.Add((now.ToArray(), [.. added], +1));
            }
        });

        // Bucket the count changes by row: every ordered pair (i, j), i ≠ j, of items × items with i or j changed, once.
        var mark = new bool[n];
        var rowStart = new long[n + 1];
        foreach (var (items, changed, _) in changes)
        {
            ForEachPair(items, changed, mark, (row, _) => rowStart[row + 1]++);
        }

        for (int i = 0; i < n; i++)
        {
            rowStart[i + 1] += rowStart[i];
        }

        var fill = (long[])rowStart.Clone();
        var cols = new int[rowStart[n]];
        var signs = new sbyte[rowStart[n]];
        foreach (var (items, changed, sign) in changes)
        {
            ForEachPair(items, changed, mark, (row, col) =>
            {
                long p = fill[row]++;
                cols[p] = col;
                signs[p] = sign;
            });
        }

        var ids = new int[n][];
        var counts = new int[n][];
        Array.Copy(Ids, ids, ItemCount);
        Array.Copy(Counts, counts, ItemCount);
        for (int i = ItemCount; i < n; i++)
        {
            ids[i] = [];
            counts[i] = [];
        }

        Parallel.For(
            0,
            n,
            po,
            () => (Acc: new int[n], Seen: new int[n], Fresh: new List<int>()),
            (row, _, s) =>
            {
                long start = rowStart[row], end = rowStart[row + 1];
                if (start == end)
                {
                    return s;
                }

                var oldIds = ids[row];
                var oldCounts = counts[row];
                int stamp = row + 1;
                for (int t = 0; t < oldIds.Length; t++)
                {
                    s.Acc[oldIds[t]] = oldCounts[t];
                    s.Seen[oldIds[t]] = stamp;
                }

                s.Fresh.Clear();
                for (long p = start; p < end; p++)
                {
                    int col = cols[p];
                    if (s.Seen[col] != stamp)
                    {
                        s.Seen[col] = stamp;
                        s.Fresh.Add(col);
                    }

                    s.Acc[col] += signs[p];
                }

                s.Fresh.Sort();
                var newIds = new List<int>(oldIds.Length + s.Fresh.Count);
                var newCounts = new List<int>(oldIds.Length + s.Fresh.Count);
                int a = 0, b = 0;
                while (a < oldIds.Length || b < s.Fresh.Count)
                {
                    int col = b == s.Fresh.Count || (a < oldIds.Length && oldIds[a] < s.Fresh[b]) ? oldIds[a++] : s.Fresh[b++];
                    int c = s.Acc[col];
                    s.Acc[col] = 0;
                    if (c != 0)
                    {
                        newIds.Add(col);
                        newCounts.Add(c);
                    }
                }

                ids[row] = [.. newIds];
                counts[row] = [.. newCounts];
                return s;
            },
            _ => { });

        return new CooccurrenceStatistics(ids, counts, itemCounts, histories);
    }

    // Calls pair(i, j) for every ordered pair i ≠ j of items × items with i or j in changed (changed ⊆ items), each pair once.
    private static void ForEachPair(int[] items, int[] changed, bool[] mark, Action<int, int> pair)
    {
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

                pair(a, j);
                if (!mark[j])
                {
                    pair(j, a);
                }
            }
        }

        foreach (int a in changed)
        {
            mark[a] = false;
        }
    }
}
