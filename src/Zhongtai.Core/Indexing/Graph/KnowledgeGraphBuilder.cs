using System.Text.Json;
using Zhongtai.Events;

namespace Zhongtai.Indexing.Graph;

/// <summary>
/// Builds a <see cref="KnowledgeGraph"/> from a stream of events: catalog upserts (<c>item</c>: category, tags,
/// brand/creator; the latest upsert of an item wins, <c>Deleted</c> drops its edges) and behaviour events of the
/// configured engagement types (co-engagement and, optionally, user–item edges). Not thread-safe; call
/// <see cref="Build(CancellationToken)"/> once all events are added (it may be called again after adding more).
/// </summary>
public sealed class KnowledgeGraphBuilder
{
    private readonly KnowledgeGraphOptions _options;
    private readonly Dictionary<(NodeType Type, string Key), int> _ids = [];
    private readonly List<NodeType> _types = [];
    private readonly List<string> _keys = [];
    private readonly Dictionary<int, CatalogEntry> _catalog = [];
    private readonly Dictionary<int, List<(long Ticks, long Seq, int Item)>> _histories = [];
    private long _seq;

    /// <summary>Creates a builder; <paramref name="options"/> are validated (bad options: <see cref="ArgumentException"/>).</summary>
    public KnowledgeGraphBuilder(KnowledgeGraphOptions? options = null)
    {
        _options = options ?? new KnowledgeGraphOptions();
        _options.Validate();
    }

    /// <summary>Number of events that contributed to the graph so far.</summary>
    public long EventsUsed { get; private set; }

    /// <summary>Builds a graph from <paramref name="events"/> in one call.</summary>
    public static KnowledgeGraph Build(IEnumerable<Event> events, KnowledgeGraphOptions? options = null, CancellationToken ct = default)
    {
        var builder = new KnowledgeGraphBuilder(options);
        builder.AddRange(events, ct);
        return builder.Build(ct);
    }

    /// <summary>Adds every event of <paramref name="events"/>.</summary>
    public void AddRange(IEnumerable<Event> events, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        var n = 0;
        foreach (var e in events)
        {
            if ((++n & 0xFFF) == 0)
            {
                ct.ThrowIfCancellationRequested();
            }
            Add(e);
        }
    }

