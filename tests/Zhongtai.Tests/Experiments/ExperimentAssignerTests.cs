using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Zhongtai.Experiments;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Experiments;

public class ExperimentAssignerTests
{
    private const int Users = 100_000;

    private static string User(int i) => "user-" + i.ToString(CultureInfo.InvariantCulture);

    private static ExperimentAssigner Assigner(string json) => new(ExperimentSet.Parse(json));

    private const string ThreeWay = """
        { "experiments": [ { "id": "rank-v2", "scenes": ["home"], "buckets": [
            { "name": "control", "weight": 0.5 },
            { "name": "a", "weight": 0.3, "modelAlias": "candidate" },
            { "name": "b", "weight": 0.2, "channelQuotas": { "i2i": 50, "hot": 10 }, "rules": { "diversity": 0.3, "dedup": true } } ] } ] }
        """;

    [Fact]
    public void Assign_SameUser_SameBucket_AcrossFreshlyParsedConfigs()
    {
        var first = Assigner(ThreeWay);
        var second = Assigner(ThreeWay); // as after a restart: a new parse, new caches
        for (int i = 0; i < 10_000; i++)
        {
            var a = first.Assign(User(i), "home");
            Assert.Equal(a.BucketLabel, first.Assign(User(i), "home").BucketLabel);
            Assert.Equal(a.BucketLabel, second.Assign(User(i), "home").BucketLabel);
        }
    }

