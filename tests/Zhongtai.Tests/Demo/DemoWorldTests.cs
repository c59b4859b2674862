using System.Security.Cryptography;
using System.Text.Json;
using Zhongtai.Demo;
using Zhongtai.Events;

namespace Zhongtai.Tests.Demo;

public sealed class DemoWorldTests
{
    // A small world (about 20k events) keeps the suite fast; behaviour does not depend on size.
    private static DemoWorldOptions Small(long seed = 42) => new() { Seed = seed, Scale = 0.1, Days = 7 };

    private static DemoWorldOptions Scaled(double scale) => new() { Seed = 42, Scale = scale, Days = 3 };

    private static string StreamHash(DemoWorld world)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var e in world.Events())
        {
            sha.AppendData(JsonSerializer.SerializeToUtf8Bytes(e, EventJsonContext.Default.Event));
        }

        return Convert.ToHexString(sha.GetHashAndReset());
    }

    [Fact]
    public void Generate_SameSeed_GivesIdenticalStream()
    {
        var a = DemoWorld.Generate(Small());
        var b = DemoWorld.Generate(Small());
        Assert.Equal(StreamHash(a), StreamHash(b));
        // Enumerating twice gives the same stream too (and the same fraud labels).
        Assert.Equal(StreamHash(a), StreamHash(a));
        Assert.Equal(a.Truth.FraudEvents.OrderBy(x => x.Key), b.Truth.FraudEvents.OrderBy(x => x.Key));
    }

    [Fact]
    public void Generate_DifferentSeed_GivesDifferentStream()
    {
        Assert.NotEqual(StreamHash(DemoWorld.Generate(Small(1))), StreamHash(DemoWorld.Generate(Small(2))));
    }

    [Fact]
    public void Events_AreValid_WithKnownTypesIdsAndTimestampsInsideTheWindow()
    {
        var options = Small();
        var world = DemoWorld.Generate(options);
        var end = options.Start.AddDays(options.Days);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var items = new HashSet<string>(StringComparer.Ordinal);
        var users = new HashSet<string>(StringComparer.Ordinal);
        long n = 0;
        var lastTs = DateTimeOffset.MinValue;
        foreach (var e in world.Events())
        {
            n++;
            Assert.True(EventTypes.Behaviour.Contains(e.Type) || EventTypes.IsCatalog(e.Type), e.Type);
            Assert.Equal("d-" + n, e.Id);
            Assert.True(ids.Add(e.Id!));
            Assert.InRange(e.Timestamp, options.Start, end.AddTicks(-1));
            Assert.Equal(TimeSpan.Zero, e.Timestamp.Offset);
            Assert.True(e.Timestamp >= lastTs, "the stream is in time order");
            lastTs = e.Timestamp;
            switch (e.Type)
            {
                case EventTypes.Item:
                    Assert.False(string.IsNullOrEmpty(e.ItemId));
                    Assert.False(string.IsNullOrEmpty(e.Title));
                    Assert.False(string.IsNullOrEmpty(e.Category));
                    Assert.NotEmpty(e.Tags!);
                    Assert.True(e.Attributes!["price"].GetDouble() > 0);
                    items.Add(e.ItemId!);
                    break;
                case EventTypes.User:
                    Assert.False(string.IsNullOrEmpty(e.UserId));
                    users.Add(e.UserId!);
                    break;
                default:
                    // Behaviour refers to catalog entities announced earlier in the stream.
                    Assert.Contains(e.UserId!, users);
                    Assert.Contains(e.ItemId!, items);
                    Assert.False(string.IsNullOrEmpty(e.RequestId));
                    Assert.False(string.IsNullOrEmpty(e.Device));
                    Assert.False(string.IsNullOrEmpty(e.Ip));
                    Assert.False(string.IsNullOrEmpty(e.UserAgent));
                    Assert.InRange(e.Position!.Value, 0, options.ListSize - 1);
                    if (e.Type is EventTypes.Dwell or EventTypes.Purchase)
                    {
                        Assert.True(e.Value > 0);
                    }

                    break;
            }

            // Round-trips through the event model's JSON.
            var json = JsonSerializer.Serialize(e, EventJsonContext.Default.Event);
            Assert.Equal(json, JsonSerializer.Serialize(JsonSerializer.Deserialize(json, EventJsonContext.Default.Event)!, EventJsonContext.Default.Event));
        }

        Assert.Equal(world.ItemCount, items.Count);
        Assert.Equal(world.UserCount, users.Count);
        Assert.Equal(n, world.Truth.TotalEvents);
        Assert.Contains(items, i => world.Truth.ItemCategory.ContainsKey(i));
    }

    [Fact]
    public void Catalog_HasEnglishAndChineseTitles()
    {
        var titles = DemoWorld.Generate(Small()).Events().Where(e => e.Type == EventTypes.Item).Select(e => e.Title!).ToList();
        int chinese = titles.Count(t => t.Any(ch => ch >= '\u4e00' && ch <= '\u9fff'));
        Assert.InRange(chinese / (double)titles.Count, 0.05, 0.35);
        Assert.Equal(titles.Count, titles.Count(t => t.Length > 3));
    }

    [Fact]
    public void Scale_GrowsTheWorldLinearly()
    {
        var small = DemoWorld.Generate(Scaled(0.1));
        var double_ = DemoWorld.Generate(Scaled(0.2));
        Assert.Equal(2 * small.ItemCount, double_.ItemCount);
        long a = small.Events().LongCount(), b = double_.Events().LongCount();
        Assert.InRange(b / (double)a, 1.7, 2.3);
    }

    [Fact]
    public void Clicks_FollowPlantedTaste()
    {
        var world = DemoWorld.Generate(Small());
        long expIn = 0, expOut = 0, clickIn = 0, clickOut = 0;
        foreach (var (e, fraud) in world.LabelledEvents())
        {
            if (fraud != FraudKind.None || e.Type is not (EventTypes.Exposure or EventTypes.Click))
            {
                continue;
            }

            bool planted = world.Truth.UserTopCategories[e.UserId!].Contains(world.Truth.ItemCategory[e.ItemId!]);
            if (e.Type == EventTypes.Exposure)
            {
                if (planted) { expIn++; } else { expOut++; }
            }
            else if (planted) { clickIn++; } else { clickOut++; }
        }

        double ctrIn = clickIn / (double)expIn, ctrOut = clickOut / (double)expOut;
        Assert.True(ctrIn > 4 * ctrOut, $"CTR in planted categories {ctrIn:F3} vs others {ctrOut:F3}");
        Assert.InRange(ctrIn, 0.05, 0.5);
    }

    [Fact]
    public void Clicks_DecreaseWithPosition()
    {
        var world = DemoWorld.Generate(Small());
        var exposures = new long[10];
        var clicks = new long[10];
        foreach (var (e, fraud) in world.LabelledEvents())
        {
            if (fraud == FraudKind.None && e.Type == EventTypes.Exposure) { exposures[e.Position!.Value]++; }
            if (fraud == FraudKind.None && e.Type == EventTypes.Click) { clicks[e.Position!.Value]++; }
        }

        double Ctr(int from, int to) => clicks[from..to].Sum() / (double)exposures[from..to].Sum();
        double top = Ctr(0, 2), middle = Ctr(4, 6), bottom = Ctr(8, 10);
        Assert.True(top > 1.5 * middle && middle > 1.1 * bottom, $"CTR by position: top {top:F3}, middle {middle:F3}, bottom {bottom:F3}");
    }

    [Fact]
    public void TopItems_AreInThePlantedCategoriesAndGetClickedMore()
    {
        var world = DemoWorld.Generate(Small());
        foreach (var (user, top) in world.Truth.UserTopItems)
        {
            Assert.Equal(20, top.Length);
            Assert.All(top, i => Assert.Contains(world.Truth.ItemCategory[i], world.Truth.UserTopCategories[user]));
        }

        Assert.Empty(world.Truth.UserTopCategories.Keys.Intersect(world.Truth.FraudUsers.Keys));

        // Top items have a higher latent affinity than the catalog on average, and are clicked more.
        var someone = world.Truth.UserTopItems.Keys.First();
        double topAffinity = world.Truth.UserTopItems[someone].Average(i => world.Affinity(someone, i));
        double catalogAffinity = world.Truth.ItemCategory.Keys.Average(i => world.Affinity(someone, i));
        Assert.True(topAffinity > catalogAffinity + 0.3, $"{topAffinity:F2} vs {catalogAffinity:F2}");
        Assert.Throws<ArgumentException>(() => world.Affinity("nobody", "i-1"));

        long clicksOnTop = 0, clicks = 0;
        var topSets = world.Truth.UserTopItems.ToDictionary(x => x.Key, x => x.Value.ToHashSet(StringComparer.Ordinal));
        foreach (var (e, fraud) in world.LabelledEvents())
        {
            if (fraud == FraudKind.None && e.Type == EventTypes.Click)
            {
                clicks++;
                clicksOnTop += topSets[e.UserId!].Contains(e.ItemId!) ? 1 : 0;
            }
        }

        // 20 top items per user out of the catalog: clicks land on them several times more often than by chance.
        Assert.True(clicksOnTop > 3 * clicks * 20.0 / world.ItemCount, $"{clicksOnTop} of {clicks} clicks on planted top items");
    }

    [Fact]
    public void Fraud_AllKindsPlantedInExpectedProportions()
    {
        var world = DemoWorld.Generate(new DemoWorldOptions { Seed = 42, Scale = 0.3 });
        var events = world.LabelledEvents().ToList();
        var counts = world.Truth.FraudEventCounts();
        long total = events.Count;

        foreach (var kind in Enum.GetValues<FraudKind>().Where(k => k != FraudKind.None))
        {
            Assert.True(counts.GetValueOrDefault(kind) > 0, $"{kind} planted");
        }

        double share = world.Truth.FraudEvents.Count / (double)total;
        Assert.InRange(share, 0.03, 0.2);
        Assert.Equal(events.Count(x => x.Fraud != FraudKind.None), world.Truth.FraudEvents.Count);

        // Click farms: many accounts, the same few items.
        var farmClicks = events.Where(x => x.Fraud == FraudKind.ClickFarm && x.Event.Type == EventTypes.Click).Select(x => x.Event).ToList();
        Assert.True(farmClicks.Select(e => e.UserId).Distinct().Count() >= 3);
        Assert.All(farmClicks, e => Assert.Contains(e.ItemId!, world.Truth.ClickFarmTargets));

        // Bots click far faster than any person: median gap under 1.5 s.
        foreach (var bot in world.Truth.FraudUsers.Where(u => u.Value == FraudKind.Bot).Select(u => u.Key))
        {
            var times = events.Where(x => x.Event.UserId == bot && x.Event.Type == EventTypes.Click).Select(x => x.Event.Timestamp).ToList();
            var gaps = times.Zip(times.Skip(1), (a, b) => (b - a).TotalSeconds).Order().ToList();
            Assert.True(gaps.Count > 50 && gaps[gaps.Count / 2] < 1.5, $"bot {bot}: {gaps.Count} gaps");
        }

        // Clicks without exposure really have no exposure of that item under that request.
        var exposed = events.Where(x => x.Event.Type == EventTypes.Exposure).Select(x => (x.Event.RequestId, x.Event.ItemId)).ToHashSet();
        var orphanClicks = events.Where(x => x.Fraud == FraudKind.ClickWithoutExposure).Select(x => x.Event).ToList();
        Assert.All(orphanClicks, e => Assert.DoesNotContain((e.RequestId, e.ItemId), exposed));
        // ...and genuine clicks always have one.
        Assert.All(events.Where(x => x.Fraud == FraudKind.None && x.Event.Type == EventTypes.Click),
            x => Assert.Contains((x.Event.RequestId, x.Event.ItemId), exposed));

        // Duplicate bursts copy an earlier click exactly, apart from id and a few ms.
        foreach (var copy in events.Where(x => x.Fraud == FraudKind.DuplicateBurst).Select(x => x.Event).Take(50))
        {
            Assert.Contains(events, x => x.Fraud == FraudKind.None && x.Event.Type == copy.Type && x.Event.UserId == copy.UserId
                && x.Event.ItemId == copy.ItemId && x.Event.RequestId == copy.RequestId
                && (copy.Timestamp - x.Event.Timestamp) < TimeSpan.FromSeconds(1) && copy.Timestamp > x.Event.Timestamp);
        }

        // Coordinated accounts share a device and an IP with other accounts.
        var ring = events.Where(x => x.Fraud == FraudKind.CoordinatedAccounts).Select(x => x.Event).ToList();
        Assert.All(ring.GroupBy(e => e.Device), g => Assert.True(g.Select(e => e.UserId).Distinct().Count() >= 2));

        // Bot user agents only on the accounts labelled for it.
        Assert.All(events.Where(x => x.Fraud == FraudKind.BotUserAgent), x =>
            Assert.Equal(FraudKind.BotUserAgent, world.Truth.FraudUsers[x.Event.UserId!]));
        Assert.DoesNotContain(events, x => x.Fraud == FraudKind.None && x.Event.UserAgent is { } ua
            && (ua.StartsWith("curl", StringComparison.Ordinal) || ua.StartsWith("python", StringComparison.Ordinal)));
    }

    [Fact]
    public void WriteJsonl_EventsParseBackAndLabelsReadBack()
    {
        var world = DemoWorld.Generate(Scaled(0.05));
        var path = Path.Combine(Path.GetTempPath(), "zt-demo-" + Guid.NewGuid().ToString("N"));
        try
        {
            long count = world.WriteJsonl(path + ".jsonl", path + ".fraud.jsonl");

            var lines = File.ReadAllLines(path + ".jsonl");
            Assert.Equal(count, lines.Length);
            Assert.Equal(world.Events().Select(e => JsonSerializer.Serialize(e, EventJsonContext.Default.Event)), lines);
            Assert.All(lines.Take(100), l => Assert.NotNull(JsonSerializer.Deserialize(l, EventJsonContext.Default.Event)));
            var read = GroundTruth.ReadFraudLabels(path + ".fraud.jsonl");
            Assert.NotEmpty(read);
            Assert.Equal(world.Truth.FraudEvents.OrderBy(x => x.Key), read.OrderBy(x => x.Key));
            Assert.StartsWith("{\"id\":\"d-", File.ReadLines(path + ".fraud.jsonl").First(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path + ".jsonl");
            File.Delete(path + ".fraud.jsonl");
        }
    }
}
