using Microsoft.Extensions.Logging;

namespace Zhongtai.Jobs;

/// <summary>A job started by a cron schedule (configuration <c>Jobs:Schedules</c>).</summary>
public sealed class JobSchedule
{
    /// <summary>A name for logs and the job's trigger.</summary>
    public string Name { get; set; } = "";

    /// <summary>Five-field cron (UTC) or @hourly/@daily/@weekly.</summary>
    public string Cron { get; set; } = "";

    public string Project { get; set; } = "default";

    /// <summary>The handler's kind, e.g. <c>train-full</c>.</summary>
    public string Kind { get; set; } = "";

    /// <summary>The job's arguments (JSON).</summary>
    public string Args { get; set; } = "{}";
}

/// <summary>
/// Runs the schedules (enqueueing a job each time a cron fires) and a worker that claims queued jobs and runs them
/// one at a time with their handlers. Time comes from the <see cref="TimeProvider"/>, so tests drive it with a fake clock.
/// </summary>
public sealed partial class JobRunner(JobService jobs, IReadOnlyList<IJobHandler> handlers, IReadOnlyList<JobSchedule> schedules, TimeProvider time, ILogger logger)
{
    private readonly Dictionary<string, IJobHandler> _handlers = handlers.ToDictionary(h => h.Kind, StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0);

    /// <summary>How often the worker looks for queued jobs when nothing wakes it. Default 5 s.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(5);

    public string Worker { get; init; } = Environment.MachineName + ":" + Environment.ProcessId;

    /// <summary>Enqueues a job now and wakes the worker.</summary>
    public Job Enqueue(string project, string kind, string args, string trigger)
    {
        if (!_handlers.ContainsKey(kind))
        {
            throw new ArgumentException($"No handler for job kind '{kind}'. Known: {string.Join(", ", _handlers.Keys)}.", nameof(kind));
        }

        var job = jobs.Enqueue(project, kind, args, trigger);
        _wake.Release();
        return job;
    }

    /// <summary>Runs the schedules and the worker until cancelled.</summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        Task.WhenAll([WorkAsync(cancellationToken), .. schedules.Select(s => ScheduleAsync(s, CronSchedule.Parse(s.Cron), cancellationToken))]);

    /// <summary>Claims and runs queued jobs until none is left; returns how many ran.</summary>
    public async Task<int> DrainAsync(CancellationToken cancellationToken)
    {
        var ran = 0;
        while (jobs.Claim(Worker, _handlers.Keys) is { } job)
        {
            LogJobStarted(logger, job.Id, job.Kind);
            var done = await jobs.RunAsync(job, _handlers[job.Kind], cancellationToken).ConfigureAwait(false);
            LogJobFinished(logger, done.Id, done.Status, done.Error);
            ran++;
        }

        return ran;
    }

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await DrainAsync(cancellationToken).ConfigureAwait(false);
                await _wake.WaitAsync(PollInterval, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ScheduleAsync(JobSchedule schedule, CronSchedule cron, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            var next = cron.Next(now);
            try
            {
                await Task.Delay(next - now, time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var job = Enqueue(schedule.Project, schedule.Kind, schedule.Args, "schedule:" + schedule.Name);
            LogScheduled(logger, schedule.Name, job.Id);
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Job {Id} ({Kind}) started")]
    private static partial void LogJobStarted(ILogger logger, string id, string kind);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Job {Id} finished: {Status} {Error}")]
    private static partial void LogJobFinished(ILogger logger, string id, string status, string? error);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "Schedule {Name} enqueued job {Id}")]
    private static partial void LogScheduled(ILogger logger, string name, string id);
}
