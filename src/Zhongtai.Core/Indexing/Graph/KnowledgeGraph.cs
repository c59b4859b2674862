namespace Zhongtai.Indexing.Graph;

/// <summary>
/// An immutable knowledge graph: typed nodes identified by (type, key) with dense int ids, and weighted, typed
/// relations stored as one CSR adjacency per <see cref="Relation"/>. Built by <see cref="KnowledgeGraphBuilder"/>,
/// persisted by <see cref="Save(string, CancellationToken)"/> / <see cref="Load(string)"/>. All queries are safe to call
/// from many threads at once.
/// <para>
/// Bad input: id-based queries throw <see cref="ArgumentOutOfRangeException"/> for an id outside
/// <c>[0, NodeCount)</c>; key-based queries return an empty result for an unknown key (cold start), except
/// <see cref="GetNode"/>, which throws <see cref="KeyNotFoundException"/>. A non-positive <c>k</c> or other bad
/// argument throws <see cref="ArgumentException"/>.
/// </para>
/// </summary>
public sealed partial class KnowledgeGraph
{
    private readonly NodeType[] _types;
    private readonly string[] _keys;
    private readonly Csr[] _relations;
    private readonly Dictionary<(NodeType Type, string Key), int> _ids;
    private readonly int[] _items;

    internal KnowledgeGraph(NodeType[] types, string[] keys, Csr[] relations)
    {
        _types = types;
        _keys = keys;
        _relations = relations;
        _ids = new Dictionary<(NodeType, string), int>(types.Length);
        for (var i = 0; i < types.Length; i++)
        {
            if (!_ids.TryAdd((types[i], keys[i]), i))
            {
                throw new InvalidDataException($"Duplicate node ({types[i]}, {keys[i]}).");
            }
        }
        _items = [.. Enumerable.Range(0, types.Length).Where(i => types[i] == NodeType.Item)];
    }

    /// <summary>Number of nodes of every type.</summary>
    public int NodeCount => _types.Length;

    /// <summary>Ids of the item nodes, ascending.</summary>
    public ReadOnlySpan<int> Items => _items;

    /// <summary>Number of nodes of <paramref name="type"/>.</summary>
    public int CountOf(NodeType type) => _types.Count(t => t == type);

    /// <summary>Number of edges of <paramref name="relation"/>.</summary>
    public int EdgeCount(Relation relation) => Table(relation).EdgeCount;

    /// <summary>The type of node <paramref name="node"/>.</summary>
    public NodeType TypeOf(int node) => _types[CheckNode(node)];

    /// <summary>The key (item id, tag, category name, ...) of node <paramref name="node"/>.</summary>
    public string KeyOf(int node) => _keys[CheckNode(node)];

    /// <summary>Looks a node up by type and key.</summary>
    public bool TryGetNode(NodeType type, string key, out int node) => _ids.TryGetValue((type, key ?? ""), out node);

    /// <summary>The id of node (type, key); throws <see cref="KeyNotFoundException"/> when there is none.</summary>
    public int GetNode(NodeType type, string key) =>
        TryGetNode(type, key, out var node) ? node : throw new KeyNotFoundException($"No {type} node '{key}' in the knowledge graph.");

    /// <summary>Number of edges of <paramref name="relation"/> leaving <paramref name="node"/>.</summary>
    public int Degree(int node, Relation relation)
    {
        var t = Table(relation);
        CheckNode(node);
        return t.Offsets[node + 1] - t.Offsets[node];
    }

    /// <summary>Targets of the edges of <paramref name="relation"/> leaving <paramref name="node"/>, strongest first (no allocation).</summary>
    public ReadOnlySpan<int> Targets(int node, Relation relation)
    {
        var t = Table(relation);
        CheckNode(node);
        return t.Targets.AsSpan(t.Offsets[node], t.Offsets[node + 1] - t.Offsets[node]);
    }

    /// <summary>Weights parallel to <see cref="Targets"/>.</summary>
    public ReadOnlySpan<float> Weights(int node, Relation relation)
    {
        var t = Table(relation);
        CheckNode(node);
        return t.Weights.AsSpan(t.Offsets[node], t.Offsets[node + 1] - t.Offsets[node]);
    }

