using System.Net;
using System.Text.Json;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Server;

public class RealtimeApiTests
{
    [Fact]
    public async Task IngestedClicks_ReachTheRealtimeModels_WithinSeconds()
    {
        await using var server = await TestServer.StartAsync();
        using var client = server.Client(server.Host.Apps.Create("shop", scopes: ["ingest", "serve"]));
        var now = server.Host.Time.GetUtcNow().AddMinutes(-1).ToString("O");
        var body = "[" + string.Join(",", new[] { ("u1", "a"), ("u1", "b"), ("u2", "a"), ("u2", "b"), ("u3", "a") }
            .Select((x, i) => $$"""{"id":"c{{i}}","type":"click","userId":"{{x.Item1}}","itemId":"{{x.Item2}}","timestamp":"{{now}}"}""")) + "]";
        (await client.PostAsync("/v1/events", new StringContent(body))).EnsureSuccessStatusCode();

        JsonElement item = default;
        for (var i = 0; i < 100; i++)
        {
            var response = await client.GetAsync("/v1/realtime/items/a");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                item = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                if (item.GetProperty("clicks").GetInt64() == 3)
                {
                    break;
                }
            }

            await Task.Delay(100);
        }

        Assert.Equal(3, item.GetProperty("clicks").GetInt64());
        Assert.Equal("b", item.GetProperty("neighbours")[0].GetProperty("itemId").GetString());
        var popular = JsonDocument.Parse(await client.GetStringAsync("/v1/realtime/popular?k=1")).RootElement;
        Assert.Equal("a", popular[0].GetProperty("itemId").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/realtime/items/zzz")).StatusCode);
    }
}
