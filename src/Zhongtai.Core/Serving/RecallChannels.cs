using Zhongtai.Indexing.Graph;
using Zhongtai.Indexing.Vector;

namespace Zhongtai.Serving;

/// <summary>
/// A recall channel: given the request, adds up to its quota of candidates, best first, to a
/// buffer. Called concurrently from many requests (each with its own context and buffer); must be thread-safe.
/// The built-in channels live in the engine; a host adds others (the inverted index lives in another assembly).
/// </summary>
public interface IRecallChannel
{
    /// <summary>One of <see cref="ChannelNames.All"/>.</summary>
    string Name { get; }

    /// <param name="quota">Add at most this many candidates.</param>
    void Recall(RecallContext context, int quota, RecallBuffer output);
}

/// <summary>What a channel knows of the request. Reused between requests: channels must not keep it.</summary>
public sealed class RecallContext
{
    private readonly List<string> _recentIds = [];
    private readonly List<string> _terms = [];
    private bool _termsBuilt;
    private ServingCatalog _catalog = null!;

    public string UserId { get; private set; } = "";
    public string Scene { get; private set; } = "";

    /// <summary>The request's query text, if any.</summary>
    public string? Query { get; private set; }

    /// <summary>The category filter, if any.</summary>
    public string? Category { get; private set; }

    /// <summary>The recall model version the request is served with (null: none loaded).</summary>
    internal LoadedRecallModel? Model { get; set; }

    /// <summary>The user's most recent engaged items (newest first), as dense serving ids.</summary>
    internal ReadOnlySpan<int> Recent => RecentBuffer.AsSpan(0, RecentCount);

    internal int[] RecentBuffer { get; private set; } = new int[16];
    internal int RecentCount { get; private set; }

    /// <summary>The user's most recent engaged items, newest first.</summary>
    public IReadOnlyList<string> RecentItemIds
    {
        get
        {
            if (_recentIds.Count != RecentCount)
            {
                _recentIds.Clear();
                foreach (var item in Recent)
                {
                    _recentIds.Add(_catalog[item].Id);
                }
            }

            return _recentIds;
        }
    }

    /// <summary>The user's interest terms: the most frequent tags and categories of their recent items.</summary>
    public IReadOnlyList<string> InterestTerms
    {
        get
        {
            if (!_termsBuilt)
            {
                _termsBuilt = true;
                var counts = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (var dense in Recent)
                {
                    var item = _catalog[dense];
                    foreach (var tag in item.Tags)
                    {
                        counts[tag] = counts.GetValueOrDefault(tag) + 2;
                    }

                    if (item.Category is { } c)
                    {
                        counts[c] = counts.GetValueOrDefault(c) + 1;
                    }
                }

                _terms.AddRange(counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(8).Select(kv => kv.Key));
            }

            return _terms;
        }
    }

    internal void Reset(ServingCatalog catalog, string userId, string scene, string? query, string? category, UserHistory? history, int seedItems)
    {
        _catalog = catalog;
        UserId = userId;
        Scene = scene;
        Query = query;
        Category = category;
        _recentIds.Clear();
        _terms.Clear();
        _termsBuilt = false;
        if (RecentBuffer.Length < seedItems)
        {
            RecentBuffer = new int[seedItems];
        }

        RecentCount = history?.Recent(RecentBuffer.AsSpan(0, seedItems)) ?? 0;
    }

    /// <summary>Builds the lazily computed lists now, so that channels running in parallel only read them.</summary>
    internal void Prepare(bool terms)
    {
        _ = RecentItemIds;
        if (terms)
        {
            _ = InterestTerms;
        }
    }

    internal void SetRecent(int item)
    {
        RecentBuffer[0] = item;
        RecentCount = 1;
        _recentIds.Clear();
    }
}

/// <summary>Where a channel writes its candidates (best first). Ids unknown to serving are skipped.</summary>
public sealed class RecallBuffer
{
    private readonly ServingCatalog _catalog;
    private int[] _items = new int[256];
    private float[] _scores = new float[256];

    internal RecallBuffer(ServingCatalog catalog) => _catalog = catalog;

    public int Count { get; private set; }

    internal ReadOnlySpan<int> Items => _items.AsSpan(0, Count);

    internal ReadOnlySpan<float> Scores => _scores.AsSpan(0, Count);

    /// <summary>Adds an item by external id; returns false when serving does not know the id.</summary>
    public bool Add(string itemId, float score)
    {
        var dense = _catalog.Find(itemId);
        if (dense < 0)
        {
            return false;
        }

        Add(dense, score);
        return true;
    }

    internal void Add(int dense, float score)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, Count * 2);
            Array.Resize(ref _scores, Count * 2);
        }

        _items[Count] = dense;
        _scores[Count++] = score;
    }

    internal void Clear() => Count = 0;
}

/// <summary>The built-in channels over the engine's state.</summary>
internal static class BuiltInChannels
{
    /// <summary>
    /// Co-engagement neighbours of the user's recent items, weighted by recency. The counts follow the realtime
    /// model's definition (pairs engaged by one user within <c>Realtime:RecentItemsPerUser</c> items) but are kept
    /// by serving's own follower with per-item locks: the realtime state's single lock is held for whole snapshots,
    /// and request threads blocking on it starved the thread pool (39 requests/s under 16 connections).
    /// </summary>
    public sealed class I2i(RecommendEngine engine) : IRecallChannel
    {
        [ThreadStatic]
        private static ItemSums? t_scores;

