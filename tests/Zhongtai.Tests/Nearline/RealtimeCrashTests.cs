using System.Net.Http.Headers;
using System.Text.Json;
using Zhongtai.Events.Ingest;
using Zhongtai.Hosting;
using Zhongtai.Nearline;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Nearline;

public class RealtimeCrashTests
{
    /// <summary>
    /// zt serve with a 1 s snapshot interval: ingest clicks, SIGKILL after a snapshot, restart, ingest more; the
    /// realtime counters then equal a recount of the log — nothing lost, nothing counted twice.
    /// </summary>
    [Fact]
    public async Task Sigkill_ThenRestart_RealtimeCountersEqualTheLog()
    {
        using var dir = new TempDirectory();
        string token;
        await using (var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path }))
        {
            token = host.Apps.Create("rt", scopes: ["ingest", "serve", "manage"]).Token;
        }

        var environment = new Dictionary<string, string> { ["ZT__REALTIME__SNAPSHOTSECONDS"] = "1", ["ZT__SCHEDULES__0__CRON"] = "0 0 1 1 *" };
        var snapshot = Path.Combine(dir.Path, "projects", "default", "realtime", "state.bin");
        var batch = 0;

        async Task IngestAsync(Uri address, int batches)
        {
            using var client = new HttpClient { BaseAddress = address };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            for (var b = 0; b < batches; b++, batch++)
            {
                var now = TimeProvider.System.GetUtcNow().AddSeconds(-1).ToString("O");
                var body = "[" + string.Join(",", Enumerable.Range(0, 100).Select(i => $$"""{"id":"k{{batch}}-{{i}}","type":"click","userId":"u{{i % 17}}","itemId":"i{{(i * 7 + batch) % 23}}","timestamp":"{{now}}"}""")) + "]";
                (await client.PostAsync("/v1/events", new StringContent(body))).EnsureSuccessStatusCode();
            }
        }

        var (first, firstAddress) = await ZtProcess.ServeAsync(dir.Path, environment);
        using (first)
        {
            await IngestAsync(firstAddress, 20);
            for (var i = 0; i < 100 && !File.Exists(snapshot); i++)
            {
                await Task.Delay(100);
            }

            await IngestAsync(firstAddress, 10); // some of these are applied but not yet snapshotted when the kill lands
            first.Kill();
        }

        Assert.True(File.Exists(snapshot), "no snapshot was published before the kill");
        var (second, secondAddress) = await ZtProcess.ServeAsync(dir.Path, environment);
        using (second)
        {
            await IngestAsync(secondAddress, 10);
            await Task.Delay(2500); // at least one more snapshot after catching up
            second.Kill();
        }

        await using var check = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var log = check.Project().Events;
        RealtimeState state;
        using (var fs = File.OpenRead(snapshot))
        {
            state = RealtimeState.Load(fs, new RealtimeOptions());
        }

        Assert.Equal(log.NextOffset, state.NextOffset);
        Assert.Equal(log.Count, state.EventsApplied);
        var clicks = log.ReadEvents(0).GroupBy(e => e.Event.ItemId!).ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.Equal(clicks.OrderBy(kv => kv.Key, StringComparer.Ordinal), state.Items.Select(kv => new KeyValuePair<string, long>(kv.Key, kv.Value.Clicks)).OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }
}
