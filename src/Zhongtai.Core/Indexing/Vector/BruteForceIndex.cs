using System.Buffers;

namespace Zhongtai.Indexing.Vector;

/// <summary>
/// Exact k-nearest-neighbour index: scans every vector with SIMD kernels. Right for small sets (up to tens of thousands) and
/// as ground truth for <see cref="HnswIndex"/>. Removal swaps the last vector into the hole, so storage stays dense.
/// Concurrent searches share a reader lock; writers take it exclusively.
/// </summary>
public sealed unsafe class BruteForceIndex : IVectorIndex
{
    private readonly int _dim;
    private readonly VectorMetric _metric;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<int, int> _idToRow = [];
    private float[] _vectors;
    private int[] _labels;
    private int _count;

    public BruteForceIndex(int dimension, VectorMetric metric, int initialCapacity = 1024)
    {
        if (dimension <= 0)
        {
            throw new ArgumentException($"Dimension must be positive, got {dimension}.", nameof(dimension));
        }
        if (!Enum.IsDefined(metric))
        {
            throw new ArgumentException($"Unknown metric {metric}.", nameof(metric));
        }
        _dim = dimension;
        _metric = metric;
        initialCapacity = Math.Max(1, initialCapacity);
        _vectors = new float[initialCapacity * dimension];
        _labels = new int[initialCapacity];
    }

    public int Dimension => _dim;

    public VectorMetric Metric => _metric;

