namespace Zhongtai.Indexing.Inverted;

/// <summary>How the terms of <see cref="SearchQuery.Text"/> combine.</summary>
public enum TermOperator
{
    /// <summary>Every term (and every quoted phrase) must match in at least one of title, tags, text.</summary>
    And,

    /// <summary>At least one term or phrase must match; more matches score higher.</summary>
    Or,
}

/// <summary>
/// A query over the item index. <see cref="Text"/> is free text over title, tags and text (BM25, field
/// boosts from <see cref="ItemIndexOptions"/>); a double-quoted part (<c>"red dress"</c>) is a phrase that
/// must match in order within one field. Empty text with filters matches every item that passes the filters.
/// </summary>
public sealed record SearchQuery
{
    /// <summary>Free text; null or blank matches all (filtered).</summary>
    public string? Text { get; init; }

    /// <summary>How terms combine. Default <see cref="TermOperator.And"/>.</summary>
    public TermOperator Operator { get; init; } = TermOperator.And;

    /// <summary>Exact category, or null for any.</summary>
    public string? Category { get; init; }

    /// <summary>Items must carry every one of these tags (exact, case-insensitive).</summary>
    public IReadOnlyList<string>? Tags { get; init; }

    /// <summary>Inclusive lower bound on the <c>price</c> attribute; items without a price never pass a price bound.</summary>
    public double? MinPrice { get; init; }

    /// <summary>Inclusive upper bound on the <c>price</c> attribute.</summary>
    public double? MaxPrice { get; init; }

    /// <summary>Item ids that must not be returned (already seen, already bought, ...).</summary>
    public IReadOnlyCollection<string>? ExcludeIds { get; init; }

    /// <summary>
    /// Other exact-match filters by field name: <c>category</c>, <c>lang</c>, <c>availability</c>, <c>tag</c>.
    /// Any other name is rejected with <see cref="ArgumentException"/>.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Filters { get; init; }

    /// <summary>Number of best hits to skip (paging). Default 0.</summary>
    public int Offset { get; init; }

    /// <summary>Number of hits to return. Default 10.</summary>
    public int Count { get; init; } = 10;
}

/// <summary>One hit: the item and its BM25 score (0 for a pure filter query).</summary>
public readonly record struct SearchHit(string ItemId, float Score);
