using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Zhongtai.Indexing.Vector;

/// <summary>
/// Hierarchical navigable small world graph (Malkov &amp; Yashunin) for approximate nearest-neighbour search.
/// </summary>
/// <remarks>
/// <para>Layout: all vectors live in one pinned <c>float[]</c>; the level-0 neighbour lists of all nodes live in one pinned
/// <c>int[]</c> with a fixed stride of <c>1 + 2M</c> ints (<c>[count, n1, n2, ...]</c>), so a node's list and the next node's list
/// are adjacent; upper-level lists (about 1 node in M) are one small pinned array per node. Searches use pooled contexts
/// (visited set with generation counters, heaps) and allocate nothing.</para>
/// <para>Concurrency: any number of searches may run while one writer adds, removes or compacts; writers are serialized by
/// an internal lock, and <see cref="AddRange"/> links a batch on several threads with striped per-node spin locks. Readers take
/// no locks: they work on an immutable-capacity snapshot of the storage, and every int a reader can see in a neighbour list is
/// a valid node whose vector was written before it was linked.</para>
/// <para>Deletes are tombstones: a removed node is never returned but still routes searches. <see cref="Compact"/> rebuilds the
/// graph from the live nodes; call it when <see cref="DeletedCount"/> grows large (e.g. above 20% of the nodes).</para>
/// </remarks>
public sealed unsafe class HnswIndex : IVectorIndex
{
    private const int MaxLevel = 16;
    private const int LockStripes = 1 << 14;

    private readonly int _dim;
    private readonly VectorMetric _metric;
    private readonly HnswOptions _options;
    private readonly int _m;
    private readonly int _m0;
    private readonly double _levelMult;
    private readonly Random _levelRandom;
    private readonly Lock _writeLock = new();
    private readonly Lock _entryLock = new();
    private readonly int[] _stripes = new int[LockStripes];
    private readonly HnswContextPool _pool = new();
    private Dictionary<int, int>? _idToNode = [];
    private MappedVectorFile? _mapping;
    private volatile Graph _g;
    private int _live;

    /// <summary>Creates an empty index.</summary>
    public HnswIndex(int dimension, VectorMetric metric, HnswOptions? options = null)
    {
        if (dimension <= 0)
        {
            throw new ArgumentException($"Dimension must be positive, got {dimension}.", nameof(dimension));
        }
        if (!Enum.IsDefined(metric))
        {
            throw new ArgumentException($"Unknown metric {metric}.", nameof(metric));
        }
        _options = options ?? new HnswOptions();
        _options.Validate();
        _dim = dimension;
        _metric = metric;
        _m = _options.M;
        _m0 = 2 * _m;
        _levelMult = 1.0 / Math.Log(_m);
        _levelRandom = new Random(_options.Seed);
        _g = new Graph(_options.InitialCapacity, _dim, _m0);
    }

    public int Dimension => _dim;

    public VectorMetric Metric => _metric;

    public HnswOptions Options => _options;

    /// <summary>Live ids; read without blocking, so during an <see cref="AddRange"/> it already counts the batch being linked.</summary>
    public int Count => Volatile.Read(ref _live);

    /// <summary>Tombstoned nodes still in the graph (cleared by <see cref="Compact"/>).</summary>
    public int DeletedCount => _g.DeletedCount;

    /// <summary>Nodes in the graph, live and tombstoned.</summary>
    public int NodeCount => _g.Count;

    /// <summary>Bytes held by the index storage (vectors, links, labels, levels, flags) at its current capacity.</summary>
    public long MemoryBytes
    {
        get
        {
            var g = _g;
            long bytes = ((long)g.Capacity * _dim * 4) + ((long)g.Capacity * (_m0 + 1) * 4) + ((long)g.Capacity * (4 + 4 + 1 + 8 + 8));
            for (int i = 0; i < g.Count; i++)
            {
                if (g.UpperPtr[i] != 0)
                {
                    bytes += (g.Levels[i] * (_m + 1) * 4) + 24;
                }
            }
            return bytes + ((long)Count * 12);
        }
    }

    public bool Contains(int id)
    {
        lock (_writeLock)
        {
            return IdMap().ContainsKey(id);
        }
    }

    public void Add(int id, ReadOnlySpan<float> vector)
    {
        VectorKernels.Validate(vector, _dim, _metric, nameof(vector));
        lock (_writeLock)
        {
            EnsureCapacity(_g.Count + 1);
            int node = AllocateNode(id, vector);
            var ctx = _pool.Rent();
            try
            {
                LinkNode(_g, node, ctx);
            }
            finally
            {
                _pool.Return(ctx);
            }
        }
    }

