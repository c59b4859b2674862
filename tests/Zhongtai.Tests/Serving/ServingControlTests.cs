using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Zhongtai.Hosting;
using Zhongtai.Serving;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Serving;

public class ServingControlTests
{
    [Fact]
    public async Task BlockedAndFlaggedItems_NeverAppear_OverRandomRequests_EvenWhenPinned()
    {
        await using var world = await ServingWorld.StartAsync();
        await world.SeedAsync();
        var dir = world.Project.Directory;
        await File.WriteAllTextAsync(Path.Combine(dir, "scenes.json"), """
            {
              // home blocks s2 and pins it (a block wins over a pin); b6 is pinned first
              "scenes": {
                "home": {
                  "channels": [ {"name": "i2i"}, {"name": "popular", "quota": 50}, {"name": "graph"}, {"name": "fresh"}, {"name": "inverted"} ],
                  "rules": { "block": ["s2"], "pin": {"s2": 0, "b6": 0}, "frequencyCap": null }
                },
                "detail": {
                  "channels": [ {"name": "i2i"}, {"name": "popular"}, {"name": "graph"} ],
                  "rules": { "diversity": {"method": "mmr", "lambda": 0.5}, "frequencyCap": null }
                }
              }
            }
            """);
        Directory.CreateDirectory(Path.Combine(dir, "risk"));
        await File.WriteAllLinesAsync(Path.Combine(dir, "risk", "flagged-items.txt"), ["# from anti-cheat", "b1", "d2  # promoted_by_flagged_accounts"]);
        await ServingWorld.WaitForAsync(async () =>
        {
            var r = await world.RecommendAsync(new { userId = "probe", scene = "home", count = 10 });
            return r.Ids.Count > 0 && r.Ids[0] == "b6" && !r.Ids.Contains("b1");
        }, "the scenes and flagged files to load");

        var rng = new Random(1234);
        string[] users = ["u1", "v1", "w2", "p3", "nobody", "u9"];
        string?[] categories = [null, null, "shoes", "dress", "books"];
        for (var i = 0; i < 60; i++)
        {
            var scene = rng.Next(2) == 0 ? "home" : "detail";
            var count = rng.Next(1, 30);
            var category = categories[rng.Next(categories.Length)];
            var served = await world.RecommendAsync(new { userId = users[rng.Next(users.Length)], scene, count, filters = new { category } });
            Assert.DoesNotContain("b1", served.Ids);
            Assert.DoesNotContain("d2", served.Ids);
            Assert.DoesNotContain("s2", served.Ids.Where(_ => scene == "home"));
            Assert.True(served.Items.Count <= count);
            Assert.Equal(served.Ids.Count, served.Ids.Distinct().Count());
            Assert.All(served.Ids, id => Assert.True(category is null || id[0] == category[0], $"{id} is not in {category}"));
        }

        var similar = Served.Parse(await world.Client.GetStringAsync("/v1/items/d1/similar?count=20"));
        Assert.DoesNotContain("d2", similar.Ids); // flagged items are filtered from similar-items too
    }

