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
    public async Task OnDemand_AResultServesAnyQuotaUpToItsOwn_AndALargerQuotaSearchesAgain()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var (project, engine) = await SetUpAsync(host, new ServingOptions { LogExposures = false, VectorPrecomputeUsers = 0 });
        var rng = new Random(3);
        project.Models.Promote("als", Register(project, Users, 60, rng).Version);
        await engine.LoadModelAsync();
        var v1 = engine.LoadedModel()!;
        Assert.Empty(v1.UserResults);
        foreach (var user in Users[..5])
        {
            await engine.RecommendAsync(new RecommendRequest { UserId = user, Count = 20 });
        }

        Assert.Equal(5, v1.UserResults.Count);
        var u0 = project.UserIds.Find("u0");
        var cached = v1.UserResults[u0];
        Assert.Equal(20, cached.Quota);
        var narrow = await engine.RecommendAsync(new RecommendRequest { UserId = "u0", Scene = "narrow", Count = 100 });
        Assert.Equal(cached.Items[..10].Select(d => engine.Catalog[d].Id), narrow.Items.Select(i => i.ItemId));
        Assert.Same(cached, v1.UserResults[u0]);
        await engine.RecommendAsync(new RecommendRequest { UserId = "u0", Scene = "wide", Count = 100 });
        Assert.Equal(30, v1.UserResults[u0].Quota);

        project.Models.Promote("als", Register(project, Users, 60, rng).Version);
        await engine.LoadModelAsync();
        Assert.NotSame(v1, engine.LoadedModel());
        Assert.Empty(engine.LoadedModel()!.UserResults); // nothing precomputed
    }

    [Fact]
    public async Task Load_PrecomputesTheOutgoingVersionsUsersFirst_ThenTheNewestUsers_BeforeGoingLive()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var (project, engine) = await SetUpAsync(host, new ServingOptions { LogExposures = false, VectorPrecomputeUsers = 6 });
        var rng = new Random(5);
        project.Models.Promote("als", Register(project, Users, 60, rng).Version);
        await engine.LoadModelAsync();
        var v1 = engine.LoadedModel()!;
        int Id(string user) => project.UserIds.Find(user);
        // no outgoing version: the six newest users, at the largest vector quota of the scenes (wide: 30)
        Assert.Equal(Users[2..].Select(Id).Order(), v1.UserResults.Keys.Order());
        Assert.All(v1.UserResults.Values, r => Assert.Equal(30, r.Quota));
        AssertFresh(v1, engine);

        // u0 was not precomputed: its first request searches and caches it; u7's is served from the precomputed result
        var served = await engine.RecommendAsync(new RecommendRequest { UserId = "u7", Count = 20 });
        Assert.Equal(v1.UserResults[Id("u7")].Items[..20].Select(d => engine.Catalog[d].Id), served.Items.Select(i => i.ItemId));
        await engine.RecommendAsync(new RecommendRequest { UserId = "u0", Count = 20 });
        Assert.Equal(20, v1.UserResults[Id("u0")].Quota);

        // the promote: the seven users v1 had cached come first, but only six fit
        project.Models.Promote("als", Register(project, Users, 60, rng).Version);
        await engine.LoadModelAsync();
        var v2 = engine.LoadedModel()!;
        Assert.NotSame(v1, v2);
        Assert.Equal(6, v2.UserResults.Count);
        Assert.All(v2.UserResults, kv => Assert.Equal(v1.UserResults[kv.Key].Quota, kv.Value.Quota));
        Assert.DoesNotContain(Id("u1"), v2.UserResults.Keys); // never served by v1
        AssertFresh(v2, engine);
        var (someone, result) = v2.UserResults.First();
        Assert.NotEqual(v1.UserResults[someone].Items, result.Items); // the new factors' neighbours
    }

    [Fact]
    public async Task AResultWithItemsServingDoesNotKnowYet_IsNotCached_AndThoseItemsAreServedOnceKnown()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var (project, engine) = await SetUpAsync(host, new ServingOptions { LogExposures = false, VectorPrecomputeUsers = 8 });
        project.Models.Promote("als", Register(project, Users, 80, new Random(9)).Version); // i60..i79: not in serving's catalog yet
        await engine.LoadModelAsync();
        var v1 = engine.LoadedModel()!;
        Assert.Empty(v1.UserResults); // every user's nearest 30 of 80 hold some of the 20 unknown items: nothing precomputed short

        var before = await engine.RecommendAsync(new RecommendRequest { UserId = "u0", Count = 20 });
        Assert.True(before.Items.Count < 20);
        Assert.Empty(v1.UserResults);

        var now = host.Time.GetUtcNow();
        await project.Ingestor.IngestAsync([.. Enumerable.Range(60, 20).Select(i => new Event { Type = EventTypes.Item, ItemId = $"i{i}", Category = "c", Timestamp = now })],
            backfill: false, CancellationToken.None);
        engine.CatchUp();
        var after = await engine.RecommendAsync(new RecommendRequest { UserId = "u0", Count = 20 });
        Assert.Equal(20, after.Items.Count);
        Assert.Contains(after.Items, i => int.Parse(i.ItemId.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture) >= 60);
        Assert.True(v1.UserResults[project.UserIds.Find("u0")].Complete);
    }

    private static readonly string[] Users = [.. Enumerable.Range(0, 8).Select(u => $"u{u}")];

    /// <summary>Every cached result is what a search of the version at its quota gives now.</summary>
    private static void AssertFresh(LoadedRecallModel model, RecommendEngine engine)
    {
        var hits = new VectorHit[64];
        foreach (var (user, result) in model.UserResults)
        {
            var fresh = model.Nearest(user, result.Quota, hits, engine.Catalog);
            Assert.Equal(fresh.Items, result.Items);
            Assert.Equal(fresh.Scores, result.Scores);
        }
    }

    private static async Task<(Project, RecommendEngine)> SetUpAsync(ZhongtaiHost host, ServingOptions options)
    {
        var project = host.Project();
        var now = host.Time.GetUtcNow();
        await project.Ingestor.IngestAsync([.. Enumerable.Range(0, 60).Select(i => new Event { Type = EventTypes.Item, ItemId = $"i{i}", Category = "c", Timestamp = now })],
            backfill: false, CancellationToken.None);
        await File.WriteAllTextAsync(Path.Combine(project.Directory, "scenes.json"), """
            {"scenes": {
              "home": {"channels": [{"name": "vector", "quota": 20}], "parallel": false, "rankingModel": "none", "maxCount": 100, "rules": {"frequencyCap": null}},
              "wide": {"channels": [{"name": "vector", "quota": 30}], "parallel": false, "rankingModel": "none", "maxCount": 100, "rules": {"frequencyCap": null}},
              "narrow": {"channels": [{"name": "vector", "quota": 10}], "parallel": false, "rankingModel": "none", "maxCount": 100, "rules": {"frequencyCap": null}}}}
            """);
        var engine = new RecommendEngine(project, null, host.Options.Realtime, options, host.Time, host.Loggers);
        engine.CatchUp();
        engine.Scenes.Reload();
        return (project, engine);
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

}
