namespace Zhongtai.Indexing.Vector;

/// <summary>
/// A set of allowed ids as a bitset, for filtered searches: pass <see cref="Filter"/> (one cached delegate, so searching
/// with it allocates nothing). Ids outside <c>[0, capacity)</c> are not allowed. Not thread-safe for writes.
/// </summary>
public sealed class IdBitset
{
    private readonly ulong[] _bits;

    public IdBitset(int capacity)
    {
        if (capacity < 0)
        {
            throw new ArgumentException($"Capacity must be >= 0, got {capacity}.", nameof(capacity));
        }
        Capacity = capacity;
        _bits = new ulong[(capacity + 63) / 64];
        Filter = Contains;
    }

    public int Capacity { get; }

    /// <summary>The predicate to pass as the <c>filter</c> of <see cref="IVectorIndex.Search(ReadOnlySpan{float}, int, Span{VectorHit}, Func{int, bool}?, int)"/>.</summary>
    public Func<int, bool> Filter { get; }

    public void Add(int id)
    {
        if ((uint)id >= (uint)Capacity)
        {
            throw new ArgumentException($"Id {id} is outside the bitset's range [0, {Capacity}).", nameof(id));
        }
        _bits[id >> 6] |= 1UL << (id & 63);
    }

    public void Remove(int id)
    {
        if ((uint)id < (uint)Capacity)
        {
            _bits[id >> 6] &= ~(1UL << (id & 63));
        }
    }

    public bool Contains(int id) => (uint)id < (uint)Capacity && (_bits[id >> 6] & (1UL << (id & 63))) != 0;
}