    [Fact]
    public async Task ScenesFile_ReloadsWithoutRestart_AndABadFileKeepsTheOldScenes()
    {
        await using var world = await ServingWorld.StartAsync();
        await world.SeedAsync();
        var path = Path.Combine(world.Project.Directory, "scenes.json");
        await File.WriteAllTextAsync(path, """{"scenes": {"feed": {"channels": [{"name": "popular", "quota": 10}], "maxCount": 5, "defaultCount": 5}}}""");
        await ServingWorld.WaitForAsync(async () =>
        {
            using var r = await world.Client.PostAsJsonAsync("/v1/recommend", new { userId = "a", scene = "feed" });
            return r.StatusCode == HttpStatusCode.OK;
        }, "the new scene");
        using (var gone = await world.Client.PostAsJsonAsync("/v1/recommend", new { userId = "a", scene = "home" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, gone.StatusCode); // the file replaced the built-in scenes
        }

        using (var tooMany = await world.Client.PostAsJsonAsync("/v1/recommend", new { userId = "a", scene = "feed", count = 6 }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        }

        await File.WriteAllTextAsync(path, """{"scenes": {"feed": {"channels": [{"name": "telepathy"}]}}}""");
        await Task.Delay(500);
        var still = await world.RecommendAsync(new { userId = "a", scene = "feed", count = 5 });
        Assert.Equal(5, still.Items.Count);
    }

    [Fact]
    public void SceneSet_Parse_ReportsEveryProblem()
    {
        var ex = Assert.Throws<SceneConfigException>(() => SceneSet.Parse("""
            {"scenes": {"a": {"channels": [{"name": "x"}, {"name": "popular", "quota": 0}], "rankingModel": "gbdt",
                              "rules": {"diversity": {"method": "shuffle"}, "pin": {"i": -1}}}}}
            """u8));
        Assert.Contains(ex.Errors, e => e.Contains("unknown channel 'x'", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.Contains("quota", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.Contains("rankingModel", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.Contains("diversity.method", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.Contains("pin position", StringComparison.Ordinal));
        Assert.Throws<SceneConfigException>(() => SceneSet.Parse("{\"scenes\": {\"a\": {\"chanels\": []}}}"u8)); // unknown field
        Assert.Empty(SceneSet.Default().Validate());
    }

    [Fact]
    public async Task HotRelease_PromoteAndRollbackUnderLoad_NoFailedRequests_AndVersionsSwitch()
    {
        await using var world = await ServingWorld.StartAsync();
        await world.SeedAsync();
        var v1 = world.RegisterFactors(new() { ["u1"] = [1, 0, 0, 0] }, new() { ["d5"] = [1, 0, 0, 0] });
        var v2 = world.RegisterFactors(new() { ["u1"] = [0, 1, 0, 0] }, new() { ["b5"] = [0, 1, 0, 0] });
        world.Project.Models.Promote("als", v1.Version);
        await ServingWorld.WaitForAsync(async () => (await world.RecommendAsync(new { userId = "u1", scene = "detail" })).Models.Contains("als@v1"), "v1");

        using var stop = new CancellationTokenSource();
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var failures = 0;
        var requests = 0;
        var hammers = Enumerable.Range(0, 4).Select(h => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await world.Client.PostAsJsonAsync("/v1/recommend", new { userId = "u1", scene = "detail", count = 10 });
                Interlocked.Increment(ref requests);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref failures);
                    continue;
                }

                var served = Served.Parse(await response.Content.ReadAsStringAsync());
                foreach (var m in served.Models.Where(m => m.StartsWith("als@", StringComparison.Ordinal)))
                {
                    seen.AddOrUpdate(m, 1, (_, c) => c + 1);
                }

                if (served.From("vector").Contains("b5") && !served.Models.Contains("als@v2"))
                {
                    Interlocked.Increment(ref failures); // a v2 neighbour labelled with another version
                }
            }
        })).ToArray();

        async Task SwitchAsync(string path, object? body, string expect)
        {
            using var r = await world.Client.PostAsJsonAsync(path, body ?? new { });
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            await ServingWorld.WaitForAsync(async () =>
            {
                var served = await world.RecommendAsync(new { userId = "u1", scene = "detail" });
                return served.Models.Contains(expect);
            }, expect);
        }

        await SwitchAsync("/v1/models/als/promote", new { version = v2.Version }, "als@v2");
        await SwitchAsync("/v1/models/als/rollback", null, "als@v1");
        await SwitchAsync("/v1/models/als/promote", new { version = v2.Version }, "als@v2");
        await stop.CancelAsync();
        await Task.WhenAll(hammers);
        Assert.Equal(0, failures);
        Assert.True(requests > 20, $"only {requests} requests");
        Assert.Contains("als@v1", seen.Keys);
        Assert.Contains("als@v2", seen.Keys);
    }

    [Fact]
    public async Task ExperimentBucket_OverridesTheScene_AndIsRecorded()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var project = host.Project();
        var now = host.Time.GetUtcNow();
        await project.Ingestor.IngestAsync(
            [.. Enumerable.Range(0, 20).Select(i => new Zhongtai.Events.Event { Type = "item", ItemId = $"i{i}", Category = i < 10 ? "a" : "b", Timestamp = now.AddMinutes(i - 30) })],
            backfill: false, CancellationToken.None);
        var engine = new RecommendEngine(project, null, host.Options.Realtime, new ServingOptions { LogExposures = false }, host.Time, host.Loggers)
        {
            Experiments = new Buckets(),
        };
        engine.CatchUp();
        await File.WriteAllTextAsync(Path.Combine(project.Directory, "scenes.json"), """
            {"scenes": {"home": {"channels": [{"name": "fresh", "quota": 20}], "rankingModel": "none"}}}
            """);
        engine.Scenes.Reload();

        var control = await engine.RecommendAsync(new RecommendRequest { UserId = "even-0", Count = 5 });
        Assert.Equal("exp1:control", control.Bucket);
        Assert.Equal(["i19", "i18", "i17", "i16", "i15"], control.Items.Select(i => i.ItemId));

        var treatment = await engine.RecommendAsync(new RecommendRequest { UserId = "odd-1", Count = 5 });
        Assert.Equal("exp1:capped", treatment.Bucket);
        Assert.Equal(["i19", "i9"], treatment.Items.Take(2).Select(i => i.ItemId)); // one per category first, then the rest
        Assert.Equal(["i19", "i9", "i18", "i17", "i16"], treatment.Items.Select(i => i.ItemId)); // filled in score order
    }

