using Zhongtai.Events;
using Zhongtai.Hosting;
using Zhongtai.Indexing.Vector;
using Zhongtai.Registry;
using Zhongtai.Serving;
using Zhongtai.Tests.Support;
using Zhongtai.Training.Recall;

namespace Zhongtai.Tests.Serving;

/// <summary>
/// The vector channel's per-user cache: a result serves any quota up to the one it was searched for, and a promote
/// searches the new version for the users the outgoing one had cached before it is swapped in.
/// </summary>
public class VectorCacheTests
{
    [Fact]
    public async Task Promote_WarmsTheNewVersionsCache_ForTheUsersTheOldOneServed()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var project = host.Project();
        var now = host.Time.GetUtcNow();
        await project.Ingestor.IngestAsync([.. Enumerable.Range(0, 60).Select(i => new Event { Type = EventTypes.Item, ItemId = $"i{i}", Category = "c", Timestamp = now })],
            backfill: false, CancellationToken.None);
        var engine = new RecommendEngine(project, null, host.Options.Realtime, new ServingOptions { LogExposures = false }, host.Time, host.Loggers);
        engine.CatchUp();
        await File.WriteAllTextAsync(Path.Combine(project.Directory, "scenes.json"), """
            {"scenes": {
              "home": {"channels": [{"name": "vector", "quota": 20}], "parallel": false, "rankingModel": "none", "maxCount": 100, "rules": {"frequencyCap": null}},
              "wide": {"channels": [{"name": "vector", "quota": 30}], "parallel": false, "rankingModel": "none", "maxCount": 100, "rules": {"frequencyCap": null}},
              "narrow": {"channels": [{"name": "vector", "quota": 10}], "parallel": false, "rankingModel": "none", "maxCount": 100, "rules": {"frequencyCap": null}}}}
            """);
        engine.Scenes.Reload();

        var rng = new Random(3);
        string[] users = [.. Enumerable.Range(0, 8).Select(u => $"u{u}")];
        Promote(project, Register(project, users, 60, rng));
        await engine.LoadModelAsync();
        var v1 = engine.LoadedModel()!;
        foreach (var user in users[..5])
        {
            await engine.RecommendAsync(new RecommendRequest { UserId = user, Count = 20 });
        }

        Assert.Equal(5, v1.UserResults.Count);
        var u0 = project.UserIds.Find("u0");
        var cached = v1.UserResults[u0];

        // a smaller quota is served from the cached search (its prefix); a larger one searches again and replaces it
        var narrow = await engine.RecommendAsync(new RecommendRequest { UserId = "u0", Scene = "narrow", Count = 100 });
        Assert.Equal(cached.Items[..10].Select(d => engine.Catalog[d].Id), narrow.Items.Select(i => i.ItemId));
        Assert.Same(cached, v1.UserResults[u0]);
        await engine.RecommendAsync(new RecommendRequest { UserId = "u0", Scene = "wide", Count = 100 });
        Assert.Equal(30, v1.UserResults[u0].Quota);

        Promote(project, Register(project, users, 60, rng));
        await engine.LoadModelAsync();
        var v2 = engine.LoadedModel()!;
        Assert.NotSame(v1, v2);
        Assert.Equal(users[..5].Select(project.UserIds.Find).Order(), v2.UserResults.Keys.Order()); // warmed before the swap
        var hits = new VectorHit[64];
        foreach (var (user, result) in v2.UserResults)
        {
            var fresh = v2.Nearest(user, result.Quota, hits, engine.Catalog);
            Assert.Equal(v1.UserResults[user].Quota, result.Quota);
            Assert.Equal(fresh.Items, result.Items);
            Assert.Equal(fresh.Scores, result.Scores);
        }

        var served = await engine.RecommendAsync(new RecommendRequest { UserId = "u1", Count = 20 });
        Assert.Equal(v2.UserResults[project.UserIds.Find("u1")].Items.Select(d => engine.Catalog[d].Id), served.Items.Select(i => i.ItemId));
        Assert.NotEqual(v1.UserResults[project.UserIds.Find("u1")].Items, v2.UserResults[project.UserIds.Find("u1")].Items);
    }

    private static ModelVersion Register(Project project, string[] users, int items, Random rng, int factors = 4)
    {
        foreach (var id in users)
        {
            project.UserIds.GetOrAdd(id);
        }

        for (var i = 0; i < items; i++)
        {
            project.ItemIds.GetOrAdd($"i{i}");
        }

        project.UserIds.Flush();
        project.ItemIds.Flush();
        var u = new float[project.UserIds.Count * factors];
        var it = new float[project.ItemIds.Count * factors];
        for (var i = 0; i < u.Length; i++)
        {
            u[i] = (float)rng.NextDouble() - 0.5f;
        }

        for (var i = 0; i < it.Length; i++)
        {
            it[i] = (float)rng.NextDouble() - 0.5f;
        }

        Assert.Equal(items, project.ItemIds.Count);
        var model = new FactorModel("als", project.UserIds.Count, project.ItemIds.Count, factors, u, it, null);
        return project.Models.Register(
            new ModelRegistration("als", "test", FactorModelCodec.Format, "{}", [], new Dictionary<string, double>(), null, "test"),
            FactorModelCodec.Serialize(model));
    }

    private static void Promote(Project project, ModelVersion version) => project.Models.Promote("als", version.Version);
}