    [Fact]
    public void Assign_FollowsTheDocumentedHashFormula()
    {
        // The formula in docs/experiments.md, computed independently here, so that other systems (SQL, Spark) can reproduce it.
        var assigner = Assigner(ThreeWay);
        long bucketSeed = (long)XxHash64.HashToUInt64(Encoding.UTF8.GetBytes("bucket\0rank-v2"));
        for (int i = 0; i < 5_000; i++)
        {
            var user = User(i) + "-用户";
            int slot = (int)(XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(user), bucketSeed) % 10_000);
            var expected = slot < 5_000 ? "control" : slot < 8_000 ? "a" : "b";
            Assert.Equal("rank-v2:" + expected, assigner.Assign(user, "home").BucketLabel);
        }
    }

    [Fact]
    public void Assign_PinnedUsers_KeepTheirBuckets()
    {
        // Golden values: a change to hashing would silently reshuffle every running experiment.
        var assigner = Assigner(ThreeWay);
        var labels = Enumerable.Range(0, 8).Select(i => assigner.Assign(User(i), "home")[0].Bucket).ToArray();
        Assert.Equal("control,b,b,control,a,a,control,control", string.Join(",", labels));
    }

    [Fact]
    public void Assign_SplitsTrafficByWeights_WithinOnePercent()
    {
        var assigner = Assigner(ThreeWay);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < Users; i++)
        {
            var bucket = assigner.Assign(User(i), "home")[0].Bucket;
            counts[bucket] = counts.GetValueOrDefault(bucket) + 1;
        }

        Assert.InRange(counts["control"] / (double)Users, 0.49, 0.51);
        Assert.InRange(counts["a"] / (double)Users, 0.29, 0.31);
        Assert.InRange(counts["b"] / (double)Users, 0.19, 0.21);
    }

    [Fact]
    public void Assign_PartialTraffic_AssignsItsShare_AndRampingUpKeepsBuckets()
    {
        static string Config(double traffic) => $$"""
            { "experiments": [ { "id": "ramp", "scenes": ["*"], "traffic": {{traffic.ToString(CultureInfo.InvariantCulture)}},
              "buckets": [ { "name": "control", "weight": 0.5 }, { "name": "t", "weight": 0.5 } ] } ] }
            """;
        var small = Assigner(Config(0.2));
        var large = Assigner(Config(0.5));
        int inSmall = 0, inLarge = 0;
        for (int i = 0; i < Users; i++)
        {
            var s = small.Assign(User(i), "any");
            var l = large.Assign(User(i), "any");
            inSmall += s.Count;
            inLarge += l.Count;
            if (!s.IsEmpty)
            {
                Assert.Equal(s.BucketLabel, l.BucketLabel);
            }
        }

        Assert.InRange(inSmall / (double)Users, 0.19, 0.21);
        Assert.InRange(inLarge / (double)Users, 0.49, 0.51);
    }

    [Fact]
    public void Assign_ExperimentsOfOneLayer_AreMutuallyExclusive()
    {
        var assigner = Assigner("""
            { "experiments": [
              { "id": "x", "layer": "rank", "scenes": ["home"], "traffic": 0.4, "buckets": [ { "name": "control", "weight": 0.5 }, { "name": "t", "weight": 0.5 } ] },
              { "id": "y", "layer": "rank", "scenes": ["home"], "traffic": 0.6, "buckets": [ { "name": "control", "weight": 0.5 }, { "name": "t", "weight": 0.5 } ] } ] }
            """);
        int x = 0, y = 0;
        for (int i = 0; i < Users; i++)
        {
            var a = assigner.Assign(User(i), "home");
            Assert.Single(a); // exactly one: never both, never neither (the shares fill the layer)
            if (a[0].ExperimentId == "x")
            {
                x++;
            }
            else
            {
                y++;
            }
        }

        Assert.InRange(x / (double)Users, 0.39, 0.41);
        Assert.InRange(y / (double)Users, 0.59, 0.61);
    }

    [Fact]
    public void Assign_DifferentLayers_AreIndependent()
    {
        var assigner = Assigner("""
            { "experiments": [
              { "id": "recall-mix", "layer": "recall", "scenes": ["home"], "buckets": [ { "name": "control", "weight": 0.5 }, { "name": "t", "weight": 0.5 } ] },
              { "id": "rank-v2", "layer": "rank", "scenes": ["home"], "buckets": [ { "name": "control", "weight": 0.5 }, { "name": "t", "weight": 0.5 } ] } ] }
            """);
        var cells = new int[2, 2];
        for (int i = 0; i < Users; i++)
        {
            var a = assigner.Assign(User(i), "home");
            Assert.Equal(2, a.Count);
            Assert.Equal("recall-mix", a[0].ExperimentId);
            Assert.StartsWith("recall-mix:", a.BucketLabel, StringComparison.Ordinal);
            cells[a[0].IsControl ? 0 : 1, a[1].IsControl ? 0 : 1]++;
        }

        // Each cell holds a quarter; chi-square of independence on the 2x2 table below the 0.1% critical value (1 dof).
        double chi2 = 0;
        for (int r = 0; r < 2; r++)
        {
            for (int c = 0; c < 2; c++)
            {
                Assert.InRange(cells[r, c] / (double)Users, 0.24, 0.26);
                double expected = (cells[r, 0] + cells[r, 1]) * (double)(cells[0, c] + cells[1, c]) / Users;
                chi2 += (cells[r, c] - expected) * (cells[r, c] - expected) / expected;
            }
        }

        Assert.True(chi2 < 10.83, $"chi2 = {chi2}");
    }

    [Fact]
    public void Assign_SameLayerAndSaltDefaults_DoNotCorrelateTheRangeWithTheBucket()
    {
        // layer and salt both default to the id: domain separation must keep the in-experiment split at its weights.
        var assigner = Assigner("""
            { "experiments": [ { "id": "half", "scenes": ["*"], "traffic": 0.5, "buckets": [ { "name": "control", "weight": 0.5 }, { "name": "t", "weight": 0.5 } ] } ] }
            """);
        int control = 0, assigned = 0;
        for (int i = 0; i < Users; i++)
        {
            var a = assigner.Assign(User(i), "home");
            assigned += a.Count;
            control += a.Count == 1 && a[0].IsControl ? 1 : 0;
        }

        Assert.InRange(control / (double)assigned, 0.49, 0.51);
    }

    [Fact]
    public void Assign_RespectsScenesStatusAndUnits()
    {
        var assigner = Assigner("""
            { "experiments": [
              { "id": "home-only", "scenes": ["home"], "buckets": [ { "name": "control", "weight": 1 } ] },
              { "id": "everywhere", "scenes": ["*"], "buckets": [ { "name": "control", "weight": 1 } ] },
              { "id": "off", "scenes": ["*"], "status": "stopped", "buckets": [ { "name": "control", "weight": 1 } ] } ] }
            """);
        Assert.Equal("home-only:control,everywhere:control", assigner.Assign("u1", "home").BucketLabel);
        Assert.Equal("everywhere:control", assigner.Assign("u1", "detail").BucketLabel);
        Assert.Same(ExperimentAssignments.Empty, assigner.Assign(null, "home"));
        Assert.Same(ExperimentAssignments.Empty, assigner.Assign("", "home", ""));
        Assert.Null(ExperimentAssignments.Empty.BucketLabel);

        // An anonymous user buckets on the device id exactly as a user with that id would.
        var three = Assigner(ThreeWay);
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal(three.Assign("dev" + i, "home").BucketLabel, three.Assign(null, "home", "dev" + i).BucketLabel);
        }

        // The user id wins over the anonymous id.
        Assert.Equal(three.Assign("u7", "home").BucketLabel, three.Assign("u7", "home", "other-device").BucketLabel);
    }

    [Fact]
    public void Assign_StoppedExperiment_KeepsItsRangeReserved()
    {
        static string Config(string status) => $$"""
            { "experiments": [
              { "id": "a", "layer": "l", "scenes": ["*"], "traffic": 0.5, "status": "{{status}}", "buckets": [ { "name": "control", "weight": 1 } ] },
              { "id": "b", "layer": "l", "scenes": ["*"], "traffic": 0.5, "buckets": [ { "name": "control", "weight": 1 } ] } ] }
            """;
        var running = Assigner(Config("running"));
        var stopped = Assigner(Config("stopped"));
        for (int i = 0; i < 5_000; i++)
        {
            var r = running.Assign(User(i), "s");
            var s = stopped.Assign(User(i), "s");
            Assert.Equal(r[0].ExperimentId == "b" ? "b:control" : null, s.BucketLabel);
        }
    }

    [Fact]
    public void Assign_CarriesOverrides_MergedAcrossLayers()
    {
        var assigner = Assigner("""
            { "experiments": [
              { "id": "e1", "scenes": ["*"], "buckets": [ { "name": "t", "weight": 1, "modelAlias": "candidate", "channelQuotas": { "i2i": 50 }, "rules": { "mmr": 0.3 } } ] },
              { "id": "e2", "scenes": ["*"], "buckets": [ { "name": "t", "weight": 1, "modelAlias": "other", "channelQuotas": { "i2i": 5, "hot": 10 }, "rules": { "fresh": "on" } } ] } ] }
            """);
        var a = assigner.Assign("u", "home");
        Assert.Equal("e1:t,e2:t", a.BucketLabel);
        Assert.Equal("candidate", a.ModelAlias); // the earlier layer wins
        Assert.Equal(50, a.ChannelQuotas["i2i"]);
        Assert.Equal(10, a.ChannelQuotas["hot"]);
        Assert.Equal("0.3", a.Rules["mmr"]);
        Assert.Equal("on", a.Rules["fresh"]);
        Assert.Equal("other", a.Find("e2")!.ModelAlias);
        Assert.Same(a, assigner.Assign("u", "home")); // cached per combination
    }

    [Fact]
    public void Assign_MoreThanFourLayers_StillAssignsEveryLayer()
    {
        var experiments = string.Join(",", Enumerable.Range(0, 6).Select(i =>
            $$"""{ "id": "e{{i}}", "scenes": ["*"], "buckets": [ { "name": "control", "weight": 0.5 }, { "name": "t", "weight": 0.5 } ] }"""));
        var assigner = Assigner($$"""{ "experiments": [ {{experiments}} ] }""");
        var a = assigner.Assign("u", "home");
        Assert.Equal(6, a.Count);
        Assert.Equal(a.BucketLabel, assigner.Assign("u", "home").BucketLabel);
    }

    [Fact]
    public void Assign_AfterWarmUp_AllocatesNothing()
    {
        var assigner = Assigner("""
            { "experiments": [
              { "id": "recall-mix", "layer": "recall", "scenes": ["home"], "buckets": [ { "name": "control", "weight": 0.5 }, { "name": "t", "weight": 0.5 } ] },
              { "id": "rank-v2", "layer": "rank", "scenes": ["home"], "buckets": [ { "name": "control", "weight": 0.5 }, { "name": "t", "weight": 0.5 } ] } ] }
            """);
        var users = Enumerable.Range(0, 1_000).Select(User).ToArray();
        var longUser = new string('x', 300); // past the stack buffer: pooled
        foreach (var u in users)
        {
            assigner.Assign(u, "home");
        }

        assigner.Assign(longUser, "home");
        long before = GC.GetAllocatedBytesForCurrentThread();
        int total = 0;
        for (int round = 0; round < 10; round++)
        {
            foreach (var u in users)
            {
                total += assigner.Assign(u, "home").Count;
                total += assigner.Assign(null, "home", u).Count;
            }

            total += assigner.Assign(longUser, "home").Count;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(2 * ((2 * 10 * 1_000) + 10), total);
    }

    [Fact]
    public async Task Assign_WhileTheConfigIsSwapped_AlwaysAnswersFromOneWholeConfig()
    {
        var a = ExperimentSet.Parse(ThreeWay);
        var b = ExperimentSet.Parse("""{ "experiments": [ { "id": "other", "scenes": ["*"], "buckets": [ { "name": "control", "weight": 1 } ] } ] }""");
        var assigner = new ExperimentAssigner(a);
        var expectedA = Enumerable.Range(0, 500).Select(i => assigner.Assign(User(i), "home").BucketLabel).ToArray();
        using var stop = new CancellationTokenSource();
        int bad = 0, rounds = 0;
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                for (int i = 0; i < 500; i++)
                {
                    var label = assigner.Assign(User(i), "home").BucketLabel;
                    if (label != expectedA[i] && label != "other:control")
                    {
                        Interlocked.Increment(ref bad);
                    }
                }

                Interlocked.Increment(ref rounds);
            }
        })).ToArray();
        for (int swap = 0; Volatile.Read(ref rounds) < 40; swap++)
        {
            assigner.Update(swap % 2 == 0 ? b : a);
            await Task.Yield();
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers);
        Assert.Equal(0, bad);
    }

    [Fact]
    public async Task Watch_ReloadsAChangedFile_AndKeepsTheLastGoodOneOnErrors()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine(ExperimentSet.FileName);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));
        using var assigner = ExperimentAssigner.Watch(path, time, pollInterval: TimeSpan.FromSeconds(2));
        Assert.Empty(assigner.Current.Experiments); // no file: no experiments
        Assert.Same(ExperimentAssignments.Empty, assigner.Assign("u", "home"));

        await File.WriteAllTextAsync(path, """{ "experiments": [ { "id": "e1", "scenes": ["*"], "buckets": [ { "name": "control", "weight": 1 } ] } ] }""");
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("e1:control", assigner.Assign("u", "home").BucketLabel);
        Assert.Null(assigner.LastError);

        await File.WriteAllTextAsync(path, """{ "experiments": [ { "id": "e2", "scenes": ["*"], "buckets": [ { "name": "control", "weight": 0.7 } ] } ] }""");
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("e1:control", assigner.Assign("u", "home").BucketLabel); // the bad file is not taken
        Assert.Contains("sum to 0.7", assigner.LastError, StringComparison.Ordinal);

        await File.WriteAllTextAsync(path, """{ "experiments": [ { "id": "e3", "scenes": ["*"], "buckets": [ { "name": "control", "weight": 1 } ] } ] }""");
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("e3:control", assigner.Assign("u", "home").BucketLabel);
        Assert.Null(assigner.LastError);

        File.Delete(path);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Same(ExperimentAssignments.Empty, assigner.Assign("u", "home"));
    }
}
