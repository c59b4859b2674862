using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Zhongtai.Demo;
using Zhongtai.Hosting;
using Zhongtai.Jobs;
using Zhongtai.Registry;
using Zhongtai.Training;
using Zhongtai.Training.Recall;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Training;

public sealed class RecallTrainingTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
    private ZhongtaiHost _host = null!;

    private Project Project => _host.Project();

    public async Task InitializeAsync()
    {
        _host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = _dir.Path }, _time);
        var world = DemoWorld.Generate(new DemoWorldOptions { Seed = 5, Scale = 0.2, Days = 4, Start = _time.GetUtcNow().AddDays(-4) });
        await Project.Ingestor.IngestAsync(world.Events().ToList(), backfill: true, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _dir.Dispose();
    }

    private TrainingOutcome Train(bool incremental, Dictionary<string, double>? overrides = null) =>
        RecallTraining.Run(Project, "als", incremental, _host.Options.Training, overrides ?? new() { ["factors"] = 16, ["iterations"] = 8 }, _ => { }, CancellationToken.None);

    [Fact]
    public void FullThenIncremental_PassTheGate_AndIncrementalWarmStartsFromProduction()
    {
        var full = Train(incremental: false);
        Assert.True(full.Passed && full.Promoted, string.Join("; ", full.Reasons));
        Assert.True(full.Metrics["ndcg@10"] > 0.02);
        Assert.Null(full.ProductionMetrics);

        var incremental = Train(incremental: true);
        Assert.Equal((2, 1), (incremental.Version, incremental.ParentVersion));
        Assert.NotNull(incremental.ProductionMetrics);
        Assert.True(incremental.Passed, string.Join("; ", incremental.Reasons));
        Assert.Equal(2, Project.Models.Resolve("als", ModelAliases.Production)!.Version);
        Assert.Equal(1, Project.Models.Resolve("als", ModelAliases.Previous)!.Version);
    }

    [Theory]
    [InlineData("ease")]
    [InlineData("itemcf")]
    public void ClosedFormModels_FullThenIncremental_UpdateTheStatisticsOfProduction(string model)
    {
        var full = RecallTraining.Run(Project, model, false, _host.Options.Training, null, _ => { }, CancellationToken.None);
        Assert.True(full.Passed && full.Promoted, string.Join("; ", full.Reasons));
        Assert.True(full.Metrics["ndcg@10"] > 0.02);
        var stored = Project.Models.Resolve(model, ModelAliases.Production)!;
        Assert.Equal(model == "ease" ? ClosedFormModelCodec.EaseFormat : ClosedFormModelCodec.ItemCfFormat, stored.Format);

        var incremental = RecallTraining.Run(Project, model, true, _host.Options.Training, null, _ => { }, CancellationToken.None);
        Assert.Equal((2, 1), (incremental.Version, incremental.ParentVersion));
        Assert.True(incremental.Passed, string.Join("; ", incremental.Reasons));

        // same data, so the warm-started candidate scores exactly what production scores
        Assert.Equal(incremental.ProductionMetrics!["ndcg@10"], incremental.Metrics["ndcg@10"], 6);
    }

    [Fact]
    public void DeliberatelyWorseCandidate_IsRejectedWithReasons_AndProductionStays()
    {
        Train(incremental: false);
        var worse = Train(incremental: false, new() { ["factors"] = 1, ["iterations"] = 1 });
        Assert.False(worse.Passed);
        Assert.Contains(worse.Reasons, r => r.StartsWith("ndcg@10", StringComparison.Ordinal));
        var stored = Project.Models.Get("als", worse.Version);
        Assert.Equal(ModelStatus.Rejected, stored.Status);
        Assert.Equal(1, Project.Models.Resolve("als", ModelAliases.Production)!.Version);
        Assert.Equal("version_rejected", Assert.Throws<RegistryException>(() => Project.Models.Promote("als", worse.Version)).Code);
    }

    [Fact]
    public async Task FailedJob_LeavesProductionUntouched()
    {
        Train(incremental: false);
        var runner = new JobRunner(_host.Jobs, TrainingJobHandler.Both(_host), [], _time, NullLogger.Instance);
        var job = runner.Enqueue("default", TrainingJobHandler.Full, """{"model":"svd"}""", "test");
        await runner.DrainAsync(CancellationToken.None);
        var done = _host.Jobs.Get(job.Id);
        Assert.Equal(JobStatus.Failed, done.Status);
        Assert.Contains("support the models", done.Error, StringComparison.Ordinal);
        Assert.Equal(1, Project.Models.Resolve("als", ModelAliases.Production)!.Version);
        Assert.Single(Project.Models.Versions("als"));
    }

    [Fact]
    public async Task ScheduledIncrementalRun_FiresOnItsCron()
    {
        Train(incremental: false);
        var schedule = new JobSchedule { Name = "als-incremental", Cron = "0 * * * *", Kind = TrainingJobHandler.Incremental, Args = """{"model":"als","factors":16,"iterations":4}""" };
        var runner = new JobRunner(_host.Jobs, TrainingJobHandler.Both(_host), [schedule], _time, NullLogger.Instance) { PollInterval = TimeSpan.FromMilliseconds(50) };
        using var cts = new CancellationTokenSource();
        var running = runner.RunAsync(cts.Token);
        await Task.Delay(100);
        _time.Advance(TimeSpan.FromHours(1));
        for (var i = 0; i < 400 && Project.Models.Versions("als").Count < 2; i++)
        {
            await Task.Delay(50);
        }

        await cts.CancelAsync();
        await running;
        var v2 = Project.Models.Get("als", 2);
        Assert.Equal((1, "train-incremental"), (v2.ParentVersion, v2.CreatedBy));
    }
}
