using Zhongtai.Demo;
using Zhongtai.Events;
using Zhongtai.Lake;
using Zhongtai.Samples;
using Zhongtai.Tests.Support;
using static Zhongtai.Tests.Samples.SampleWorld;

namespace Zhongtai.Tests.Samples;

public sealed class PointInTimeFeatureTests
{
    [Fact]
    public void Features_CountOnlyEventsStrictlyBeforeTheSample()
    {
        var w = new SampleWorld();
        w.Item("i1", "c1", T0.AddDays(-2));
        w.Item("i2", "c2", T0.AddDays(-2));
        w.Item("i3", "c2", T0.AddDays(-1));
        w.Add(EventTypes.Exposure, "u1", "i1", T0.AddHours(-2), "r0");
        w.Add(EventTypes.Exposure, "u1", "i2", T0.AddMinutes(-30), "r1");
        w.Add(EventTypes.Click, "u1", "i2", T0.AddMinutes(-25), "r1");
        w.Add(EventTypes.Exposure, "u2", "i3", T0.AddMinutes(-10), "r2");
        var sample = w.Add(EventTypes.Exposure, "u1", "i3", T0, "r3");
        w.Add(EventTypes.Click, "u1", "i1", T0, "r0");                   // at the same instant: not before, not counted
        w.Add(EventTypes.Click, "u2", "i3", T0.AddMinutes(5), "r2");       // after
        w.Item("i3", "c9", T0);                                           // a catalog change at the instant: not seen yet

        using var dir = new TempDirectory();
        w.Export(dir.Combine("lake"));
        var file = dir.Combine("s.parquet");
        using (var lake = LakeQuery.Open(dir.Combine("lake"), threads: 2))
        {
            new SampleBuilder().BuildRanking(lake, null, file);
        }

        var s = Read(file, $"event_offset = {sample}").Single();
        Assert.Equal(1L, L(s["u_exp_1h"]));
        Assert.Equal(2L, L(s["u_exp_1d"]));
        Assert.Equal(1L, L(s["u_click_1h"]));
        Assert.Equal((1 + 0.05 * 20) / (1 + 20.0), D(s["u_ctr_1h"]), 9);
        Assert.Equal((1 + 1.0) / (2 + 20.0), D(s["u_ctr_7d"]), 9);
        Assert.Equal(25 * 60.0, D(s["u_secs_since_last_action"]), 6);
        Assert.Equal(1.0, D(s["u_category_affinity"]));
        Assert.Equal("c2", s["category"]);
        Assert.Equal(1L, L(s["i_exp_1h"]));
        Assert.Equal(0L, L(s["i_click_1d"]));
        Assert.Equal(86_400.0, D(s["i_secs_since_first_seen"]), 6);
        Assert.Equal(12L, L(s["hour_of_day"]));
        Assert.Equal("home_feed", s["scene"]);
        Assert.Equal("ios", s["device"]);

        // The first exposure of u1 saw nothing of u1 yet.
        var first = Read(file, "event_offset = 3").Single();
        Assert.Equal(0L, L(first["u_exp_7d"]));
        Assert.Null(first["u_secs_since_last_action"]);
        Assert.Equal(0.0, D(first["u_category_affinity"]));
    }

    [Fact]
    public void Leakage_ChangingEventsAfterTDoesNotChangeAnyFeatureAtOrBeforeT()
    {
        var start = new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero);
        var world = DemoWorld.Generate(new DemoWorldOptions { Scale = 0.06, Days = 2, Start = start, Seed = 11 });
        var original = world.Events().Select((e, i) => ((long)i, e)).ToList();
        var cut = start.AddHours(30);

        // The altered world: identical up to the cut; after it, users and items shuffled, every third event dropped,
        // and a flood of extra clicks on one item.
        var rng = new Random(5);
        var late = original.Where(x => x.e.Timestamp > cut).ToList();
        var users = late.Select(x => x.e.UserId).ToArray();
        var items = late.Select(x => x.e.ItemId).ToArray();
        rng.Shuffle(users);
        rng.Shuffle(items);
        var altered = new List<(long, Event)>();
        int k = 0;
        foreach (var (offset, e) in original)
        {
            if (e.Timestamp <= cut)
            {
                altered.Add((offset, e));
                continue;
            }

            int j = k++;
            if (j % 3 == 0)
            {
                continue;
            }

            altered.Add((offset, new Event
            {
                Id = e.Id, Type = e.Type, UserId = e.Type == EventTypes.Item ? e.UserId : users[j], ItemId = items[j], Timestamp = e.Timestamp,
                Scene = e.Scene, Position = e.Position, RequestId = e.RequestId, Device = e.Device, Value = e.Value,
            }));
        }

        long next = original[^1].Item1 + 1;
        for (int i = 0; i < 500; i++)
        {
            altered.Add((next++, new Event { Id = "x" + i, Type = EventTypes.Click, UserId = "u1", ItemId = original[0].e.ItemId, Timestamp = cut.AddSeconds(1 + i), RequestId = "rx" }));
        }

        using var dir = new TempDirectory();
        Export(dir.Combine("a"), original);
        Export(dir.Combine("b"), altered);
        foreach (var name in new[] { "a", "b" })
        {
            using var lake = LakeQuery.Open(dir.Combine(name), threads: 2);
            new SampleBuilder().BuildRanking(lake, null, dir.Combine(name + ".parquet"));
        }

        var columns = Query($"SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet('{dir.Combine("a.parquet")}'))")
            .Select(r => (string)r["column_name"]!)
            .Where(c => c is not ("label" or "weight" or "dwell_seconds") && !c.StartsWith("act_", StringComparison.Ordinal))
            .ToList();
        Assert.Contains("u_ctr_1h", columns);
        Assert.Contains("i_secs_since_first_seen", columns);
        Assert.Contains("u_category_affinity", columns);
        var differs = string.Join(" OR ", columns.Select(c => $"a.\"{c}\" IS DISTINCT FROM b.\"{c}\""));
        var cutSql = $"TIMESTAMPTZ '{cut.UtcDateTime:yyyy-MM-dd HH:mm:ss}+00'";
        var a = dir.Combine("a.parquet");
        var b = dir.Combine("b.parquet");

        long before = L(Query($"SELECT count(*) AS n FROM read_parquet('{a}') WHERE ts <= {cutSql}")[0]["n"]);
        long beforeB = L(Query($"SELECT count(*) AS n FROM read_parquet('{b}') WHERE ts <= {cutSql}")[0]["n"]);
        long changed = L(Query($"""
            SELECT count(*) AS n FROM read_parquet('{a}') a JOIN read_parquet('{b}') b USING (event_offset, negative)
            WHERE a.ts <= {cutSql} AND ({differs})
            """)[0]["n"]);
        long changedAfter = L(Query($"""
            SELECT count(*) AS n FROM read_parquet('{a}') a JOIN read_parquet('{b}') b USING (event_offset, negative)
            WHERE a.ts > {cutSql} AND ({differs})
            """)[0]["n"]);

        Assert.True(before > 1000, $"only {before} samples before the cut");
        Assert.Equal(before, beforeB);
        Assert.Equal(0, changed);
        Assert.True(changedAfter > 0, "the alteration changed nothing after the cut either: the test would prove nothing");
    }
}