    public void AddRange(ReadOnlySpan<int> ids, ReadOnlySpan<float> vectors)
    {
        if ((long)ids.Length * _dim != vectors.Length)
        {
            throw new ArgumentException($"Expected {ids.Length} x {_dim} = {(long)ids.Length * _dim} floats, got {vectors.Length}.", nameof(vectors));
        }
        for (int i = 0; i < ids.Length; i++)
        {
            VectorKernels.Validate(vectors.Slice(i * _dim, _dim), _dim, _metric, $"{nameof(vectors)}[{i}]");
        }
        if (ids.IsEmpty)
        {
            return;
        }
        lock (_writeLock)
        {
            EnsureCapacity(_g.Count + ids.Length);
            int first = _g.Count;
            for (int i = 0; i < ids.Length; i++)
            {
                AllocateNode(ids[i], vectors.Slice(i * _dim, _dim));
            }
            LinkRange(_g, first, _g.Count);
        }
    }

    public bool Remove(int id)
    {
        lock (_writeLock)
        {
            var map = IdMap();
            if (!map.Remove(id, out int node))
            {
                return false;
            }
            var g = _g;
            g.Deleted[node] = 1;
            g.DeletedCount++;
            Volatile.Write(ref _live, map.Count);
            return true;
        }
    }

    /// <summary>
    /// Rebuilds the graph from the live nodes only, dropping tombstones and repairing the links they held.
    /// Searches keep running on the previous graph until the new one is published.
    /// </summary>
    public void Compact()
    {
        lock (_writeLock)
        {
            var old = _g;
            if (old.DeletedCount == 0)
            {
                return;
            }
            int live = old.Count - old.DeletedCount;
            var g = new Graph(Math.Max(live, _options.InitialCapacity), _dim, _m0);
            var map = new Dictionary<int, int>(live);
            for (int node = 0; node < old.Count; node++)
            {
                if (old.Deleted[node] != 0)
                {
                    continue;
                }
                int n = g.Count;
                new ReadOnlySpan<float>(VectorOf(old, node), _dim).CopyTo(new Span<float>(VectorOf(g, n), _dim));
                g.Labels[n] = old.Labels[node];
                SetLevel(g, n, old.Levels[node]);
                g.Count = n + 1;
                map[old.Labels[node]] = n;
            }
            LinkRange(g, 0, g.Count);
            _idToNode = map;
            _g = g;
            Volatile.Write(ref _live, map.Count);
        }
    }

    /// <summary>
    /// Compacts when tombstones exceed <paramref name="maxDeletedFraction"/> of the nodes (default 0.2); meant to be called
    /// periodically (e.g. after each batch of updates). Returns whether it compacted.
    /// </summary>
    public bool CompactIfNeeded(double maxDeletedFraction = 0.2)
    {
        if (maxDeletedFraction is < 0 or > 1 || double.IsNaN(maxDeletedFraction))
        {
            throw new ArgumentException($"maxDeletedFraction must be in [0, 1], got {maxDeletedFraction}.", nameof(maxDeletedFraction));
        }
        lock (_writeLock)
        {
            var g = _g;
            if (g.DeletedCount == 0 || g.DeletedCount <= maxDeletedFraction * g.Count)
            {
                return false;
            }
            Compact();
            return true;
        }
    }

    public VectorHit[] Search(ReadOnlySpan<float> query, int k, Func<int, bool>? filter = null, int ef = 0)
    {
        if (k <= 0)
        {
            throw new ArgumentException($"k must be positive, got {k}.", nameof(k));
        }
        var buffer = new VectorHit[k];
        int n = Search(query, k, buffer, filter, ef);
        return n == k ? buffer : buffer[..n];
    }

    public int Search(ReadOnlySpan<float> query, int k, Span<VectorHit> results, Func<int, bool>? filter = null, int ef = 0)
    {
        if (k <= 0)
        {
            throw new ArgumentException($"k must be positive, got {k}.", nameof(k));
        }
        if (results.Length < k)
        {
            throw new ArgumentException($"The results span holds {results.Length} hits but k is {k}.", nameof(results));
        }
        if (ef < 0)
        {
            throw new ArgumentException($"ef must be >= 0 (0 = default), got {ef}.", nameof(ef));
        }
        VectorKernels.Validate(query, _dim, _metric, nameof(query));
        var g = _g;
        long entry = Volatile.Read(ref g.Entry);
        if (entry < 0)
        {
            return 0;
        }
        int efs = Math.Max(ef == 0 ? _options.EfSearch : ef, k);
        var ctx = _pool.Rent();
        try
        {
            ctx.Begin(g.Capacity, _dim);
            int found;
            if (_metric == VectorMetric.Cosine)
            {
                VectorKernels.CopyForMetric(query, ctx.Query.AsSpan(0, _dim), _metric);
                fixed (float* q = ctx.Query)
                {
                    found = SearchCore<DotKernel>(g, ctx, q, entry, efs, filter);
                }
            }
            else
            {
                fixed (float* q = query)
                {
                    found = _metric == VectorMetric.L2
                        ? SearchCore<L2Kernel>(g, ctx, q, entry, efs, filter)
                        : SearchCore<DotKernel>(g, ctx, q, entry, efs, filter);
                }
            }
            while (ctx.ResultCount > k)
            {
                ctx.PopResult();
            }
            int n = ctx.ResultCount;
            for (int i = n - 1; i >= 0; i--)
            {
                var e = ctx.PopResult();
                results[i] = new VectorHit(g.Labels[e.Node], e.Distance);
            }
            return n;
        }
        finally
        {
            _pool.Return(ctx);
        }
    }

