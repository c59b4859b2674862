using System.Collections.Concurrent;
using System.Text.Json;
using Zhongtai.Events;
using Zhongtai.Training.Ranking;

namespace Zhongtai.Serving;

/// <summary>What serving knows of one item: catalog fields, precomputed ranking feature indices. Immutable; replaced whole on update.</summary>
internal sealed class ServingItem
{
    public required string Id { get; init; }
    public required int Dense { get; init; }
    public string? Category { get; init; }
    public string[] Tags { get; init; } = [];
    public IReadOnlyDictionary<string, string>? Attributes { get; init; }

    /// <summary>Unix seconds of the item's first catalog event (0: only seen in behaviour).</summary>
    public long CreatedSeconds { get; init; }
    public bool Deleted { get; init; }

    /// <summary>True once an <c>item</c> event described it (not only behaviour events).</summary>
    public bool InCatalog { get; init; }

    /// <summary>FTRL feature index of <c>i=id</c>.</summary>
    public int ItemFeature { get; init; }

    /// <summary>FTRL feature index of <c>c=category</c>.</summary>
    public int CategoryFeature { get; init; }

    /// <summary>Dense id of the category (0: none or empty); per-request caches index arrays by it instead of hashing the string.</summary>
    public int CategoryOrdinal { get; init; }
}

/// <summary>
/// What the merge filter and the ranker read of every candidate, kept in one contiguous array by dense id (one cache
/// line fetch per candidate instead of the item array slot plus the item object). Written by the catalog's writer
/// only; a reader racing an update may see a mix of the old and the new fields of that one item.
/// </summary>
internal struct HotItem
{
    public int ItemFeature;
    public int CategoryFeature;
    public int CategoryOrdinal;
    public bool Deleted;
}

/// <summary>
/// One item's co-engagement row: how many times each other item was engaged with by a user within the co-occurrence
/// window. The best neighbours are kept sorted and recomputed only when the row changed since the last read.
/// </summary>
internal sealed class CoEngagementRow
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, float> _counts = [];
    private (int Item, float Weight)[]? _top;

    public void Bump(int other)
    {
        lock (_lock)
        {
            _counts[other] = _counts.GetValueOrDefault(other) + 1;
            _top = null;
        }
    }

    /// <summary>Copies the strongest neighbours (weight descending, then id) into <paramref name="destination"/>; returns how many.</summary>
    public int Top(Span<(int Item, float Weight)> destination)
    {
        lock (_lock)
        {
            if (_top is null)
            {
                var all = new (int Item, float Weight)[_counts.Count];
                var i = 0;
                foreach (var (item, weight) in _counts)
                {
                    all[i++] = (item, weight);
                }

                Array.Sort(all, static (a, b) => a.Weight != b.Weight ? b.Weight.CompareTo(a.Weight) : a.Item.CompareTo(b.Item));
                _top = all.Length > 256 ? all[..256] : all;
            }

            var n = Math.Min(destination.Length, _top.Length);
            _top.AsSpan(0, n).CopyTo(destination);
            return n;
        }
    }
}

/// <summary>
/// One user's recent history as serving needs it: the items they engaged with (newest last, bounded), the set of
/// items they consumed, and their recent exposures (item, unix seconds) for frequency capping. Guarded by its own
/// monitor (<c>lock (this)</c>: an uncontended lock lives in the object header, so no lock object per user).
/// </summary>
/// <remarks>
/// Sized for a million users: three int/long arrays that start empty and grow by doubling up to their capacity
/// (a user with 20 engagements and 5 exposures holds about 460 bytes, against 4.2 KB when every user got a full
/// 200-slot exposure ring, a <see cref="List{T}"/>, a <see cref="HashSet{T}"/> and a lock object up front).
/// Consumed items are a sorted array (binary search); an exposure is one long: the item in the low 32 bits, the unix
/// seconds (clamped to 0..2^32-1, i.e. until 2106) in the high 32.
/// </remarks>
internal sealed class UserHistory(int recentCapacity, int consumedCapacity, int exposureCapacity)
{
    private int[] _recent = [];
    private int _recentCount;
    private int[] _consumed = [];
    private int _consumedCount;
    private long[] _exposures = [];
    private int _exposureCount;
    private int _exposureNext;

