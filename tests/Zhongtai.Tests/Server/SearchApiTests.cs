using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Server;

public class SearchApiTests
{
    private static async Task<List<string>> SearchAsync(HttpClient client, object request)
    {
        var response = await client.PostAsJsonAsync("/v1/search", request);
        response.EnsureSuccessStatusCode();
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.StartsWith("r-", body.GetProperty("requestId").GetString(), StringComparison.Ordinal);
        return [.. body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()!)];
    }

    private static async Task<List<string>> EventuallyAsync(HttpClient client, object request, Func<List<string>, bool> done)
    {
        var result = new List<string>();
        for (var i = 0; i < 100; i++)
        {
            result = await SearchAsync(client, request);
            if (done(result))
            {
                break;
            }

            await Task.Delay(100);
        }

        return result;
    }

    [Fact]
    public async Task UpsertedItems_BecomeSearchableWithinSeconds_InEnglishAndChinese_AndDeletesDisappear()
    {
        await using var server = await TestServer.StartAsync();
        using var client = server.Client(server.Host.Apps.Create("shop", scopes: ["ingest", "serve"]));
        var now = server.Host.Time.GetUtcNow().AddMinutes(-1).ToString("O");
        var items = $$"""
            [{"type":"item","itemId":"a","title":"红色连衣裙","category":"dress","tags":["red"],"timestamp":"{{now}}"},
             {"type":"item","itemId":"b","title":"Blue summer dresses","category":"dress","attributes":{"price":30},"timestamp":"{{now}}"},
             {"type":"item","itemId":"c","title":"Running shoes","category":"shoes","timestamp":"{{now}}"}]
            """;
        (await client.PostAsync("/v1/events", new StringContent(items))).EnsureSuccessStatusCode();

        Assert.Equal(["a"], await EventuallyAsync(client, new { query = "连衣裙" }, r => r.Count > 0));
        Assert.Equal(["b"], await SearchAsync(client, new { query = "dress" }));
        Assert.Equal(["a", "b"], (await SearchAsync(client, new { category = "dress" })).Order(StringComparer.Ordinal));
        Assert.Empty(await SearchAsync(client, new { query = "dress", maxPrice = 20 }));

        var delete = $$"""[{"type":"item","itemId":"b","deleted":true,"timestamp":"{{now}}"}]""";
        (await client.PostAsync("/v1/events", new StringContent(delete))).EnsureSuccessStatusCode();
        Assert.Empty(await EventuallyAsync(client, new { query = "dress" }, r => r.Count == 0));
    }

    private static async Task<JsonElement> SearchBodyAsync(HttpClient client, object request)
    {
        var response = await client.PostAsJsonAsync("/v1/search", request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement;
    }

    private static List<string> Ids(JsonElement body) => [.. body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()!)];

    [Fact]
    public async Task BadRequests_Are400WithFieldReasons()
    {
        await using var server = await TestServer.StartAsync();
        using var client = server.Client(server.Host.Apps.Create("shop", scopes: ["serve"]));

        async Task<HashSet<string>> FieldsAsync(object request, string code = "invalid_argument")
        {
            var response = await client.PostAsJsonAsync("/v1/search", request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
            var body = JsonDocument.Parse(text).RootElement;
            Assert.Equal(code, body.GetProperty("code").GetString());
            return [.. body.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()!)];
        }

        Assert.Equal(["count"], await FieldsAsync(new { query = "x", count = 5000 }));
        Assert.Equal(["query"], await FieldsAsync(new { query = "\"red dress" })); // unbalanced quote, reported by the index
        Assert.Equal(["count", "offset", "userId", "maxPrice", "category", "tags"],
            await FieldsAsync(new { query = "x", count = 0, offset = -1, userId = " ", minPrice = 10, maxPrice = 5, category = "", tags = new[] { "" } }));
        Assert.Equal(["query"], await FieldsAsync(new { query = new string('a', 1001) }));

        var bad = await client.PostAsync("/v1/search", new StringContent("{\"query\": ", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("invalid_json", JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task FlaggedItems_NeverAppear_AndPagesStayFull()
    {
        await using var server = await TestServer.StartAsync(o => o.Serving.ConfigPollSeconds = 0.1);
        using var client = server.Client(server.Host.Apps.Create("shop", scopes: ["ingest", "serve"]));
        var now = server.Host.Time.GetUtcNow().AddMinutes(-1).ToString("O");
        var items = string.Join('\n', Enumerable.Range(1, 6).Select(i => $$"""{"type":"item","itemId":"lamp{{i}}","title":"desk lamp {{new string('x', i)}}","timestamp":"{{now}}"}"""));
        (await client.PostAsync("/v1/events", new StringContent(items))).EnsureSuccessStatusCode();
        var all = await EventuallyAsync(client, new { query = "lamp", count = 10 }, r => r.Count == 6);
        Assert.Equal(6, all.Count);

        // Flag two (the anti-cheat output file); they leave every page, and the pages close up behind them.
        var flagged = new[] { all[0], all[2] };
        var risk = Path.Combine(server.Host.Project().Directory, "risk");
        Directory.CreateDirectory(risk);
        await File.WriteAllLinesAsync(Path.Combine(risk, "flagged-items.txt"), ["# flagged by anti-cheat", .. flagged]);
        var clean = await EventuallyAsync(client, new { query = "lamp", count = 10 }, r => r.Count == 4);
        Assert.Equal(all.Except(flagged), clean);

        var firstPage = await SearchAsync(client, new { query = "lamp", count = 2 });
        var secondPage = await SearchAsync(client, new { query = "lamp", count = 2, offset = 2 });
        Assert.Equal(clean, [.. firstPage, .. secondPage]);
        Assert.Empty(await SearchAsync(client, new { query = "lamp", count = 2, offset = 4 }));

        // Personalised searches too.
        Assert.Equal(clean, await SearchAsync(client, new { query = "lamp", count = 10, userId = "someone" }));
    }

    [Fact]
    public async Task AUsersHistory_ReordersEquallyMatchingItems_AndTheResponseSaysSo()
    {
        await using var server = await TestServer.StartAsync();
        using var client = server.Client(server.Host.Apps.Create("shop", scopes: ["ingest", "serve"]));
        var at = server.Host.Time.GetUtcNow().AddMinutes(-10);
        string Item(string id, string title, string category) => $$"""{"type":"item","itemId":"{{id}}","title":"{{title}}","category":"{{category}}","timestamp":"{{at:O}}"}""";
        string Click(string user, string item, int minute) => $$"""{"type":"click","userId":"{{user}}","itemId":"{{item}}","timestamp":"{{at.AddMinutes(minute):O}}"}""";
        var events = string.Join('\n',
            Item("fashion-sneakers", "classic sneakers", "fashion"), Item("sport-sneakers", "classic sneakers", "sport"),
            Item("scarf", "silk scarf", "fashion"), Item("bag", "leather handbag", "fashion"),
            Item("mat", "yoga mat", "sport"), Item("weights", "dumbbell set", "sport"),
            Click("fan", "scarf", 1), Click("fan", "bag", 2), Click("athlete", "mat", 1), Click("athlete", "weights", 2));
        (await client.PostAsync("/v1/events", new StringContent(events))).EnsureSuccessStatusCode();

        await EventuallyAsync(client, new { query = "sneakers" }, r => r.Count == 2);
        var plain = await SearchBodyAsync(client, new { query = "sneakers" });
        Assert.False(plain.GetProperty("personalized").GetBoolean());
        Assert.Equal(["bm25"], plain.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        var scores = plain.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("score").GetSingle()).ToList();
        Assert.Equal(scores[0], scores[1]); // equally matching
        Assert.All(plain.GetProperty("items").EnumerateArray(), i => Assert.Equal(["inverted"], i.GetProperty("channels").EnumerateArray().Select(c => c.GetString())));

        async Task<JsonElement> PersonalAsync(string user)
        {
            var body = default(JsonElement);
            for (var i = 0; i < 100; i++)
            {
                body = await SearchBodyAsync(client, new { query = "sneakers", userId = user });
                if (body.GetProperty("personalized").GetBoolean() && body.GetProperty("models").GetArrayLength() == 2 && Ids(body)[0] != Ids(body)[1])
                {
                    var page = Ids(body);
                    // both clicks applied: the history offset has moved past them
                    if (user == "fan" ? page[0] == "fashion-sneakers" : page[0] == "sport-sneakers")
                    {
                        break;
                    }
                }

                await Task.Delay(100);
            }

            return body;
        }

        var fan = await PersonalAsync("fan");
        Assert.Equal(["fashion-sneakers", "sport-sneakers"], Ids(fan));
        Assert.StartsWith("history@", fan.GetProperty("models")[1].GetString(), StringComparison.Ordinal);
        Assert.StartsWith("r-", fan.GetProperty("requestId").GetString(), StringComparison.Ordinal);
        Assert.NotEqual(plain.GetProperty("requestId").GetString(), fan.GetProperty("requestId").GetString());
        var athlete = await PersonalAsync("athlete");
        Assert.Equal(["sport-sneakers", "fashion-sneakers"], Ids(athlete));
        var athleteScores = athlete.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("score").GetSingle()).ToList();
        Assert.True(athleteScores[0] > athleteScores[1]);

        // A user serving has never seen is served unpersonalised.
        Assert.False((await SearchBodyAsync(client, new { query = "sneakers", userId = "nobody" })).GetProperty("personalized").GetBoolean());
    }

    [Fact]
    public async Task SearchesWithAUser_AreLoggedAsExposures_WithTheRequestIdAndPagePositions()
    {
        await using var server = await TestServer.StartAsync();
        using var client = server.Client(server.Host.Apps.Create("shop", scopes: ["ingest", "serve", "manage"]));
        var at = server.Host.Time.GetUtcNow().AddMinutes(-10);
        var items = string.Join('\n', Enumerable.Range(0, 6).Select(i => $$"""{"type":"item","itemId":"lamp{{i}}","title":"desk lamp {{i}}","timestamp":"{{at:O}}"}"""));
        (await client.PostAsync("/v1/events", new StringContent(items))).EnsureSuccessStatusCode();
        await EventuallyAsync(client, new { query = "lamp" }, r => r.Count == 6);

        var anonymous = await SearchBodyAsync(client, new { query = "lamp", count = 2 });
        var page = await SearchBodyAsync(client, new { query = "lamp", userId = "reader", count = 2, offset = 2 });
        var requestId = page.GetProperty("requestId").GetString();
        List<JsonElement> exposures = [];
        for (var i = 0; i < 100 && exposures.Count < 2; i++)
        {
            await Task.Delay(100);
            var log = JsonDocument.Parse(await client.GetStringAsync("/v1/events?limit=1000")).RootElement;
            exposures = [.. log.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("event")).Where(e => e.GetProperty("type").GetString() == "exposure")];
        }

        Assert.Equal(2, exposures.Count); // the anonymous search logged nothing
        Assert.All(exposures, e => Assert.NotEqual(anonymous.GetProperty("requestId").GetString(), e.GetProperty("requestId").GetString()));
        Assert.Equal(Ids(page), exposures.OrderBy(e => e.GetProperty("position").GetInt32()).Select(e => e.GetProperty("itemId").GetString()));
        Assert.All(exposures, e =>
        {
            Assert.Equal(requestId, e.GetProperty("requestId").GetString());
            Assert.Equal("reader", e.GetProperty("userId").GetString());
            Assert.Equal("search", e.GetProperty("scene").GetString());
            Assert.Equal("inverted", e.GetProperty("properties").GetProperty("channel").GetString());
        });
        Assert.Equal([2, 3], exposures.Select(e => e.GetProperty("position").GetInt32()).Order());
    }
}
