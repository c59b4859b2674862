using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Zhongtai.Cli.Commands;
using Zhongtai.Events;
using Zhongtai.Experiments;
using Zhongtai.Hosting;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Experiments;

public class ExperimentReportTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Early = Now.AddHours(-3);
    private static readonly DateTimeOffset Late = Now.AddHours(-1);

    private const string Config = """
        { "experiments": [ { "id": "exp1", "scenes": ["home"], "buckets": [ { "name": "control", "weight": 0.5 }, { "name": "treatment", "weight": 0.5, "modelAlias": "candidate" } ] } ] }
        """;

    /// <summary>
    /// control:   rc1 (u1: a b c, early), rc2 (u2: a b), rc3 (u1: d, labelled with another experiment too)
    ///            clicks rc1/a twice, rc2/b; purchase rc2/b                 → 6 exposures, 2 users, 2 clicked, 1 converted user
    /// treatment: rt1 (u3: a b c d), rt2 (u4: a b)
    ///            clicks rt1/a rt1/b rt1/c rt2/a, and u1's click on rt1/d; purchases rt1/a rt2/a → 6, 2, 5, 2
    /// noise:     exp10's exposures (an id that starts with exp1), unlabelled exposures, clicks on unexposed items.
    /// </summary>
    private static List<Event> Log()
    {
        var events = new List<Event>();
        int n = 0;
        void Add(string type, string user, string item, string request, DateTimeOffset ts, string? bucket = null) => events.Add(new Event
        {
            Id = "ev" + n++,
            Type = type,
            UserId = user,
            ItemId = item,
            RequestId = request,
            Scene = "home",
            Timestamp = ts,
            Position = type == EventTypes.Exposure ? n % 10 : null,
            Properties = type == EventTypes.Exposure
                ? bucket is null
                    ? new() { ["channel"] = JsonSerializer.SerializeToElement("hot") }
                    : new() { ["channel"] = JsonSerializer.SerializeToElement("i2i"), ["bucket"] = JsonSerializer.SerializeToElement(bucket) }
                : null,
        });

        foreach (var item in new[] { "a", "b", "c" })
        {
            Add(EventTypes.Exposure, "u1", item, "rc1", Early, "exp1:control");
        }

        Add(EventTypes.Exposure, "u2", "a", "rc2", Late, "exp1:control");
        Add(EventTypes.Exposure, "u2", "b", "rc2", Late, "exp1:control");
        Add(EventTypes.Exposure, "u1", "d", "rc3", Late, "exp2:x,exp1:control");
        foreach (var item in new[] { "a", "b", "c", "d" })
        {
            Add(EventTypes.Exposure, "u3", item, "rt1", Late, "exp1:treatment");
        }

        Add(EventTypes.Exposure, "u4", "a", "rt2", Late, "exp2:y,exp1:treatment,exp3:z");
        Add(EventTypes.Exposure, "u4", "b", "rt2", Late, "exp2:y,exp1:treatment,exp3:z");

        Add(EventTypes.Click, "u1", "a", "rc1", Early.AddSeconds(5));
        Add(EventTypes.Click, "u1", "a", "rc1", Early.AddSeconds(6)); // a double click: one clicked exposure
        Add(EventTypes.Click, "u2", "b", "rc2", Late.AddSeconds(5));
        Add(EventTypes.Purchase, "u2", "b", "rc2", Late.AddSeconds(60));
        Add(EventTypes.Click, "u3", "a", "rt1", Late.AddSeconds(5));
        Add(EventTypes.Click, "u3", "b", "rt1", Late.AddSeconds(6));
        Add(EventTypes.Click, "u3", "c", "rt1", Late.AddSeconds(7));
        Add(EventTypes.Click, "u4", "a", "rt2", Late.AddSeconds(5));
        Add(EventTypes.Click, "u1", "d", "rt1", Late.AddSeconds(8)); // a control user acting on a treatment request: treatment's
        Add(EventTypes.Purchase, "u3", "a", "rt1", Late.AddSeconds(70));
        Add(EventTypes.Purchase, "u4", "a", "rt2", Late.AddSeconds(70));

        // Noise that must not count for exp1.
        Add(EventTypes.Exposure, "u5", "a", "rx1", Late, "exp10:control");
        Add(EventTypes.Click, "u5", "a", "rx1", Late.AddSeconds(5));
        Add(EventTypes.Exposure, "u6", "a", "rn1", Late);
        Add(EventTypes.Click, "u6", "a", "rn1", Late.AddSeconds(5));
        Add(EventTypes.Click, "u1", "z", "rc1", Late.AddSeconds(9)); // an item rc1 never showed
        Add(EventTypes.Click, "u2", "a", "rq9", Late.AddSeconds(9)); // a request that was never logged
        return events;
    }

    private static async Task<(ZhongtaiHost Host, Project Project)> OpenAsync(TempDirectory dir, string? config)
    {
        var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path }, new FakeTimeProvider(Now));
        var project = host.Project();
        var result = await project.Ingestor.IngestAsync(Log(), backfill: false, CancellationToken.None);
        Assert.Equal(Log().Count, project.Events.Count);
        Assert.NotNull(result);
        if (config is not null)
        {
            await File.WriteAllTextAsync(ExperimentSet.PathFor(project.Directory), config);
        }

        return (host, project);
    }

    [Fact]
    public async Task Report_SmallLog_ExactCountsIntervalsAndTest()
    {
        using var dir = new TempDirectory();
        var (host, project) = await OpenAsync(dir, Config);
        await using var _ = host;
        var report = await ExperimentsCommands.ReportAsync(project, host.Time, "exp1", since: null, export: true, CancellationToken.None);

        Assert.Equal("control", report.Control);
        Assert.Equal(["control", "treatment"], report.Buckets.Select(b => b.Bucket));
        var control = report.Buckets[0];
        var treatment = report.Buckets[1];
        Assert.True(control.IsControl);
        Assert.Equal(new BucketCounts("control", Exposures: 6, Users: 2, ClickedExposures: 2, ClickEvents: 3, PurchasedExposures: 1, ConvertedUsers: 1), control.Counts);
        Assert.Equal(new BucketCounts("treatment", Exposures: 6, Users: 2, ClickedExposures: 5, ClickEvents: 5, PurchasedExposures: 2, ConvertedUsers: 2), treatment.Counts);

        // CTR: 2/6 and 5/6 with Wilson intervals (hand-computed: center (p + z²/2n)/(1 + z²/n) ± ...).
        Assert.Equal(2.0 / 6, control.Ctr.Rate, 12);
        Assert.Equal(0.096771, control.Ctr.Low, 5);
        Assert.Equal(0.700007, control.Ctr.High, 5);
        Assert.Equal(0.436497, treatment.Ctr.Low, 5);
        Assert.Equal(0.969947, treatment.Ctr.High, 5);

        // Against control: pooled 7/12, z = 0.5 / sqrt(7/12 · 5/12 · 2/6) = 1.756620, p = 0.078983.
        Assert.Null(control.CtrVsControl);
        Assert.Equal(0.5, treatment.CtrVsControl!.Difference, 12);
        Assert.Equal(1.756620, treatment.CtrVsControl.Z, 5);
        Assert.Equal(0.078983, treatment.CtrVsControl.PValue, 5);
        Assert.Equal(1.5, treatment.CtrVsControl.Relative!.Value, 9);

        // Conversion per user: 1/2 against 2/2, z = 1.154701, p = 0.248213.
        Assert.Equal((0.5, 0.094531, 0.905469), (control.Conversion.Rate, Math.Round(control.Conversion.Low, 6), Math.Round(control.Conversion.High, 6)));
        Assert.Equal((1.0, 0.34238, 1.0), (treatment.Conversion.Rate, Math.Round(treatment.Conversion.Low, 5), treatment.Conversion.High));
        Assert.Equal(1.154701, treatment.ConversionVsControl!.Z, 5);
        Assert.Equal(0.248213, treatment.ConversionVsControl.PValue, 5);
    }

    [Fact]
    public async Task Report_Since_CountsOnlyLaterExposures_AndUnconfiguredExperimentsStillReport()
    {
        using var dir = new TempDirectory();
        var (host, project) = await OpenAsync(dir, config: null); // the experiment was removed from the config: the logs still tell
        await using var _ = host;
        var since = ExperimentsCommands.ParseSince("2h", host.Time);
        Assert.Equal(Now.AddHours(-2), since);
        var report = await ExperimentsCommands.ReportAsync(project, host.Time, "exp1", since, export: true, CancellationToken.None);

        Assert.Equal("control", report.Control);
        Assert.Equal(new BucketCounts("control", 3, 2, 1, 1, 1, 1), report.Buckets.Single(b => b.Bucket == "control").Counts);
        Assert.Equal(6, report.Buckets.Single(b => b.Bucket == "treatment").Counts.Exposures);

        var exp10 = await ExperimentsCommands.ReportAsync(project, host.Time, "exp10", since: null, export: false, CancellationToken.None);
        Assert.Equal(new BucketCounts("control", 1, 1, 1, 1, 0, 0), Assert.Single(exp10.Buckets).Counts);

        var none = await ExperimentsCommands.ReportAsync(project, host.Time, "nope", since: null, export: false, CancellationToken.None);
        Assert.Empty(none.Buckets);
    }

    [Fact]
    public void ParseSince_AcceptsIsoAndAges_RejectsOthers()
    {
        var time = new FakeTimeProvider(Now);
        Assert.Equal(Now.AddDays(-7), ExperimentsCommands.ParseSince("7d", time));
        Assert.Equal(Now.AddMinutes(-90), ExperimentsCommands.ParseSince("90m", time));
        Assert.Equal(new DateTimeOffset(2026, 2, 1, 8, 0, 0, TimeSpan.Zero), ExperimentsCommands.ParseSince("2026-02-01T08:00:00", time));
        Assert.Equal(new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero), ExperimentsCommands.ParseSince("2026-02-01T08:00:00+08:00", time));
        Assert.Throws<ArgumentException>(() => ExperimentsCommands.ParseSince("yesterday", time));
    }

    [Fact]
    public async Task Cli_ListReportAndValidate()
    {
        using var dir = new TempDirectory();
        var (host, project) = await OpenAsync(dir, Config);
        var configPath = ExperimentSet.PathFor(project.Directory);
        await host.DisposeAsync();

        var list = await ZtProcess.RunAsync("experiments", "list", "--data", dir.Path, "--json");
        Assert.True(list.ExitCode == 0, list.Stderr);
        Assert.Equal("candidate", JsonDocument.Parse(list.Stdout).RootElement[0].GetProperty("buckets")[1].GetProperty("modelAlias").GetString());

        var report = await ZtProcess.RunAsync("experiments", "report", "exp1", "--data", dir.Path, "--json");
        Assert.True(report.ExitCode == 0, report.Stderr);
        var buckets = JsonDocument.Parse(report.Stdout).RootElement.GetProperty("buckets");
        Assert.Equal(5, buckets[1].GetProperty("counts").GetProperty("clickedExposures").GetInt64());
        Assert.Equal(0.078983, buckets[1].GetProperty("ctrVsControl").GetProperty("pValue").GetDouble(), 5);

        var table = await ZtProcess.RunAsync("experiments", "report", "exp1", "--data", dir.Path);
        Assert.True(table.ExitCode == 0, table.Stderr);
        Assert.Contains("treatment", table.Stdout, StringComparison.Ordinal);

        await File.WriteAllTextAsync(configPath, """{ "experiments": [ { "id": "e", "scenes": ["*"], "buckets": [ { "name": "a", "weight": 0.4 } ] } ] }""");
        var validate = await ZtProcess.RunAsync("experiments", "validate", "--data", dir.Path);
        Assert.Equal(2, validate.ExitCode);
        Assert.Contains("sum to 0.4", validate.Stdout + validate.Stderr, StringComparison.Ordinal);
    }
}