    /// <summary>Records an engagement; copies the items engaged before it (newest first, at most <paramref name="window"/>.Length) into <paramref name="window"/> and returns how many.</summary>
    public int Engaged(int item, Span<int> window)
    {
        lock (this)
        {
            var w = 0;
            for (var i = _recentCount - 1; i >= 0 && w < window.Length; i--)
            {
                if (_recent[i] != item)
                {
                    window[w++] = _recent[i];
                }
            }

            var at = Array.IndexOf(_recent, item, 0, _recentCount);
            if (at >= 0)
            {
                Array.Copy(_recent, at + 1, _recent, at, _recentCount - at - 1); // moves to the end below
                _recentCount--;
            }
            else if (_recentCount == recentCapacity)
            {
                Array.Copy(_recent, 1, _recent, 0, _recentCount - 1); // drops the oldest
                _recentCount--;
            }

            if (_recentCount == _recent.Length)
            {
                Array.Resize(ref _recent, Grow(_recent.Length, recentCapacity));
            }

            _recent[_recentCount++] = item;
            if (_consumedCount < consumedCapacity)
            {
                var slot = Array.BinarySearch(_consumed, 0, _consumedCount, item);
                if (slot < 0)
                {
                    slot = ~slot;
                    if (_consumedCount == _consumed.Length)
                    {
                        Array.Resize(ref _consumed, Grow(_consumed.Length, consumedCapacity));
                    }

                    Array.Copy(_consumed, slot, _consumed, slot + 1, _consumedCount - slot);
                    _consumed[slot] = item;
                    _consumedCount++;
                }
            }

            return w;
        }
    }

    public void Exposed(int item, long seconds)
    {
        var packed = ((long)Math.Clamp(seconds, 0, uint.MaxValue) << 32) | (uint)item;
        lock (this)
        {
            if (_exposureCount < exposureCapacity)
            {
                if (_exposureCount == _exposures.Length)
                {
                    Array.Resize(ref _exposures, Grow(_exposures.Length, exposureCapacity));
                }

                _exposures[_exposureCount++] = packed; // once full, the ring overwrites from slot 0, the oldest
            }
            else
            {
                _exposures[_exposureNext] = packed;
                _exposureNext = (_exposureNext + 1) % exposureCapacity;
            }
        }
    }

    /// <summary>Copies up to <paramref name="destination"/>.Length recent items, newest first; returns how many.</summary>
    public int Recent(Span<int> destination)
    {
        lock (this)
        {
            var n = Math.Min(destination.Length, _recentCount);
            for (var i = 0; i < n; i++)
            {
                destination[i] = _recent[_recentCount - 1 - i];
            }

            return n;
        }
    }

    /// <summary>The most items <see cref="CopyConsumed"/> can return.</summary>
    public int ConsumedCapacity => consumedCapacity;

    /// <summary>The most items <see cref="ExposedSince"/> can return.</summary>
    public int ExposureCapacity => exposureCapacity;

    public bool Consumed(int item)
    {
        lock (this)
        {
            return Array.BinarySearch(_consumed, 0, _consumedCount, item) >= 0;
        }
    }

    /// <summary>
    /// Copies the consumed items (ascending) into <paramref name="destination"/> under one lock, at most its length
    /// (<see cref="ConsumedCapacity"/> takes them all); returns how many. Serving marks them once per request instead of
    /// asking <see cref="Consumed"/> (a lock and a binary search) per candidate.
    /// </summary>
    public int CopyConsumed(Span<int> destination)
    {
        lock (this)
        {
            var n = Math.Min(destination.Length, _consumedCount);
            _consumed.AsSpan(0, n).CopyTo(destination);
            return n;
        }
    }

    /// <summary>
    /// Copies the item of every exposure since <paramref name="sinceSeconds"/> (an item once per exposure, in no particular
    /// order) into <paramref name="destination"/>, at most its length (<see cref="ExposureCapacity"/> takes them all);
    /// returns how many. <see cref="ExposureCounts"/> without the dictionary.
    /// </summary>
    public int ExposedSince(long sinceSeconds, Span<int> destination)
    {
        lock (this)
        {
            var n = 0;
            for (var i = 0; i < _exposureCount && n < destination.Length; i++)
            {
                var packed = _exposures[i];
                if ((long)((ulong)packed >> 32) >= sinceSeconds)
                {
                    destination[n++] = (int)(uint)packed;
                }
            }

            return n;
        }
    }

    /// <summary>Adds to <paramref name="counts"/> how often each item was exposed since <paramref name="sinceSeconds"/>.</summary>
    public void ExposureCounts(long sinceSeconds, Dictionary<int, int> counts)
    {
        lock (this)
        {
            for (var i = 0; i < _exposureCount; i++)
            {
                var packed = _exposures[i];
                if ((long)((ulong)packed >> 32) >= sinceSeconds)
                {
                    var item = (int)(uint)packed;
                    counts[item] = counts.GetValueOrDefault(item) + 1;
                }
            }
        }
    }

