using Microsoft.Extensions.Logging.Abstractions;
using Zhongtai.Events;
using Zhongtai.Hosting;
using Zhongtai.Nearline;
using Zhongtai.Serving;
using Zhongtai.Tests.Support;
using Zhongtai.Training.Ranking;

namespace Zhongtai.Tests.Serving;

/// <summary>
/// The ranking stage reads the realtime FTRL model's weights itself (request-level features once, the user×category
/// feature once per category) and the category cap counts by category ordinal: both must give exactly what the model's
/// own prediction and the string-keyed cap gave.
/// </summary>
public class RankingParityTests
{
    [Fact]
    public async Task FtrlScores_AreExactlyTheModelsOwnPrediction_PlusTheRecallPrior()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var project = host.Project();
        var now = host.Time.GetUtcNow();
        var categories = new[] { "a", "b", "c", null };
        var events = new List<Event>();
        for (var i = 0; i < 40; i++)
        {
            events.Add(new Event { Type = EventTypes.Item, ItemId = $"i{i}", Category = categories[i % 4], Timestamp = now.AddMinutes(i - 120) });
        }

        // Served lists with clicks on some positions: the realtime model learns non-zero u, i, s, d, c and uc weights.
        var rng = new Random(11);
        for (var r = 0; r < 60; r++)
        {
            var user = $"u{r % 6}";
            var request = $"req-{r}";
            for (var p = 0; p < 5; p++)
            {
                var item = $"i{rng.Next(40)}";
                events.Add(new Event { Type = EventTypes.Exposure, UserId = user, ItemId = item, Scene = "home", Position = p, RequestId = request, Device = "ios", Timestamp = now.AddMinutes(-60 + r * 0.5) });
                if (rng.Next(3) == 0)
                {
                    events.Add(new Event { Type = EventTypes.Click, UserId = user, ItemId = item, RequestId = request, Device = "ios", Timestamp = now.AddMinutes(-60 + r * 0.5).AddSeconds(5) });
                }
            }
        }

        await project.Ingestor.IngestAsync([.. events], backfill: false, CancellationToken.None);
        var realtime = new RealtimeConsumer(project, host.Options.Realtime, host.Time, NullLogger.Instance);
        realtime.CatchUp();
        var ftrl = realtime.Read(s => s.Ftrl);
        Assert.True(ftrl.NonZeroWeights > 20, $"the model learned only {ftrl.NonZeroWeights} weights");

        var engine = new RecommendEngine(project, realtime, host.Options.Realtime, new ServingOptions { LogExposures = false }, host.Time, host.Loggers);
        engine.CatchUp();
        await File.WriteAllTextAsync(Path.Combine(project.Directory, "scenes.json"), """
            {"scenes": {"home": {"channels": [{"name": "fresh", "quota": 40}], "rules": {"frequencyCap": null}, "maxCount": 100}}}
            """);
        engine.Scenes.Reload();

        var hasher = new FeatureHasher(host.Options.Realtime.FtrlBits, seed: 7);
        foreach (var (user, device) in new[] { ("u1", "ios"), ("u4", (string?)null), ("stranger", "web") })
        {
            var served = await engine.RecommendAsync(new RecommendRequest { UserId = user, Scene = "home", Count = 40, Device = device });
            Assert.True(served.Items.Count >= 20, $"{user}: {served.Items.Count} items");
            // fresh: newest first, so item k has recall rank 39 - k; every candidate came from one channel and all are served
            static int Number(string id) => int.Parse(id.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
            var maxPrior = served.Items.Max(i => 1f / (60 + (39 - Number(i.ItemId))));
            foreach (var item in served.Items)
            {
                var k = Number(item.ItemId);
                var category = categories[k % 4] ?? "";
                int[] indices =
                [
                    hasher.Index("u", user), hasher.Index("i", item.ItemId), hasher.Index("s", "home"), hasher.Index("p", ""),
                    hasher.Index("d", device ?? ""), hasher.Index("c", category), hasher.Index("uc", user + "\u0001" + category),
                ];
                var margin = ftrl.PredictMargin(new SparseSample(indices, [1, 1, 1, 1, 1, 1, 1]));
                var prior = 1f / (60 + (39 - k));
                var expected = (float)(1 / (1 + Math.Exp(-margin))) + (1e-3f * prior * (1f / maxPrior));
                Assert.Equal(expected, item.Score);
            }

            Assert.Equal(served.Items.OrderByDescending(i => i.Score).Select(i => i.ItemId), served.Items.Select(i => i.ItemId));
        }
    }

