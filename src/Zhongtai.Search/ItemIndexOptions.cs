namespace Zhongtai.Indexing.Inverted;

/// <summary>Options of an <see cref="ItemIndex"/>.</summary>
public sealed class ItemIndexOptions
{
    /// <summary>Boost of the <c>title</c> field in free-text queries. Default 2.</summary>
    public float TitleBoost { get; set; } = 2f;

    /// <summary>Boost of the <c>tags</c> field in free-text queries. Default 1.5.</summary>
    public float TagsBoost { get; set; } = 1.5f;

    /// <summary>Boost of the <c>text</c> field in free-text queries. Default 1.</summary>
    public float TextBoost { get; set; } = 1f;

    /// <summary>BM25 term-frequency saturation k1. Default 1.2 (Lucene's default).</summary>
    public float Bm25K1 { get; set; } = 1.2f;

    /// <summary>BM25 length normalisation b. Default 0.75 (Lucene's default).</summary>
    public float Bm25B { get; set; } = 0.75f;

    /// <summary>
    /// How often a background timer calls <c>MaybeRefresh</c> so applied updates become searchable
    /// (near-real-time). Default 1 s. <see cref="TimeSpan.Zero"/> disables the timer: the caller drives
    /// visibility with <see cref="ItemIndex.Refresh"/> or <see cref="ItemIndex.MaybeRefresh"/>.
    /// </summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Indexing RAM buffer in MB before the writer flushes a segment. Default 64.</summary>
    public double RamBufferMb { get; set; } = 64;

    /// <summary>Largest <see cref="SearchQuery.Count"/> a query may ask for. Default 10 000.</summary>
    public int MaxCount { get; set; } = 10_000;
}
