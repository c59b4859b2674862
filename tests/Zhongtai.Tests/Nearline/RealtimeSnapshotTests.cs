using System.IO.Hashing;
using System.Text;
using Zhongtai.Events;
using Zhongtai.Nearline;
using Zhongtai.Training.Ranking;

namespace Zhongtai.Tests.Nearline;

public sealed class RealtimeSnapshotTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void AVersion1Snapshot_StillLoads_AndItsPendingExposuresAreJoinedByLaterClicks()
    {
        var options = new RealtimeOptions();
        using var snapshot = new MemoryStream();
        using (var body = new MemoryStream())
        {
            using (var w = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
            {
                w.Write(5L); // next offset
                w.Write(5L); // events applied
                w.Write(0L); // samples learned
                w.Write(0); // items
                w.Write(0); // co-occurrence rows
                w.Write(0); // recent lists
                w.Write(1); // pending exposures, keyed by the joined string in version 1
                w.Write(T0.ToUnixTimeSeconds() + options.AttributionWindowSeconds);
                w.Write("u1\u0001i1\u0001r-1");
                w.Write(true);
                w.Write(T0.ToUnixTimeSeconds());
                w.Write("u1");
                w.Write("i1");
                w.Write("home");
                w.Write(2);
                w.Write("ios");
                using var ftrl = new MemoryStream();
                new FtrlModel(new FtrlOptions { Bits = options.FtrlBits }).Save(ftrl);
                w.Write((int)ftrl.Length);
                w.Write(ftrl.ToArray());
            }

            using var header = new BinaryWriter(snapshot, Encoding.UTF8, leaveOpen: true);
            header.Write(0x5A54524Cu);
            header.Write(1);
            header.Write(body.Length);
            header.Write(XxHash64.HashToUInt64(body.ToArray()));
            header.Write(body.ToArray());
        }

        snapshot.Position = 0;
        var state = RealtimeState.Load(snapshot, options);
        Assert.Equal(5, state.NextOffset);

        state.Apply(5, new Event { Type = EventTypes.Click, UserId = "u1", ItemId = "i2", RequestId = "r-1", Timestamp = T0.AddSeconds(10) });
        Assert.Equal(0, state.SamplesLearned); // another item: not this exposure
        state.Apply(6, new Event { Type = EventTypes.Click, UserId = "u1", ItemId = "i1", RequestId = "r-1", Timestamp = T0.AddSeconds(20) });
        Assert.Equal(1, state.SamplesLearned); // the version-1 exposure, found by its hashed key

        using var saved = new MemoryStream();
        state.Save(saved);
        saved.Position = 0;
        Assert.Equal(1, RealtimeState.Load(saved, options).SamplesLearned); // and it saves as version 2
    }

    [Fact]
    public void RememberedFeatureIndices_AreTheOnesHashedAfresh()
    {
        var state = new RealtimeState(new RealtimeOptions());
        var rng = new Random(5);
        string?[] scenes = ["home", "detail", null];
        string?[] devices = ["ios", "web", null];
        int?[] positions = [0, 3, 200, -1, null];
        for (var i = 0; i < 400; i++)
        {
            var item = $"i{rng.Next(20)}";
            if (rng.Next(10) == 0)
            {
                state.Apply(2 * i, new Event { Type = EventTypes.Item, ItemId = item, Category = rng.Next(3) == 0 ? null : $"c{rng.Next(4)}", Timestamp = T0 });
            }
            else
            {
                state.Apply(2 * i, new Event { Type = EventTypes.Click, UserId = "u0", ItemId = item, RequestId = "r", Timestamp = T0 }); // makes the counters
            }

            var counters = state.Items[item];
            var (user, scene, position, device) = ($"u{rng.Next(5)}", scenes[rng.Next(3)], positions[rng.Next(5)], devices[rng.Next(3)]);
            Assert.Equal(state.Features(9, user, item, scene, position, device), state.Features(9, user, item, counters, scene, position, device));
        }
    }

    [Fact]
    public void PendingExposures_AreCapped_TheOldestSettledAsNotClicked()
    {
        var state = new RealtimeState(new RealtimeOptions { MaxPendingExposures = 1000 });
        for (var i = 0; i < 1500; i++)
        {
            state.Apply(i, new Event { Type = EventTypes.Exposure, UserId = "u1", ItemId = $"i{i}", RequestId = "r-1", Timestamp = T0.AddMilliseconds(i) });
        }

        Assert.Equal(500, state.SamplesLearned); // the 500 oldest, learned as negatives
        state.Apply(1500, new Event { Type = EventTypes.Click, UserId = "u1", ItemId = "i10", RequestId = "r-1", Timestamp = T0.AddSeconds(5) });
        Assert.Equal(500, state.SamplesLearned); // already settled: no second sample
        state.Apply(1501, new Event { Type = EventTypes.Click, UserId = "u1", ItemId = "i1400", RequestId = "r-1", Timestamp = T0.AddSeconds(5) });
        Assert.Equal(501, state.SamplesLearned); // still pending: joined as a click
    }
}