    private static int Grow(int length, int capacity) => Math.Min(capacity, Math.Max(4, length * 2));
}

/// <summary>
/// Serving's view of a project, kept by applying its event log in order (one writer): items with dense ids and
/// their catalog fields, each user's recent engagements and exposures, and the newest items. Any number of readers
/// run alongside the writer without a global lock.
/// </summary>
internal sealed class ServingCatalog(ServingOptions options, FeatureHasher hasher, int coEngagementWindow)
{
    private volatile CoEngagementRow?[] _rows = new CoEngagementRow?[1024];
    private readonly ConcurrentDictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, UserHistory> _users = new(StringComparer.Ordinal);
    private readonly Lock _freshLock = new();
    private readonly LinkedList<int> _fresh = new();
    private volatile ServingItem[] _items = new ServingItem[1024];
    private volatile HotItem[] _hot = new HotItem[1024];
    private volatile int _count;
    private readonly Dictionary<string, int> _categories = new(StringComparer.Ordinal) { [""] = 0 }; // the writer's only
    private volatile int _categoryCount = 1;

    private long _itemVersion;
    private (string Id, UserHistory History)? _lastUser; // the writer's

    /// <summary>Counts item changes (new items, catalog updates): derived per-item state compares it to know it is current.</summary>
    public long ItemVersion => Volatile.Read(ref _itemVersion);

    /// <summary>The next log offset to apply.</summary>
    public long NextOffset { get; private set; }

    public int Count => _count;

    /// <summary>Called by the writer after each <c>item</c> event is applied, with the item's dense id (the content channel's index follows it).</summary>
    public event Action<int, Event>? ItemChanged;

    /// <summary>Distinct categories seen so far, plus one for none (every <see cref="ServingItem.CategoryOrdinal"/> is below it).</summary>
    public int CategoryCount => _categoryCount;

    /// <summary>The item with dense id <paramref name="dense"/> (0 ≤ dense &lt; <see cref="Count"/>).</summary>
    public ServingItem this[int dense] => _items[dense];

    /// <summary>The hot fields of the item with dense id <paramref name="dense"/> (0 ≤ dense &lt; <see cref="Count"/>).</summary>
    public ref readonly HotItem Hot(int dense) => ref _hot[dense];

    public int Find(string itemId) => _ids.TryGetValue(itemId, out var dense) ? dense : -1;

    public UserHistory? User(string userId) => _users.GetValueOrDefault(userId);

    /// <summary>The newest catalog items, newest first (up to <paramref name="destination"/>.Length).</summary>
    public int Fresh(Span<int> destination)
    {
        lock (_freshLock)
        {
            var n = 0;
            for (var node = _fresh.First; node is not null && n < destination.Length; node = node.Next)
            {
                destination[n++] = node.Value;
            }

            return n;
        }
    }

    public void Apply(long offset, Event e)
    {
        if (offset < NextOffset)
        {
            return;
        }

        NextOffset = offset + 1;
        if (e.Type == EventTypes.Item && e.ItemId is not null)
        {
            Upsert(e);
            return;
        }

        if (e.UserId is null || e.ItemId is null || !EventTypes.Behaviour.Contains(e.Type))
        {
            return;
        }

        var item = Intern(e.ItemId);
        var user = UserFor(e.UserId);
        if (e.Type == EventTypes.Exposure)
        {
            user.Exposed(item, e.Timestamp.ToUnixTimeSeconds());
        }
        else
        {
            Span<int> window = stackalloc int[Math.Min(coEngagementWindow, 1024)];
            var n = user.Engaged(item, window);
            for (var i = 0; i < n; i++)
            {
                Row(item).Bump(window[i]);
                Row(window[i]).Bump(item);
            }
        }
    }

    /// <summary>
    /// Applies an exposure read by <see cref="ExposureScan"/>: exactly what <see cref="Apply"/> does for an
    /// <c>exposure</c> event with these fields.
    /// </summary>
    public void ApplyExposure(long offset, string? userId, string? itemId, long seconds)
    {
        if (offset < NextOffset)
        {
            return;
        }

        NextOffset = offset + 1;
        if (userId is null || itemId is null)
        {
            return;
        }

        var item = Intern(itemId);
        UserFor(userId).Exposed(item, seconds);
    }

