namespace Zhongtai.Training.Recall;

/// <summary>
/// Implicit-feedback interactions over dense ids (users <c>0..UserCount-1</c>, items <c>0..ItemCount-1</c>),
/// stored as CSR by user (items sorted by id within a row) with a lazily built CSC by item.
/// Duplicate (user, item) pairs are merged: values are summed and the latest timestamp is kept.
/// Timestamps are Unix seconds.
/// </summary>
public sealed class InteractionMatrix
{
    private readonly int[] _userPtr;
    private readonly int[] _userItems;
    private readonly float[] _values;
    private readonly long[] _times;
    private int[]? _itemPtr;
    private int[]? _itemUsers;
    private float[]? _itemValues;
    private readonly Lock _cscLock = new();

    private InteractionMatrix(int userCount, int itemCount, int[] userPtr, int[] userItems, float[] values, long[] times)
    {
        UserCount = userCount;
        ItemCount = itemCount;
        _userPtr = userPtr;
        _userItems = userItems;
        _values = values;
        _times = times;
    }

    /// <summary>Number of users (rows).</summary>
    public int UserCount { get; }

    /// <summary>Number of items (columns).</summary>
    public int ItemCount { get; }

    /// <summary>Number of distinct (user, item) pairs.</summary>
    public int NonZeroCount => _userItems.Length;

    /// <summary>
    /// Builds the matrix from parallel arrays. <paramref name="values"/> and <paramref name="timestamps"/> may be empty
    /// (then every value is 1 and every timestamp 0). Counts default to max id + 1.
    /// </summary>
    public static InteractionMatrix FromArrays(
        ReadOnlySpan<int> users,
        ReadOnlySpan<int> items,
        ReadOnlySpan<float> values = default,
        ReadOnlySpan<long> timestamps = default,
        int userCount = -1,
        int itemCount = -1)
    {
        int n = users.Length;
        if (items.Length != n)
        {
            throw new ArgumentException($"users ({n}) and items ({items.Length}) must have the same length.", nameof(items));
        }

        if (!values.IsEmpty && values.Length != n)
        {
            throw new ArgumentException($"values ({values.Length}) must be empty or have the length of users ({n}).", nameof(values));
        }

        if (!timestamps.IsEmpty && timestamps.Length != n)
        {
            throw new ArgumentException($"timestamps ({timestamps.Length}) must be empty or have the length of users ({n}).", nameof(timestamps));
        }

        int maxUser = -1, maxItem = -1;
        for (int k = 0; k < n; k++)
        {
            if (users[k] < 0 || items[k] < 0)
            {
                throw new ArgumentException($"Negative id at position {k}: user {users[k]}, item {items[k]}.", nameof(users));
            }

            maxUser = Math.Max(maxUser, users[k]);
            maxItem = Math.Max(maxItem, items[k]);
        }

        userCount = userCount < 0 ? maxUser + 1 : userCount;
        itemCount = itemCount < 0 ? maxItem + 1 : itemCount;
        if (maxUser >= userCount || maxItem >= itemCount)
        {
            throw new ArgumentException($"Ids exceed the given counts: max user {maxUser} (count {userCount}), max item {maxItem} (count {itemCount}).");
        }

        // Counting sort by user, then sort each row by item and merge duplicates.
        var ptr = new int[userCount + 1];
        for (int k = 0; k < n; k++)
        {
            ptr[users[k] + 1]++;
        }

        for (int u = 0; u < userCount; u++)
        {
            ptr[u + 1] += ptr[u];
        }

        var fill = (int[])ptr.Clone();
        var rowItems = new int[n];
        var rowValues = new float[n];
        var rowTimes = new long[n];
        for (int k = 0; k < n; k++)
        {
            int pos = fill[users[k]]++;
            rowItems[pos] = items[k];
            rowValues[pos] = values.IsEmpty ? 1f : values[k];
            rowTimes[pos] = timestamps.IsEmpty ? 0 : timestamps[k];
        }

        var outPtr = new int[userCount + 1];
        var outItems = new int[n];
        var outValues = new float[n];
        var outTimes = new long[n];
        int w = 0;
        var keys = Array.Empty<int>();
        var idx = Array.Empty<int>();
        for (int u = 0; u < userCount; u++)
        {
            int s = ptr[u], e = ptr[u + 1], len = e - s;
            if (keys.Length < len)
            {
                keys = new int[len];
                idx = new int[len];
            }

            for (int t = 0; t < len; t++)
            {
                keys[t] = rowItems[s + t];
                idx[t] = s + t;
            }

            Array.Sort(keys, idx, 0, len);
            int rowStart = w;
            for (int t = 0; t < len; t++)
            {
                int src = idx[t];
                if (w > rowStart && outItems[w - 1] == keys[t])
                {
                    outValues[w - 1] += rowValues[src];
                    outTimes[w - 1] = Math.Max(outTimes[w - 1], rowTimes[src]);
                    continue;
                }

                outItems[w] = keys[t];
                outValues[w] = rowValues[src];
                outTimes[w] = rowTimes[src];
                w++;
            }

            outPtr[u + 1] = w;
        }

        return new InteractionMatrix(userCount, itemCount, outPtr, outItems[..w], outValues[..w], outTimes[..w]);
    }

