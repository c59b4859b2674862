using Zhongtai.Events;

namespace Zhongtai.Indexing.Graph;

/// <summary>Options of <see cref="KnowledgeGraphBuilder"/>. Every default is documented on its property.</summary>
public sealed class KnowledgeGraphOptions
{
    /// <summary>
    /// Behaviour event types that count as engagement for co-engagement (and user–item edges).
    /// Default: click, like, purchase.
    /// </summary>
    public IReadOnlySet<string> EngagementTypes { get; set; } =
        new HashSet<string>(StringComparer.Ordinal) { EventTypes.Click, EventTypes.Like, EventTypes.Purchase };

    /// <summary>
    /// Co-engagement window: two items co-occur for a user when they are at most this many positions apart in
    /// the user's history of distinct engaged items (ordered by first engagement time). Default 20.
    /// </summary>
    public int CoEngagementWindow { get; set; } = 20;

    /// <summary>An item–item co-engagement edge needs at least this many distinct users. Default 2.</summary>
    public int MinCoEngagement { get; set; } = 2;

    /// <summary>Keep at most this many neighbours per item for each item–item relation (strongest first). Default 50.</summary>
    public int TopNeighbours { get; set; } = 50;

    /// <summary>Build <see cref="Relation.ContentSimilar"/> edges (Jaccard over tag sets). Default true.</summary>
    public bool ContentSimilarity { get; set; } = true;

    /// <summary>Minimum Jaccard similarity of two items' tag sets for a content-similarity edge. Default 0.3.</summary>
    public float ContentSimilarityThreshold { get; set; } = 0.3f;

    /// <summary>
    /// Tags carried by more than this many items are skipped when looking for content-similar pairs (they are
    /// uninformative and quadratic to pair); they still get item–tag edges. Default 5000.
    /// </summary>
    public int ContentSimilarityMaxTagItems { get; set; } = 5_000;

    /// <summary>Add user nodes and user–item edges (weight = engagement count). Default false.</summary>
    public bool IncludeUsers { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> when an option is out of range.</summary>
    public void Validate()
    {
        if (EngagementTypes is null || EngagementTypes.Count == 0)
        {
            throw new ArgumentException("EngagementTypes must name at least one event type.", nameof(EngagementTypes));
        }
        if (CoEngagementWindow < 1)
        {
            throw new ArgumentException("CoEngagementWindow must be at least 1.", nameof(CoEngagementWindow));
        }
        if (MinCoEngagement < 1)
        {
            throw new ArgumentException("MinCoEngagement must be at least 1.", nameof(MinCoEngagement));
        }
        if (TopNeighbours < 1)
        {
            throw new ArgumentException("TopNeighbours must be at least 1.", nameof(TopNeighbours));
        }
        if (!(ContentSimilarityThreshold > 0f && ContentSimilarityThreshold <= 1f))
        {
            throw new ArgumentException("ContentSimilarityThreshold must be in (0, 1].", nameof(ContentSimilarityThreshold));
        }
        if (ContentSimilarityMaxTagItems < 2)
        {
            throw new ArgumentException("ContentSimilarityMaxTagItems must be at least 2.", nameof(ContentSimilarityMaxTagItems));
        }
    }
}
