using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Zhongtai.Cli.Commands;
using Zhongtai.Events;
using Zhongtai.Experiments;
using Zhongtai.Hosting;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Experiments;

public class ExperimentEndToEndTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private const string Config = """
        { "experiments": [
          { "id": "rank-v2", "layer": "rank", "scenes": ["home"], "buckets": [ { "name": "control", "weight": 0.5 }, { "name": "v2", "weight": 0.5, "modelAlias": "candidate" } ] },
          { "id": "ui-aa", "layer": "ui", "scenes": ["*"], "buckets": [ { "name": "control", "weight": 0.5 }, { "name": "same", "weight": 0.5 } ] } ] }
        """;

    /// <summary>
    /// A simulated A/B test through the real assigner and the real report: the ranker's treatment lifts CTR from 5% to
    /// 8%; an orthogonal A/A experiment changes nothing. Purchases follow 20% of clicks.
    /// </summary>
    [Fact]
    public async Task SimulatedAbTest_ReportFindsTheTrueLift_AndNoLiftInTheAaLayer()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path }, new FakeTimeProvider(Now));
        var project = host.Project();
        await File.WriteAllTextAsync(ExperimentSet.PathFor(project.Directory), Config);
        using var assigner = ExperimentAssigner.Watch(ExperimentSet.PathFor(project.Directory), host.Time);

        var rng = new Random(20261122);
        var batch = new List<Event>();
        int n = 0;
        async Task Flush()
        {
            var result = await project.Ingestor.IngestAsync(batch, backfill: false, CancellationToken.None);
            Assert.NotNull(result);
            batch.Clear();
        }

        Event New(string type, string user, string item, string request, DateTimeOffset ts) =>
            new() { Id = "e" + (n++).ToString(CultureInfo.InvariantCulture), Type = type, UserId = user, ItemId = item, RequestId = request, Scene = "home", Timestamp = ts };

        for (int u = 0; u < 3_000; u++)
        {
            var user = "u" + u.ToString(CultureInfo.InvariantCulture);
            var assignment = assigner.Assign(user, "home");
            Assert.Equal(2, assignment.Count);
            bool treated = assignment.Find("rank-v2")!.Bucket == "v2";
            Assert.Equal(treated ? "candidate" : null, assignment.ModelAlias);
            double ctr = treated ? 0.08 : 0.05;
            for (int r = 0; r < 2; r++)
            {
                var request = user + "-r" + r.ToString(CultureInfo.InvariantCulture);
                var ts = Now.AddHours(-2).AddSeconds(u + (r * 3_600));
                for (int position = 0; position < 5; position++)
                {
                    var item = "i" + ((rng.Next(100) * 5) + position).ToString(CultureInfo.InvariantCulture); // distinct within a request
                    var exposure = New(EventTypes.Exposure, user, item, request, ts);
                    exposure.Position = position;
                    exposure.Properties = new()
                    {
                        ["channel"] = JsonSerializer.SerializeToElement("i2i"),
                        ["bucket"] = JsonSerializer.SerializeToElement(assignment.BucketLabel),
                    };
                    batch.Add(exposure);
                    if (rng.NextDouble() < ctr)
                    {
                        batch.Add(New(EventTypes.Click, user, item, request, ts.AddSeconds(3)));
                        if (rng.NextDouble() < 0.2)
                        {
                            batch.Add(New(EventTypes.Purchase, user, item, request, ts.AddSeconds(60)));
                        }
                    }
                }
            }

            if (batch.Count > 5_000)
            {
                await Flush();
            }
        }

        await Flush();

        var rank = await ExperimentsCommands.ReportAsync(project, host.Time, "rank-v2", since: null, export: true, CancellationToken.None);
        var control = rank.Buckets.Single(b => b.Bucket == "control");
        var v2 = rank.Buckets.Single(b => b.Bucket == "v2");
        Assert.Equal(30_000, control.Counts.Exposures + v2.Counts.Exposures);
        Assert.Equal(3_000, control.Counts.Users + v2.Counts.Users);
        Assert.InRange(v2.Counts.Users / 3_000.0, 0.47, 0.53);
        Assert.InRange(0.05, control.Ctr.Low, control.Ctr.High);
        Assert.InRange(0.08, v2.Ctr.Low, v2.Ctr.High);
        Assert.InRange(0.03, v2.CtrVsControl!.Low, v2.CtrVsControl.High);
        Assert.True(v2.CtrVsControl.PValue < 1e-6, $"p = {v2.CtrVsControl.PValue}");

        var aa = await ExperimentsCommands.ReportAsync(project, host.Time, "ui-aa", since: null, export: false, CancellationToken.None);
        var same = aa.Buckets.Single(b => b.Bucket == "same");
        Assert.Equal(30_000, aa.Buckets.Sum(b => b.Counts.Exposures));
        Assert.True(same.CtrVsControl!.PValue > 0.05, $"A/A p = {same.CtrVsControl.PValue}");
        Assert.InRange(0.0, same.CtrVsControl.Low, same.CtrVsControl.High);
        Assert.InRange(0.0, same.ConversionVsControl!.Low, same.ConversionVsControl.High);
    }
}
