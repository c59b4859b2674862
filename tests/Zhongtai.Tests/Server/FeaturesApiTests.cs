using System.Net;
using System.Text.Json;
using Zhongtai.Pipeline;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Server;

/// <summary>The online feature store is fed by the pipeline (bulk load of the features dataset) and by the nearline consumer.</summary>
public class FeaturesApiTests
{
    [Fact]
    public async Task Features_ComeFromThePipelinesDataset_AndFromTheLiveStream()
    {
        await using var server = await TestServer.StartAsync();
        using var client = server.Client(server.Host.Apps.Create("shop", scopes: ["ingest", "serve"]));
        var t = server.Host.Time.GetUtcNow().AddMinutes(-2);
        var events = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            events.Add($$"""{"id":"x{{i}}","type":"exposure","userId":"u{{i % 2}}","itemId":"a","requestId":"r{{i}}","timestamp":"{{t.AddSeconds(i):O}}"}""");
        }

        events.Add($$"""{"id":"c0","type":"click","userId":"u0","itemId":"a","requestId":"r0","timestamp":"{{t.AddSeconds(10):O}}"}""");
        events.Add($$"""{"id":"c1","type":"click","userId":"u1","itemId":"a","requestId":"r1","timestamp":"{{t.AddSeconds(11):O}}"}""");
        (await client.PostAsync("/v1/events", new StringContent("[" + string.Join(",", events) + "]"))).EnsureSuccessStatusCode();

        // Nearline: the realtime consumer's hook counts them within seconds, before any pipeline ran.
        var item = await WaitForAsync(client, "/v1/features/items/a", f => f.TryGetProperty("realtime", out var r) && r.ValueKind == JsonValueKind.Object && r.EnumerateObject().Any(p => p.Name.StartsWith("clicks", StringComparison.Ordinal) && p.Value.GetSingle() == 2));
        Assert.False(item.TryGetProperty("offline", out _)); // nulls are left out

        // Offline: the pipeline registers features@1 and the store loads it as its base version.
        var project = server.Host.Project();
        await LakeJobs.Runner(server.Host, project).RunAsync(project, null, CancellationToken.None);
        item = await WaitForAsync(client, "/v1/features/items/a", f => f.TryGetProperty("offlineVersion", out _));
        Assert.Equal("features-1", item.GetProperty("offlineVersion").GetString());
        var offline = item.GetProperty("offline");
        Assert.Equal(6, offline.GetProperty("exposures_all").GetSingle());
        Assert.Equal(2, offline.GetProperty("clicks_all").GetSingle());
        Assert.Equal(6, offline.GetProperty("exposures_7d").GetSingle());
        var user = await WaitForAsync(client, "/v1/features/users/u0", f => f.TryGetProperty("offline", out _));
        Assert.Equal(3, user.GetProperty("offline").GetProperty("exposures_all").GetSingle());
        Assert.Equal(0, user.GetProperty("offline").GetProperty("days_since_last_action").GetSingle(), 3);

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/features/items/nope")).StatusCode);
        var bad = await client.GetAsync("/v1/features/shops/a");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("invalid_argument", JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString());
    }

    private static async Task<JsonElement> WaitForAsync(HttpClient client, string path, Func<JsonElement, bool> done)
    {
        var last = "";
        for (var i = 0; i < 200; i++)
        {
            var response = await client.GetAsync(path);
            last = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.OK && JsonDocument.Parse(last).RootElement is var root && done(root))
            {
                return root;
            }

            await Task.Delay(100);
        }

        throw new Xunit.Sdk.XunitException($"{path} never got there; last answer: {last}");
    }
}