    /// <summary>Items of <paramref name="user"/>, sorted by item id.</summary>
    public ReadOnlySpan<int> ItemsOf(int user) => _userItems.AsSpan(_userPtr[user], _userPtr[user + 1] - _userPtr[user]);

    /// <summary>Values aligned with <see cref="ItemsOf"/>.</summary>
    public ReadOnlySpan<float> ValuesOf(int user) => _values.AsSpan(_userPtr[user], _userPtr[user + 1] - _userPtr[user]);

    /// <summary>Timestamps aligned with <see cref="ItemsOf"/>.</summary>
    public ReadOnlySpan<long> TimesOf(int user) => _times.AsSpan(_userPtr[user], _userPtr[user + 1] - _userPtr[user]);

    /// <summary>Number of items of <paramref name="user"/>.</summary>
    public int CountOf(int user) => _userPtr[user + 1] - _userPtr[user];

    /// <summary>Whether <paramref name="user"/> interacted with <paramref name="item"/>.</summary>
    public bool Contains(int user, int item) => user < UserCount && ItemsOf(user).BinarySearch(item) >= 0;

    /// <summary>The items of <paramref name="user"/> ordered by time (ties by item id): the user's sequence.</summary>
    public int[] SequenceOf(int user)
    {
        var items = ItemsOf(user).ToArray();
        var times = TimesOf(user).ToArray();
        Array.Sort(times, items);
        return items;
    }

    /// <summary>Users of <paramref name="item"/>, sorted by user id (CSC, built on first use).</summary>
    public ReadOnlySpan<int> UsersOf(int item)
    {
        EnsureCsc();
        return _itemUsers.AsSpan(_itemPtr![item], _itemPtr[item + 1] - _itemPtr[item]);
    }

    /// <summary>Values aligned with <see cref="UsersOf"/>.</summary>
    public ReadOnlySpan<float> ItemValuesOf(int item)
    {
        EnsureCsc();
        return _itemValues.AsSpan(_itemPtr![item], _itemPtr[item + 1] - _itemPtr[item]);
    }

    /// <summary>Number of distinct users per item.</summary>
    public int[] ItemCounts()
    {
        var counts = new int[ItemCount];
        foreach (int i in _userItems)
        {
            counts[i]++;
        }

        return counts;
    }

    /// <summary>Latest timestamp in the matrix (0 when empty).</summary>
    public long MaxTimestamp()
    {
        long m = 0;
        foreach (long t in _times)
        {
            m = Math.Max(m, t);
        }

        return m;
    }

    private void EnsureCsc()
    {
        if (_itemPtr is not null)
        {
            return;
        }

        lock (_cscLock)
        {
            if (_itemPtr is not null)
            {
                return;
            }

            var ptr = new int[ItemCount + 1];
            foreach (int i in _userItems)
            {
                ptr[i + 1]++;
            }

            for (int i = 0; i < ItemCount; i++)
            {
                ptr[i + 1] += ptr[i];
            }

            var fill = (int[])ptr.Clone();
            var users = new int[_userItems.Length];
            var vals = new float[_userItems.Length];
            for (int u = 0; u < UserCount; u++)
            {
                for (int p = _userPtr[u]; p < _userPtr[u + 1]; p++)
                {
                    int pos = fill[_userItems[p]]++;
                    users[pos] = u;
                    vals[pos] = _values[p];
                }
            }

            _itemUsers = users;
            _itemValues = vals;
            Volatile.Write(ref _itemPtr, ptr);
        }
    }
}
