using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using Zhongtai.Hosting;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Server;

public class CrashTests
{
    /// <summary>
    /// Starts zt serve as a child process, ingests from several clients, SIGKILLs it mid-stream, restarts it,
    /// and checks that every acknowledged event is readable and no record is corrupt — twice over.
    /// </summary>
    [Fact]
    public async Task Sigkill_DuringConcurrentIngest_LosesNoAcknowledgedEvent()
    {
        using var dir = new TempDirectory();
        string token;
        await using (var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path }))
        {
            token = host.Apps.Create("crash", scopes: ["ingest", "manage"]).Token;
        }

        var acknowledged = new ConcurrentDictionary<string, long>();
        for (var round = 0; round < 2; round++)
        {
            var (zt, address) = await ZtProcess.ServeAsync(dir.Path);
            using (zt)
            {
                using var stop = new CancellationTokenSource();
                var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
                {
                    using var client = new HttpClient { BaseAddress = address };
                    client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
                    for (var batch = 0; !stop.IsCancellationRequested; batch++)
                    {
                        var ids = Enumerable.Range(0, 50).Select(i => $"r{round}-w{w}-b{batch}-{i}").ToList();
                        var now = TimeProvider.System.GetUtcNow().AddSeconds(-1).ToString("O");
                        var body = "[" + string.Join(",", ids.Select(id => $$"""{"id":"{{id}}","type":"click","userId":"u{{w}}","itemId":"i{{batch}}","timestamp":"{{now}}"}""")) + "]";
                        try
                        {
                            var response = await client.PostAsync("/v1/events", new StringContent(body));
                            if (!response.IsSuccessStatusCode)
                            {
                                continue;
                            }

                            var offsets = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("offsets").EnumerateArray().Select(o => o.GetInt64()).ToList();
                            for (var i = 0; i < ids.Count; i++)
                            {
                                acknowledged[ids[i]] = offsets[i];
                            }
                        }
                        catch (HttpRequestException)
                        {
                            return; // the server died mid-request: that batch was never acknowledged
                        }
                    }
                })).ToArray();

                var target = acknowledged.Count + 2_000;
                var waited = 0;
                while (acknowledged.Count < target && waited++ < 300)
                {
                    await Task.Delay(20);
                }

                zt.Kill();
                await stop.CancelAsync();
                await Task.WhenAll(writers);
            }
        }

        Assert.True(acknowledged.Count >= 4_000, $"only {acknowledged.Count} events were acknowledged");
        var (restarted, restartedAddress) = await ZtProcess.ServeAsync(dir.Path);
        using (restarted)
        {
            using var client = new HttpClient { BaseAddress = restartedAddress };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var stored = new Dictionary<string, long>();
            long from = 0;
            while (true)
            {
                var page = JsonDocument.Parse(await client.GetStringAsync($"/v1/events?from={from}&limit=10000")).RootElement;
                var events = page.GetProperty("events").EnumerateArray().ToList();
                if (events.Count == 0)
                {
                    break;
                }

                foreach (var e in events)
                {
                    stored[e.GetProperty("event").GetProperty("id").GetString()!] = e.GetProperty("offset").GetInt64();
                }

                from = page.GetProperty("nextOffset").GetInt64();
            }

            var missing = acknowledged.Where(a => !stored.TryGetValue(a.Key, out var offset) || offset != a.Value).Take(5).ToList();
            Assert.True(missing.Count == 0, $"acknowledged but not stored at its offset: {string.Join(", ", missing.Select(m => m.Key))}");
        }

        // Reading the whole log directly verifies every CRC: no record is corrupt.
        await using var check = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var log = check.Project().Events;
        Assert.Equal(log.Count, log.Read(0).LongCount());
    }
}