    public void Save(string path)
    {
        lock (_writeLock)
        {
            var g = _g;
            long entry = Volatile.Read(ref g.Entry);
            int upperInts = 0;
            for (int i = 0; i < g.Count; i++)
            {
                upperInts += g.Levels[i] * (_m + 1);
            }
            var header = new VectorIndexFile.Header
            {
                Kind = VectorIndexFile.KindHnsw,
                Metric = _metric,
                Dimension = _dim,
                Count = g.Count,
                M = _m,
                EfConstruction = _options.EfConstruction,
                MaxLevel = entry < 0 ? -1 : (int)(entry >> 32),
                EntryNode = entry < 0 ? -1 : (int)entry,
                UpperInts = upperInts,
            };
            var deleted = new int[g.Count];
            for (int i = 0; i < g.Count; i++)
            {
                deleted[i] = g.Deleted[i];
            }
            using var w = new VectorIndexFile.Writer(path, header);
            w.Write<int>(g.Labels.AsSpan(0, g.Count));
            w.Write<int>(g.Levels.AsSpan(0, g.Count));
            w.Write<int>(deleted);
            w.Write<float>(new ReadOnlySpan<float>(g.VectorPtr, checked(g.Count * _dim)));
            w.Write<int>(new ReadOnlySpan<int>(g.Links0Ptr, checked(g.Count * (_m0 + 1))));
            for (int i = 0; i < g.Count; i++)
            {
                if (g.UpperPtr[i] != 0)
                {
                    w.Write<int>(UpperSpan(g, i));
                }
            }
            w.Commit();
        }
    }

    /// <summary>A loaded index's options: its graph shape (M, efConstruction) from the file, search and build settings from the caller.</summary>
    private static HnswOptions OptionsOf(VectorIndexFile.Header h, HnswOptions? options)
    {
        var given = options ?? new HnswOptions();
        return new HnswOptions
        {
            M = h.M,
            EfConstruction = h.EfConstruction,
            EfSearch = given.EfSearch,
            Seed = given.Seed,
            BuildThreads = given.BuildThreads,
            InitialCapacity = 1,
        };
    }

