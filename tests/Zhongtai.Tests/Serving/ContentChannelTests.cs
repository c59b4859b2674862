using System.Numerics.Tensors;
using System.Text.Json;
using Zhongtai.Events;
using Zhongtai.Hosting;
using Zhongtai.Indexing.Vector;
using Zhongtai.Serving;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Serving;

/// <summary>
/// The <c>content</c> channel: hashed content vectors of every item, kept current by the serving catalog, recall an
/// item the moment its catalog event is applied, before anyone has engaged with it.
/// </summary>
public class ContentChannelTests
{
    private const string ContentOnly = """
        {"scenes": {"home": {"channels": [{"name": "content", "quota": 50}], "rankingModel": "none", "maxCount": 100,
          "rules": {"frequencyCap": null}}}}
        """;

    private static Event Item(string id, string title, string category, string[] tags, DateTimeOffset at, string? text = null) =>
        new() { Type = EventTypes.Item, ItemId = id, Title = title, Text = text, Category = category, Tags = tags, Timestamp = at };

    private static Event Click(string user, string item, DateTimeOffset at) => new() { Type = EventTypes.Click, UserId = user, ItemId = item, Timestamp = at };

    /// <summary>A shop of shoes, dresses and books (6 each, distinct titles), an engine over it with only the content channel.</summary>
    private static async Task<(RecommendEngine Engine, Project Project, DateTimeOffset Now)> ShopAsync(ZhongtaiHost host, ServingOptions? options = null)
    {
        var project = host.Project();
        var now = host.Time.GetUtcNow();
        string[] shoes = ["trail running shoes", "leather office shoes", "kids sport sneakers", "hiking boots waterproof", "canvas shoes white", "basketball shoes high"];
        string[] dresses = ["red summer dress", "floral maxi dress", "black evening gown", "linen beach dress", "silk party dress", "cotton sun dress"];
        string[] books = ["mystery novel paperback", "history of rome", "cooking for beginners", "poetry collection", "science fiction saga", "travel guide japan"];
        var events = new List<Event>();
        for (var i = 0; i < 6; i++)
        {
            events.Add(Item($"s{i}", shoes[i], "shoes", ["running", "sport"], now.AddMinutes(-60)));
            events.Add(Item($"d{i}", dresses[i], "dress", ["summer", "women"], now.AddMinutes(-60)));
            events.Add(Item($"b{i}", books[i], "books", ["novel", "reading"], now.AddMinutes(-60)));
        }

        events.Add(Click("alice", "d0", now.AddMinutes(-30)));
        events.Add(Click("alice", "d1", now.AddMinutes(-29)));
        events.Add(Click("bob", "s0", now.AddMinutes(-30)));
        await project.Ingestor.IngestAsync([.. events], backfill: false, CancellationToken.None);
        var engine = new RecommendEngine(project, null, host.Options.Realtime, options ?? new ServingOptions { LogExposures = false }, host.Time, host.Loggers);
        await File.WriteAllTextAsync(Path.Combine(project.Directory, "scenes.json"), ContentOnly);
        engine.Scenes.Reload();
        engine.CatchUp();
        return (engine, project, now);
    }

    [Fact]
    public async Task ANewItemWithoutClicks_IsRecalledByContent_ForAUserWhoseRecentItemsShareItsWordsAndTags()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var (engine, project, now) = await ShopAsync(host);

        // Ingested a moment ago, never clicked: a dress like alice's, and a book.
        await project.Ingestor.IngestAsync(
            [
                Item("new-dress", "red floral summer dresses", "dress", ["summer", "floral"], now),
                Item("new-book", "a cookbook of rome", "books", ["cooking"], now),
            ],
            backfill: false, CancellationToken.None);
        engine.CatchUp();