        [ThreadStatic]
        private static (int Item, float Weight)[]? t_row;

        public string Name => ChannelNames.I2i;

        public void Recall(RecallContext context, int quota, RecallBuffer output)
        {
            if (context.RecentCount == 0)
            {
                return;
            }

            var row = t_row ??= new (int, float)[256];
            var perSeed = Math.Min(row.Length, Math.Max(10, quota / context.RecentCount * 2));
            var recent = context.Recent;
            var scores = t_scores ??= new ItemSums();
            scores.Reset(recent.Length * perSeed);
            for (var s = 0; s < recent.Length; s++)
            {
                var seedWeight = 1f / (1 + s);
                var n = engine.Catalog.Neighbours(recent[s], row.AsSpan(0, perSeed));
                for (var i = 0; i < n; i++)
                {
                    scores.Add(row[i].Item, seedWeight * row[i].Weight);
                }
            }

            var count = Math.Min(quota, scores.Count);
            if (count == 0)
            {
                return;
            }

            // Best first by (score descending, item ascending), packed into integer keys: select the quota, sort only those.
            var all = scores.Keys();
            ScoreOrder.SelectSmallest(all, count);
            all[..count].Sort();
            foreach (var key in all[..count])
            {
                output.Add(ScoreOrder.Id(key), ScoreOrder.Score(key));
            }
        }
    }

    /// <summary>The user's factors → nearest item factors (inner product) in the HNSW index of the serving model version.</summary>
    public sealed class Vector(RecommendEngine engine) : IRecallChannel
    {
        [ThreadStatic]
        private static VectorHit[]? t_hits;

        public string Name => ChannelNames.Vector;

        public void Recall(RecallContext context, int quota, RecallBuffer output)
        {
            if (context.Model is not { } model)
            {
                return;
            }

            var user = engine.Project.UserIds.Find(context.UserId);
            if (user < 0 || user >= model.Model.UserCount)
            {
                return;
            }

            // A result searched for at least this quota serves it (its first quota items); fewer items than the quota
            // (model items unknown to serving, a small index) is still the full answer for that search.
            if (model.UserResults.TryGetValue(user, out var cached) && cached.Quota >= quota)
            {
                var m = Math.Min(quota, cached.Items.Length);
                for (var i = 0; i < m; i++)
                {
                    output.Add(cached.Items[i], cached.Scores[i]);
                }

                return;
            }

            var hits = t_hits is { } h && h.Length >= quota ? h : t_hits = new VectorHit[Math.Max(quota, 256)];
            var result = model.Nearest(user, quota, hits, engine.Catalog);
            for (var i = 0; i < result.Items.Length; i++)
            {
                output.Add(result.Items[i], result.Scores[i]);
            }

            if (result.Complete && engine.VectorCacheUsers > 0 && (model.UserResults.Count < engine.VectorCacheUsers || model.UserResults.ContainsKey(user)))
            {
                model.UserResults[user] = result;
            }
        }
    }

    /// <summary>Realtime popularity (decayed engagement), per category when the request filters one.</summary>
    public sealed class Popular(RecommendEngine engine) : IRecallChannel
    {
        public string Name => ChannelNames.Popular;

        public void Recall(RecallContext context, int quota, RecallBuffer output)
        {
            var lists = engine.PopularLists;
            var list = context.Category is null ? lists.Overall : lists.ByCategory.GetValueOrDefault(context.Category) ?? [];
            var n = Math.Min(list.Length, quota);
            for (var i = 0; i < n; i++)
            {
                output.Add(list[i].Item, list[i].Score);
            }
        }
    }

    /// <summary>The newest catalog items.</summary>
    public sealed class Fresh(RecommendEngine engine) : IRecallChannel
    {
        public string Name => ChannelNames.Fresh;

        public void Recall(RecallContext context, int quota, RecallBuffer output)
        {
            Span<int> items = stackalloc int[Math.Min(quota, 1024)];
            var n = engine.Catalog.Fresh(items);
            for (var i = 0; i < n; i++)
            {
                output.Add(items[i], 1f / (1 + i));
            }
        }
    }

    /// <summary>Knowledge-graph expansion item → tag → item from the user's recent items.</summary>
    public sealed class Graph(RecommendEngine engine) : IRecallChannel
    {
        private static readonly Relation[] Path = [Relation.ItemTag, Relation.TagItem];

        public string Name => ChannelNames.Graph;

        public void Recall(RecallContext context, int quota, RecallBuffer output)
        {
            if (engine.Graph is not { } graph || context.RecentCount == 0)
            {
                return;
            }

            var recent = context.RecentItemIds;
            var seeds = new (string, float)[recent.Count];
            for (var i = 0; i < seeds.Length; i++)
            {
                seeds[i] = (recent[i], 1f / (1 + i));
            }

            foreach (var hit in graph.ExpandItems(seeds, Path, 0.5f, quota))
            {
                output.Add(graph.KeyOf(hit.Node), hit.Weight);
            }
        }
    }
}
