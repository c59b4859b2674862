using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Zhongtai.Events;
using Zhongtai.Hosting;
using Zhongtai.Registry;
using Zhongtai.Samples;
using Zhongtai.Server;
using Zhongtai.Server.Api;
using Zhongtai.Training.Recall;

namespace Zhongtai.Cli.Bench;

/// <summary>
/// <c>zt bench serve</c>: a synthetic shop (100,000 items in 50 categories, 20,000 users whose clicks cluster, served
/// lists with clicks for the FTRL model), ALS trained on it and promoted, then the real server driven by wrk on
/// <c>POST /v1/recommend</c> (i2i + vector + popular, about 500 candidates ranked, category cap, frequency cap,
/// exposures logged back) and, as the ceiling, on <c>GET /healthz</c> — load generator on the same machine.
/// </summary>
internal static class ServeBench
{

    public sealed record Report(int Items, int Users, long Events, double IngestSeconds, double TrainSeconds, double ReadySeconds,
        int CandidatesPerRequest, long HeapBeforeServingBytes, long HeapServingBytes, long WorkingSetBytes, IReadOnlyList<WrkResult> Runs, string Note);

    public static async Task<Report> RunAsync(string directory, int items, int users, int seconds, int connections, bool logExposures, bool parallel, int warmupSeconds, int minWorkerThreads, Action<string> progress, CancellationToken ct)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);
        var options = new ZhongtaiOptions { DataDirectory = directory };
        options.Serving.LogExposures = logExposures;
        options.Serving.MinWorkerThreads = minWorkerThreads;
        await using var host = ZhongtaiHost.Open(options);
        var project = host.Project();
        var sw = Stopwatch.StartNew();
        var events = await SeedAsync(project, host.Time.GetUtcNow(), items, users, progress, ct);
        var ingestSeconds = sw.Elapsed.TotalSeconds;

        progress("training ALS (32 factors, 4 iterations) on the clicks and promoting it");
        sw.Restart();
        var interactions = InteractionsBuilder.Build(project.Events, project.UserIds, project.ItemIds, new InteractionOptions());
        var matrix = InteractionMatrix.FromArrays(interactions.Users, interactions.Items, interactions.Values, interactions.Timestamps, interactions.UserIds.Length, interactions.ItemIds.Length);
        var als = ImplicitAls.Train(matrix, new AlsOptions { Factors = 32, Iterations = 4 }, cancellationToken: ct);
        var version = project.Models.Register(new ModelRegistration("als", "ImplicitAls", FactorModelCodec.Format, "{}", [], new Dictionary<string, double>(), null, "bench"), FactorModelCodec.Serialize(als));
        project.Models.Promote("als", version.Version);
        var trainSeconds = sw.Elapsed.TotalSeconds;
        await File.WriteAllTextAsync(Path.Combine(project.Directory, "scenes.json"), """
            {
              "scenes": {
                "bench": {
                  "channels": [ {"name": "i2i", "quota": 200}, {"name": "vector", "quota": 200}, {"name": "popular", "quota": 200} ],
                  "parallel": PARALLEL,
                  "maxCandidates": 500,
                  "rules": { "diversity": {"method": "categoryCap", "maxPerCategory": 3}, "frequencyCap": {"maxExposures": 3, "windowHours": 24} }
                },
                "only-i2i": { "channels": [ {"name": "i2i", "quota": 200} ] },
                "only-vector": { "channels": [ {"name": "vector", "quota": 200} ] },
                "only-popular": { "channels": [ {"name": "popular", "quota": 200} ] },
                "unranked": { "channels": [ {"name": "i2i", "quota": 200}, {"name": "vector", "quota": 200}, {"name": "popular", "quota": 200} ], "rankingModel": "none" }
              }
            }
            """.Replace("PARALLEL", parallel ? "true" : "false", StringComparison.Ordinal), ct);

        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var token = host.Apps.Create("bench").Token;
        var port = Wrk.FreePort();
        var app = ZhongtaiServer.Build(host, [$"http://127.0.0.1:{port}"]);
        await app.StartAsync(ct);
        try
        {
            progress("waiting for the followers (realtime models, serving catalog, search index) and the HNSW build");
            sw.Restart();
            var engine = app.Services.GetRequiredService<RecommendService>().For(project.Name);
            var realtime = app.Services.GetRequiredService<RealtimeService>().For(project.Name);
            while (!ct.IsCancellationRequested && (engine.CatchUp() > 0 || realtime.Read(s => s.NextOffset) < project.Events.NextOffset))
            {
                await Task.Delay(200, ct);
            }

            await engine.LoadModelAsync(); // after the catalog caught up, as the server's own loop does: the precomputed vector results are complete

            var index = app.Services.GetRequiredService<SearchService>().For(project.Name);
            while (!ct.IsCancellationRequested && (index.Count < items || !engine.GraphReady))
            {
                await Task.Delay(500, ct); // let the search indexer and the graph build finish: measure serving, not start-up
            }

            engine.RefreshPopular();
            var probe = await engine.RecommendAsync(new Zhongtai.Serving.RecommendRequest { UserId = "u1", Scene = "bench", Count = 10 }, ct);
            var readySeconds = sw.Elapsed.TotalSeconds;
            progress($"ready in {readySeconds:F1} s; probe: models {string.Join(",", probe.Models)}, channels {string.Join(" ", probe.Items.SelectMany(i => i.Channels).Distinct())}");
            var candidates = CountCandidates(engine);
            for (var i = 0; i < 3000; i++)
            {
                await engine.RecommendAsync(new Zhongtai.Serving.RecommendRequest { UserId = $"u{1 + (i * 31 % users)}", Scene = "unranked", Count = 10 }, ct); // JIT warm-up
            }

            var inProcess = new List<(string, double, double)>();
            var profile = new Zhongtai.Serving.StageProfile();
            engine.Profile = profile;
            foreach (var scene in new[] { "bench", "only-i2i", "only-vector", "only-popular", "unranked" })
            {
                await engine.RecommendAsync(new Zhongtai.Serving.RecommendRequest { UserId = "u1", Scene = scene, Count = 10 }, ct);
                progress($"{scene}: {engine.LastCandidateCount} candidates for u1");
                profile.Reset();
                var times = new double[2000];
                for (var i = 0; i < times.Length; i++)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    await engine.RecommendAsync(new Zhongtai.Serving.RecommendRequest { UserId = $"u{1 + (i * 7919 % users)}", Scene = scene, Count = 10 }, ct);
                    times[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
                }

                Array.Sort(times);
                inProcess.Add((scene, times[times.Length / 2], times[(int)(times.Length * 0.99)]));
                progress($"in-process {scene}: p50 {times[times.Length / 2]:F0} µs, p99 {times[(int)(times.Length * 0.99)]:F0} µs; mean per stage: {profile}");
            }

            var heapServing = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;

            var runs = new List<WrkResult>();
            using var gcPhases = new GcPhases();
            if (!Wrk.Installed)
            {
                progress("wrk is not installed (apt-get install -y wrk): no HTTP measurement");
            }
            else
            {
                var script = Path.Combine(directory, "recommend.lua");
                await File.WriteAllTextAsync(script, $$$"""
                    math.randomseed(42)
                    wrk.method = "POST"
                    wrk.headers["Content-Type"] = "application/json"
                    wrk.headers["Authorization"] = "Bearer {{{token}}}"
                    request = function()
                      local n = math.random({{{users + (users / 20)}}})
                      local body = '{"userId":"u' .. n .. '","scene":"bench","count":10,"context":{"device":"ios"}}'
                      return wrk.format(nil, "/v1/recommend", nil, body)
                    end
                    """, ct);
                // Warm-up traffic first: the first minute grows the per-user exposure rings (200 each: 20,000 users see
                // ~2.5 exposures/s each at 5,000 lists/s) and the realtime model's pending-exposure table (its cap is
                // reached after ~40 s) to their working size, which a long-running server has done long ago; growing
                // them allocates and promotes hundreds of MB.
                if (warmupSeconds > 0)
                {
                    progress($"wrk -t1 -c{connections} -d{warmupSeconds}s POST /v1/recommend: warm-up (not reported)");
                    await Wrk.RunAsync("warm-up", ["-s", script, $"http://127.0.0.1:{port}/v1/recommend"], connections, warmupSeconds, ct);
                }

                // The latency/throughput curve: a quarter and half of the connections first, then the full count.
                foreach (var c in new[] { connections / 4, connections / 2, connections }.Where(c => c >= 1).Distinct())
                {
                    progress($"wrk -t1 -c{c} -d{seconds}s POST /v1/recommend (5% unknown users)");
                    profile.Reset();
                    gcPhases.Reset();
                    var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                    var (gc0, gc1, gc2, pause0, allocated0) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration(), GC.GetTotalAllocatedBytes());
                    runs.Add(await Wrk.RunAsync("POST /v1/recommend", ["-s", script, $"http://127.0.0.1:{port}/v1/recommend"], c, seconds, ct));
                    var requests = Math.Max(1, profile.Requests);
                    var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMicroseconds / requests;
                    var lag = $"followers behind the log at the end: serving {project.Events.NextOffset - engine.Catalog.NextOffset:N0}, realtime {project.Events.NextOffset - realtime.Read(s => s.NextOffset):N0} events";
                    progress($"-c{c}: {runs[^1].RequestsPerSecond:N0} req/s, p50 {runs[^1].P50}, p99 {runs[^1].P99}; {lag}; server process CPU {cpu:F0} µs per request (followers and exposure ingest included); " +
                        $"GC: {(GC.GetTotalAllocatedBytes() - allocated0) / requests / 1024.0:F0} KB allocated per request, gen0/1/2 {GC.CollectionCount(0) - gc0}/{GC.CollectionCount(1) - gc1}/{GC.CollectionCount(2) - gc2}, paused {(GC.GetTotalPauseDuration() - pause0).TotalMilliseconds:F0} ms " +
                        $"(last ephemeral: {Ephemeral()}; phases: {gcPhases}); engine mean per stage (wall): {profile}");
                }

                progress($"wrk -t1 -c{connections} -d{seconds}s GET /healthz (the server's ceiling on this machine)");
                runs.Add(await Wrk.RunAsync("GET /healthz", [$"http://127.0.0.1:{port}/healthz"], connections, seconds, ct));
            }

            return new Report(items, users, events, ingestSeconds, trainSeconds, readySeconds, candidates, heapBefore, heapServing,
                Process.GetCurrentProcess().WorkingSet64, runs,
                $"2 cores shared by server, its followers (realtime, search, serving), exposure logging{(logExposures ? "" : " (off)")} and wrk; channels {(parallel ? "in parallel" : "one after another")}; " +
                $"warm-up {warmupSeconds} s, Serving:MinWorkerThreads {minWorkerThreads}");
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    /// <summary>The last ephemeral collection: its generation, pause, promoted bytes and heap size (what a pause is made of).</summary>
    private static string Ephemeral()
    {
        var info = GC.GetGCMemoryInfo(GCKind.Ephemeral);
        return $"gen{info.Generation} {info.PauseDurations[0].TotalMilliseconds:F1} ms, promoted {info.PromotedBytes / 1e6:F1} MB, heap {info.HeapSizeBytes / 1e6:F0} MB";
    }

    /// <summary>Merged candidates after filters of the probe request (what the ranker scores per request).</summary>
    private static int CountCandidates(Zhongtai.Serving.RecommendEngine engine) => engine.LastCandidateCount;

    private static async Task<long> SeedAsync(Project project, DateTimeOffset now, int itemCount, int userCount, Action<string> progress, CancellationToken ct)
    {
        var rng = new Random(42);
        var batch = new List<Event>(10_000);
        long total = 0;

        async Task FlushAsync()
        {
            if (batch.Count > 0)
            {
                await project.Ingestor.IngestAsync(batch.ToArray(), backfill: true, ct);
                total += batch.Count;
                batch.Clear();
            }
        }

        progress($"ingesting {itemCount:N0} items");
        var start = now.AddHours(-30);
        for (var i = 0; i < itemCount; i++)
        {
            batch.Add(new Event
            {
                Type = EventTypes.Item,
                ItemId = $"i{i}",
                Title = $"item {i} of category {i % 50}",
                Category = $"c{i % 50}",
                Tags = [$"t{i % 500}", $"t{(i * 7) % 500}"],
                Timestamp = start.AddSeconds(i % 3600),
            });
            if (batch.Count == 10_000)
            {
                await FlushAsync();
            }
        }

        await FlushAsync();
        progress($"ingesting behaviour of {userCount:N0} users (clicks clustered in 200 tastes; 2 served lists each with 2 clicks)");
        const int clusters = 200;
        for (var u = 0; u < userCount; u++)
        {
            var user = $"u{u + 1}";
            var cluster = u % clusters;
            var t = start.AddHours(1 + rng.NextDouble() * 20);
            for (var c = 0; c < 10; c++)
            {
                var item = (rng.Next(itemCount / clusters) * clusters) + cluster;
                batch.Add(new Event { Type = EventTypes.Click, UserId = user, ItemId = $"i{item}", Timestamp = t = t.AddSeconds(30) });
            }

            for (var r = 0; r < 2; r++)
            {
                var request = $"seed-{u}-{r}";
                for (var p = 0; p < 10; p++)
                {
                    var item = rng.Next(2) == 0 ? (rng.Next(itemCount / clusters) * clusters) + cluster : rng.Next(itemCount);
                    batch.Add(new Event { Type = EventTypes.Exposure, UserId = user, ItemId = $"i{item}", Scene = "bench", Position = p, RequestId = request, Device = "ios", Timestamp = t });
                    if (p % 5 == 1)
                    {
                        batch.Add(new Event { Type = EventTypes.Click, UserId = user, ItemId = $"i{item}", RequestId = request, Device = "ios", Timestamp = t.AddSeconds(5 + p) });
                    }
                }

                t = t.AddMinutes(10);
            }

            if (batch.Count >= 10_000)
            {
                await FlushAsync();
            }
        }

        await FlushAsync();
        return total;
    }
}