    /// <summary>The user's history, made on first sight; the writer's last one is remembered (a served list's exposures follow one another).</summary>
    private UserHistory UserFor(string userId)
    {
        if (_lastUser is { } last && string.Equals(last.Id, userId, StringComparison.Ordinal))
        {
            return last.History;
        }

        var user = _users.TryGetValue(userId, out var known) ? known : _users.GetOrAdd(userId, static (_, o) => new UserHistory(o.RecentItemsPerUser, o.ConsumedItemsPerUser, o.ExposuresPerUser), options);
        _lastUser = (userId, user);
        return user;
    }

    /// <summary>The strongest co-engaged neighbours of an item (serving's own copy of the realtime co-engagement, read without a global lock).</summary>
    public int Neighbours(int item, Span<(int Item, float Weight)> destination)
    {
        var rows = _rows;
        return item < rows.Length && rows[item] is { } row ? row.Top(destination) : 0;
    }

    private CoEngagementRow Row(int item)
    {
        var rows = _rows;
        if (item >= rows.Length)
        {
            var grown = new CoEngagementRow?[Math.Max(item + 1, rows.Length * 2)];
            Array.Copy(rows, grown, rows.Length);
            _rows = rows = grown;
        }

        return rows[item] ??= new CoEngagementRow();
    }

    private int Intern(string itemId)
    {
        if (_ids.TryGetValue(itemId, out var dense))
        {
            return dense;
        }

        dense = _count;
        var items = _items;
        if (dense == items.Length)
        {
            var grown = new ServingItem[items.Length * 2];
            Array.Copy(items, grown, items.Length);
            var grownHot = new HotItem[items.Length * 2];
            Array.Copy(_hot, grownHot, items.Length);
            _hot = grownHot; // before the items and the count: a reader that sees the new count sees this array
            _items = items = grown;
        }

        var item = new ServingItem
        {
            Id = itemId,
            Dense = dense,
            ItemFeature = hasher.Index("i", itemId),
            CategoryFeature = hasher.Index("c", ""),
        };
        _hot[dense] = Hot(item);
        items[dense] = item;
        _count = dense + 1; // publish the item before its id
        _ids[itemId] = dense;
        Interlocked.Increment(ref _itemVersion);
        return dense;
    }

    private void Upsert(Event e)
    {
        var dense = Intern(e.ItemId!);
        var old = _items[dense];
        var seconds = e.Timestamp.ToUnixTimeSeconds();
        var deleted = e.Deleted == true;
        var item = new ServingItem
        {
            Id = old.Id,
            Dense = dense,
            Category = deleted ? old.Category : e.Category,
            Tags = deleted ? old.Tags : e.Tags ?? [],
            Attributes = deleted ? old.Attributes : Strings(e.Attributes),
            CreatedSeconds = old.InCatalog ? old.CreatedSeconds : seconds,
            Deleted = deleted,
            InCatalog = true,
            ItemFeature = old.ItemFeature,
            CategoryFeature = hasher.Index("c", (deleted ? old.Category : e.Category) ?? ""),
            CategoryOrdinal = CategoryOrdinal((deleted ? old.Category : e.Category) ?? ""),
        };
        _hot[dense] = Hot(item);
        _items[dense] = item;
        Interlocked.Increment(ref _itemVersion);
        if (!old.InCatalog && !deleted)
        {
            lock (_freshLock)
            {
                _fresh.AddFirst(dense);
                if (_fresh.Count > options.FreshItems)
                {
                    _fresh.RemoveLast();
                }
            }
        }

        ItemChanged?.Invoke(dense, e);
    }

    private static HotItem Hot(ServingItem item) => new()
    {
        ItemFeature = item.ItemFeature,
        CategoryFeature = item.CategoryFeature,
        CategoryOrdinal = item.CategoryOrdinal,
        Deleted = item.Deleted,
    };

    private int CategoryOrdinal(string category)
    {
        if (!_categories.TryGetValue(category, out var ordinal))
        {
            _categories[category] = ordinal = _categories.Count;
            _categoryCount = ordinal + 1; // published before any item carries it
        }

        return ordinal;
    }

    private static Dictionary<string, string>? Strings(Dictionary<string, JsonElement>? attributes)
    {
        if (attributes is null || attributes.Count == 0)
        {
            return null;
        }

        var result = new Dictionary<string, string>(attributes.Count, StringComparer.Ordinal);
        foreach (var (key, value) in attributes)
        {
            result[key] = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
        }

        return result;
    }
}
