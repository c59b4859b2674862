using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Zhongtai.Tests.Serving;

public class RecommendApiTests
{
    [Fact]
    public async Task EachChannel_ContributesWhenItShould_AndConsumedItemsAreDropped()
    {
        await using var world = await ServingWorld.StartAsync();
        await world.SeedAsync();
        var version = world.RegisterFactors(new() { ["u1"] = [1, 0, 0, 0] }, new() { ["d5"] = [1, 0, 0, 0], ["b4"] = [0.5f, 0, 0, 0] });
        world.Project.Models.Promote("als", version.Version);
        await ServingWorld.WaitForAsync(async () =>
        {
            using var similar = await world.Client.GetAsync("/v1/items/d5/similar");
            return Served.Parse(await similar.Content.ReadAsStringAsync()).Models.Contains("als@v1");
        }, "als@v1 to load");

        var home = await world.RecommendAsync(new { userId = "u1", scene = "home", count = 40 });
        Assert.Contains("s2", home.From("i2i"));                   // co-engaged with s1, u1's click
        Assert.Contains("d5", home.From("vector"));                // u1's factors point at d5
        Assert.Contains("b1", home.From("popular"));               // the most clicked item
        Assert.Contains(home.From("graph"), id => id.StartsWith('s')); // s1's tags lead to other shoes
        Assert.Contains(home.From("inverted"), id => id.StartsWith('s')); // u1's interest terms (running, sport, shoes)
        Assert.Contains(home.From("fresh"), _ => true);
        Assert.DoesNotContain("s1", home.Ids);                     // consumed
        Assert.Equal(home.Ids.Count, home.Ids.Distinct().Count());
        Assert.Contains("als@v1", home.Models);
        Assert.Contains(home.Models, m => m.StartsWith("ftrl@", StringComparison.Ordinal));
        Assert.False(home.ColdStart);

        var search = await world.RecommendAsync(new { userId = "u1", scene = "search", query = "novel" });
        Assert.NotEmpty(search.From("inverted"));
        Assert.All(search.From("inverted"), id => Assert.StartsWith("b", id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Filters_AndExclusions_Hold()
    {
        await using var world = await ServingWorld.StartAsync();
        await world.SeedAsync();
        var shoes = await world.RecommendAsync(new { userId = "u1", scene = "home", count = 30, filters = new { category = "shoes" } });
        Assert.NotEmpty(shoes.Items);
        Assert.All(shoes.Ids, id => Assert.StartsWith("s", id, StringComparison.Ordinal));

        var red = await world.RecommendAsync(new { userId = "x9", scene = "home", count = 30, filters = new { attributes = new { color = "red" } } });
        Assert.NotEmpty(red.Items);
        Assert.All(red.Ids, id => Assert.Equal(0, (id[1] - '0') % 2)); // even ids are red

        var excluded = await world.RecommendAsync(new { userId = "x8", scene = "home", count = 30, exclude = new[] { "b1", "s2", "d1" } });
        Assert.NotEmpty(excluded.Items);
        Assert.DoesNotContain("b1", excluded.Ids);
        Assert.DoesNotContain("s2", excluded.Ids);
        Assert.DoesNotContain("d1", excluded.Ids);
    }

    [Fact]
    public async Task UnknownUser_GetsAColdStartAnswer_ShapedByTheCategory()
    {
        await using var world = await ServingWorld.StartAsync();
        await world.SeedAsync();
        var cold = await world.RecommendAsync(new { userId = "never-seen", count = 5 });
        Assert.True(cold.ColdStart);
        Assert.Equal(5, cold.Items.Count);
        Assert.Equal("b1", cold.Ids[0]); // the most popular item leads
        var dresses = await world.RecommendAsync(new { userId = "never-seen-2", count = 4, filters = new { category = "dress" } });
        Assert.True(dresses.ColdStart);
        Assert.Equal(4, dresses.Items.Count);
        Assert.All(dresses.Ids, id => Assert.StartsWith("d", id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task BadRequests_Are400WithMachineReadableReasons()
    {
        await using var world = await ServingWorld.StartAsync();

        async Task<(HttpStatusCode, JsonElement)> PostAsync(HttpContent content)
        {
            using var response = await world.Client.PostAsync("/v1/recommend", content);
            return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement);
        }

        async Task AssertBadAsync(object request, string code, string field)
        {
            var (status, body) = await PostAsync(JsonContent.Create(request));
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal(code, body.GetProperty("code").GetString());
            Assert.Contains(body.GetProperty("errors").EnumerateArray(), e => e.GetProperty("field").GetString() == field);
        }

        await AssertBadAsync(new { userId = "u", scene = "nope" }, "unknown_scene", "scene");
        await AssertBadAsync(new { userId = "u", count = 0 }, "invalid_argument", "count");
        await AssertBadAsync(new { userId = "u", count = 101 }, "invalid_argument", "count");
        await AssertBadAsync(new { scene = "home" }, "invalid_argument", "userId");
        await AssertBadAsync(new { userId = "u", filters = new { category = "" } }, "invalid_argument", "category");
        await AssertBadAsync(new { userId = "u", filters = new { attributes = new { color = new[] { "red" } } } }, "invalid_argument", "filters.attributes.color");
        var (status, body) = await PostAsync(new StringContent("{\"userId\": ", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_json", body.GetProperty("code").GetString());
        (status, body) = await PostAsync(new StringContent("{\"userId\": \"u\"}", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Equal("unsupported_media_type", body.GetProperty("code").GetString());

        using var unknownItem = await world.Client.GetAsync("/v1/items/nope/similar");
        Assert.Equal(HttpStatusCode.NotFound, unknownItem.StatusCode);
        Assert.Equal("item_not_found", JsonDocument.Parse(await unknownItem.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task ServedLists_AreLoggedAsExposures_WithRequestIdPositionsAndChannels()
    {
        await using var world = await ServingWorld.StartAsync();
        await world.SeedAsync();
        var served = await world.RecommendAsync(new { userId = "u1", count = 6, context = new { device = "ios" } });
        Assert.Equal(6, served.Items.Count);
        List<JsonElement> exposures = [];
        await ServingWorld.WaitForAsync(async () =>
        {
            var page = JsonDocument.Parse(await world.Client.GetStringAsync("/v1/events?limit=10000")).RootElement;
            exposures = [.. page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("event"))
                .Where(e => e.GetProperty("type").GetString() == "exposure" && e.TryGetProperty("requestId", out var r) && r.GetString() == served.RequestId)];
            return exposures.Count == served.Items.Count;
        }, "the exposures");

        exposures.Sort((a, b) => a.GetProperty("position").GetInt32().CompareTo(b.GetProperty("position").GetInt32()));
        for (var i = 0; i < exposures.Count; i++)
        {
            var e = exposures[i];
            Assert.Equal(i, e.GetProperty("position").GetInt32());
            Assert.Equal(served.Items[i].ItemId, e.GetProperty("itemId").GetString());
            Assert.Equal("u1", e.GetProperty("userId").GetString());
            Assert.Equal("home", e.GetProperty("scene").GetString());
            Assert.Equal("ios", e.GetProperty("device").GetString());
            Assert.Equal(string.Join(",", served.Items[i].Channels), e.GetProperty("properties").GetProperty("channel").GetString());
            Assert.Equal(string.Join(",", served.Models), e.GetProperty("properties").GetProperty("models").GetString());
        }
    }

    [Fact]
    public async Task AClickOnAServedItem_ChangesTheNextRecommendation_ThroughTheRealtimeModels()
    {
        await using var world = await ServingWorld.StartAsync();
        await world.SeedAsync();
        var before = await world.RecommendAsync(new { userId = "u7", scene = "detail", count = 10 });
        Assert.True(before.ColdStart);
        Assert.Empty(before.From("i2i"));
        Assert.Contains("d1", before.Ids); // popular: co-clicked by five users

        await world.IngestAsync($$"""{"type":"click","userId":"u7","itemId":"d1","requestId":"{{before.RequestId}}","timestamp":"{{world.Now(0)}}"}""");
        Served after = before;
        await ServingWorld.WaitForAsync(async () =>
        {
            after = await world.RecommendAsync(new { userId = "u7", scene = "detail", count = 10 });
            return !after.ColdStart && after.From("i2i").Contains("d2");
        }, "the click to reach the models");
        Assert.DoesNotContain("d1", after.Ids);
        Assert.Equal("d2", after.Ids[0]);
    }

    [Fact]
    public async Task Similar_FusesCoEngagementAndGraph_AndNeverReturnsTheItemItself()
    {
        await using var world = await ServingWorld.StartAsync();
        await world.SeedAsync();
        var similar = Served.Parse(await world.Client.GetStringAsync("/v1/items/d1/similar?count=5"));
        Assert.Equal("d2", similar.Ids[0]); // co-engaged and same tags
        Assert.Contains("i2i", similar.Items[0].Channels);
        Assert.Contains("graph", similar.Items[0].Channels);
        Assert.DoesNotContain("d1", similar.Ids);
        Assert.All(similar.Ids, id => Assert.StartsWith("d", id, StringComparison.Ordinal));
    }
}
