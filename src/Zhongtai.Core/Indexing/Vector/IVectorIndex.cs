namespace Zhongtai.Indexing.Vector;

/// <summary>How distances between vectors are measured. Smaller distances are closer for every metric.</summary>
public enum VectorMetric
{
    /// <summary>Cosine distance, <c>1 - cos(a, b)</c>. Vectors are normalized on insert (zero vectors are rejected).</summary>
    Cosine = 0,

    /// <summary>Inner-product distance, <c>1 - dot(a, b)</c> (maximum inner product search). Vectors are stored as given.</summary>
    InnerProduct = 1,

    /// <summary>Squared Euclidean distance.</summary>
    L2 = 2,
}

/// <summary>One search result: the caller's id and its distance to the query (smaller is closer).</summary>
public readonly record struct VectorHit(int Id, float Distance);

/// <summary>
/// A k-nearest-neighbour index over fixed-dimension float vectors keyed by dense int ids.
/// Implementations are safe for any number of concurrent readers (<see cref="Search(ReadOnlySpan{float}, int, Span{VectorHit}, Func{int, bool}?, int)"/>)
/// running alongside writers (<see cref="Add"/>, <see cref="Remove"/>, ...); writers are serialized internally.
/// </summary>
public interface IVectorIndex : IDisposable
{
    /// <summary>The number of dimensions every vector and query must have.</summary>
    int Dimension { get; }

    VectorMetric Metric { get; }

    /// <summary>Live (not removed) vectors.</summary>
    int Count { get; }

    /// <summary>Adds a vector, or replaces the vector of an id that is already present.</summary>
    /// <exception cref="ArgumentException">Wrong dimension, NaN/infinite components, or a zero vector under <see cref="VectorMetric.Cosine"/>.</exception>
    void Add(int id, ReadOnlySpan<float> vector);

    /// <summary>Adds many vectors; <paramref name="vectors"/> is row-major, <c>ids.Length * Dimension</c> floats. May use several threads.</summary>
    void AddRange(ReadOnlySpan<int> ids, ReadOnlySpan<float> vectors);

    /// <summary>Removes an id; it is never returned by a search afterwards. Returns false when the id is absent.</summary>
    bool Remove(int id);

    bool Contains(int id);

    /// <summary>
    /// Writes the nearest <paramref name="k"/> live vectors to <paramref name="results"/>, closest first, and returns how many were written
    /// (fewer than k when the index, or the set the filter allows, is smaller). Does not allocate.
    /// </summary>
    /// <param name="query">The query vector (<see cref="Dimension"/> floats).</param>
    /// <param name="k">How many neighbours; must be positive and at most <c>results.Length</c>.</param>
    /// <param name="results">Destination.</param>
    /// <param name="filter">Optional predicate over ids: only ids it accepts are returned. The search keeps exploring past rejected nodes.</param>
    /// <param name="ef">Search breadth for approximate indexes (0 = the index default; raised to at least k). Ignored by exact indexes.</param>
    int Search(ReadOnlySpan<float> query, int k, Span<VectorHit> results, Func<int, bool>? filter = null, int ef = 0);

    /// <summary>Allocating convenience form of <see cref="Search(ReadOnlySpan{float}, int, Span{VectorHit}, Func{int, bool}?, int)"/>.</summary>
    VectorHit[] Search(ReadOnlySpan<float> query, int k, Func<int, bool>? filter = null, int ef = 0);

    /// <summary>Writes a snapshot to <paramref name="path"/> atomically (temp file, fsync, rename). Load it with <see cref="VectorIndexFile.Load"/>.</summary>
    void Save(string path);
}