    [Fact]
    public async Task ItemWeightSnapshot_EqualsThePrediction_AtRefresh_WhileUserWeightsStayLive()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var project = host.Project();
        var now = host.Time.GetUtcNow();
        var categories = new[] { "a", "b", "c", null };
        var events = new List<Event>();
        for (var i = 0; i < 40; i++)
        {
            events.Add(new Event { Type = EventTypes.Item, ItemId = $"i{i}", Category = categories[i % 4], Timestamp = now.AddMinutes(i - 120) });
        }

        var rng = new Random(17);
        List<Event> ServedLists(int lists, string userPrefix, int minutes)
        {
            var served = new List<Event>();
            for (var r = 0; r < lists; r++)
            {
                var user = $"{userPrefix}{r % 6}";
                var request = $"req-{userPrefix}-{minutes}-{r}";
                for (var p = 0; p < 5; p++)
                {
                    var item = $"i{rng.Next(40)}";
                    served.Add(new Event { Type = EventTypes.Exposure, UserId = user, ItemId = item, Scene = "home", Position = p, RequestId = request, Device = "ios", Timestamp = now.AddMinutes(-minutes + r * 0.1) });
                    if (rng.Next(3) == 0)
                    {
                        served.Add(new Event { Type = EventTypes.Click, UserId = user, ItemId = item, RequestId = request, Device = "ios", Timestamp = now.AddMinutes(-minutes + r * 0.1).AddSeconds(5) });
                    }
                }
            }

            return served;
        }

        events.AddRange(ServedLists(60, "u", 60));
        await project.Ingestor.IngestAsync([.. events], backfill: false, CancellationToken.None);
        var realtime = new RealtimeConsumer(project, host.Options.Realtime, host.Time, NullLogger.Instance);
        realtime.CatchUp();
        var ftrl = realtime.Read(s => s.Ftrl);
        var engine = new RecommendEngine(project, realtime, host.Options.Realtime, new ServingOptions { LogExposures = false }, host.Time, host.Loggers);
        engine.CatchUp();
        await File.WriteAllTextAsync(Path.Combine(project.Directory, "scenes.json"), """
            {"scenes": {"home": {"channels": [{"name": "fresh", "quota": 40}], "rules": {"frequencyCap": null}, "maxCount": 100}}}
            """);
        engine.Scenes.Reload();
        Assert.True(engine.RefreshRankWeights());
        Assert.False(engine.RefreshRankWeights()); // nothing learned, catalog unchanged: kept

        var hasher = new FeatureHasher(host.Options.Realtime.FtrlBits, seed: 7);
        static int Number(string id) => int.Parse(id.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
        double ItemPart(int k) => (double)ftrl.Weight(hasher.Index("i", $"i{k}")) + ftrl.Weight(hasher.Index("c", categories[k % 4] ?? ""));
        double RequestPart(string user, string? device, int k) =>
            ftrl.Bias + (double)ftrl.Weight(hasher.Index("u", user)) + ftrl.Weight(hasher.Index("s", "home")) + ftrl.Weight(hasher.Index("p", ""))
            + ftrl.Weight(hasher.Index("d", device ?? ""));
        double UserCategory(string user, int k) => ftrl.Weight(hasher.Index("uc", user + "\u0001" + (categories[k % 4] ?? "")));

        async Task AssertScoresAsync(Func<int, double> itemPart)
        {
            foreach (var (user, device) in new[] { ("u1", "ios"), ("u4", (string?)null), ("stranger", "web") })
            {
                var served = await engine.RecommendAsync(new RecommendRequest { UserId = user, Scene = "home", Count = 40, Device = device });
                Assert.True(served.Items.Count >= 20, $"{user}: {served.Items.Count} items");
                var maxPrior = served.Items.Max(i => 1f / (60 + (39 - Number(i.ItemId))));
                foreach (var item in served.Items)
                {
                    var k = Number(item.ItemId);
                    var margin = RequestPart(user, device, k) + itemPart(k) + UserCategory(user, k);
                    var expected = (float)(1 / (1 + Math.Exp(-margin))) + (1e-3f * (1f / (60 + (39 - k))) * (1f / maxPrior));
                    Assert.Equal(expected, item.Score);
                    // the model's own prediction at refresh time: the same number up to the order of the double sum
                    if (itemPart == ItemPart)
                    {
                        int[] indices =
                        [
                            hasher.Index("u", user), hasher.Index("i", item.ItemId), hasher.Index("s", "home"), hasher.Index("p", ""),
                            hasher.Index("d", device ?? ""), hasher.Index("c", categories[k % 4] ?? ""), hasher.Index("uc", user + "\u0001" + (categories[k % 4] ?? "")),
                        ];
                        var own = (float)(1 / (1 + Math.Exp(-ftrl.PredictMargin(new SparseSample(indices, [1, 1, 1, 1, 1, 1, 1])))));
                        Assert.Equal(own + (1e-3f * (1f / (60 + (39 - k))) * (1f / maxPrior)), item.Score, 6);
                    }
                }
            }
        }

        await AssertScoresAsync(ItemPart);
        var atRefresh = Enumerable.Range(0, 40).Select(ItemPart).ToArray();

        // The model learns more (the same users, other clicks): the user-side weights move the very next ranking,
        // the item side stays at the snapshot until the next refresh.
        var before = ftrl.SamplesSeen;
        await project.Ingestor.IngestAsync([.. ServedLists(120, "u", 30)], backfill: false, CancellationToken.None);
        realtime.CatchUp();
        Assert.True(ftrl.SamplesSeen > before);
        Assert.Contains(Enumerable.Range(0, 40), k => Math.Abs(ItemPart(k) - atRefresh[k]) > 1e-4); // the item side did change
        await AssertScoresAsync(k => atRefresh[k]);

        Assert.True(engine.RefreshRankWeights());
        await AssertScoresAsync(ItemPart);
    }

