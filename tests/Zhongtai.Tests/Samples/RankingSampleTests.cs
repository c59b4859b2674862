using Zhongtai.Events;
using Zhongtai.Lake;
using Zhongtai.Samples;
using Zhongtai.Tests.Support;
using static Zhongtai.Tests.Samples.SampleWorld;

namespace Zhongtai.Tests.Samples;

public sealed class RankingSampleTests
{
    private static List<Dictionary<string, object?>> Build(SampleWorld world, SampleOptions? options = null, string? quarantine = null)
    {
        using var dir = new TempDirectory();
        world.Export(dir.Combine("lake"));
        var file = dir.Combine("samples.parquet");
        using (var lake = LakeQuery.Open(dir.Combine("lake"), threads: 2))
        {
            new SampleBuilder(options).BuildRanking(lake, quarantine, file);
        }

        return Read(file);
    }

    private static Dictionary<string, object?> Sample(List<Dictionary<string, object?>> rows, long offset) =>
        rows.Single(r => L(r["event_offset"]) == offset && L(r["negative"]) == 0);

    [Fact]
    public void Attribution_ActionJustInsideWindowCounts_JustOutsideDoesNot()
    {
        var w = new SampleWorld();
        w.Item("i1", "c1", T0.AddDays(-1));
        w.Item("i2", "c1", T0.AddDays(-1));
        var inside = w.Add(EventTypes.Exposure, "u1", "i1", T0, "r1");
        var outside = w.Add(EventTypes.Exposure, "u1", "i2", T0, "r1");
        w.Add(EventTypes.Click, "u1", "i1", T0.AddSeconds(1800), "r1");
        w.Add(EventTypes.Click, "u1", "i2", T0.AddSeconds(1800).AddMilliseconds(1), "r1");
        var rows = Build(w, new SampleOptions { AttributionWindowSeconds = 1800 });

        Assert.Equal(2, rows.Count);
        Assert.Equal(1L, L(Sample(rows, inside)["label"]));
        Assert.Equal(0L, L(Sample(rows, outside)["label"]));

        // A wider window takes the late click in.
        rows = Build(w, new SampleOptions { AttributionWindowSeconds = 1801 });
        Assert.Equal(1L, L(Sample(rows, outside)["label"]));
    }

    [Fact]
    public void Attribution_MatchesRequestWhenTheActionHasOne_AndTheLatestExposureWhenNot()
    {
        var w = new SampleWorld();
        var r1 = w.Add(EventTypes.Exposure, "u1", "i1", T0, "r1");
        var r2 = w.Add(EventTypes.Exposure, "u1", "i1", T0.AddMinutes(1), "r2");
        var other = w.Add(EventTypes.Exposure, "u2", "i1", T0, "r3");
        w.Add(EventTypes.Click, "u1", "i1", T0.AddMinutes(2), "r1");       // request r1, though r2 is later
        w.Add(EventTypes.Like, "u1", "i1", T0.AddMinutes(3), null);        // no request: the latest exposure (r2)
        w.Add(EventTypes.Click, "u2", "i1", T0.AddMinutes(1), "r-other");  // a request never served with this item
        w.Add(EventTypes.Click, "u1", "i1", T0.AddMinutes(-1), null);      // before any exposure: nothing
        var rows = Build(w);

        Assert.Equal(1L, L(Sample(rows, r1)["act_click"]));
        Assert.Equal(0L, L(Sample(rows, r1)["act_like"]));
        Assert.Equal(0L, L(Sample(rows, r2)["act_click"]));
        Assert.Equal(1L, L(Sample(rows, r2)["act_like"]));
        Assert.Equal(0L, L(Sample(rows, other)["label"]));
    }

