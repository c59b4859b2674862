using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Zhongtai.Events;
using Zhongtai.Hosting;
using Zhongtai.Nearline;
using Zhongtai.Serving;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Serving;

public class PopularListsTests
{
    [Fact]
    public async Task PopularLists_AreTheTopOfTheFullSort_ByDecayedPopularityThenId_WithoutDeletedItems()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero)); // scores decay with the clock: keep it still
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path }, time);
        var project = host.Project();
        var now = host.Time.GetUtcNow();
        var categories = new[] { "a", "b", "c", null };
        var rng = new Random(5);
        var events = new List<Event>();
        for (var i = 0; i < 120; i++)
        {
            events.Add(new Event { Type = EventTypes.Item, ItemId = $"i{i}", Category = categories[i % 4], Timestamp = now.AddHours(-50) });
        }

        for (var i = 0; i < 120; i++)
        {
            // Pairs of items share a click pattern (equal scores: the id decides), others get random ones.
            var pattern = i < 40 ? i / 2 : i;
            var clicks = new Random(pattern).Next(0, 6);
            for (var c = 0; c < clicks; c++)
            {
                events.Add(new Event { Type = EventTypes.Click, UserId = $"u{rng.Next(30)}", ItemId = $"i{i}", Timestamp = now.AddHours(-48 + (pattern % 7) * 6 + c) });
            }
        }

        events.Add(new Event { Type = EventTypes.Item, ItemId = "i3", Deleted = true, Timestamp = now.AddHours(-1) });
        events.Add(new Event { Type = EventTypes.Click, UserId = "u1", ItemId = "ghost", Timestamp = now.AddHours(-1) }); // never in the catalog
        await project.Ingestor.IngestAsync([.. events], backfill: true, CancellationToken.None);
        var realtime = new RealtimeConsumer(project, host.Options.Realtime, host.Time, NullLogger.Instance);
        realtime.CatchUp();
        var engine = new RecommendEngine(project, realtime, host.Options.Realtime, new ServingOptions { LogExposures = false, PopularListSize = 7 }, host.Time, host.Loggers);
        engine.CatchUp();
        engine.RefreshPopular();

        var nowSeconds = now.ToUnixTimeSeconds();
        var halfLife = host.Options.Realtime.PopularityHalfLifeHours * 3600;
        var all = realtime.Read(s => s.Items.Select(kv => (Id: kv.Key, Score: kv.Value.Popularity * Math.Pow(2, -Math.Max(0, nowSeconds - kv.Value.LastSeconds) / halfLife), kv.Value.Category)).ToList())
            .Where(x => engine.Catalog.Find(x.Id) is var d && d >= 0 && !engine.Catalog[d].Deleted)
            .OrderByDescending(x => x.Score).ThenBy(x => x.Id, StringComparer.Ordinal).ToList();
        string[] Ids((int Item, float Score)[] list) => [.. list.Select(x => engine.Catalog[x.Item].Id)];

        var popular = engine.PopularLists;
        Assert.Equal(all.Take(7).Select(x => x.Id), Ids(popular.Overall));
        Assert.Equal(all.Take(7).Select(x => (float)x.Score), popular.Overall.Select(x => x.Score));
        foreach (var category in new[] { "a", "b", "c" })
        {
            Assert.Equal(all.Where(x => x.Category == category).Take(7).Select(x => x.Id), Ids(popular.ByCategory[category]));
        }

        Assert.DoesNotContain("i3", Ids(popular.ByCategory["a"]).Concat(Ids(popular.Overall)));
        Assert.Contains(all.Take(7).Zip(all.Skip(1).Take(7)), p => p.First.Score == p.Second.Score); // ties were decided by id
    }
}