    /// <summary>Rebuilds an index from the sections of a file already validated by <see cref="VectorIndexFile"/>.</summary>
    internal static HnswIndex FromFile(VectorIndexFile.Header h, int[] labels, int[] levels, int[] deleted, float[] vectors, int[] links0, int[] upper, HnswOptions? options)
    {
        var index = new HnswIndex(h.Dimension, h.Metric, OptionsOf(h, options));
        var g = new Graph(Math.Max(1, h.Count), h.Dimension, 2 * h.M, vectors, links0);
        int pos = 0;
        var map = new Dictionary<int, int>(h.Count);
        for (int i = 0; i < h.Count; i++)
        {
            g.Labels[i] = labels[i];
            int level = levels[i];
            if (level < 0 || level > MaxLevel)
            {
                throw new InvalidDataException($"Vector index file has an invalid level {level} at node {i}.");
            }
            g.Levels[i] = level;
            if (level > 0)
            {
                int len = level * (h.M + 1);
                if (pos + len > upper.Length)
                {
                    throw new InvalidDataException("Vector index file has fewer upper-level links than its levels require.");
                }
                var arr = GC.AllocateArray<int>(len, pinned: true);
                upper.AsSpan(pos, len).CopyTo(arr);
                for (int l = 0; l < level; l++)
                {
                    int cnt = arr[l * (h.M + 1)];
                    if ((uint)cnt > (uint)h.M)
                    {
                        throw new InvalidDataException($"Vector index file is corrupt: node {i} has {cnt} links on level {l + 1}.");
                    }
                    for (int j = 1; j <= cnt; j++)
                    {
                        if ((uint)arr[(l * (h.M + 1)) + j] >= (uint)h.Count)
                        {
                            throw new InvalidDataException($"Vector index file is corrupt: node {i} links to a node that does not exist.");
                        }
                    }
                }
                g.Upper[i] = arr;
                g.UpperPtr[i] = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(arr));
                pos += len;
            }
            if (deleted[i] != 0)
            {
                g.Deleted[i] = 1;
                g.DeletedCount++;
            }
            else
            {
                map[labels[i]] = i;
            }
        }
        if (pos != upper.Length)
        {
            throw new InvalidDataException("Vector index file has more upper-level links than its levels require.");
        }
        g.Count = h.Count;
        g.Entry = h.EntryNode < 0 ? -1 : ((long)h.MaxLevel << 32) | (uint)h.EntryNode;
        index._idToNode = map;
        index._live = map.Count;
        index._g = g;
        return index;
    }

    /// <summary>
    /// Wraps a mapped snapshot (already checked by <see cref="VectorIndexFile.OpenMapped"/>): vectors, level-0 and
    /// upper-level links are read in place from the mapping; labels, levels and tombstones are copied to small arrays.
    /// The id → node map is built on the first write or <see cref="Contains"/>, so opening costs O(nodes) int copies only.
    /// </summary>
    internal static HnswIndex FromMapping(VectorIndexFile.Header h, MappedVectorFile mapping, HnswOptions? options)
    {
        var index = new HnswIndex(h.Dimension, h.Metric, OptionsOf(h, options));
        byte* p = mapping.Pointer + VectorIndexFile.HeaderBytes;
        int n = h.Count;
        int* labels = (int*)p;
        int* levels = labels + n;
        int* deleted = levels + n;
        float* vectors = (float*)(deleted + n);
        int* links0 = (int*)(vectors + ((long)n * h.Dimension));
        int* upper = links0 + ((long)n * ((2 * h.M) + 1));
        var g = new Graph(n, vectors, links0);
        new ReadOnlySpan<int>(labels, n).CopyTo(g.Labels);
        long pos = 0;
        int stride = h.M + 1;
        for (int i = 0; i < n; i++)
        {
            int level = levels[i];
            if ((uint)level > MaxLevel)
            {
                throw new InvalidDataException($"Vector index file has an invalid level {level} at node {i}.");
            }
            g.Levels[i] = level;
            if (level > 0)
            {
                if (pos + ((long)level * stride) > h.UpperInts)
                {
                    throw new InvalidDataException("Vector index file has fewer upper-level links than its levels require.");
                }
                g.UpperPtr[i] = (nint)(upper + pos);
                pos += level * stride;
            }
            if (deleted[i] != 0)
            {
                g.Deleted[i] = 1;
                g.DeletedCount++;
            }
        }
        if (pos != h.UpperInts)
        {
            throw new InvalidDataException("Vector index file has more upper-level links than its levels require.");
        }
        if (h.EntryNode >= 0 && (h.MaxLevel < 0 || g.Levels[h.EntryNode] != h.MaxLevel))
        {
            throw new InvalidDataException("Vector index file is corrupt: the entry node is not on the top level.");
        }
        g.Count = n;
        g.Entry = h.EntryNode < 0 ? -1 : ((long)h.MaxLevel << 32) | (uint)h.EntryNode;
        index._idToNode = null;
        index._live = n - g.DeletedCount;
        index._mapping = mapping;
        index._g = g;
        return index;
    }

    /// <summary>Whether the index still reads vectors and links from a memory-mapped file (false after the first write).</summary>
    public bool IsMapped => _g.Mapped;

    /// <summary>The id → node map (writer lock held); built from the labels on first use after a mapped open.</summary>
    private Dictionary<int, int> IdMap()
    {
        if (_idToNode is { } map)
        {
            return map;
        }
        var g = _g;
        map = new Dictionary<int, int>(g.Count - g.DeletedCount);
        for (int i = 0; i < g.Count; i++)
        {
            if (g.Deleted[i] == 0)
            {
                map[g.Labels[i]] = i;
            }
        }
        _idToNode = map;
        return map;
    }

    private ReadOnlySpan<int> UpperSpan(Graph g, int node) => new((int*)g.UpperPtr[node], g.Levels[node] * (_m + 1));

    /// <summary>Diagnostics: how many nodes a breadth-first walk over level 0 from the entry point cannot reach.</summary>
    internal int CountUnreachable()
    {
        var g = _g;
        long entry = Volatile.Read(ref g.Entry);
        if (entry < 0)
        {
            return 0;
        }
        var seen = new bool[g.Count];
        var queue = new Queue<int>();
        queue.Enqueue((int)entry);
        seen[(int)entry] = true;
        int reached = 1;
        while (queue.Count > 0)
        {
            int* list = ListOf(g, queue.Dequeue(), 0);
            for (int j = 1; j <= *list; j++)
            {
                if (!seen[list[j]])
                {
                    seen[list[j]] = true;
                    reached++;
                    queue.Enqueue(list[j]);
                }
            }
        }
        return g.Count - reached;
    }

    /// <summary>Releases the file mapping of an index opened with <see cref="VectorIndexFile.OpenMapped"/> (searches must have stopped); heap storage needs nothing.</summary>
    public void Dispose()
    {
        Interlocked.Exchange(ref _mapping, null)?.Dispose();
    }

    // ------------------------------------------------------------------ storage

    private sealed class Graph
    {
        public readonly int Capacity;
        public readonly float[]? Vectors;
        public readonly float* VectorPtr;
        public readonly int[]? Links0;
        public readonly int* Links0Ptr;

        /// <summary>Vectors and links point into a read-only file mapping; the graph is never written (writes copy it to the heap first).</summary>
        public readonly bool Mapped;
        public readonly int[]?[] Upper;
        public readonly nint[] UpperPtr;
        public readonly int[] Levels;
        public readonly int[] Labels;
        public readonly byte[] Deleted;
        public int Count;
        public int DeletedCount;

        /// <summary>(max level &lt;&lt; 32) | entry node, or -1 when the graph is empty; read and written atomically.</summary>
        public long Entry = -1;

        public Graph(int capacity, int dim, int m0, float[]? vectors = null, int[]? links0 = null)
        {
            Capacity = capacity;
            Vectors = vectors is not null && vectors.Length >= (long)capacity * dim
                ? vectors
                : GC.AllocateArray<float>(checked(capacity * dim), pinned: true);
            Links0 = links0 is not null && links0.Length >= (long)capacity * (m0 + 1)
                ? links0
                : GC.AllocateArray<int>(checked(capacity * (m0 + 1)), pinned: true);
            // Arrays handed in by the loader are allocated pinned as well.
            VectorPtr = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Vectors));
            Links0Ptr = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Links0));
            Upper = new int[]?[capacity];
            UpperPtr = new nint[capacity];
            Levels = new int[capacity];
            Labels = new int[capacity];
            Deleted = new byte[capacity];
        }

        /// <summary>A read-only graph over mapped memory, its capacity its node count, so any insert first copies it (<see cref="EnsureCapacity"/>).</summary>
        public Graph(int capacity, float* vectors, int* links0)
        {
            Capacity = capacity;
            Mapped = true;
            VectorPtr = vectors;
            Links0Ptr = links0;
            Upper = [];
            UpperPtr = new nint[capacity];
            Levels = new int[capacity];
            Labels = new int[capacity];
            Deleted = new byte[capacity];
        }
    }

    private void EnsureCapacity(int needed)
    {
        var g = _g;
        if (needed <= g.Capacity && !g.Mapped)
        {
            return;
        }
        int cap = Math.Max(Math.Max(1, g.Capacity), _options.InitialCapacity);
        while (cap < needed)
        {
            cap = cap >= int.MaxValue / 2 ? int.MaxValue : cap * 2;
        }
        var n = new Graph(cap, _dim, _m0);
        new ReadOnlySpan<float>(g.VectorPtr, checked(g.Count * _dim)).CopyTo(new Span<float>(n.VectorPtr, checked(g.Count * _dim)));
        new ReadOnlySpan<int>(g.Links0Ptr, checked(g.Count * (_m0 + 1))).CopyTo(new Span<int>(n.Links0Ptr, checked(g.Count * (_m0 + 1))));
        // Upper-level lists are copied, not shared: readers still on the old snapshot must never see links to nodes
        // that exist only in the new one (and a mapped snapshot is read-only).
        for (int i = 0; i < g.Count; i++)
        {
            if (g.UpperPtr[i] != 0)
            {
                var u = UpperSpan(g, i);
                var copy = GC.AllocateArray<int>(u.Length, pinned: true);
                u.CopyTo(copy);
                n.Upper[i] = copy;
                n.UpperPtr[i] = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(copy));
            }
        }
        Array.Copy(g.Levels, n.Levels, g.Count);
        Array.Copy(g.Labels, n.Labels, g.Count);
        Array.Copy(g.Deleted, n.Deleted, g.Count);
        n.Count = g.Count;
        n.DeletedCount = g.DeletedCount;
        n.Entry = g.Entry;
        _g = n;
    }

    /// <summary>Writes a node's vector and metadata (writer lock held, capacity ensured). It is unreachable until linked.</summary>
    private int AllocateNode(int id, ReadOnlySpan<float> vector)
    {
        var g = _g;
        var map = IdMap();
        if (map.TryGetValue(id, out int old))
        {
            g.Deleted[old] = 1;
            g.DeletedCount++;
        }
        int node = g.Count;
        VectorKernels.CopyForMetric(vector, new Span<float>(VectorOf(g, node), _dim), _metric);
        g.Labels[node] = id;
        SetLevel(g, node, RandomLevel());
        g.Count = node + 1;
        map[id] = node;
        Volatile.Write(ref _live, map.Count);
        return node;
    }

    private void SetLevel(Graph g, int node, int level)
    {
        g.Levels[node] = level;
        if (level > 0)
        {
            var arr = GC.AllocateArray<int>(level * (_m + 1), pinned: true);
            g.Upper[node] = arr;
            g.UpperPtr[node] = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(arr));
        }
    }

    private int RandomLevel()
    {
        double r = 1.0 - _levelRandom.NextDouble();
        return Math.Min(MaxLevel, (int)(-Math.Log(r) * _levelMult));
    }

    private void LinkRange(Graph g, int from, int to)
    {
        int threads = _options.BuildThreads == 0 ? Environment.ProcessorCount : _options.BuildThreads;
        if (threads <= 1 || to - from < 64)
        {
            var ctx = _pool.Rent();
            try
            {
                for (int i = from; i < to; i++)
                {
                    LinkNode(g, i, ctx);
                }
            }
            finally
            {
                _pool.Return(ctx);
            }
            return;
        }
        // Link the first node alone so that the others find an entry point.
        int start = from;
        if (Volatile.Read(ref g.Entry) < 0)
        {
            var ctx = _pool.Rent();
            LinkNode(g, start++, ctx);
            _pool.Return(ctx);
        }
        // Hand out nodes in small chunks in order, so that early nodes are linked before late ones search through them.
        int next = start;
        const int Chunk = 16;
        var workers = new Thread[threads];
        Exception? failure = null;
        for (int t = 0; t < threads; t++)
        {
            workers[t] = new Thread(() =>
            {
                var ctx = _pool.Rent();
                try
                {
                    while (true)
                    {
                        int begin = Interlocked.Add(ref next, Chunk) - Chunk;
                        if (begin >= to)
                        {
                            break;
                        }
                        int end = Math.Min(to, begin + Chunk);
                        for (int i = begin; i < end; i++)
                        {
                            LinkNode(g, i, ctx);
                        }
                    }
                }
                catch (Exception ex)
                {
                    Interlocked.CompareExchange(ref failure, ex, null);
                }
                finally
                {
                    _pool.Return(ctx);
                }
            })
            { IsBackground = true, Name = "hnsw-build" };
            workers[t].Start();
        }
        foreach (var w in workers)
        {
            w.Join();
        }
        if (failure is not null)
        {
            throw new InvalidOperationException("Building the HNSW graph failed.", failure);
        }
    }

    private void LinkNode(Graph g, int node, HnswSearchContext ctx)
    {
        if (_metric == VectorMetric.L2)
        {
            LinkNode<L2Kernel>(g, node, ctx);
        }
        else
        {
            LinkNode<DotKernel>(g, node, ctx);
        }
    }

    // ------------------------------------------------------------------ links

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int* ListOf(Graph g, int node, int level) =>
        level == 0 ? g.Links0Ptr + ((long)node * (_m0 + 1)) : (int*)g.UpperPtr[node] + ((level - 1) * (_m + 1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float* VectorOf(Graph g, int node) => g.VectorPtr + ((long)node * _dim);

    private void LockNode(int node)
    {
        ref int s = ref _stripes[node & (LockStripes - 1)];
        if (Interlocked.CompareExchange(ref s, 1, 0) == 0)
        {
            return;
        }
        var spin = default(SpinWait);
        while (Interlocked.CompareExchange(ref s, 1, 0) != 0)
        {
            spin.SpinOnce();
        }
    }

    private void UnlockNode(int node) => Volatile.Write(ref _stripes[node & (LockStripes - 1)], 0);

    // ------------------------------------------------------------------ search

    private int SearchCore<TK>(Graph g, HnswSearchContext ctx, float* q, long entry, int ef, Func<int, bool>? filter)
        where TK : struct, IDistanceKernel
    {
        int ep = (int)entry;
        int maxLevel = (int)(entry >> 32);
        float epDist = TK.Distance(q, VectorOf(g, ep), _dim);
        for (int level = maxLevel; level > 0; level--)
        {
            Greedy<TK>(g, q, level, ref ep, ref epDist);
        }
        ctx.NewVisit();
        SearchLayer<TK>(g, ctx, q, ep, epDist, 0, ef, filter, skipDeleted: true);
        return ctx.ResultCount;
    }

    private void Greedy<TK>(Graph g, float* q, int level, ref int ep, ref float epDist)
        where TK : struct, IDistanceKernel
    {
        int max = level == 0 ? _m0 : _m;
        bool changed = true;
        while (changed)
        {
            changed = false;
            int* list = ListOf(g, ep, level);
            int cnt = Math.Min(Volatile.Read(ref *list), max);
            for (int j = 1; j <= cnt; j++)
            {
                int nb = list[j];
                float d = TK.Distance(q, VectorOf(g, nb), _dim);
                if (d < epDist)
                {
                    epDist = d;
                    ep = nb;
                    changed = true;
                }
            }
        }
    }

    /// <summary>
    /// Best-first search of one level from <paramref name="ep"/>; leaves up to <paramref name="ef"/> accepted nodes in the
    /// context's result heap. Nodes rejected by the filter or tombstoned still expand the search.
    /// </summary>
    private void SearchLayer<TK>(Graph g, HnswSearchContext ctx, float* q, int ep, float epDist, int level, int ef, Func<int, bool>? filter, bool skipDeleted)
        where TK : struct, IDistanceKernel
    {
        int dim = _dim;
        int max = level == 0 ? _m0 : _m;
        ushort gen = ctx.Generation;
        ref ushort visited = ref MemoryMarshal.GetArrayDataReference(ctx.Visited);
        ref byte deleted = ref MemoryMarshal.GetArrayDataReference(g.Deleted);
        bool checkDeleted = skipDeleted && g.DeletedCount > 0;
        bool filtering = filter is not null || checkDeleted;
        float* vectors = g.VectorPtr;

        Unsafe.Add(ref visited, ep) = gen;
        float lowerBound;
        if ((!checkDeleted || Unsafe.Add(ref deleted, ep) == 0) && (filter is null || filter(g.Labels[ep])))
        {
            ctx.PushResult(epDist, ep);
            lowerBound = epDist;
        }
        else
        {
            lowerBound = float.MaxValue;
        }
        ctx.PushCandidate(epDist, ep);

        while (ctx.CandidateCount > 0)
        {
            float cd = ctx.Candidates[0].Distance;
            if (cd > lowerBound && (ctx.ResultCount >= ef || !filtering))
            {
                break;
            }
            int current = ctx.PopCandidate().Node;
            int* list = ListOf(g, current, level);
            if (Sse.IsSupported && ctx.CandidateCount > 0)
            {
                // The next candidate is likely the next node expanded: start loading its list now.
                Sse.Prefetch0(ListOf(g, ctx.Candidates[0].Node, level));
            }
            int cnt = Math.Min(Volatile.Read(ref *list), max);
            if (cnt == 0)
            {
                continue;
            }
            if (Sse.IsSupported)
            {
                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref visited, list[1])));
                Sse.Prefetch0(vectors + ((long)list[1] * dim));
            }
            for (int j = 1; j <= cnt; j++)
            {
                int nb = list[j];
                if (Sse.IsSupported && j < cnt)
                {
                    int nx = list[j + 1];
                    Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref visited, nx)));
                    Sse.Prefetch0(vectors + ((long)nx * dim));
                }
                ref ushort v = ref Unsafe.Add(ref visited, nb);
                if (v == gen)
                {
                    continue;
                }
                v = gen;
                float d = TK.Distance(q, vectors + ((long)nb * dim), dim);
                if (ctx.ResultCount < ef || d < lowerBound)
                {
                    ctx.PushCandidate(d, nb);
                    if ((!checkDeleted || Unsafe.Add(ref deleted, nb) == 0) && (filter is null || filter(g.Labels[nb])))
                    {
                        ctx.PushResult(d, nb);
                        if (ctx.ResultCount > ef)
                        {
                            ctx.PopResult();
                        }
                        lowerBound = ctx.WorstResult;
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ insert

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void LinkNode<TK>(Graph g, int node, HnswSearchContext ctx)
        where TK : struct, IDistanceKernel
    {
        ctx.Begin(g.Capacity, _dim);
        int level = g.Levels[node];
        float* q = VectorOf(g, node);
        long entry = Volatile.Read(ref g.Entry);
        bool holdsEntry = false;
        if (entry < 0 || level > (int)(entry >> 32))
        {
            _entryLock.Enter();
            holdsEntry = true;
            entry = Volatile.Read(ref g.Entry);
            if (entry < 0)
            {
                Volatile.Write(ref g.Entry, ((long)level << 32) | (uint)node);
                _entryLock.Exit();
                return;
            }
            if (level <= (int)(entry >> 32))
            {
                _entryLock.Exit();
                holdsEntry = false;
            }
        }
        try
        {
            int maxLevel = (int)(entry >> 32);
            int ep = (int)entry;
            float epDist = TK.Distance(q, VectorOf(g, ep), _dim);
            for (int l = maxLevel; l > level; l--)
            {
                Greedy<TK>(g, q, l, ref ep, ref epDist);
            }
            int efc = _options.EfConstruction;
            ctx.EnsureScratch(Math.Max(efc, _m0) + 1);
            for (int l = Math.Min(level, maxLevel); l >= 0; l--)
            {
                ctx.NewVisit();
                SearchLayer<TK>(g, ctx, q, ep, epDist, l, efc, null, skipDeleted: false);
                // Drain the max-heap into ascending order, leaving out the node itself.
                int n = ctx.ResultCount;
                int count = 0;
                for (int i = n - 1; i >= 0; i--)
                {
                    var e = ctx.PopResult();
                    ctx.SortedDistances[i] = e.Distance;
                    ctx.SortedNodes[i] = e.Node;
                }
                for (int i = 0; i < n; i++)
                {
                    if (ctx.SortedNodes[i] != node)
                    {
                        ctx.SortedDistances[count] = ctx.SortedDistances[i];
                        ctx.SortedNodes[count] = ctx.SortedNodes[i];
                        count++;
                    }
                }
                if (count == 0)
                {
                    continue;
                }
                ep = ctx.SortedNodes[0];
                epDist = ctx.SortedDistances[0];
                int selected = SelectHeuristic<TK>(g, ctx.SortedDistances, ctx.SortedNodes, count, _m, ctx.Selected);

                SetOwnLinks<TK>(g, ctx, node, l, selected);

                for (int i = 0; i < selected; i++)
                {
                    AddBackLink<TK>(g, ctx, ctx.Selected[i], node, l);
                }
            }
            if (holdsEntry && level > maxLevel)
            {
                Volatile.Write(ref g.Entry, ((long)level << 32) | (uint)node);
            }
        }
        finally
        {
            if (holdsEntry)
            {
                _entryLock.Exit();
            }
        }
    }

    /// <summary>
    /// Writes a new node's list at <paramref name="level"/>. During a parallel build another thread can already have linked
    /// to the node at this level (it reached the node from a higher level), so links found there are merged, not overwritten.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SetOwnLinks<TK>(Graph g, HnswSearchContext ctx, int node, int level, int selected)
        where TK : struct, IDistanceKernel
    {
        int max = level == 0 ? _m0 : _m;
        int* own = ListOf(g, node, level);
        LockNode(node);
        try
        {
            int existing = *own;
            int total = selected;
            var nodes = ctx.PruneNodes;
            Array.Copy(ctx.Selected, nodes, selected);
            for (int j = 1; j <= existing; j++)
            {
                int other = own[j];
                if (Array.IndexOf(nodes, other, 0, total) < 0)
                {
                    nodes[total++] = other;
                }
            }
            if (total <= max)
            {
                for (int i = 0; i < total; i++)
                {
                    own[i + 1] = nodes[i];
                }
                Volatile.Write(ref *own, total);
                return;
            }
            float* nv = VectorOf(g, node);
            var dists = ctx.PruneDistances;
            for (int i = 0; i < total; i++)
            {
                dists[i] = TK.Distance(nv, VectorOf(g, nodes[i]), _dim);
            }
            dists.AsSpan(0, total).Sort(nodes.AsSpan(0, total));
            int kept = SelectHeuristic<TK>(g, dists, nodes, total, max, ctx.PruneSelected);
            for (int i = 0; i < kept; i++)
            {
                own[i + 1] = ctx.PruneSelected[i];
            }
            Volatile.Write(ref *own, kept);
        }
        finally
        {
            UnlockNode(node);
        }
    }

    /// <summary>Adds <paramref name="node"/> to <paramref name="target"/>'s list at <paramref name="level"/>, pruning it with the heuristic when full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AddBackLink<TK>(Graph g, HnswSearchContext ctx, int target, int node, int level)
        where TK : struct, IDistanceKernel
    {
        int max = level == 0 ? _m0 : _m;
        int* list = ListOf(g, target, level);
        LockNode(target);
        try
        {
            int cnt = *list;
            for (int j = 1; j <= cnt; j++)
            {
                if (list[j] == node)
                {
                    return;
                }
            }
            if (cnt < max)
            {
                list[cnt + 1] = node;
                Volatile.Write(ref *list, cnt + 1);
                return;
            }
            float* tv = VectorOf(g, target);
            var dists = ctx.PruneDistances;
            var nodes = ctx.PruneNodes;
            dists[0] = TK.Distance(tv, VectorOf(g, node), _dim);
            nodes[0] = node;
            for (int j = 1; j <= cnt; j++)
            {
                nodes[j] = list[j];
                dists[j] = TK.Distance(tv, VectorOf(g, list[j]), _dim);
            }
            int total = cnt + 1;
            dists.AsSpan(0, total).Sort(nodes.AsSpan(0, total));
            int kept = SelectHeuristic<TK>(g, dists, nodes, total, max, ctx.PruneSelected);
            for (int j = 0; j < kept; j++)
            {
                list[j + 1] = ctx.PruneSelected[j];
            }
            Volatile.Write(ref *list, kept);
        }
        finally
        {
            UnlockNode(target);
        }
    }

    /// <summary>
    /// The HNSW neighbour heuristic: walk candidates closest first and keep one only if it is closer to the base than to every
    /// neighbour kept so far, which keeps links spread out in different directions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int SelectHeuristic<TK>(Graph g, float[] dists, int[] nodes, int count, int m, int[] output)
        where TK : struct, IDistanceKernel
    {
        if (count <= m)
        {
            Array.Copy(nodes, output, count);
            return count;
        }
        int kept = 0;
        for (int i = 0; i < count && kept < m; i++)
        {
            int cand = nodes[i];
            float dq = dists[i];
            float* cv = VectorOf(g, cand);
            bool good = true;
            for (int j = 0; j < kept; j++)
            {
                if (TK.Distance(cv, VectorOf(g, output[j]), _dim) < dq)
                {
                    good = false;
                    break;
                }
            }
            if (good)
            {
                output[kept++] = cand;
            }
        }
        return kept;
    }
}
