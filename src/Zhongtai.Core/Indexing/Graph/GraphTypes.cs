namespace Zhongtai.Indexing.Graph;

/// <summary>The kind of an entity in the <see cref="KnowledgeGraph"/>. A node is identified by (type, key).</summary>
public enum NodeType : byte
{
    Item = 0,
    Category = 1,
    Tag = 2,

    /// <summary>A brand or creator, from the item attribute <c>brand</c> (or <c>creator</c> when there is no brand).</summary>
    Brand = 3,

    /// <summary>Only present when <see cref="KnowledgeGraphOptions.IncludeUsers"/> is set.</summary>
    User = 4,
}

/// <summary>
/// A directed, typed relation. Every catalog relation is stored in both directions (item→tag and tag→item);
/// the item–item relations are stored per item (top-N), so they need not be symmetric after pruning.
/// </summary>
public enum Relation : byte
{
    /// <summary>item → its category, weight 1.</summary>
    ItemCategory = 0,

    /// <summary>category → its items, weight 1.</summary>
    CategoryItem = 1,

    /// <summary>item → its tags, weight 1.</summary>
    ItemTag = 2,

    /// <summary>tag → items carrying it, weight 1.</summary>
    TagItem = 3,

    /// <summary>item → its brand/creator, weight 1.</summary>
    ItemBrand = 4,

    /// <summary>brand/creator → its items, weight 1.</summary>
    BrandItem = 5,

    /// <summary>item → item, weight = number of users who engaged with both within their recent-history window.</summary>
    CoEngagement = 6,

    /// <summary>item → item, weight = Jaccard similarity of their tag sets (at least the configured threshold).</summary>
    ContentSimilar = 7,

    /// <summary>user → item, weight = number of engagement events (only with <see cref="KnowledgeGraphOptions.IncludeUsers"/>).</summary>
    UserItem = 8,

    /// <summary>item → user, weight = number of engagement events (only with <see cref="KnowledgeGraphOptions.IncludeUsers"/>).</summary>
    ItemUser = 9,
}

/// <summary>Source and target node types of each <see cref="Relation"/>.</summary>
public static class Relations
{
    /// <summary>Number of relation types (the CSR tables are indexed by <c>(int)relation</c>).</summary>
    public const int Count = 10;

    /// <summary>The node type edges of <paramref name="relation"/> start from.</summary>
    public static NodeType Source(Relation relation) => relation switch
    {
        Relation.ItemCategory or Relation.ItemTag or Relation.ItemBrand or Relation.CoEngagement
            or Relation.ContentSimilar or Relation.ItemUser => NodeType.Item,
        Relation.CategoryItem => NodeType.Category,
        Relation.TagItem => NodeType.Tag,
        Relation.BrandItem => NodeType.Brand,
        Relation.UserItem => NodeType.User,
        _ => throw new ArgumentOutOfRangeException(nameof(relation), relation, "Unknown relation."),
    };

    /// <summary>The node type edges of <paramref name="relation"/> point to.</summary>
    public static NodeType Target(Relation relation) => relation switch
    {
        Relation.CategoryItem or Relation.TagItem or Relation.BrandItem or Relation.CoEngagement
            or Relation.ContentSimilar or Relation.UserItem => NodeType.Item,
        Relation.ItemCategory => NodeType.Category,
        Relation.ItemTag => NodeType.Tag,
        Relation.ItemBrand => NodeType.Brand,
        Relation.ItemUser => NodeType.User,
        _ => throw new ArgumentOutOfRangeException(nameof(relation), relation, "Unknown relation."),
    };

    /// <summary>The relation that walks <paramref name="relation"/> backwards (item–item relations are their own reverse).</summary>
    public static Relation Reverse(Relation relation) => relation switch
    {
        Relation.ItemCategory => Relation.CategoryItem,
        Relation.CategoryItem => Relation.ItemCategory,
        Relation.ItemTag => Relation.TagItem,
        Relation.TagItem => Relation.ItemTag,
        Relation.ItemBrand => Relation.BrandItem,
        Relation.BrandItem => Relation.ItemBrand,
        Relation.UserItem => Relation.ItemUser,
        Relation.ItemUser => Relation.UserItem,
        Relation.CoEngagement or Relation.ContentSimilar => relation,
        _ => throw new ArgumentOutOfRangeException(nameof(relation), relation, "Unknown relation."),
    };

    internal static bool IsValid(Relation relation) => (uint)relation < Count;
}

/// <summary>A node reached from another one, with the weight of the edge (or the score of an expansion).</summary>
public readonly record struct GraphNeighbour(int Node, float Weight);