    /// <summary>Adds one event; events of other types, or without the ids they need, are ignored.</summary>
    public void Add(Event e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Type == EventTypes.Item)
        {
            if (string.IsNullOrEmpty(e.ItemId))
            {
                return;
            }
            var item = Node(NodeType.Item, e.ItemId);
            if (e.Deleted == true)
            {
                _catalog[item] = new CatalogEntry(-1, [], -1, Deleted: true);
            }
            else
            {
                var category = string.IsNullOrEmpty(e.Category) ? -1 : Node(NodeType.Category, e.Category);
                var tags = e.Tags is null
                    ? []
                    : e.Tags.Where(t => !string.IsNullOrEmpty(t)).Select(t => Node(NodeType.Tag, t)).Distinct().Order().ToArray();
                var brandName = StringAttribute(e, "brand") ?? StringAttribute(e, "creator");
                var brand = brandName is null ? -1 : Node(NodeType.Brand, brandName);
                _catalog[item] = new CatalogEntry(category, tags, brand, Deleted: false);
            }
            EventsUsed++;
        }
        else if (_options.EngagementTypes.Contains(e.Type) && !string.IsNullOrEmpty(e.UserId) && !string.IsNullOrEmpty(e.ItemId))
        {
            var user = Node(NodeType.User, e.UserId);
            var item = Node(NodeType.Item, e.ItemId);
            if (!_histories.TryGetValue(user, out var history))
            {
                _histories[user] = history = [];
            }
            history.Add((e.Timestamp.UtcTicks, _seq++, item));
            EventsUsed++;
        }
    }

    /// <summary>Builds the immutable graph from everything added so far.</summary>
    public KnowledgeGraph Build(CancellationToken ct = default)
    {
        // User nodes exist only with IncludeUsers: renumber so that excluded users leave no holes.
        var remap = new int[_types.Count];
        var types = new List<NodeType>(_types.Count);
        var keys = new List<string>(_types.Count);
        for (var i = 0; i < _types.Count; i++)
        {
            if (_types[i] == NodeType.User && !_options.IncludeUsers)
            {
                remap[i] = -1;
                continue;
            }
            remap[i] = types.Count;
            types.Add(_types[i]);
            keys.Add(_keys[i]);
        }

        var n = types.Count;
        var edges = new List<(int From, int To, float Weight)>[Relations.Count];
        for (var r = 0; r < edges.Length; r++)
        {
            edges[r] = [];
        }

        bool Active(int item) => !_catalog.TryGetValue(item, out var c) || !c.Deleted;

        foreach (var (item, entry) in _catalog)
        {
            if (entry.Deleted)
            {
                continue;
            }
            var it = remap[item];
            if (entry.Category >= 0)
            {
                AddBoth(edges, Relation.ItemCategory, it, remap[entry.Category], 1f);
            }
            foreach (var tag in entry.Tags)
            {
                AddBoth(edges, Relation.ItemTag, it, remap[tag], 1f);
            }
            if (entry.Brand >= 0)
            {
                AddBoth(edges, Relation.ItemBrand, it, remap[entry.Brand], 1f);
            }
        }
        ct.ThrowIfCancellationRequested();

        // Co-engagement: per user, distinct engaged items by first engagement time; pairs at most Window-1 apart.
        var pairs = new Dictionary<long, int>(PairComparer.Instance);
        var userItem = new Dictionary<long, int>(PairComparer.Instance);
        var sequence = new List<int>();
        var seen = new HashSet<int>();
        foreach (var (user, history) in _histories)
        {
            ct.ThrowIfCancellationRequested();
            history.Sort(static (a, b) => a.Ticks != b.Ticks ? a.Ticks.CompareTo(b.Ticks) : a.Seq.CompareTo(b.Seq));
            sequence.Clear();
            seen.Clear();
            foreach (var (_, _, item) in history)
            {
                if (!Active(item))
                {
                    continue;
                }
                if (seen.Add(item))
                {
                    sequence.Add(item);
                }
                if (_options.IncludeUsers)
                {
                    var key = ((long)user << 32) | (uint)item;
                    userItem[key] = userItem.GetValueOrDefault(key) + 1;
                }
            }
            for (var i = 0; i < sequence.Count; i++)
            {
                var end = Math.Min(sequence.Count, i + _options.CoEngagementWindow);
                for (var j = i + 1; j < end; j++)
                {
                    var (a, b) = sequence[i] < sequence[j] ? (sequence[i], sequence[j]) : (sequence[j], sequence[i]);
                    var key = ((long)a << 32) | (uint)b;
                    pairs[key] = pairs.GetValueOrDefault(key) + 1;
                }
            }
        }
        foreach (var (key, count) in pairs)
        {
            if (count >= _options.MinCoEngagement)
            {
                int a = remap[(int)(key >> 32)], b = remap[(int)(key & 0xFFFFFFFF)];
                edges[(int)Relation.CoEngagement].Add((a, b, count));
                edges[(int)Relation.CoEngagement].Add((b, a, count));
            }
        }
        foreach (var (key, count) in userItem)
        {
            AddBoth(edges, Relation.UserItem, remap[(int)(key >> 32)], remap[(int)(key & 0xFFFFFFFF)], count);
        }

        if (_options.ContentSimilarity)
        {
            AddContentSimilarity(edges[(int)Relation.ContentSimilar], remap, ct);
        }

        var csr = new Csr[Relations.Count];
        for (var r = 0; r < csr.Length; r++)
        {
            var itemItem = (Relation)r is Relation.CoEngagement or Relation.ContentSimilar;
            csr[r] = Csr.FromEdges(n, edges[r], itemItem ? _options.TopNeighbours : int.MaxValue);
        }
        return new KnowledgeGraph([.. types], [.. keys], csr);
    }

    private void AddContentSimilarity(List<(int From, int To, float Weight)> output, int[] remap, CancellationToken ct)
    {
        var tagItems = new Dictionary<int, List<int>>();
        foreach (var (item, entry) in _catalog)
        {
            if (entry.Deleted)
            {
                continue;
            }
            foreach (var tag in entry.Tags)
            {
                if (!tagItems.TryGetValue(tag, out var list))
                {
                    tagItems[tag] = list = [];
                }
                list.Add(item);
            }
        }

        var shared = new int[_types.Count];
        var touched = new List<int>();
        var candidates = new List<(int To, float Weight)>();
        foreach (var (item, entry) in _catalog)
        {
            ct.ThrowIfCancellationRequested();
            if (entry.Deleted || entry.Tags.Length == 0)
            {
                continue;
            }
            touched.Clear();
            foreach (var tag in entry.Tags)
            {
                var list = tagItems[tag];
                if (list.Count > _options.ContentSimilarityMaxTagItems)
                {
                    continue;
                }
                foreach (var other in list)
                {
                    if (other != item && shared[other]++ == 0)
                    {
                        touched.Add(other);
                    }
                }
            }
            candidates.Clear();
            foreach (var other in touched)
            {
                var inter = shared[other];
                shared[other] = 0;
                var jaccard = (float)inter / (entry.Tags.Length + _catalog[other].Tags.Length - inter);
                if (jaccard >= _options.ContentSimilarityThreshold)
                {
                    candidates.Add((remap[other], jaccard));
                }
            }
            // Keep only this item's top N here: popular tag sets give thousands of candidates per item.
            if (candidates.Count > _options.TopNeighbours)
            {
                candidates.Sort(static (a, b) => a.Weight != b.Weight ? b.Weight.CompareTo(a.Weight) : a.To.CompareTo(b.To));
                candidates.RemoveRange(_options.TopNeighbours, candidates.Count - _options.TopNeighbours);
            }
            foreach (var (to, weight) in candidates)
            {
                output.Add((remap[item], to, weight));
            }
        }
    }

    private static void AddBoth(List<(int From, int To, float Weight)>[] edges, Relation relation, int from, int to, float weight)
    {
        edges[(int)relation].Add((from, to, weight));
        edges[(int)Relations.Reverse(relation)].Add((to, from, weight));
    }

    private int Node(NodeType type, string key)
    {
        if (!_ids.TryGetValue((type, key), out var id))
        {
            id = _types.Count;
            _ids[(type, key)] = id;
            _types.Add(type);
            _keys.Add(key);
        }
        return id;
    }

    private static string? StringAttribute(Event e, string name) =>
        e.Attributes is not null && e.Attributes.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.String
            && v.GetString() is { Length: > 0 } s ? s : null;

    /// <summary>
    /// Hashes a packed (a, b) pair well: <see cref="long.GetHashCode"/> is <c>a ^ b</c>, which for small dense ids
    /// puts millions of pairs into a few thousand buckets.
    /// </summary>
    private sealed class PairComparer : IEqualityComparer<long>
    {
        public static readonly PairComparer Instance = new();

        public bool Equals(long x, long y) => x == y;

        public int GetHashCode(long key) => (int)(((ulong)key * 0x9E3779B97F4A7C15UL) >> 32);
    }

    private sealed record CatalogEntry(int Category, int[] Tags, int Brand, bool Deleted);
}
