using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Zhongtai.Gateway;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Server;

public sealed class EventsApiTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private string Now => _server.Host.Time.GetUtcNow().AddMinutes(-1).ToString("O");

    private string Click(string id, string user = "u1", string item = "i1") =>
        $$"""{"id":"{{id}}","type":"click","userId":"{{user}}","itemId":"{{item}}","timestamp":"{{Now}}","scene":"home","position":3,"requestId":"r1"}""";

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task Healthz_MetricsAndOpenApi_NeedNoCredentials()
    {
        using var client = _server.Client();
        Assert.Equal("ok", (await JsonOf(await client.GetAsync("/healthz"))).GetProperty("status").GetString());
        var openapi = await JsonOf(await client.GetAsync("/openapi/v1.json"));
        Assert.True(openapi.GetProperty("paths").TryGetProperty("/v1/events", out _));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/docs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task Ingest_WithoutCredentials_Is401WithReason()
    {
        using var client = _server.Client();
        var response = await client.PostAsync("/v1/events", new StringContent("[" + Click("e1") + "]"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("missing_credentials", (await JsonOf(response)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Ingest_ValidBatch_IsDurableAndCounted_AndRetriesAreIdempotent()
    {
        using var client = _server.Client(_server.Host.Apps.Create("shop", scopes: ["ingest", "manage"]));
        var body = "[" + Click("e1") + "," + Click("e2") + "]";
        var first = await JsonOf(await client.PostAsync("/v1/events", new StringContent(body)));
        Assert.Equal(2, first.GetProperty("accepted").GetInt32());
        Assert.Equal(0, first.GetProperty("firstOffset").GetInt64());

        var retry = await JsonOf(await client.PostAsync("/v1/events", new StringContent(body)));
        Assert.Equal(2, retry.GetProperty("duplicates").GetInt32());

        var stats = await JsonOf(await client.GetAsync("/v1/events/stats"));
        Assert.Equal(2, stats.GetProperty("count").GetInt64());
        var page = await JsonOf(await client.GetAsync("/v1/events?from=0&limit=10"));
        Assert.Equal(["e1", "e2"], page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("event").GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Ingest_Ndjson_IsAccepted()
    {
        using var client = _server.Client(_server.Host.Apps.Create("shop"));
        var response = await client.PostAsync("/v1/events", new StringContent(Click("a") + "\n" + Click("b") + "\n", Encoding.UTF8, "application/x-ndjson"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, (await JsonOf(response)).GetProperty("accepted").GetInt32());
    }

    [Fact]
    public async Task Ingest_OneBadEvent_RejectsTheWholeBatch_WithIndexFieldAndReason()
    {
        using var client = _server.Client(_server.Host.Apps.Create("shop"));
        var bad = $$"""{"type":"click","userId":"u1","timestamp":"{{Now}}"}""";
        var response = await client.PostAsync("/v1/events", new StringContent("[" + Click("ok") + "," + bad + "]"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await JsonOf(response);
        Assert.Equal("invalid_events", error.GetProperty("code").GetString());
        var detail = Assert.Single(error.GetProperty("errors").EnumerateArray());
        Assert.Equal((1, "itemId", "missing_field"), (detail.GetProperty("index").GetInt32(), detail.GetProperty("field").GetString(), detail.GetProperty("code").GetString()));
        Assert.Equal(0, _server.Host.Project().Events.Count);
    }

    [Theory]
    [InlineData("[{\"type\":", "malformed_json")]
    [InlineData("[{\"type\":\"teleport\",\"userId\":\"u\",\"itemId\":\"i\",\"timestamp\":\"2026-11-22T00:00:00Z\"}]", "unknown_type")]
    [InlineData("[{\"type\":\"click\",\"userId\":7}]", "invalid_value")]
    public async Task Ingest_BadInput_Is400WithCode(string body, string code)
    {
        using var client = _server.Client(_server.Host.Apps.Create("shop"));
        var response = await client.PostAsync("/v1/events", new StringContent(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(code, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_OversizedBody_Is413()
    {
        await using var server = await TestServer.StartAsync(o => o.Events.Ingest.MaxBodyBytes = 4096);
        using var client = server.Client(server.Host.Apps.Create("shop"));
        var body = "[" + string.Join(",", Enumerable.Range(0, 100).Select(i => Click("e" + i))) + "]";
        var response = await client.PostAsync("/v1/events", new StringContent(body));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("body_too_large", (await JsonOf(response)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Scopes_AreEnforced()
    {
        using var serveOnly = _server.Client(_server.Host.Apps.Create("reader", scopes: ["serve"]));
        var response = await serveOnly.PostAsync("/v1/events", new StringContent("[" + Click("e1") + "]"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("insufficient_scope", (await JsonOf(response)).GetProperty("code").GetString());

        using var ingestOnly = _server.Client(_server.Host.Apps.Create("writer"));
        Assert.Equal(HttpStatusCode.Forbidden, (await ingestOnly.PostAsync("/v1/events?backfill=true", new StringContent("[]"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ingestOnly.GetAsync("/v1/events")).StatusCode);
    }

    [Fact]
    public async Task Backfill_WithManageScope_AcceptsHistoricalEvents()
    {
        using var client = _server.Client(_server.Host.Apps.Create("importer", scopes: ["ingest", "manage"]));
        var old = """[{"type":"rating","userId":"u","itemId":"i","value":4,"timestamp":"1998-01-01T00:00:00Z"}]""";
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/v1/events", new StringContent(old))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/events?backfill=true", new StringContent(old))).StatusCode);
    }

    [Fact]
    public async Task Projects_AreIsolated()
    {
        using var a = _server.Client(_server.Host.Apps.Create("app-a", "alpha", ["ingest", "manage"]));
        using var b = _server.Client(_server.Host.Apps.Create("app-b", "beta", ["ingest", "manage"]));
        await a.PostAsync("/v1/events", new StringContent("[" + Click("shared-id") + "]"));
        var fromB = await JsonOf(await b.GetAsync("/v1/events/stats"));
        Assert.Equal(0, fromB.GetProperty("count").GetInt64());
        var bWrite = await JsonOf(await b.PostAsync("/v1/events", new StringContent("[" + Click("shared-id") + "]")));
        Assert.Equal(0, bWrite.GetProperty("duplicates").GetInt32());
        Assert.Equal(0, (await JsonOf(await b.GetAsync("/v1/events"))).GetProperty("events")[0].GetProperty("offset").GetInt64());
        Assert.Equal("alpha", (await JsonOf(await a.GetAsync("/v1/me"))).GetProperty("project").GetString());
    }

    [Fact]
    public async Task HmacSignedRequest_IsAccepted_AndReplayIsRejected()
    {
        var app = _server.Host.Apps.Create("signer");
        using var client = _server.Client();
        var body = "[" + Click("s1") + "]";
        var header = RequestSigner.Header(app.App.AppKey, app.AppSecret, "POST", "/v1/events", _server.Host.Time.GetUtcNow(), "nonce-abcdef12", Encoding.UTF8.GetBytes(body));

        HttpRequestMessage Request()
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = new StringContent(body) };
            request.Headers.TryAddWithoutValidation("Authorization", header);
            return request;
        }

        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Request())).StatusCode);
        var replay = await client.SendAsync(Request());
        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        Assert.Equal("replayed_request", (await JsonOf(replay)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task ConcurrentClients_AllEventsLand()
    {
        var app = _server.Host.Apps.Create("load");
        var tasks = Enumerable.Range(0, 8).Select(async t =>
        {
            using var client = _server.Client(app);
            for (var i = 0; i < 10; i++)
            {
                var body = "[" + string.Join(",", Enumerable.Range(0, 50).Select(j => Click($"c{t}-{i}-{j}"))) + "]";
                (await client.PostAsync("/v1/events", new StringContent(body))).EnsureSuccessStatusCode();
            }
        });
        await Task.WhenAll(tasks);
        Assert.Equal(4000, _server.Host.Project().Events.Count);
    }
}
