using System.Text.Json;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Cli;

public class CliTests
{
    [Fact]
    public async Task AppsCreate_Json_PrintsKeySecretAndToken_ThenListDisableRotate()
    {
        using var dir = new TempDirectory();
        var (code, stdout, stderr) = await ZtProcess.RunAsync("apps", "create", "shop", "--data", dir.Path, "--scopes", "ingest,manage", "--json");
        Assert.True(code == 0, stderr);
        var created = JsonDocument.Parse(stdout).RootElement;
        var key = created.GetProperty("appKey").GetString()!;
        Assert.Equal($"{key}.{created.GetProperty("appSecret").GetString()}", created.GetProperty("token").GetString());

        var list = JsonDocument.Parse((await ZtProcess.RunAsync("apps", "list", "--data", dir.Path, "--json")).Stdout).RootElement;
        Assert.Equal("shop", list[0].GetProperty("name").GetString());

        Assert.Equal(0, (await ZtProcess.RunAsync("apps", "disable", "shop", "--data", dir.Path)).ExitCode);
        var rotated = JsonDocument.Parse((await ZtProcess.RunAsync("apps", "rotate-secret", "shop", "--data", dir.Path, "--json")).Stdout).RootElement;
        Assert.NotEqual(created.GetProperty("appSecret").GetString(), rotated.GetProperty("appSecret").GetString());

        var duplicate = await ZtProcess.RunAsync("apps", "create", "shop", "--data", dir.Path, "--json");
        Assert.Equal(2, duplicate.ExitCode);
        Assert.Contains("app_exists", duplicate.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EventsCount_Json_PrintsDurableCount()
    {
        using var dir = new TempDirectory();
        await using (var host = Zhongtai.Hosting.ZhongtaiHost.Open(new Zhongtai.Hosting.ZhongtaiOptions { DataDirectory = dir.Path }))
        {
            var e = new Zhongtai.Events.Event { Id = "x1", Type = "click", UserId = "u", ItemId = "i", Timestamp = host.Time.GetUtcNow() };
            await host.Project().Ingestor.IngestAsync([e], backfill: false, CancellationToken.None);
        }

        var (code, stdout, stderr) = await ZtProcess.RunAsync("events", "count", "--data", dir.Path, "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal(1, JsonDocument.Parse(stdout).RootElement.GetProperty("count").GetInt64());

        var tail = await ZtProcess.RunAsync("events", "tail", "--data", dir.Path, "--json");
        Assert.Contains("\"id\":\"x1\"", tail.Stdout, StringComparison.Ordinal);
    }
}
