using System.Text.Json;
using Zhongtai.Events;
using Zhongtai.Indexing.Graph;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Indexing.Graph;

public class KnowledgeGraphTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static Event Item(string id, string? category, string[] tags, string? brand = null, string? creator = null)
    {
        var attributes = new Dictionary<string, JsonElement> { ["price"] = JsonSerializer.SerializeToElement(9.5) };
        if (brand is not null)
        {
            attributes["brand"] = JsonSerializer.SerializeToElement(brand);
        }
        if (creator is not null)
        {
            attributes["creator"] = JsonSerializer.SerializeToElement(creator);
        }
        return new Event { Type = EventTypes.Item, ItemId = id, Category = category, Tags = tags, Attributes = attributes, Timestamp = T0 };
    }

    private static Event Act(string type, string user, string item, int minute) =>
        new() { Type = type, UserId = user, ItemId = item, Timestamp = T0.AddMinutes(minute) };

    private static GraphNeighbour[] All(KnowledgeGraph g, NodeType type, string key, Relation relation) =>
        g.Neighbours(type, key, relation, 1000);

    private static string[] Keys(KnowledgeGraph g, IEnumerable<GraphNeighbour> ns) => [.. ns.Select(n => g.KeyOf(n.Node))];

    [Fact]
    public void Build_CatalogEvents_MakeItemCategoryTagAndBrandEdgesBothWays_LatestUpsertWins()
    {
        var g = KnowledgeGraphBuilder.Build(
        [
            Item("i1", "books", ["scifi", "space"], brand: "acme"),
            Item("i2", "books", ["space"], creator: "bob"),
            Item("i3", "music", ["jazz"]),
            Item("i3", "films", ["noir", "jazz"]), // re-upsert replaces category and tags
            Item("i4", "books", ["scifi"]),
            new Event { Type = EventTypes.Item, ItemId = "i4", Deleted = true, Timestamp = T0 },
        ]);

        Assert.Equal(["books"], Keys(g, All(g, NodeType.Item, "i1", Relation.ItemCategory)));
        Assert.Equal(["scifi", "space"], Keys(g, All(g, NodeType.Item, "i1", Relation.ItemTag)).Order());
        Assert.Equal(["acme"], Keys(g, All(g, NodeType.Item, "i1", Relation.ItemBrand)));
        Assert.Equal(["bob"], Keys(g, All(g, NodeType.Item, "i2", Relation.ItemBrand)));
        Assert.Equal(["films"], Keys(g, All(g, NodeType.Item, "i3", Relation.ItemCategory)));
        Assert.Equal(["jazz", "noir"], Keys(g, All(g, NodeType.Item, "i3", Relation.ItemTag)).Order());
        Assert.Empty(All(g, NodeType.Category, "music", Relation.CategoryItem));
        Assert.Equal(["i1", "i2"], Keys(g, All(g, NodeType.Category, "books", Relation.CategoryItem)).Order());
        Assert.Equal(["i1"], Keys(g, All(g, NodeType.Tag, "scifi", Relation.TagItem))); // i4 was deleted
        Assert.Empty(All(g, NodeType.Item, "i4", Relation.ItemTag));
        Assert.All(All(g, NodeType.Tag, "space", Relation.TagItem), n => Assert.Equal(1f, n.Weight));
        Assert.Equal(5, g.EdgeCount(Relation.ItemTag)); // i1:2, i2:1, i3:2
        Assert.Equal(g.EdgeCount(Relation.ItemTag), g.EdgeCount(Relation.TagItem));
        Assert.Equal(0, g.CountOf(NodeType.User));
    }

    [Fact]
    public void Build_CoEngagement_CountsDistinctUsersWithinTheWindow()
    {
        var events = new List<Event>
        {
            // u1: a, b, c (a again: no double count). u2: a, b. u3: c, x, y, a (a and c are 3 apart).
            Act("click", "u1", "a", 1), Act("like", "u1", "b", 2), Act("purchase", "u1", "c", 3), Act("click", "u1", "a", 4),
            Act("click", "u2", "b", 2), Act("click", "u2", "a", 1), // out of order in the stream: sorted by time
            Act("click", "u3", "c", 1), Act("click", "u3", "x", 2), Act("click", "u3", "y", 3), Act("click", "u3", "a", 4),
            Act("exposure", "u4", "a", 1), Act("exposure", "u4", "c", 2), // not engagement
        };
        var options = new KnowledgeGraphOptions { CoEngagementWindow = 3, MinCoEngagement = 1, ContentSimilarity = false };
        var g = KnowledgeGraphBuilder.Build(events, options);

        float Weight(string from, string to) =>
            All(g, NodeType.Item, from, Relation.CoEngagement).Where(n => g.KeyOf(n.Node) == to).Select(n => n.Weight).SingleOrDefault();

        Assert.Equal(2f, Weight("a", "b")); // u1, u2
        Assert.Equal(2f, Weight("b", "a"));
        Assert.Equal(1f, Weight("a", "c")); // u1 only; in u3's history they are 3 apart with window 3
        Assert.Equal(1f, Weight("b", "c"));
        Assert.Equal(1f, Weight("c", "x"));
        Assert.Equal(1f, Weight("x", "a"));
        Assert.Equal(1f, Weight("c", "y")); // u3: 2 apart, within window 3
        Assert.Equal(["b", "c", "x", "y"], Keys(g, All(g, NodeType.Item, "a", Relation.CoEngagement)).Order());
        Assert.Equal("b", Keys(g, All(g, NodeType.Item, "a", Relation.CoEngagement))[0]); // strongest first

        var strict = KnowledgeGraphBuilder.Build(events, new KnowledgeGraphOptions { CoEngagementWindow = 3, MinCoEngagement = 2, ContentSimilarity = false });
        Assert.Equal(2, strict.EdgeCount(Relation.CoEngagement)); // only a<->b
    }

    [Fact]
    public void Neighbours_AreOrderedByWeight_AndCutAtK_AndTopNPrunesItemItemRelations()
    {
        var events = new List<Event>();
        // Item "hub" co-engaged with n1 by 5 users, n2 by 4, ... n5 by 1.
        for (var j = 1; j <= 5; j++)
        {
            for (var u = 0; u < 6 - j; u++)
            {
                events.Add(Act("click", $"u{j}-{u}", "hub", 0));
                events.Add(Act("click", $"u{j}-{u}", $"n{j}", 1));
            }
        }
        var g = KnowledgeGraphBuilder.Build(events, new KnowledgeGraphOptions { MinCoEngagement = 1, TopNeighbours = 4 });
        var hub = g.GetNode(NodeType.Item, "hub");

        var top = g.Neighbours(hub, Relation.CoEngagement, 10);
        Assert.Equal(["n1", "n2", "n3", "n4"], Keys(g, top)); // n5 pruned by TopNeighbours = 4
        Assert.Equal([5f, 4f, 3f, 2f], top.Select(n => n.Weight));
        Assert.Equal(["n1", "n2"], Keys(g, g.Neighbours(hub, Relation.CoEngagement, 2)));
        Assert.Equal(4, g.Degree(hub, Relation.CoEngagement));
    }

    [Fact]
    public void Expand_ItemTagItem_RanksItemsSharingMoreTagsFirst_AndExcludesStartItems()
    {
        var g = KnowledgeGraphBuilder.Build(
        [
            Item("seen1", "c", ["a", "b"]),
            Item("seen2", "c", ["a"]),
            Item("both", "c", ["a", "b"]),
            Item("onlyB", "c", ["b"]),
            Item("onlyA", "c", ["a", "z"]),
            Item("none", "c", ["z"]),
        ]);
        var result = g.ExpandItems([("seen1", 1f), ("seen2", 1f)], [Relation.ItemTag, Relation.TagItem], 0.5f, 10);
        var keys = Keys(g, result);

        Assert.DoesNotContain("seen1", keys);
        Assert.DoesNotContain("seen2", keys);
        Assert.DoesNotContain("none", keys);
        Assert.Equal("both", keys[0]);
        Assert.Equal(["both", "onlyA", "onlyB"], keys);
        Assert.True(result[0].Weight > result[1].Weight && result[1].Weight > result[2].Weight);

        // Hand-computed: mass 1 per start; item→tag splits by tag count; tag→item by item count; decay 0.5 per hop.
        // tag a: seen1 gives 0.5*0.5, seen2 gives 0.5*1 -> 0.75; tag b: seen1 gives 0.25. a has 4 items, b has 3.
        // both = 0.5*(0.75/4 + 0.25/3).
        Assert.Equal(0.5f * ((0.75f / 4) + (0.25f / 3)), result[0].Weight, 5);
        Assert.Single(g.ExpandItems([("seen1", 1f)], [Relation.ItemTag, Relation.TagItem], 0.5f, 1));
        Assert.Empty(g.ExpandItems([("unknown", 1f)], [Relation.ItemTag, Relation.TagItem], 0.5f, 10));
    }

    [Fact]
    public void Expand_TwoHopsAlongCoEngagement_ScoresDirectNeighboursAboveTheirNeighbours()
    {
        // A chain a - b - c - d of co-engagement (each pair by two users).
        var events = new List<Event>();
        string[] chain = ["a", "b", "c", "d"];
        for (var i = 0; i + 1 < chain.Length; i++)
        {
            for (var u = 0; u < 2; u++)
            {
                events.Add(Act("click", $"u{i}-{u}", chain[i], 0));
                events.Add(Act("click", $"u{i}-{u}", chain[i + 1], 1));
            }
        }
        var g = KnowledgeGraphBuilder.Build(events);
        var a = g.GetNode(NodeType.Item, "a");

        var one = g.Expand([new GraphNeighbour(a, 1f)], [Relation.CoEngagement], 0.5f, 10);
        Assert.Equal(["b"], Keys(g, one));
        Assert.Equal(0.5f, one[0].Weight, 6);

        var two = g.Expand([new GraphNeighbour(a, 1f)], [Relation.CoEngagement, Relation.CoEngagement], 0.5f, 10);
        Assert.Equal(["b", "c"], Keys(g, two)); // a itself (reached again at hop 2) is excluded
        Assert.Equal(0.5f, two[0].Weight, 6); // b: hop 1 only (b -> a, c at hop 2)
        Assert.Equal(0.125f, two[1].Weight, 6); // c: 0.5 * 0.5 * (2 / 4)
        Assert.True(two[0].Weight > two[1].Weight);
    }

    [Fact]
    public void Expand_AndNeighbours_RejectBadArguments()
    {
        var g = KnowledgeGraphBuilder.Build([Item("i1", "c", ["t"])]);
        var i1 = g.GetNode(NodeType.Item, "i1");
        GraphNeighbour[] start = [new(i1, 1f)];

        Assert.Throws<ArgumentOutOfRangeException>(() => g.Neighbours(i1, Relation.ItemTag, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => g.Neighbours(g.NodeCount, Relation.ItemTag, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => g.Expand(start, [Relation.ItemTag], 0.5f, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => g.Expand(start, [Relation.ItemTag], 0f, 5));
        Assert.Throws<ArgumentException>(() => g.Expand(start, [], 0.5f, 5));
        Assert.Throws<ArgumentException>(() => g.Expand(start, [Relation.ItemTag, Relation.ItemTag], 0.5f, 5)); // tag -/-> ItemTag
        Assert.Throws<ArgumentOutOfRangeException>(() => g.Expand([new(-1, 1f)], [Relation.ItemTag], 0.5f, 5));
        Assert.Throws<ArgumentException>(() => g.Expand([new(i1, -1f)], [Relation.ItemTag], 0.5f, 5));
        Assert.Throws<ArgumentException>(() => g.Expand([new(i1, float.NaN)], [Relation.ItemTag], 0.5f, 5));
        Assert.Throws<KeyNotFoundException>(() => g.GetNode(NodeType.Item, "nope"));
        Assert.Empty(g.Neighbours(NodeType.Item, "nope", Relation.ItemTag, 5));
        Assert.Throws<ArgumentException>(() => new KnowledgeGraphBuilder(new KnowledgeGraphOptions { CoEngagementWindow = 0 }));
        Assert.Throws<ArgumentException>(() => new KnowledgeGraphBuilder(new KnowledgeGraphOptions { TopNeighbours = 0 }));
        Assert.Throws<ArgumentException>(() => new KnowledgeGraphBuilder(new KnowledgeGraphOptions { ContentSimilarityThreshold = 1.5f }));
        Assert.Throws<ArgumentException>(() => g.RandomWalks(1, 5, 1, [Relation.TagItem]));
        Assert.Throws<ArgumentOutOfRangeException>(() => g.RandomWalks(0, 5, 1, [Relation.ItemTag]));
    }

    [Fact]
    public void ContentSimilarity_IsJaccardOverTags_AboveTheThreshold()
    {
        var g = KnowledgeGraphBuilder.Build(
        [
            Item("x", "c", ["a", "b", "c"]),
            Item("y", "c", ["a", "b", "d"]), // J = 2/4
            Item("z", "c", ["c", "e", "f"]), // J(x,z) = 1/5 below 0.3
        ]);
        var x = All(g, NodeType.Item, "x", Relation.ContentSimilar);
        Assert.Equal(["y"], Keys(g, x));
        Assert.Equal(0.5f, x[0].Weight, 6);
        Assert.Empty(All(g, NodeType.Item, "z", Relation.ContentSimilar));

        var top1 = KnowledgeGraphBuilder.Build(
        [
            Item("x", "c", ["a", "b", "c"]),
            Item("y", "c", ["a", "b", "d"]), // J = 0.5
            Item("w", "c", ["a", "b", "c"]), // J = 1
            Item("v", "c", ["a", "b", "c"]), // J = 1, higher id than w
        ], new KnowledgeGraphOptions { TopNeighbours = 1 });
        var best = All(top1, NodeType.Item, "x", Relation.ContentSimilar);
        Assert.Equal(["w"], Keys(top1, best));
        Assert.Equal(1f, best[0].Weight);
    }

    [Fact]
    public void RandomWalks_AreDeterministicForASeed_AndOnlyFollowExistingEdges()
    {
        var g = RandomGraph(seed: 7);
        var tagsOf = g.Items.ToArray().ToDictionary(i => i, i => g.Targets(i, Relation.ItemTag).ToArray().ToHashSet());

        Relation[] relations = [Relation.CoEngagement, Relation.ItemTag];
        var w1 = g.RandomWalks(3, 8, seed: 11, relations);
        var w2 = g.RandomWalks(3, 8, seed: 11, relations);
        var w3 = g.RandomWalks(3, 8, seed: 12, relations);
        Assert.Equal(w1.Length, w2.Length);
        Assert.True(w1.Length > 0);
        for (var i = 0; i < w1.Length; i++)
        {
            Assert.Equal(w1[i], w2[i]);
        }
        Assert.Contains(Enumerable.Range(0, w1.Length), i => !w1[i].SequenceEqual(w3[i]));

        var moves = 0;
        foreach (var walk in w1)
        {
            Assert.InRange(walk.Length, 1, 8);
            foreach (var node in walk)
            {
                Assert.Equal(NodeType.Item, g.TypeOf(node));
            }
            for (var s = 0; s + 1 < walk.Length; s++)
            {
                var co = g.Targets(walk[s], Relation.CoEngagement).Contains(walk[s + 1]);
                var sharesTag = tagsOf[walk[s]].Overlaps(tagsOf[walk[s + 1]]);
                Assert.True(co || sharesTag, $"step {g.KeyOf(walk[s])} -> {g.KeyOf(walk[s + 1])} follows no edge");
                moves++;
            }
        }
        Assert.True(moves > w1.Length);

        // Only co-engagement: every step is a co-engagement edge.
        foreach (var walk in g.RandomWalks(2, 6, seed: 3, [Relation.CoEngagement]))
        {
            for (var s = 0; s + 1 < walk.Length; s++)
            {
                Assert.Contains(walk[s + 1], g.Targets(walk[s], Relation.CoEngagement).ToArray());
            }
        }
    }

    [Fact]
    public void Snapshot_RoundTripsEveryRelation_AndAnswersTheSameQueries()
    {
        using var dir = new TempDirectory();
        var g = RandomGraph(seed: 3, includeUsers: true);
        var path = dir.Combine("kg", "graph.ztkg");
        g.Save(path);
        Assert.Equal([Path.GetFileName(path)], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        var loaded = KnowledgeGraph.Load(path);

        Assert.Equal(g.NodeCount, loaded.NodeCount);
        Assert.True(g.CountOf(NodeType.User) > 0);
        for (var node = 0; node < g.NodeCount; node++)
        {
            Assert.Equal(g.TypeOf(node), loaded.TypeOf(node));
            Assert.Equal(g.KeyOf(node), loaded.KeyOf(node));
            foreach (var relation in Enum.GetValues<Relation>())
            {
                Assert.True(g.Targets(node, relation).SequenceEqual(loaded.Targets(node, relation)));
                Assert.True(g.Weights(node, relation).SequenceEqual(loaded.Weights(node, relation)));
            }
        }
        var start = g.Items[..3].ToArray().Select(i => new GraphNeighbour(i, 1f)).ToArray();
        Assert.Equal(g.Expand(start, [Relation.ItemTag, Relation.TagItem], 0.7f, 20), loaded.Expand(start, [Relation.ItemTag, Relation.TagItem], 0.7f, 20));
        Assert.Equal(g.RandomWalks(1, 5, 9, [Relation.CoEngagement]), loaded.RandomWalks(1, 5, 9, [Relation.CoEngagement]));
    }

    [Fact]
    public void Load_RefusesCorruptTruncatedAndForeignFiles()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("graph.ztkg");
        RandomGraph(seed: 5).Save(path);
        var good = File.ReadAllBytes(path);

        var flipped = (byte[])good.Clone();
        flipped[good.Length / 2] ^= 0x40;
        File.WriteAllBytes(path, flipped);
        Assert.Throws<InvalidDataException>(() => KnowledgeGraph.Load(path));

        File.WriteAllBytes(path, good[..(good.Length - 10)]);
        Assert.Throws<InvalidDataException>(() => KnowledgeGraph.Load(path));

        File.WriteAllBytes(path, good[..6]);
        Assert.Throws<InvalidDataException>(() => KnowledgeGraph.Load(path));

        var foreign = (byte[])good.Clone();
        foreign[0] = (byte)'X';
        File.WriteAllBytes(path, foreign);
        Assert.Throws<InvalidDataException>(() => KnowledgeGraph.Load(path));

        File.WriteAllBytes(path, good);
        Assert.Equal(RandomGraph(seed: 5).NodeCount, KnowledgeGraph.Load(path).NodeCount);
    }

    [Fact]
    public void Expand_TopK_IsThePrefixOfTheFullRanking()
    {
        var g = RandomGraph(seed: 4);
        Relation[] path = [Relation.ItemTag, Relation.TagItem, Relation.CoEngagement];
        foreach (var item in g.Items[..10].ToArray())
        {
            GraphNeighbour[] start = [new(item, 1f), new(g.Items[^1], 0.5f)];
            var full = g.Expand(start, path, 0.6f, 10_000);
            Assert.True(full.Length > 7);
            for (var i = 1; i < full.Length; i++)
            {
                Assert.True(full[i - 1].Weight > full[i].Weight || (full[i - 1].Weight == full[i].Weight && full[i - 1].Node < full[i].Node));
            }
            foreach (var k in new[] { 1, 3, 7 })
            {
                Assert.Equal(full[..k], g.Expand(start, path, 0.6f, k));
            }
        }
    }

    [Fact]
    public void Expand_GivesTheSameAnswerAfterQueriesOnALargerGraphOnTheSameThread()
    {
        var small = RandomGraph(seed: 1);
        var large = KnowledgeGraphBuilder.Build(Enumerable.Range(0, 500).Select(i => Item($"i{i}", "c", [$"t{i % 9}", $"t{i % 4}"])));
        GraphNeighbour[] start = [new(small.Items[0], 1f), new(small.Items[5], 2f)];
        Relation[] path = [Relation.ItemTag, Relation.TagItem];
        var before = small.Expand(start, path, 0.5f, 30);
        Assert.NotEmpty(before);
        Assert.Equal(30, large.Expand([new(large.Items[3], 1f)], path, 0.5f, 30).Length);
        Assert.Equal(before, small.Expand(start, path, 0.5f, 30));
    }

    [Fact]
    public async Task ConcurrentReaders_SeeTheSameAnswersAsASingleReader()
    {
        var g = RandomGraph(seed: 9);
        var items = g.Items.ToArray();
        Relation[] path = [Relation.ItemTag, Relation.TagItem, Relation.CoEngagement];
        var expected = items.Select(i => g.Expand([new GraphNeighbour(i, 1f)], path, 0.8f, 10)).ToArray();

        var tasks = Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            for (var round = 0; round < 5; round++)
            {
                for (var j = 0; j < items.Length; j++)
                {
                    var i = (j + (t * 13)) % items.Length;
                    Assert.Equal(expected[i], g.Expand([new GraphNeighbour(items[i], 1f)], path, 0.8f, 10));
                    _ = g.Neighbours(items[i], Relation.CoEngagement, 5);
                }
            }
        }));
        await Task.WhenAll(tasks);
    }

    /// <summary>A small random catalog (60 items, 15 tags, 4 categories) with 40 users' click histories.</summary>
    internal static KnowledgeGraph RandomGraph(int seed, bool includeUsers = false)
    {
        var random = new Random(seed);
        var events = new List<Event>();
        for (var i = 0; i < 60; i++)
        {
            var tags = Enumerable.Range(0, random.Next(1, 4)).Select(_ => $"t{random.Next(15)}").Distinct().ToArray();
            events.Add(Item($"i{i}", $"c{i % 4}", tags, brand: $"b{i % 7}"));
        }
        for (var u = 0; u < 40; u++)
        {
            var baseItem = random.Next(60);
            for (var k = 0; k < 8; k++)
            {
                events.Add(Act(EventTypes.Click, $"u{u}", $"i{(baseItem + random.Next(10)) % 60}", k));
            }
        }
        return KnowledgeGraphBuilder.Build(events, new KnowledgeGraphOptions { MinCoEngagement = 1, IncludeUsers = includeUsers });
    }
}
