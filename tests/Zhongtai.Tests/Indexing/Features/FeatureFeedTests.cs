using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Parquet;
using Parquet.Schema;
using Zhongtai.Demo;
using Zhongtai.Events;
using Zhongtai.Hosting;
using Zhongtai.Indexing.Features;
using Zhongtai.Nearline;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Indexing.Features;

public sealed class FeatureFeedTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(T0);

    private static Event Ev(string type, string user, string item, DateTimeOffset at) =>
        new() { Type = type, UserId = user, ItemId = item, Timestamp = at };

    private static float[] Row(IFeatureStore store, string key, out bool found)
    {
        var row = new float[store.FeatureNames.Count];
        var f = new bool[1];
        store.GetMany([key], row, f);
        found = f[0];
        return row;
    }

    private (EmbeddedFeatureStore Items, EmbeddedFeatureStore Users, RealtimeFeatureFeed Feed) NewFeed(TempDirectory dir, RealtimeFeatureOptions? options = null)
    {
        var names = RealtimeFeatureFeed.FeatureNamesFor(options);
        var items = new EmbeddedFeatureStore(Path.Combine(dir.Path, "items"), names, _time);
        var users = new EmbeddedFeatureStore(Path.Combine(dir.Path, "users"), names, _time);
        return (items, users, new RealtimeFeatureFeed(items, users, options));
    }

    [Fact]
    public void Feed_CountsExposuresClicksAndCtrPerWindow_ForItemsAndUsers()
    {
        using var dir = new TempDirectory();
        var (items, users, feed) = NewFeed(dir);
        Assert.Equal(["exposures_300s", "clicks_300s", "ctr_300s", "exposures_3600s", "clicks_3600s", "ctr_3600s"], feed.FeatureNames);

        // Ten minutes ago: 4 exposures, 1 click (outside the 5-minute window, inside the hour).
        for (int i = 0; i < 4; i++)
        {
            feed.Apply(Ev(EventTypes.Exposure, $"u{i}", "i1", T0.AddMinutes(-10)));
        }
        feed.Apply(Ev(EventTypes.Click, "u0", "i1", T0.AddMinutes(-10)));
        // Now: 2 exposures, 1 click; a like and a catalog event are ignored.
        feed.Apply(Ev(EventTypes.Exposure, "u0", "i1", T0));
        feed.Apply(Ev(EventTypes.Like, "u0", "i1", T0));
        feed.Apply(new Event { Type = EventTypes.Item, ItemId = "i1", Timestamp = T0 });
        feed.Apply(Ev(EventTypes.Exposure, "u1", "i1", T0));
        feed.Apply(Ev(EventTypes.Click, "u1", "i1", T0));

        Assert.Equal([2f, 1f, 0.5f, 6f, 2f, 2f / 6f], Row(items, "i1", out bool found));
        Assert.True(found);
        Assert.Equal([1f, 0f, 0f, 2f, 1f, 0.5f], Row(users, "u0", out _));
        Assert.Equal([1f, 1f, 1f, 2f, 1f, 0.5f], Row(users, "u1", out _));
        Row(items, "nobody", out found);
        Assert.False(found);
    }

    [Fact]
    public void Feed_OverlayExpiresAfterTheLongestWindow_AndTheBaseShowsAgain()
    {
        using var dir = new TempDirectory();
        var (items, _, feed) = NewFeed(dir);
        items.LoadVersion("v1", [("i1", [9f, 9f, 9f, 9f, 9f, 9f])]);
        feed.Apply(Ev(EventTypes.Exposure, "u", "i1", T0));
        Assert.Equal(1f, Row(items, "i1", out _)[0]);

        _time.Advance(TimeSpan.FromSeconds(3599));
        Assert.Equal(1f, Row(items, "i1", out _)[0]);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(9f, Row(items, "i1", out bool found)[0]);
        Assert.True(found);
        Assert.Equal(1, items.Sweep());
    }

    [Fact]
    public void Feed_ForgetsIdleEntities_AndSmoothsCtrWithPriors()
    {
        using var dir = new TempDirectory();
        var options = new RealtimeFeatureOptions { WindowSeconds = [120], BucketSeconds = 60, CtrPriorClicks = 1, CtrPriorExposures = 10, SweepEvery = 1 };
        var (items, _, feed) = NewFeed(dir, options);
        feed.Apply(Ev(EventTypes.Exposure, "u", "old", T0));
        feed.Apply(Ev(EventTypes.Exposure, "u", "new", T0.AddMinutes(10)));
        Assert.Equal((1, 1), feed.Tracked); // "old" left the window; the user is still active
        Assert.Equal([1f, 0f, 1f / 11f], Row(items, "new", out _));
        Assert.Throws<ArgumentException>(() => new RealtimeFeatureFeed(items, items, new RealtimeFeatureOptions { WindowSeconds = [90], BucketSeconds = 60 }));
    }

    [Fact]
    public async Task Consumer_FeedsTheFeatureStoreAsEventsArrive()
    {
        using var dir = new TempDirectory();
        var (items, users, feed) = NewFeed(dir);
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = Path.Combine(dir.Path, "data") }, _time);
        var world = DemoWorld.Generate(new DemoWorldOptions { Seed = 3, Scale = 0.02, Days = 1, Start = T0.AddDays(-2) });
        var events = world.Events().ToList();
        await host.Project().Ingestor.IngestAsync(events, backfill: true, CancellationToken.None);

        var consumer = new RealtimeConsumer(host.Project(), new RealtimeOptions(), _time, NullLogger.Instance) { Applied = feed.Apply };
        Assert.True(consumer.CatchUp() > 0);

        // The row of the most recently exposed item was written at its last exposure or click: recount its hour from the log.
        var item = events.Where(e => e.Type == EventTypes.Exposure && e.ItemId is not null).MaxBy(e => e.Timestamp)!.ItemId!;
        var lastWrite = events.Where(e => e.ItemId == item && e.Type is EventTypes.Exposure or EventTypes.Click).Max(e => e.Timestamp);
        long writeBucket = lastWrite.ToUnixTimeSeconds() / 60;
        var window = events.Where(e => e.ItemId == item && e.Timestamp.ToUnixTimeSeconds() / 60 > writeBucket - 60 && e.Timestamp.ToUnixTimeSeconds() / 60 <= writeBucket).ToList();
        var row = Row(items, item, out bool found);
        Assert.True(found);
        Assert.True(row[3] >= 1);
        Assert.Equal(window.Count(e => e.Type == EventTypes.Exposure), (int)row[3]);
        Assert.Equal(window.Count(e => e.Type == EventTypes.Click), (int)row[4]);

        var user = events.Last(e => e.Type == EventTypes.Exposure).UserId!;
        Row(users, user, out found);
        Assert.True(found);
        Assert.True(feed.Tracked.Users > 0);
    }

    [Fact]
    public async Task ParquetTable_IsPublishedAsANewVersion_WithNullsAsZero_AndMissingColumnsRefused()
    {
        using var dir = new TempDirectory();
        var store = new EmbeddedFeatureStore(Path.Combine(dir.Path, "fs"), ["ctr7d", "clicks7d"], _time);
        var path = Path.Combine(dir.Path, "features.parquet");
        var key = new DataField<string>("user");
        var ctr = new DataField<double?>("ctr7d");
        var clicks = new DataField<long>("clicks7d");
        var extra = new DataField<int>("ignored");
        await using (var fs = File.Create(path))
        {
            await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(key, ctr, clicks, extra), fs);
            using var rg = writer.CreateRowGroup();
            await rg.WriteAsync(key, ["a", "b", "c"]);
            await rg.WriteAsync<double>(ctr, new double?[] { 0.25, null, 0.5 }.AsMemory());
            await rg.WriteAsync<long>(clicks, new long[] { 3, 4, 5 }.AsMemory());
            await rg.WriteAsync<int>(extra, new[] { 7, 7, 7 }.AsMemory());
        }

        Assert.Equal(3, await FeatureTableLoader.PublishParquetAsync(store, "2026-11-22", path, "user"));
        Assert.Equal("2026-11-22", store.ActiveVersion);
        var dest = new float[6];
        var found = new bool[3];
        Assert.Equal(3, store.GetMany(["a", "b", "c"], dest, found));
        Assert.Equal([0.25f, 3f, 0f, 4f, 0.5f, 5f], dest);

        var other = new EmbeddedFeatureStore(Path.Combine(dir.Path, "fs2"), ["ctr7d", "age"], _time);
        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => FeatureTableLoader.PublishParquetAsync(other, "v1", path, "user"));
        Assert.Contains("no column 'age'", ex.Message, StringComparison.Ordinal);
        Assert.Null(other.ActiveVersion);
    }

    [Fact]
    public async Task Publish_SwitchesVersionsAtomically_ReadersNeverSeeAMix()
    {
        using var dir = new TempDirectory();
        var store = new EmbeddedFeatureStore(dir.Path, ["a", "b"], _time);
        const int Keys = 2000;
        string[] keys = [.. Enumerable.Range(0, Keys).Select(i => $"k{i}")];
        IEnumerable<(string, float[])> Version(float v) => keys.Select(k => (k, new[] { v, v }));
        Assert.Equal(Keys, FeatureTableLoader.Publish(store, "v0", Version(0)));

        using var stop = new CancellationTokenSource();
        int mixed = 0, reads = 0;
        var reader = Task.Run(() =>
        {
            var dest = new float[Keys * 2];
            var found = new bool[Keys];
            while (!stop.IsCancellationRequested)
            {
                store.GetMany(keys, dest, found);
                float first = dest[0];
                for (int i = 0; i < dest.Length; i++)
                {
                    if (dest[i] != first)
                    {
                        Interlocked.Increment(ref mixed);
                        break;
                    }
                }
                Interlocked.Increment(ref reads);
            }
        });
        for (int v = 1; v <= 8; v++)
        {
            FeatureTableLoader.Publish(store, $"v{v}", Version(v));
            Assert.Equal($"v{v}", store.ActiveVersion);
        }
        SpinWait.SpinUntil(() => Volatile.Read(ref reads) > 3, TimeSpan.FromSeconds(10));
        stop.Cancel();
        await reader;
        Assert.Equal(0, mixed);
        Assert.True(reads > 0);

        // A failed load (bad row) leaves the active version serving.
        Assert.Throws<ArgumentException>(() => FeatureTableLoader.Publish(store, "v9", [("x", [1f])]));
        Assert.Equal("v8", store.ActiveVersion);
        Assert.Equal(8f, Row(store, "k5", out _)[0]);
    }
}
