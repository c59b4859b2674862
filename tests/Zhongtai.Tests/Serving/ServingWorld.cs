using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Zhongtai.Hosting;
using Zhongtai.Registry;
using Zhongtai.Tests.Support;
using Zhongtai.Training.Recall;

namespace Zhongtai.Tests.Serving;

/// <summary>
/// A small hand-made shop on a real server: 3 categories × 6 items with tags and attributes, users whose behaviour
/// gives known co-engagement (s1–s2, d1–d2), a popular book (b1), and helpers to call the API and wait for the
/// nearline followers (realtime models, search index, serving catalog, graph) to catch up.
/// </summary>
internal sealed class ServingWorld : IAsyncDisposable
{
    private ServingWorld(TestServer server, HttpClient client)
    {
        Server = server;
        Client = client;
    }

    public TestServer Server { get; }
    public HttpClient Client { get; }
    public Project Project => Server.Host.Project();

    public static readonly string[] Categories = ["shoes", "dress", "books"];

    public static async Task<ServingWorld> StartAsync(Action<ZhongtaiOptions>? configure = null)
    {
        var server = await TestServer.StartAsync(o =>
        {
            o.Serving.ModelPollSeconds = 0.1;
            o.Serving.PopularRefreshSeconds = 0.1;
            o.Serving.ConfigPollSeconds = 0.1;
            o.Serving.GraphRebuildSeconds = 0.5;
            configure?.Invoke(o);
        });
        var client = server.Client(server.Host.Apps.Create("shop", scopes: ["ingest", "serve", "manage"]));
        return new ServingWorld(server, client);
    }

    public string Now(int minutesAgo = 1) => Server.Host.Time.GetUtcNow().AddMinutes(-minutesAgo).ToString("O");

    /// <summary>The catalog and the behaviour; returns once every follower has seen it.</summary>
    public async Task SeedAsync()
    {
        var events = new StringBuilder();
        var tags = new Dictionary<string, string[]> { ["shoes"] = ["running", "sport"], ["dress"] = ["summer", "red"], ["books"] = ["novel"] };
        foreach (var category in Categories)
        {
            for (var i = 1; i <= 6; i++)
            {
                var id = $"{category[0]}{i}";
                var color = i % 2 == 0 ? "red" : "blue";
                var itemTags = JsonSerializer.Serialize(tags[category]);
                events.Append($$"""{"type":"item","itemId":"{{id}}","title":"{{category}} {{id}}","category":"{{category}}","tags":{{itemTags}},"attributes":{"color":"{{color}}"},"timestamp":"{{Now(30)}}"}""").Append('\n');
            }
        }

        void Click(string user, string item, int minutesAgo) =>
            events.Append($$"""{"type":"click","userId":"{{user}}","itemId":"{{item}}","timestamp":"{{Now(minutesAgo)}}"}""").Append('\n');

        for (var v = 1; v <= 5; v++)
        {
            Click($"v{v}", "s1", 20);
            Click($"v{v}", "s2", 19);
            Click($"w{v}", "d1", 20);
            Click($"w{v}", "d2", 19);
        }

        for (var p = 1; p <= 8; p++)
        {
            Click($"p{p}", "b1", 10);
        }

        Click("u1", "s1", 5);
        await IngestAsync(events.ToString());
        // Similar-items and search log no exposures, so polling them leaves the users' frequency caps alone.
        var last = "";
        await WaitForAsync(async () =>
        {
            using var similar = await Client.GetAsync("/v1/items/s1/similar?count=20");
            last = await similar.Content.ReadAsStringAsync();
            if (!similar.IsSuccessStatusCode)
            {
                return false;
            }

            var served = Served.Parse(last);
            using var search = await Client.PostAsJsonAsync("/v1/search", new { query = "novel" });
            var found = JsonDocument.Parse(await search.Content.ReadAsStringAsync()).RootElement.GetProperty("items").GetArrayLength();
            return served.From("i2i").Contains("s2") && served.From("graph").Any() && found == 6;
        }, () => "the followers to catch up; similar: " + last);
    }

    public async Task IngestAsync(string ndjson)
    {
        using var response = await Client.PostAsync("/v1/events", new StringContent(ndjson, Encoding.UTF8, "application/x-ndjson"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<Served> RecommendAsync(object request)
    {
        using var response = await Client.PostAsJsonAsync("/v1/recommend", request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return Served.Parse(text);
    }

    /// <summary>Polls <paramref name="done"/> every 50 ms for up to 20 s; fails the test when it never holds.</summary>
    public static Task WaitForAsync(Func<Task<bool>> done, string? what = null) => WaitForAsync(done, () => what ?? "the condition");

    public static async Task WaitForAsync(Func<Task<bool>> done, Func<string> what)
    {
        for (var i = 0; i < 400; i++)
        {
            if (await done())
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"Timed out waiting for {what()}.");
    }

    /// <summary>Registers a factor model whose user and item vectors are given by external id (others zero), as version N of <c>als</c>.</summary>
    public ModelVersion RegisterFactors(Dictionary<string, float[]> users, Dictionary<string, float[]> items, int factors = 4)
    {
        var project = Project;
        foreach (var id in users.Keys)
        {
            project.UserIds.GetOrAdd(id);
        }

        foreach (var id in items.Keys)
        {
            project.ItemIds.GetOrAdd(id);
        }

        project.UserIds.Flush();
        project.ItemIds.Flush();
        var u = new float[project.UserIds.Count * factors];
        var it = new float[project.ItemIds.Count * factors];
        foreach (var (id, v) in users)
        {
            v.CopyTo(u, project.UserIds.Find(id) * factors);
        }

        foreach (var (id, v) in items)
        {
            v.CopyTo(it, project.ItemIds.Find(id) * factors);
        }

        var model = new FactorModel("als", project.UserIds.Count, project.ItemIds.Count, factors, u, it, null);
        return project.Models.Register(
            new ModelRegistration("als", "test", FactorModelCodec.Format, "{}", [], new Dictionary<string, double>(), null, "test"),
            FactorModelCodec.Serialize(model));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}

internal sealed record ServedItem(string ItemId, float Score, List<string> Channels);

internal sealed record Served(string RequestId, List<string> Models, string? Bucket, bool ColdStart, List<ServedItem> Items)
{
    public List<string> Ids => [.. Items.Select(i => i.ItemId)];

    public IEnumerable<string> From(string channel) => Items.Where(i => i.Channels.Contains(channel)).Select(i => i.ItemId);

    public static Served Parse(string json)
    {
        var root = JsonDocument.Parse(json).RootElement;
        return new Served(
            root.GetProperty("requestId").GetString()!,
            [.. root.GetProperty("models").EnumerateArray().Select(m => m.GetString()!)],
            root.TryGetProperty("bucket", out var b) ? b.GetString() : null,
            root.GetProperty("coldStart").GetBoolean(),
            [.. root.GetProperty("items").EnumerateArray().Select(i => new ServedItem(
                i.GetProperty("itemId").GetString()!,
                i.GetProperty("score").GetSingle(),
                [.. i.GetProperty("channels").EnumerateArray().Select(c => c.GetString()!)]))]);
    }
}