    public int Count
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _count;
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    public bool Contains(int id)
    {
        _lock.EnterReadLock();
        try
        {
            return _idToRow.ContainsKey(id);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public void Add(int id, ReadOnlySpan<float> vector)
    {
        VectorKernels.Validate(vector, _dim, _metric, nameof(vector));
        _lock.EnterWriteLock();
        try
        {
            AddLocked(id, vector);
        }
        finally
        {
            _lock.ExitWriteLock();
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
        _lock.EnterWriteLock();
        try
        {
            for (int i = 0; i < ids.Length; i++)
            {
                AddLocked(ids[i], vectors.Slice(i * _dim, _dim));
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    private void AddLocked(int id, ReadOnlySpan<float> vector)
    {
        if (!_idToRow.TryGetValue(id, out int row))
        {
            if (_count == _labels.Length)
            {
                Array.Resize(ref _labels, _labels.Length * 2);
                Array.Resize(ref _vectors, _labels.Length * _dim);
            }
            row = _count++;
            _idToRow[id] = row;
            _labels[row] = id;
        }
        VectorKernels.CopyForMetric(vector, _vectors.AsSpan(row * _dim, _dim), _metric);
    }

    public bool Remove(int id)
    {
        _lock.EnterWriteLock();
        try
        {
            if (!_idToRow.Remove(id, out int row))
            {
                return false;
            }
            int last = --_count;
            if (row != last)
            {
                Array.Copy(_vectors, last * _dim, _vectors, row * _dim, _dim);
                _labels[row] = _labels[last];
                _idToRow[_labels[row]] = row;
            }
            return true;
        }
        finally
        {
            _lock.ExitWriteLock();
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
            throw new ArgumentException($"ef must be >= 0, got {ef}.", nameof(ef));
        }
        VectorKernels.Validate(query, _dim, _metric, nameof(query));
        float[]? rented = null;
        Span<float> q = _dim <= 1024 ? stackalloc float[_dim] : (rented = ArrayPool<float>.Shared.Rent(_dim)).AsSpan(0, _dim);
        VectorKernels.CopyForMetric(query, q, _metric);
        _lock.EnterReadLock();
        try
        {
            fixed (float* qp = q)
            fixed (float* vp = _vectors)
            {
                var top = new TopK(results[..k]);
                for (int row = 0; row < _count; row++)
                {
                    float d = VectorKernels.Distance(_metric, qp, vp + ((long)row * _dim), _dim);
                    if (top.Accepts(d) && (filter is null || filter(_labels[row])))
                    {
                        top.Push(d, _labels[row]);
                    }
                }
                return top.SortAndCount();
            }
        }
        finally
        {
            _lock.ExitReadLock();
            if (rented is not null)
            {
                ArrayPool<float>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Exact k nearest neighbours of many queries against a row-major base set (ground truth for recall), on
    /// <paramref name="threads"/> threads. Queries are processed in blocks of 8 so each base vector is read once per block.
    /// Returns <c>queries x k</c> row indexes into <paramref name="baseVectors"/>, closest first.
    /// </summary>
    public static int[] ExactKnn(float[] baseVectors, float[] queries, int dimension, int k, VectorMetric metric, int threads)
    {
        if (metric == VectorMetric.Cosine)
        {
            baseVectors = Normalized(baseVectors, dimension);
            queries = Normalized(queries, dimension);
        }
        int n = baseVectors.Length / dimension;
        int nq = queries.Length / dimension;
        var result = new int[nq * k];
        const int Block = 8;
        int blocks = (nq + Block - 1) / Block;
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, b =>
        {
            int q0 = b * Block;
            int qn = Math.Min(Block, nq - q0);
            var buffers = new VectorHit[qn][];
            for (int j = 0; j < qn; j++)
            {
                buffers[j] = new VectorHit[k];
            }
            var heaps = new TopKArray[qn];
            for (int j = 0; j < qn; j++)
            {
                heaps[j] = new TopKArray(buffers[j]);
            }
            fixed (float* bp = baseVectors)
            fixed (float* qp = queries)
            {
                for (int row = 0; row < n; row++)
                {
                    float* v = bp + ((long)row * dimension);
                    for (int j = 0; j < qn; j++)
                    {
                        float d = VectorKernels.Distance(metric, qp + ((long)(q0 + j) * dimension), v, dimension);
                        if (heaps[j].Accepts(d))
                        {
                            heaps[j].Push(d, row);
                        }
                    }
                }
            }
            for (int j = 0; j < qn; j++)
            {
                int c = heaps[j].SortAndCount();
                for (int i = 0; i < k; i++)
                {
                    result[((q0 + j) * k) + i] = i < c ? buffers[j][i].Id : -1;
                }
            }
        });
        return result;
    }

    private static float[] Normalized(float[] v, int dim)
    {
        var r = new float[v.Length];
        for (int i = 0; i < v.Length; i += dim)
        {
            VectorKernels.CopyForMetric(v.AsSpan(i, dim), r.AsSpan(i, dim), VectorMetric.Cosine);
        }
        return r;
    }

    public void Save(string path)
    {
        _lock.EnterReadLock();
        try
        {
            var header = new VectorIndexFile.Header
            {
                Kind = VectorIndexFile.KindExact,
                Metric = _metric,
                Dimension = _dim,
                Count = _count,
            };
            using var w = new VectorIndexFile.Writer(path, header);
            w.Write<int>(_labels.AsSpan(0, _count));
            w.Write<float>(_vectors.AsSpan(0, _count * _dim));
            w.Commit();
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    internal static BruteForceIndex FromFile(VectorIndexFile.Header h, int[] labels, float[] vectors)
    {
        var index = new BruteForceIndex(h.Dimension, h.Metric, Math.Max(1, h.Count));
        index._vectors = vectors.Length == 0 ? new float[h.Dimension] : vectors;
        index._labels = labels.Length == 0 ? new int[1] : labels;
        index._count = h.Count;
        for (int i = 0; i < h.Count; i++)
        {
            if (!index._idToRow.TryAdd(labels[i], i))
            {
                throw new InvalidDataException($"Vector index file lists id {labels[i]} twice.");
            }
        }
        return index;
    }

    public void Dispose() => _lock.Dispose();

    /// <summary>Bounded max-heap over a caller span that keeps the k smallest distances.</summary>
    private ref struct TopK
    {
        private readonly Span<VectorHit> _heap;
        private int _count;

        public TopK(Span<VectorHit> heap)
        {
            _heap = heap;
            _count = 0;
        }

        public readonly bool Accepts(float d) => _count < _heap.Length || d < _heap[0].Distance;

        public void Push(float d, int id) => TopKOps.Push(_heap, ref _count, d, id);

        public int SortAndCount() => TopKOps.SortAndCount(_heap, _count);
    }

    private sealed class TopKArray(VectorHit[] heap)
    {
        private int _count;

        public bool Accepts(float d) => _count < heap.Length || d < heap[0].Distance;

        public void Push(float d, int id) => TopKOps.Push(heap, ref _count, d, id);

        public int SortAndCount() => TopKOps.SortAndCount(heap, _count);
    }

    private static class TopKOps
    {
        public static void Push(Span<VectorHit> heap, ref int count, float d, int id)
        {
            if (count < heap.Length)
            {
                int i = count++;
                while (i > 0)
                {
                    int parent = (i - 1) >> 1;
                    if (heap[parent].Distance >= d)
                    {
                        break;
                    }
                    heap[i] = heap[parent];
                    i = parent;
                }
                heap[i] = new VectorHit(id, d);
                return;
            }
            int pos = 0;
            int n = count;
            while (true)
            {
                int child = (2 * pos) + 1;
                if (child >= n)
                {
                    break;
                }
                if (child + 1 < n && heap[child + 1].Distance > heap[child].Distance)
                {
                    child++;
                }
                if (heap[child].Distance <= d)
                {
                    break;
                }
                heap[pos] = heap[child];
                pos = child;
            }
            heap[pos] = new VectorHit(id, d);
        }

        public static int SortAndCount(Span<VectorHit> heap, int count)
        {
            heap[..count].Sort(static (a, b) => a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : a.Id.CompareTo(b.Id));
            return count;
        }
    }
}
