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

    [Fact]
    public async Task BadRequests_Are400WithAReason()
    {
        await using var server = await TestServer.StartAsync();
        using var client = server.Client(server.Host.Apps.Create("shop", scopes: ["serve"]));
        var tooMany = await client.PostAsJsonAsync("/v1/search", new { query = "x", count = 5000 });
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        var unbalanced = await client.PostAsJsonAsync("/v1/search", new { query = "\"red dress" });
        Assert.Equal(HttpStatusCode.BadRequest, unbalanced.StatusCode);
        Assert.Equal("invalid_argument", JsonDocument.Parse(await unbalanced.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString());
    }
}