    [Fact]
    public async Task CategoryCap_FollowsRecategorisedItems_AndNeverCapsItemsWithoutCategory()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var project = host.Project();
        var now = host.Time.GetUtcNow();
        await project.Ingestor.IngestAsync(
            [.. Enumerable.Range(0, 20).Select(i => new Event { Type = EventTypes.Item, ItemId = $"i{i}", Category = i < 10 ? "a" : "b", Timestamp = now.AddMinutes(i - 30) })],
            backfill: false, CancellationToken.None);
        var engine = new RecommendEngine(project, null, host.Options.Realtime, new ServingOptions { LogExposures = false }, host.Time, host.Loggers);
        engine.CatchUp();
        await File.WriteAllTextAsync(Path.Combine(project.Directory, "scenes.json"), """
            {"scenes": {"home": {"channels": [{"name": "fresh", "quota": 20}], "rankingModel": "none",
              "rules": {"diversity": {"method": "categoryCap", "maxPerCategory": 1}, "frequencyCap": null}}}}
            """);
        engine.Scenes.Reload();

        var before = await engine.RecommendAsync(new RecommendRequest { UserId = "x", Count = 5 });
        Assert.Equal(["i19", "i9", "i18", "i17", "i16"], before.Items.Select(i => i.ItemId)); // one per category, then score order

        // i18 moves to a category never seen before, i17 loses its category (never capped)
        await project.Ingestor.IngestAsync(
            [
                new Event { Type = EventTypes.Item, ItemId = "i18", Category = "c", Timestamp = now },
                new Event { Type = EventTypes.Item, ItemId = "i17", Timestamp = now },
            ],
            backfill: false, CancellationToken.None);
        engine.CatchUp();
        var after = await engine.RecommendAsync(new RecommendRequest { UserId = "x", Count = 5 });
        Assert.Equal(["i19", "i18", "i17", "i9", "i16"], after.Items.Select(i => i.ItemId));

        var two = await engine.RecommendAsync(new RecommendRequest { UserId = "x", Count = 7 });
        Assert.Equal(["i19", "i18", "i17", "i9", "i16", "i15", "i14"], two.Items.Select(i => i.ItemId));

        // a deleted item leaves (the hot fields follow the catalog), and comes back when described again
        await project.Ingestor.IngestAsync([new Event { Type = EventTypes.Item, ItemId = "i19", Deleted = true, Timestamp = now }], backfill: false, CancellationToken.None);
        engine.CatchUp();
        Assert.Equal(["i18", "i17", "i16", "i9", "i15"], (await engine.RecommendAsync(new RecommendRequest { UserId = "x", Count = 5 })).Items.Select(i => i.ItemId));
        await project.Ingestor.IngestAsync([new Event { Type = EventTypes.Item, ItemId = "i19", Category = "a", Timestamp = now }], backfill: false, CancellationToken.None);
        engine.CatchUp();
        Assert.Equal(["i19", "i18", "i17", "i16", "i15"], (await engine.RecommendAsync(new RecommendRequest { UserId = "x", Count = 5 })).Items.Select(i => i.ItemId));
    }
}
