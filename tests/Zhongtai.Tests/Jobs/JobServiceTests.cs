using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Zhongtai.Hosting;
using Zhongtai.Jobs;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Jobs;

public sealed class JobServiceTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 10, 17, 0, TimeSpan.Zero));
    private ZhongtaiHost _host = null!;

    public Task InitializeAsync()
    {
        _host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = _dir.Path }, _time);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _dir.Dispose();
    }

    private sealed class Handler(string kind, Func<JobContext, Task<string>> run) : IJobHandler
    {
        public string Kind => kind;

        public Task<string> RunAsync(JobContext context, CancellationToken cancellationToken) => run(context);
    }

    [Fact]
    public async Task Run_Success_RecordsResultAndLog()
    {
        var job = _host.Jobs.Enqueue("default", "echo", "{\"x\":1}", "manual");
        Assert.Equal(JobStatus.Queued, job.Status);
        var claimed = _host.Jobs.Claim("w1", ["echo"])!;
        Assert.Equal((job.Id, JobStatus.Running, "w1"), (claimed.Id, claimed.Status, claimed.Worker));
        Assert.Null(_host.Jobs.Claim("w2", ["echo"]));

        var done = await _host.Jobs.RunAsync(claimed, new Handler("echo", ctx => { ctx.Log("working on " + ctx.Job.Args); return Task.FromResult("{\"ok\":true}"); }), CancellationToken.None);
        Assert.Equal((JobStatus.Succeeded, "{\"ok\":true}"), (done.Status, done.Result));
        Assert.Contains("working on {\"x\":1}", _host.Jobs.ReadLog(job.Id), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_Failure_RecordsErrorAndStackInLog()
    {
        _host.Jobs.Enqueue("default", "boom", "{}", "manual");
        var done = await _host.Jobs.RunAsync(_host.Jobs.Claim("w", ["boom"])!, new Handler("boom", _ => throw new InvalidOperationException("no data for the window")), CancellationToken.None);
        Assert.Equal((JobStatus.Failed, "no data for the window"), (done.Status, done.Error));
        Assert.Contains("InvalidOperationException", _host.Jobs.ReadLog(done.Id), StringComparison.Ordinal);
    }

    [Fact]
    public void LostWorker_IsFailedAfterTheLease()
    {
        var job = _host.Jobs.Enqueue("default", "slow", "{}", "manual");
        _host.Jobs.Claim("w1", ["slow"]);
        _time.Advance(TimeSpan.FromMinutes(11));
        Assert.Null(_host.Jobs.Claim("w2", ["slow"]));
        var lost = _host.Jobs.Get(job.Id);
        Assert.Equal(JobStatus.Failed, lost.Status);
        Assert.StartsWith("lost", lost.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runner_CronScheduleEnqueuesOnTime_AndTheWorkerRunsIt()
    {
        var runs = 0;
        var handler = new Handler("tick", _ => { Interlocked.Increment(ref runs); return Task.FromResult("{}"); });
        var runner = new JobRunner(_host.Jobs, [handler], [new JobSchedule { Name = "hourly-tick", Cron = "@hourly", Kind = "tick" }], _time, NullLogger.Instance)
        {
            PollInterval = TimeSpan.FromMilliseconds(50),
        };
        using var cts = new CancellationTokenSource();
        var running = runner.RunAsync(cts.Token);
        await Task.Delay(200);
        Assert.Equal(0, runs);
        _time.Advance(TimeSpan.FromMinutes(43)); // 11:00
        for (var i = 0; i < 200 && _host.Jobs.List().FirstOrDefault()?.Status != JobStatus.Succeeded; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(1, runs);
        var job = Assert.Single(_host.Jobs.List());
        Assert.Equal(("schedule:hourly-tick", JobStatus.Succeeded), (job.Trigger, job.Status));
        await cts.CancelAsync();
        await running;
    }

    [Fact]
    public void Runner_UnknownKind_IsRejected()
    {
        var runner = new JobRunner(_host.Jobs, [], [], _time, NullLogger.Instance);
        Assert.Throws<ArgumentException>(() => runner.Enqueue("default", "nope", "{}", "manual"));
    }
}