        var alice = await engine.RecommendAsync(new RecommendRequest { UserId = "alice", Count = 50 });
        var ids = alice.Items.Select(i => i.ItemId).ToList();
        Assert.Contains("new-dress", ids);
        Assert.All(alice.Items, i => Assert.Equal([ChannelNames.Content], i.Channels));
        Assert.DoesNotContain("d0", ids); // consumed
        Assert.DoesNotContain("d1", ids);
        // The content neighbours of two dresses: every dress (the new one among them) before any shoe or book.
        var dressesFirst = ids.TakeWhile(id => id.StartsWith('d') || id == "new-dress").Count();
        Assert.True(dressesFirst == 5, $"order: {string.Join(", ", ids)}");
        if (ids.Contains("new-book"))
        {
            Assert.True(ids.IndexOf("new-dress") < ids.IndexOf("new-book"));
        }

        // bob (shoes) gets shoes first, and the new dress (if at all) after them.
        var bob = (await engine.RecommendAsync(new RecommendRequest { UserId = "bob", Count = 50 })).Items.Select(i => i.ItemId).ToList();
        Assert.Equal(5, bob.TakeWhile(id => id.StartsWith('s')).Count());

        // A user with no history at all: nothing to search with.
        Assert.Empty((await engine.RecommendAsync(new RecommendRequest { UserId = "stranger" })).Items);
    }

    [Fact]
    public async Task QueryText_AndCategory_SteerTheChannel_ForAColdUser()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var (engine, _, _) = await ShopAsync(host);

        var query = (await engine.RecommendAsync(new RecommendRequest { UserId = "stranger", Query = "running shoes", Count = 3 })).Items.Select(i => i.ItemId).ToList();
        Assert.Equal("s0", query[0]); // "trail running shoes": both words
        Assert.All(query, id => Assert.StartsWith("s", id, StringComparison.Ordinal));

        var category = (await engine.RecommendAsync(new RecommendRequest { UserId = "stranger", Category = "books", Count = 10 })).Items.Select(i => i.ItemId).ToList();
        Assert.Equal(6, category.Count);
        Assert.All(category, id => Assert.StartsWith("b", id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Disabled_KeepsNoVectors_AndProposesNothing()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var (engine, _, _) = await ShopAsync(host, new ServingOptions { LogExposures = false, Content = { Enabled = false } });
        Assert.Equal(0, engine.Content.Index.Count);
        Assert.Empty((await engine.RecommendAsync(new RecommendRequest { UserId = "alice" })).Items);
        Assert.Empty((await engine.RecommendAsync(new RecommendRequest { UserId = "x", Query = "running shoes" })).Items);
    }

    [Fact]
    public async Task ChineseItems_AreMatchedByCharactersAndBigrams()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var project = host.Project();
        var now = host.Time.GetUtcNow();
        await project.Ingestor.IngestAsync(
            [
                Item("a", "红色连衣裙", "女装", ["夏季"], now.AddMinutes(-10)),
                Item("b", "男士运动跑鞋", "鞋", ["运动"], now.AddMinutes(-10)),
                Item("c", "儿童篮球鞋", "鞋", ["运动"], now.AddMinutes(-10)),
                Item("d", "科幻小说全集", "图书", ["小说"], now.AddMinutes(-10)),
                Click("u", "a", now.AddMinutes(-5)),
                Item("new", "碎花连衣裙 夏季新款", "女装", ["夏季"], now),
            ],
            backfill: false, CancellationToken.None);
        var engine = new RecommendEngine(project, null, host.Options.Realtime, new ServingOptions { LogExposures = false }, host.Time, host.Loggers);
        await File.WriteAllTextAsync(Path.Combine(project.Directory, "scenes.json"), ContentOnly);
        engine.Scenes.Reload();
        engine.CatchUp();

        var served = (await engine.RecommendAsync(new RecommendRequest { UserId = "u" })).Items.Select(i => i.ItemId).ToList();
        Assert.Equal("new", served[0]);
        var query = (await engine.RecommendAsync(new RecommendRequest { UserId = "x", Query = "篮球鞋" })).Items.Select(i => i.ItemId).ToList();
        Assert.Equal("c", query[0]);
    }

    [Fact]
    public void Index_FollowsUpdatesAndDeletes_AndSkipsUnchangedContent()
    {
        var index = new ContentIndex(new ContentChannelOptions { CompactFraction = 1 }); // never compacts: node counts are exact
        var at = DateTimeOffset.UnixEpoch;
        index.Apply(0, Item("x", "red summer dress", "dress", ["summer"], at));
        index.Apply(1, Item("y", "trail running shoes", "shoes", ["running"], at));
        index.Apply(2, new Event { Type = EventTypes.Item, ItemId = "empty", Timestamp = at }); // no content: not indexed
        Assert.Equal(2, index.Count);

        var query = new float[index.Dimension];
        Assert.True(index.Embedder.EmbedQuery("dress", null, query));
        var hits = new VectorHit[3];
        Assert.Equal(0, hits[..index.Search(query, 3, hits)][0].Id);

        // same content, another attribute: the index is untouched (no new node)
        var nodes = index.Nodes;
        var priced = Item("x", "red summer dress", "dress", ["summer"], at);
        priced.Attributes = new() { ["price"] = JsonSerializer.SerializeToElement(3) };
        index.Apply(0, priced);
        Assert.Equal(nodes, index.Nodes);

        // x becomes shoes: re-inserted (one more node), its vector is the new content's
        index.Apply(0, Item("x", "white canvas shoes", "shoes", ["running"], at));
        Assert.Equal(nodes + 1, index.Nodes);
        var vector = new float[index.Dimension];
        Assert.True(index.TryGet(0, vector));
        var expected = new float[index.Dimension];
        Assert.True(index.Embedder.Embed("white canvas shoes", null, "shoes", ["running"], expected));
        Assert.Equal(expected, vector);

        // deleted: gone from search and from TryGet
        index.Apply(1, new Event { Type = EventTypes.Item, ItemId = "y", Deleted = true, Timestamp = at });
        Assert.Equal(1, index.Count);
        Assert.False(index.TryGet(1, vector));
        var n = index.Search(query, 3, hits);
        Assert.Equal([0], hits[..n].Select(h => h.Id));
    }

    [Fact]
    public void Embedding_IsDeterministicUnitLength_AndSharesMassBetweenWordForms()
    {
        var a = new ContentEmbedder(64, 2000);
        var b = new ContentEmbedder(64, 2000);
        var v1 = new float[64];
        var v2 = new float[64];
        Assert.True(a.Embed("Summer dresses", "light and airy", "dress", ["red"], v1));
        Assert.True(b.Embed("Summer dresses", "light and airy", "dress", ["red"], v2));
        Assert.Equal(v1, v2);
        Assert.Equal(1f, TensorPrimitives.Norm(v1), 4);

        var q = new float[64];
        Assert.True(a.EmbedQuery("dress", null, q));
        var other = new float[64];
        Assert.True(a.Embed("garden hose", "rubber", "tools", ["garden"], other));
        Assert.True(TensorPrimitives.Dot(q, v1) > TensorPrimitives.Dot(q, other) + 0.1f, $"{TensorPrimitives.Dot(q, v1)} vs {TensorPrimitives.Dot(q, other)}");
        Assert.False(a.Embed(null, " ,. ", null, [], q));
        Assert.All(q, x => Assert.Equal(0f, x));
    }

    [Fact]
    public async Task OverTheApi_TheHomeScene_RecallsAJustIngestedItem_FromTheContentChannel()
    {
        await using var world = await ServingWorld.StartAsync();
        await world.SeedAsync(); // u1 clicked s1 ("shoes s1", tags running, sport)
        await world.IngestAsync($$"""{"type":"item","itemId":"n1","title":"trail shoes","category":"shoes","tags":["running"],"timestamp":"{{world.Now(0)}}"}""");
        Served? served = null;
        await ServingWorld.WaitForAsync(async () =>
        {
            served = await world.RecommendAsync(new { userId = "u1", scene = "home", count = 30 });
            return served.From(ChannelNames.Content).Contains("n1");
        }, () => "n1 from the content channel; served: " + string.Join(", ", served?.Items.Select(i => $"{i.ItemId}[{string.Join('+', i.Channels)}]") ?? []));
        Assert.Contains(ChannelNames.Content, served!.Items.Single(i => i.ItemId == "n1").Channels);
    }
}