    [Fact]
    public async Task ExperimentsFile_SplitsTrafficByItsWeights_AndTheBucketReachesResponseAndExposures()
    {
        await using var world = await ServingWorld.StartAsync();
        await world.SeedAsync();
        await File.WriteAllTextAsync(Path.Combine(world.Project.Directory, "experiments.json"), """
            {"experiments": [
              {"id": "unranked", "scenes": ["home"], "buckets": [
                {"name": "control", "weight": 0.7},
                {"name": "none", "weight": 0.3, "rules": {"rankingModel": "none"}}]},
              {"id": "aa", "layer": "other", "scenes": ["*"], "buckets": [{"name": "a", "weight": 0.5}, {"name": "b", "weight": 0.5}]}
            ]}
            """);
        await ServingWorld.WaitForAsync(async () => (await world.RecommendAsync(new { userId = "u1", count = 3 })).Bucket is not null, "the experiments file to load");

        var buckets = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < 400; i++)
        {
            var served = await world.RecommendAsync(new { userId = $"x{i}", count = 3 });
            var label = Assert.IsType<string>(served.Bucket);
            var parts = label.Split(',');
            Assert.Equal(2, parts.Length); // one bucket per layer
            buckets[parts[0]] = buckets.GetValueOrDefault(parts[0]) + 1;
            Assert.Equal(parts[0] == "unranked:none", !served.Models.Any(m => m.StartsWith("ftrl", StringComparison.Ordinal)));
        }

        Assert.InRange(buckets["unranked:none"], 400 * 0.3 - 40, 400 * 0.3 + 40); // ±4.4 standard deviations
        var last = await world.RecommendAsync(new { userId = "x7", count = 2 });
        await ServingWorld.WaitForAsync(async () =>
        {
            var page = JsonDocument.Parse(await world.Client.GetStringAsync("/v1/events?limit=10000")).RootElement;
            return page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("event"))
                .Any(e => e.TryGetProperty("requestId", out var r) && r.GetString() == last.RequestId
                    && e.GetProperty("properties").GetProperty("bucket").GetString() == last.Bucket);
        }, "an exposure carrying the bucket");
    }

    private sealed class Buckets : IExperimentAssigner
    {
        public ExperimentAssignment? Assign(string userId, string scene) => userId.StartsWith("odd", StringComparison.Ordinal)
            ? new ExperimentAssignment("exp1", "capped", new SceneOverride { Rules = new RerankRules { Diversity = new DiversityRule { MaxPerCategory = 1 }, FrequencyCap = null } })
            : new ExperimentAssignment("exp1", "control");
    }
}
