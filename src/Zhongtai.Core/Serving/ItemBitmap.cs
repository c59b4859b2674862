namespace Zhongtai.Serving;

/// <summary>
/// A set of item ids (a scene's block list, the flagged items) as one bit per dense serving id, so the merge filter
/// tests a candidate with one load instead of hashing its id string. Immutable; built for the items the catalog held
/// then (<see cref="Covered"/>): an item interned later is answered by <see cref="Contains"/> with null, and the caller
/// asks the string set.
/// </summary>
internal sealed class ItemBitmap
{
    private readonly ulong[] _bits;

    private ItemBitmap(object source, int covered, ulong[] bits)
    {
        Source = source;
        Covered = covered;
        _bits = bits;
    }

    /// <summary>The set this bitmap was built from (compared by reference: sets are replaced whole).</summary>
    public object Source { get; }

    /// <summary>Dense ids below this were looked up when the bitmap was built.</summary>
    public int Covered { get; }

    /// <summary>Marks every id of <paramref name="ids"/> the catalog knows now.</summary>
    public static ItemBitmap Build(ServingCatalog catalog, IEnumerable<string> ids, object source)
    {
        // The catalog publishes an item's count before its id (one writer, one item at a time): every item below
        // Count - 1 is findable by id, the newest one maybe not yet. Read first, so nothing covered is missed.
        var covered = Math.Max(0, catalog.Count - 1);
        var bits = new ulong[(covered + 63) >> 6];
        foreach (var id in ids)
        {
            var dense = catalog.Find(id);
            if (dense >= 0 && dense < covered)
            {
                bits[dense >> 6] |= 1UL << (dense & 63);
            }
        }

        return new ItemBitmap(source, covered, bits);
    }

    /// <summary>True or false for a covered item; null for an item interned after the build (ask the set itself).</summary>
    public bool? Contains(int dense) => dense < Covered ? (_bits[dense >> 6] & (1UL << (dense & 63))) != 0 : null;
}
