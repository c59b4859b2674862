namespace Zhongtai.Training.Recall;

/// <summary>
/// The item set of every user that a closed-form model's statistics were counted from (one sorted array per user;
/// unchanged users share their array between versions). A warm start compares it with the new data to find what
/// changed: the items added to and removed from each user.
/// </summary>
internal sealed class UserHistories
{
    private readonly int[][] _rows;

    public UserHistories(int[][] rows) => _rows = rows;

    public int UserCount => _rows.Length;

    public long NonZeroCount => _rows.Sum(r => (long)r.Length);

    public ReadOnlySpan<int> ItemsOf(int user) => user < _rows.Length ? _rows[user] : [];

    internal int[][] Rows => _rows;

    public static UserHistories From(InteractionMatrix data)
    {
        var rows = new int[data.UserCount][];
        for (int u = 0; u < rows.Length; u++)
        {
            rows[u] = data.ItemsOf(u).ToArray();
        }

        return new UserHistories(rows);
    }

    /// <summary>
    /// One pass over <paramref name="data"/>: calls <paramref name="changed"/> with (user, old items, new items) for every
    /// user whose item set differs from the stored one, and returns the histories of <paramref name="data"/> (sharing the
    /// arrays of unchanged users).
    /// </summary>
    public UserHistories Diff(InteractionMatrix data, ChangedUser changed)
    {
        if (data.UserCount < _rows.Length)
        {
            throw new ArgumentException($"The data has {data.UserCount} users, fewer than the {_rows.Length} the previous model was trained on: ids are never removed.", nameof(data));
        }

        var rows = new int[data.UserCount][];
        for (int u = 0; u < rows.Length; u++)
        {
            var now = data.ItemsOf(u);
            var before = ItemsOf(u);
            if (now.SequenceEqual(before))
            {
                rows[u] = u < _rows.Length ? _rows[u] : [];
                continue;
            }

            changed(u, before, now);
            rows[u] = now.ToArray();
        }

        return new UserHistories(rows);
    }

    /// <summary>Splits a change of one user into the items added (in <paramref name="now"/> only) and removed (in <paramref name="before"/> only); both inputs sorted.</summary>
    public static void Delta(ReadOnlySpan<int> before, ReadOnlySpan<int> now, List<int> added, List<int> removed)
    {
        added.Clear();
        removed.Clear();
        int a = 0, b = 0;
        while (a < before.Length || b < now.Length)
        {
            if (b == now.Length || (a < before.Length && before[a] < now[b]))
            {
                removed.Add(before[a++]);
            }
            else if (a == before.Length || now[b] < before[a])
            {
                added.Add(now[b++]);
            }
            else
            {
                a++;
                b++;
            }
        }
    }

    public delegate void ChangedUser(int user, ReadOnlySpan<int> before, ReadOnlySpan<int> now);
}