    /// <summary>The <paramref name="k"/> strongest neighbours of <paramref name="node"/> by <paramref name="relation"/>, by weight descending (ties: lower id first).</summary>
    public GraphNeighbour[] Neighbours(int node, Relation relation, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var targets = Targets(node, relation);
        var weights = Weights(node, relation);
        var result = new GraphNeighbour[Math.Min(k, targets.Length)];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = new GraphNeighbour(targets[i], weights[i]);
        }
        return result;
    }

    /// <summary>As <see cref="Neighbours(int, Relation, int)"/> by key; an unknown key gives an empty result.</summary>
    public GraphNeighbour[] Neighbours(NodeType type, string key, Relation relation, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        return TryGetNode(type, key, out var node) ? Neighbours(node, relation, k) : [];
    }

    /// <summary>
    /// Multi-hop expansion. Start mass <c>w</c> on each start node flows along <paramref name="path"/> (each hop's
    /// relation must start where the previous one ends): over an edge u→v, <c>mass(v) += mass(u) · decay · w(u,v) / Σw(u,·)</c>,
    /// so scores are edge weights normalised by (weighted) degree, multiplied by <paramref name="decay"/> per hop.
    /// Every hop whose target type equals the final hop's target type adds its mass to the result scores, so with
    /// path [CoEngagement, CoEngagement] direct neighbours (decay¹) and neighbours of neighbours (decay²) both count.
    /// Start nodes are excluded from the result. Returns at most <paramref name="k"/> nodes by score descending
    /// (ties: lower id first).
    /// </summary>
    /// <example>User's items → their tags → other items: <c>Expand(history, [Relation.ItemTag, Relation.TagItem], 0.5f, 100)</c>.</example>
    public GraphNeighbour[] Expand(IReadOnlyList<GraphNeighbour> start, IReadOnlyList<Relation> path, float decay, int k)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        if (path.Count == 0)
        {
            throw new ArgumentException("The path needs at least one relation.", nameof(path));
        }
        if (!(decay > 0f && decay <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(decay), decay, "decay must be in (0, 1].");
        }
        for (var h = 0; h < path.Count; h++)
        {
            Table(path[h]);
            if (h > 0 && Relations.Target(path[h - 1]) != Relations.Source(path[h]))
            {
                throw new ArgumentException($"Hop {h} ({path[h]}) does not start where hop {h - 1} ({path[h - 1]}) ends.", nameof(path));
            }
        }
        foreach (var s in start)
        {
            CheckNode(s.Node);
            if (!(s.Weight > 0f) || float.IsInfinity(s.Weight))
            {
                throw new ArgumentException($"Start weights must be positive and finite (node {s.Node}: {s.Weight}).", nameof(start));
            }
        }

        var scratch = ExpandScratch.For(NodeCount);
        float[] current = scratch.Current, next = scratch.Next, score = scratch.Score;
        var isStart = scratch.IsStart;
        List<int> frontier = scratch.Frontier, nextFrontier = scratch.NextFrontier, scored = scratch.Scored;
        try
        {
            foreach (var s in start)
            {
                if (!isStart[s.Node])
                {
                    isStart[s.Node] = true;
                    frontier.Add(s.Node);
                }
                current[s.Node] += s.Weight;
            }

            var resultType = Relations.Target(path[^1]);
            for (var h = 0; h < path.Count; h++)
            {
                var t = _relations[(int)path[h]];
                foreach (var u in frontier)
                {
                    var mass = current[u];
                    current[u] = 0f;
                    var rowSum = t.RowSums[u];
                    if (mass == 0f || rowSum <= 0f)
                    {
                        continue;
                    }
                    var scale = mass * decay / rowSum;
                    for (var e = t.Offsets[u]; e < t.Offsets[u + 1]; e++)
                    {
                        var v = t.Targets[e];
                        if (next[v] == 0f)
                        {
                            nextFrontier.Add(v);
                        }
                        next[v] += scale * t.Weights[e];
                    }
                }
                if (Relations.Target(path[h]) == resultType)
                {
                    foreach (var v in nextFrontier)
                    {
                        if (!isStart[v] && next[v] > 0f)
                        {
                            if (score[v] == 0f)
                            {
                                scored.Add(v);
                            }
                            score[v] += next[v];
                        }
                    }
                }
                (current, next) = (next, current);
                (frontier, nextFrontier) = (nextFrontier, frontier);
                nextFrontier.Clear();
            }

            // Scores are positive, so their IEEE bits order like the values: one ulong key sorts by score descending,
            // then id ascending, without a comparison delegate.
            // Keep the k smallest keys in a max-heap (most candidates are rejected by one comparison with the root),
            // then sort those k.
            var take = Math.Min(k, scored.Count);
            var order = scratch.Order(take);
            for (var i = 0; i < scored.Count; i++)
            {
                var v = scored[i];
                var key = ((ulong)~BitConverter.SingleToUInt32Bits(score[v]) << 32) | (uint)v;
                if (i < take)
                {
                    order[i] = key;
                    if (i == take - 1)
                    {
                        for (var j = (take / 2) - 1; j >= 0; j--)
                        {
                            SiftDown(order, j, take);
                        }
                    }
                }
                else if (key < order[0])
                {
                    order[0] = key;
                    SiftDown(order, 0, take);
                }
            }
            Array.Sort(order, 0, take);
            var result = new GraphNeighbour[take];
            for (var i = 0; i < result.Length; i++)
            {
                var v = (int)(uint)order[i];
                result[i] = new GraphNeighbour(v, score[v]);
            }
            return result;
        }
        finally
        {
            // Leave the scratch all zero again, touching only what this query touched (no O(NodeCount) clear).
            foreach (var u in frontier)
            {
                current[u] = 0f;
            }
            foreach (var u in nextFrontier)
            {
                next[u] = 0f;
            }
            foreach (var v in scored)
            {
                score[v] = 0f;
            }
            foreach (var s in start)
            {
                isStart[s.Node] = false;
            }
            frontier.Clear();
            nextFrontier.Clear();
            scored.Clear();
        }
    }

    /// <summary>
    /// Expansion from item keys (e.g. a user's recent items with their weights); unknown item keys are skipped and
    /// an empty result comes back when none is known. Results are item nodes for item-ending paths.
    /// </summary>
    public GraphNeighbour[] ExpandItems(IEnumerable<(string ItemId, float Weight)> items, IReadOnlyList<Relation> path, float decay, int k)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var start = new List<GraphNeighbour>();
        foreach (var (id, weight) in items)
        {
            if (TryGetNode(NodeType.Item, id, out var node))
            {
                start.Add(new GraphNeighbour(node, weight));
            }
        }
        return start.Count == 0 ? [] : Expand(start, path, decay, k);
    }

    /// <summary>
    /// Random walks over item nodes for DeepWalk-style embeddings. <paramref name="relations"/> chooses the moves:
    /// an item–item relation (<see cref="Relation.CoEngagement"/>, <see cref="Relation.ContentSimilar"/>) steps to a
    /// neighbour; an item→attribute relation (<see cref="Relation.ItemTag"/>, <see cref="Relation.ItemCategory"/>,
    /// <see cref="Relation.ItemBrand"/>, <see cref="Relation.ItemUser"/>) steps item→attribute→item (only the items
    /// appear in the walk). Each step picks among all allowed edges with probability proportional to weight.
    /// Walks start from every item with at least one allowed edge, <paramref name="walksPerNode"/> times; a walk ends
    /// early at an item with no allowed edge. Output order: round by round, items by ascending id; the result depends
    /// only on the graph, the arguments and <paramref name="seed"/> (not on thread scheduling).
    /// </summary>
    public int[][] RandomWalks(int walksPerNode, int walkLength, int seed, IReadOnlyCollection<Relation> relations, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(walksPerNode);
        ArgumentOutOfRangeException.ThrowIfLessThan(walkLength, 2);
        ArgumentNullException.ThrowIfNull(relations);
        if (relations.Count == 0)
        {
            throw new ArgumentException("Name at least one relation to walk.", nameof(relations));
        }
        var tables = new List<(Csr Forward, Csr? Back)>();
        foreach (var r in relations.Distinct())
        {
            Table(r);
            if (Relations.Source(r) != NodeType.Item)
            {
                throw new ArgumentException($"Walks move between items; {r} does not start at an item.", nameof(relations));
            }
            tables.Add(Relations.Target(r) == NodeType.Item
                ? (_relations[(int)r], null)
                : (_relations[(int)r], _relations[(int)Relations.Reverse(r)]));
        }

        var starts = _items.Where(u => tables.Any(t => t.Forward.RowSums[u] > 0f)).ToArray();
        var walks = new int[(long)walksPerNode * starts.Length > Array.MaxLength
            ? throw new ArgumentException("Too many walks.", nameof(walksPerNode))
            : walksPerNode * starts.Length][];
        var options = new ParallelOptions { CancellationToken = ct };
        Parallel.For(0, walks.Length, options, () => new int[walkLength], (w, _, buffer) =>
        {
            var random = new Random(Mix(seed, w));
            var u = starts[w % starts.Length];
            var length = 0;
            buffer[length++] = u;
            while (length < walkLength)
            {
                var total = 0f;
                foreach (var t in tables)
                {
                    total += t.Forward.RowSums[u];
                }
                if (total <= 0f)
                {
                    break;
                }
                var x = (float)(random.NextDouble() * total);
                var chosen = tables[^1];
                foreach (var t in tables)
                {
                    var rowSum = t.Forward.RowSums[u];
                    if (x < rowSum && rowSum > 0f)
                    {
                        chosen = t;
                        break;
                    }
                    x -= rowSum;
                }
                if (chosen.Forward.RowSums[u] <= 0f)
                {
                    break;
                }
                var v = chosen.Forward.Targets[chosen.Forward.Sample(u, Math.Min(x, chosen.Forward.RowSums[u]))];
                if (chosen.Back is { } back)
                {
                    if (back.RowSums[v] <= 0f)
                    {
                        break;
                    }
                    v = back.Targets[back.Sample(v, (float)(random.NextDouble() * back.RowSums[v]))];
                }
                buffer[length++] = v;
                u = v;
            }
            walks[w] = buffer[..length];
            return buffer;
        }, static _ => { });
        return walks;
    }

    internal Csr Table(Relation relation) =>
        Relations.IsValid(relation) ? _relations[(int)relation] : throw new ArgumentOutOfRangeException(nameof(relation), relation, "Unknown relation.");

    internal NodeType[] NodeTypes => _types;
    internal string[] NodeKeys => _keys;
    internal Csr[] Tables => _relations;

    private int CheckNode(int node) =>
        (uint)node < (uint)_types.Length ? node : throw new ArgumentOutOfRangeException(nameof(node), node, $"Node ids are in [0, {_types.Length}).");

    /// <summary>Restores the max-heap property of <paramref name="heap"/>[0..<paramref name="count"/>) below <paramref name="i"/>.</summary>
    private static void SiftDown(ulong[] heap, int i, int count)
    {
        var value = heap[i];
        while (true)
        {
            var child = (2 * i) + 1;
            if (child >= count)
            {
                break;
            }
            if (child + 1 < count && heap[child + 1] > heap[child])
            {
                child++;
            }
            if (heap[child] <= value)
            {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = value;
    }

    private static int Mix(int seed, int index)
    {
        var z = ((ulong)(uint)seed << 32 | (uint)index) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)(z ^ (z >> 31));
    }

    /// <summary>Per-thread working memory of <see cref="Expand"/>; all zero/empty between queries.</summary>
    private sealed class ExpandScratch
    {
        [ThreadStatic]
        private static ExpandScratch? t_current;

        private ulong[] _order = new ulong[256];

        private ExpandScratch(int n)
        {
            Current = new float[n];
            Next = new float[n];
            Score = new float[n];
            IsStart = new bool[n];
        }

        public float[] Current { get; }
        public float[] Next { get; }
        public float[] Score { get; }
        public bool[] IsStart { get; }
        public List<int> Frontier { get; } = [];
        public List<int> NextFrontier { get; } = [];
        public List<int> Scored { get; } = [];

        public static ExpandScratch For(int n)
        {
            var scratch = t_current;
            if (scratch is null || scratch.Current.Length < n)
            {
                t_current = scratch = new ExpandScratch(Math.Max(n, 16));
            }
            return scratch;
        }

        public ulong[] Order(int count)
        {
            if (_order.Length < count)
            {
                _order = new ulong[Math.Max(count, _order.Length * 2)];
            }
            return _order;
        }
    }
}
