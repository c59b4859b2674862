using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Zhongtai.Demo;
using Zhongtai.Events;
using Zhongtai.Events.Ingest;
using Zhongtai.Hosting;
using Zhongtai.Nearline;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Nearline;

public sealed class RealtimeConsumerTests : IAsyncLifetime
{
    private static readonly RealtimeOptions Options = new() { SnapshotSeconds = 60 };
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
    private ZhongtaiHost _host = null!;

    private Project Project => _host.Project();

    public async Task InitializeAsync()
    {
        _host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = _dir.Path }, _time);
        var world = DemoWorld.Generate(new DemoWorldOptions { Seed = 3, Scale = 0.05, Days = 2, Start = _time.GetUtcNow().AddDays(-3) });
        await Project.Ingestor.IngestAsync(world.Events().ToList(), backfill: true, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _dir.Dispose();
    }

    private byte[] Reference()
    {
        var state = new RealtimeState(Options);
        foreach (var (offset, e) in Project.Events.ReadEvents(0))
        {
            state.Apply(offset, e);
        }

        return Bytes(state);
    }

    private static byte[] Bytes(RealtimeState state)
    {
        using var ms = new MemoryStream();
        state.Save(ms);
        return ms.ToArray();
    }

    [Fact]
    public void CrashAfterASnapshot_ResumesExactly_NoEventLostOrCountedTwice()
    {
        var first = new RealtimeConsumer(Project, Options, _time, NullLogger.Instance);
        first.CatchUp(max: 3_000);
        first.Publish();
        first.CatchUp(max: 2_000); // applied but never published: lost with the "crash"

        var resumed = new RealtimeConsumer(Project, Options, _time, NullLogger.Instance);
        Assert.Equal(3_000, resumed.Read(s => s.NextOffset));
        resumed.CatchUp();
        Assert.Equal(Reference(), resumed.Read(Bytes));
        Assert.Equal(3_000, Project.Events.Consumer("realtime").Committed);
    }

    [Fact]
    public async Task TheLoop_MakesItsSnapshotsDurableInTheBackground_AndStopsWithAFinalOne()
    {
        var consumer = new RealtimeConsumer(Project, Options, _time, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var running = consumer.RunAsync(stop.Token);
        await Until(() => consumer.Read(s => s.NextOffset) == Project.Events.NextOffset);

        _time.Advance(TimeSpan.FromSeconds(Options.SnapshotSeconds + 1)); // a publish is due at the next wake-up
        await Project.Ingestor.IngestAsync([new Event { Id = "late-1", Type = EventTypes.Click, UserId = "u-late", ItemId = "i-late", Timestamp = _time.GetUtcNow() }], backfill: false, CancellationToken.None);
        var end = Project.Events.NextOffset;
        await Until(() => Project.Events.Consumer("realtime").Committed == end); // written, fsync'd, renamed, committed
        using (var snapshot = File.OpenRead(Path.Combine(Project.Directory, "realtime", "state.bin")))
        {
            Assert.Equal(end, RealtimeState.Load(snapshot, Options).NextOffset);
        }

        await Project.Ingestor.IngestAsync([new Event { Id = "late-2", Type = EventTypes.Click, UserId = "u-late", ItemId = "i-late", Timestamp = _time.GetUtcNow() }], backfill: false, CancellationToken.None);
        await stop.CancelAsync();
        await running;
        Assert.Equal(Project.Events.NextOffset, Project.Events.Consumer("realtime").Committed); // the final publish waited for nothing and covered all
        var resumed = new RealtimeConsumer(Project, Options, _time, NullLogger.Instance);
        Assert.Equal(Reference(), resumed.Read(Bytes));
    }

    private static async Task Until(Func<bool> condition)
    {
        var started = System.Diagnostics.Stopwatch.StartNew(); // real time: the consumer's thread runs on its own
        while (!condition())
        {
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), "timed out");
            await Task.Delay(20);
        }
    }

    [Fact]
    public void Counters_MatchTheLog_AndCoOccurrenceAndPopularityAreFilled()
    {
        var consumer = new RealtimeConsumer(Project, Options, _time, NullLogger.Instance);
        consumer.CatchUp();
        var clicks = Project.Events.ReadEvents(0).Where(x => x.Event.Type == EventTypes.Click).GroupBy(x => x.Event.ItemId!).ToDictionary(g => g.Key, g => (long)g.Count());
        consumer.Read(s =>
        {
            foreach (var (item, count) in clicks)
            {
                Assert.Equal(count, s.Items[item].Clicks);
            }

            var busiest = clicks.MaxBy(kv => kv.Value).Key;
            Assert.NotEmpty(s.Neighbours(busiest, 10));
            Assert.Equal(10, s.Popular(10, _time.GetUtcNow().ToUnixTimeSeconds()).Count);
            Assert.True(s.SamplesLearned > 1_000);
            return 0;
        });
    }

    [Fact]
    public void CorruptSnapshot_IsRebuiltFromTheLog()
    {
        var consumer = new RealtimeConsumer(Project, Options, _time, NullLogger.Instance);
        consumer.CatchUp();
        consumer.Publish();
        var path = Path.Combine(Project.Directory, "realtime", "state.bin");
        var bytes = File.ReadAllBytes(path);
        bytes[^10] ^= 0xFF;
        File.WriteAllBytes(path, bytes);

        var rebuilt = new RealtimeConsumer(Project, Options, _time, NullLogger.Instance);
        Assert.Equal(0, rebuilt.Read(s => s.NextOffset));
        rebuilt.CatchUp();
        Assert.Equal(Reference(), rebuilt.Read(Bytes));
    }

    [Fact]
    public void Ftrl_LearnsWhatAUserClicks()
    {
        var state = new RealtimeState(Options);
        var t = _time.GetUtcNow();
        long offset = 0;
        for (var i = 0; i < 300; i++)
        {
            var at = t.AddMinutes(i * 40); // past the attribution window each time
            state.Apply(offset++, new Event { Type = "exposure", UserId = "u1", ItemId = "a", RequestId = "r" + i, Timestamp = at });
            state.Apply(offset++, new Event { Type = "exposure", UserId = "u1", ItemId = "b", RequestId = "r" + i, Timestamp = at });
            state.Apply(offset++, new Event { Type = "click", UserId = "u1", ItemId = "a", RequestId = "r" + i, Timestamp = at.AddSeconds(5) });
        }

        Assert.True(state.PredictClick("u1", "a", null, null, null) > 0.8);
        Assert.True(state.PredictClick("u1", "b", null, null, null) < 0.2);
    }
}
