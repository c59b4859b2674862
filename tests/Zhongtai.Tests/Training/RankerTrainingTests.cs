using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Zhongtai.Demo;
using Zhongtai.Hosting;
using Zhongtai.Jobs;
using Zhongtai.Pipeline;
using Zhongtai.Registry;
using Zhongtai.Tests.Support;
using Zhongtai.Training;

namespace Zhongtai.Tests.Training;

/// <summary>Rankers train as jobs on the pipeline's ranking splits and go through their own admission gate.</summary>
public sealed class RankerTrainingTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
    private ZhongtaiHost _host = null!;
    private JobRunner _runner = null!;

    private Project Project => _host.Project();

    public async Task InitializeAsync()
    {
        var options = new ZhongtaiOptions { DataDirectory = _dir.Path };
        _host = ZhongtaiHost.Open(options, _time);
        var world = DemoWorld.Generate(new DemoWorldOptions { Seed = 9, Scale = 0.1, Days = 4, Start = _time.GetUtcNow().AddDays(-4), InjectFraud = false });
        await Project.Ingestor.IngestAsync(world.Events().ToList(), backfill: true, CancellationToken.None);
        _runner = new JobRunner(_host.Jobs, LakeJobs.Handlers(_host), [], _time, NullLogger.Instance);
        var pipeline = await Run(PipelineJobHandler.KindName, "{}");
        Assert.True(pipeline.Status == JobStatus.Succeeded, pipeline.Error + "\n" + _host.Jobs.ReadLog(pipeline.Id));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _dir.Dispose();
    }

    private async Task<Job> Run(string kind, string args)
    {
        var job = _runner.Enqueue("default", kind, args, "test");
        await _runner.DrainAsync(CancellationToken.None);
        return _host.Jobs.Get(job.Id);
    }

    private async Task<TrainingOutcome> Train(string model, bool incremental, string extra = "")
    {
        var job = await Run(incremental ? TrainingJobHandler.Incremental : TrainingJobHandler.Full, $$"""{"model":"{{model}}"{{extra}}}""");
        Assert.True(job.Status == JobStatus.Succeeded, job.Error + "\n" + _host.Jobs.ReadLog(job.Id));
        return JsonSerializer.Deserialize<TrainingOutcome>(job.Result!, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
    }

    [Theory]
    [InlineData("ftrl")]
    [InlineData("fm")]
    public async Task FullThenIncremental_LearnFromTheSplits_AndPassTheGate(string model)
    {
        var full = await Train(model, incremental: false);
        Assert.True(full.Passed && full.Promoted, string.Join("; ", full.Reasons));
        Assert.True(full.Metrics["auc"] > 0.6, $"auc {full.Metrics["auc"]}");
        var version = Project.Models.Get(model, full.Version);
        Assert.StartsWith("ranking-splits@", Assert.Single(version.Datasets), StringComparison.Ordinal);

        // Nothing new since: the warm start keeps production's weights and scores the same on the same test split.
        var incremental = await Train(model, incremental: true);
        Assert.Equal(full.Version, incremental.ParentVersion);
        Assert.Equal(full.Metrics["auc"], incremental.Metrics["auc"], 6);
        Assert.True(incremental.Passed, string.Join("; ", incremental.Reasons));
        Assert.Equal(incremental.Version, Project.Models.Resolve(model, ModelAliases.Production)!.Version);
    }

    [Fact]
    public async Task DeliberatelyWorseRanker_IsRejectedOnAuc_AndProductionStays()
    {
        var good = await Train("ftrl", incremental: false);
        var worse = await Train("ftrl", incremental: false, ""","l1":1000000""");
        Assert.False(worse.Passed);
        Assert.Contains(worse.Reasons, r => r.StartsWith("auc", StringComparison.Ordinal));
        Assert.Contains(worse.Reasons, r => r.StartsWith("predictions collapsed", StringComparison.Ordinal));
        Assert.Equal(ModelStatus.Rejected, Project.Models.Get("ftrl", worse.Version).Status);
        Assert.Equal(good.Version, Project.Models.Resolve("ftrl", ModelAliases.Production)!.Version);
    }

    [Fact]
    public async Task WithoutSamples_TheJobFailsWithAClearError()
    {
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = _dir.Combine("empty") }, _time);
        var runner = new JobRunner(host.Jobs, LakeJobs.Handlers(host), [], _time, NullLogger.Instance);
        var job = runner.Enqueue("default", TrainingJobHandler.Full, """{"model":"ftrl"}""", "test");
        await runner.DrainAsync(CancellationToken.None);
        var done = host.Jobs.Get(job.Id);
        Assert.Equal(JobStatus.Failed, done.Status);
        Assert.Contains("zt pipeline run", done.Error, StringComparison.Ordinal);
    }
}
