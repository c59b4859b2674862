using Zhongtai.Events;
using Zhongtai.Hosting;
using Zhongtai.Serving;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Serving;

/// <summary>
/// The merge filter tests flagged and scene-blocked items as bits by dense id: the bitmaps must follow the flagged file
/// and the catalog (items interned after a bitmap was built), and the candidates must be exactly what the string sets allow.
/// </summary>
public class CandidateFilterTests
{
    [Fact]
    public async Task FlaggedBitmap_FollowsTheFlaggedFile_AndItemsInternedAfterIt()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var project = host.Project();
        var now = host.Time.GetUtcNow();
        await project.Ingestor.IngestAsync([.. Enumerable.Range(0, 200).Select(i => Item($"i{i}", now))], backfill: false, CancellationToken.None);
        var engine = new RecommendEngine(project, null, host.Options.Realtime, new ServingOptions { LogExposures = false }, host.Time, host.Loggers);
        engine.CatchUp();
        Assert.Null(engine.FlaggedBitmap()); // nothing flagged: no bitmap, no per-candidate test

        var file = Path.Combine(project.Directory, "risk", "flagged-items.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllLinesAsync(file, ["i3", "i150 # spam", "new1", "unknown"]);
        Assert.True(engine.Flagged.Reload());
        AssertBitmapMatches(engine, ["i3", "i150", "new1", "unknown"]);

        // new1 is interned after the bitmap: not covered, so the filter asks the set (and still blocks it) ...
        await project.Ingestor.IngestAsync([Item("new1", now), Item("new2", now)], backfill: false, CancellationToken.None);
        engine.CatchUp();
        var bitmap = engine.FlaggedBitmap()!;
        var new1 = engine.Catalog.Find("new1");
        Assert.Null(bitmap.Contains(new1));
        Assert.False(new CandidateFilter(engine, null, null, null, null, -1).Passes(new1));
        Assert.True(new CandidateFilter(engine, null, null, null, null, -1).Passes(engine.Catalog.Find("new2")));

        // ... until the follower's refresh covers it
        engine.RefreshFlaggedBitmap();
        Assert.NotSame(bitmap, engine.FlaggedBitmap());
        AssertBitmapMatches(engine, ["i3", "i150", "new1", "unknown"]);

        // the file changes: the bitmap follows at the next request, without a catalog change
        await File.WriteAllLinesAsync(file, ["i4"]);
        File.SetLastWriteTimeUtc(file, File.GetLastWriteTimeUtc(file).AddSeconds(5));
        Assert.True(engine.Flagged.Reload());
        AssertBitmapMatches(engine, ["i4"]);

        File.Delete(file);
        Assert.True(engine.Flagged.Reload());
        Assert.Null(engine.FlaggedBitmap());
    }

    [Fact]
    public async Task Merge_DropsExactlyTheFlaggedBlockedConsumedAndExcludedItems()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var project = host.Project();
        var now = host.Time.GetUtcNow();
        await project.Ingestor.IngestAsync(
            [
                .. Enumerable.Range(0, 60).Select(i => Item($"i{i}", now.AddMinutes(i - 100))),
                new Event { Type = EventTypes.Click, UserId = "u", ItemId = "i7", Timestamp = now },
                new Event { Type = EventTypes.Item, ItemId = "i8", Deleted = true, Timestamp = now },
            ],
            backfill: false, CancellationToken.None);
        var engine = new RecommendEngine(project, null, host.Options.Realtime, new ServingOptions { LogExposures = false }, host.Time, host.Loggers);
        engine.CatchUp();
        await File.WriteAllTextAsync(Path.Combine(project.Directory, "scenes.json"), """
            {"scenes": {"home": {"channels": [{"name": "fresh", "quota": 60}], "rankingModel": "none", "maxCount": 100,
              "rules": {"block": ["i1", "i2", "nope"], "frequencyCap": null}}}}
            """);
        engine.Scenes.Reload();
        engine.Flagged.SetFlaggedItems(["i3", "i4"]);

        var served = await engine.RecommendAsync(new RecommendRequest { UserId = "u", Scene = "home", Count = 100, Exclude = ["i5"] });
        var expected = Enumerable.Range(0, 60).Select(i => $"i{i}").Except(["i1", "i2", "i3", "i4", "i5", "i7", "i8"]).ToHashSet();
        Assert.Equal(expected.Count, engine.LastCandidateCount); // dropped at merge, not only by the final gate
        Assert.Equal(expected, served.Items.Select(i => i.ItemId).ToHashSet());
        Assert.Equal(served.Items.OrderByDescending(i => i.Score).Select(i => i.ItemId), served.Items.Select(i => i.ItemId));

        // a block list item interned after the plan's bitmap was built is still blocked
        await File.WriteAllTextAsync(Path.Combine(project.Directory, "scenes.json"), """
            {"scenes": {"home": {"channels": [{"name": "fresh", "quota": 70}], "rankingModel": "none", "maxCount": 100,
              "rules": {"block": ["late"], "frequencyCap": null}}}}
            """);
        File.SetLastWriteTimeUtc(Path.Combine(project.Directory, "scenes.json"), host.Time.GetUtcNow().UtcDateTime.AddSeconds(10));
        engine.Scenes.Reload();
        await engine.RecommendAsync(new RecommendRequest { UserId = "u", Scene = "home", Count = 5 });
        await project.Ingestor.IngestAsync([Item("late", now), Item("later", now)], backfill: false, CancellationToken.None);
        engine.CatchUp();
        var after = await engine.RecommendAsync(new RecommendRequest { UserId = "u", Scene = "home", Count = 100 });
        Assert.DoesNotContain("late", after.Items.Select(i => i.ItemId));
        Assert.Contains("later", after.Items.Select(i => i.ItemId));
    }

    private static Event Item(string id, DateTimeOffset time) => new() { Type = EventTypes.Item, ItemId = id, Category = "c", Timestamp = time };

    private static void AssertBitmapMatches(RecommendEngine engine, string[] flagged)
    {
        var bitmap = engine.FlaggedBitmap();
        Assert.NotNull(bitmap);
        for (var dense = 0; dense < engine.Catalog.Count; dense++)
        {
            var id = engine.Catalog[dense].Id;
            var expected = flagged.Contains(id);
            Assert.Equal(expected, bitmap.Contains(dense) ?? engine.Flagged.IsBlocked(id));
            Assert.Equal(!expected, new CandidateFilter(engine, null, null, null, null, -1).Passes(dense));
        }
    }
}