    [Fact]
    public void Labels_WeightEachActionTypeOnce_AndDwellOnlyPastTheThreshold()
    {
        var w = new SampleWorld();
        var full = w.Add(EventTypes.Exposure, "u1", "i1", T0, "r1");
        var shortDwell = w.Add(EventTypes.Exposure, "u1", "i2", T0, "r1");
        w.Add(EventTypes.Click, "u1", "i1", T0.AddSeconds(5), "r1");
        w.Add(EventTypes.Click, "u1", "i1", T0.AddSeconds(6), "r1"); // a duplicate click counts once
        w.Add(EventTypes.Dwell, "u1", "i1", T0.AddSeconds(20), "r1", 8);
        w.Add(EventTypes.Dwell, "u1", "i1", T0.AddSeconds(40), "r1", 7);
        w.Add(EventTypes.Like, "u1", "i1", T0.AddSeconds(41), "r1");
        w.Add(EventTypes.Purchase, "u1", "i1", T0.AddSeconds(60), "r1", 99);
        w.Add(EventTypes.Dwell, "u1", "i2", T0.AddSeconds(20), "r1", 5);
        var rows = Build(w);

        var a = Sample(rows, full);
        Assert.Equal(1 + 2 + 4 + 1, D(a["weight"]));
        Assert.Equal(1L, L(a["label"]));
        Assert.Equal(15.0, D(a["dwell_seconds"]));
        var b = Sample(rows, shortDwell);
        Assert.Equal(0.0, D(b["weight"]));
        Assert.Equal(0L, L(b["label"]));
        Assert.Equal(5.0, D(b["dwell_seconds"]));

        var custom = new SampleOptions { MinDwellSeconds = 5 };
        custom.ActionWeights[EventTypes.Click] = 3;
        rows = Build(w, custom);
        Assert.Equal(3 + 2 + 4 + 1, D(Sample(rows, full)["weight"]));
        Assert.Equal(1.0, D(Sample(rows, shortDwell)["weight"]));
    }

    [Fact]
    public void Quarantine_LeavesTheNamedEventsOut()
    {
        var w = new SampleWorld();
        var exposure = w.Add(EventTypes.Exposure, "u1", "i1", T0, "r1");
        var fraudExposure = w.Add(EventTypes.Exposure, "u9", "i1", T0, "r9");
        var click = w.Add(EventTypes.Click, "u1", "i1", T0.AddSeconds(5), "r1");
        using var dir = new TempDirectory();
        var q = dir.Combine("quarantine.parquet");
        Query($"COPY (SELECT unnest([{click}, {fraudExposure}])::BIGINT AS \"offset\", 'bot' AS reason) TO '{q}' (FORMAT parquet)");
        var rows = Build(w, quarantine: q);

        var only = Assert.Single(rows);
        Assert.Equal(exposure, L(only["event_offset"]));
        Assert.Equal(0L, L(only["label"]));
    }

    [Fact]
    public void RatingLog_PositivesGetSeededPopularityAwareNegativesTheUserNeverRated()
    {
        var w = new SampleWorld();
        var rng = new Random(3);
        for (int u = 0; u < 40; u++)
        {
            for (int k = 0; k < 8; k++)
            {
                // Item popularity falls with the id: i0 is rated far more than i99.
                int item = (int)(100 * Math.Pow(rng.NextDouble(), 3));
                w.Add(EventTypes.Rating, "u" + u, "i" + item, T0.AddHours(u + k * 0.1), null, 1 + rng.Next(5));
            }
        }

        var opts = new SampleOptions { NegativesPerPositive = 3, Seed = 7 };
        var rows = Build(w, opts);
        var positives = rows.Where(r => L(r["label"]) == 1).ToList();
        var negatives = rows.Where(r => L(r["label"]) == 0).ToList();
        var rated = w.Events.Select(e => (e.Event.UserId, e.Event.ItemId)).ToHashSet();

        Assert.Equal(rated.Count, positives.Count);
        Assert.All(negatives, n => Assert.DoesNotContain(((string?)n["user_id"], (string?)n["item_id"]), rated));
        Assert.InRange(negatives.Count, (int)(positives.Count * 3 * 0.7), positives.Count * 3);
        Assert.All(negatives, n => Assert.InRange(L(n["negative"]), 1, 3));

        // Every negative shares its positive's instant (so its features are as of the same moment).
        var posTime = positives.ToDictionary(p => L(p["event_offset"]), p => p["ts"]);
        Assert.All(negatives, n => Assert.Equal(posTime[L(n["event_offset"])], n["ts"]));

        // Popularity-aware: the popular head is drawn more often than the tail.
        int head = negatives.Count(n => int.Parse(((string)n["item_id"]!)[1..], System.Globalization.CultureInfo.InvariantCulture) < 10);
        int tail = negatives.Count(n => int.Parse(((string)n["item_id"]!)[1..], System.Globalization.CultureInfo.InvariantCulture) >= 90);
        Assert.True(head > 2 * tail, $"head {head}, tail {tail}");

        // Seeded: the same seed gives the same negatives, another seed others.
        var again = Build(w, opts).Where(r => L(r["label"]) == 0).Select(r => (string)r["item_id"]!).ToList();
        Assert.Equal(negatives.Select(r => (string)r["item_id"]!), again);
        var other = Build(w, new SampleOptions { NegativesPerPositive = 3, Seed = 8 }).Where(r => L(r["label"]) == 0).Select(r => (string)r["item_id"]!).ToList();
        Assert.NotEqual(again, other);
    }
}
