using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Zhongtai.Meta;

namespace Zhongtai.Jobs;

/// <summary>Job states.</summary>
public static class JobStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}

/// <summary>One job: a unit of offline work (a training run, a pipeline run) with a status, a log and a result.</summary>
public sealed record Job(
    string Id,
    string Project,
    string Kind,
    string Args,
    string Status,
    string Trigger,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? Worker,
    string? Result,
    string? Error);

/// <summary>What a job handler gets: its job, a log, and the time.</summary>
public sealed class JobContext(Job job, string logPath, TimeProvider time)
{
    private readonly Lock _lock = new();

    public Job Job { get; } = job;

    /// <summary>Appends a timestamped line to the job's log (durable once the job ends).</summary>
    public void Log(string message)
    {
        lock (_lock)
        {
            File.AppendAllText(logPath, $"{time.GetUtcNow():yyyy-MM-ddTHH:mm:ss.fffZ} {message}\n", Encoding.UTF8);
        }
    }
}

/// <summary>Runs jobs of one kind.</summary>
public interface IJobHandler
{
    string Kind { get; }

    /// <summary>Does the work; returns the result (JSON) or throws to fail the job.</summary>
    Task<string> RunAsync(JobContext context, CancellationToken cancellationToken);
}

/// <summary>
/// The job queue in the metadata store: enqueue, claim with a lease, finish, list, and per-job logs in
/// <c>DATA/jobs/ID.log</c>. A job whose worker stops heartbeating for the lease time is failed by the next claim
/// (it does not run twice silently: a person or the next schedule retries it).
/// </summary>
public sealed class JobService(MetaStore meta, string directory, TimeProvider time)
{
    /// <summary>A running job whose heartbeat is older than this is considered lost. Default 10 minutes.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(10);

    public Job Enqueue(string project, string kind, string args, string trigger)
    {
        var id = "j-" + time.GetUtcNow().ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..8];
        using var c = meta.Connect();
        Execute(c, null, "INSERT INTO jobs(id, project, kind, args, status, created_at, trigger) VALUES ($id, $p, $k, $a, 'queued', $t, $tr)",
            ("$id", id), ("$p", project), ("$k", kind), ("$a", args), ("$t", Now()), ("$tr", trigger));
        return Get(id);
    }

    /// <summary>Claims the oldest queued job of the given kinds for <paramref name="worker"/>, or null.</summary>
    public Job? Claim(string worker, IReadOnlyCollection<string> kinds)
    {
        using var c = meta.Connect();
        using var tx = c.BeginTransaction();
        var lostBefore = (time.GetUtcNow() - Lease).UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        Execute(c, tx, "UPDATE jobs SET status='failed', error='lost: the worker stopped heartbeating', finished_at=$t WHERE status='running' AND heartbeat_at < $lost",
            ("$t", Now()), ("$lost", lostBefore));
        using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = $"SELECT id FROM jobs WHERE status='queued' AND kind IN ({string.Join(",", kinds.Select((_, i) => "$k" + i))}) ORDER BY created_at, id LIMIT 1";
        var i = 0;
        foreach (var k in kinds)
        {
            cmd.Parameters.AddWithValue("$k" + i++, k);
        }

        if (cmd.ExecuteScalar() is not string id)
        {
            tx.Commit();
            return null;
        }

        Execute(c, tx, "UPDATE jobs SET status='running', started_at=$t, heartbeat_at=$t, worker=$w WHERE id=$id", ("$t", Now()), ("$w", worker), ("$id", id));
        tx.Commit();
        return Get(id);
    }

    public void Heartbeat(string id)
    {
        using var c = meta.Connect();
        Execute(c, null, "UPDATE jobs SET heartbeat_at=$t WHERE id=$id AND status='running'", ("$t", Now()), ("$id", id));
    }

    public void Finish(string id, string? result, string? error)
    {
        using var c = meta.Connect();
        Execute(c, null, "UPDATE jobs SET status=$s, finished_at=$t, result=$r, error=$e WHERE id=$id",
            ("$s", error is null ? JobStatus.Succeeded : JobStatus.Failed), ("$t", Now()), ("$r", (object?)result ?? DBNull.Value), ("$e", (object?)error ?? DBNull.Value), ("$id", id));
    }

    public Job Get(string id) => Query("SELECT * FROM jobs WHERE id=$id", ("$id", id)).FirstOrDefault()
        ?? throw new KeyNotFoundException($"No job '{id}'.");

    /// <summary>The newest jobs first.</summary>
    public IReadOnlyList<Job> List(string? project = null, int limit = 50) => project is null
        ? Query("SELECT * FROM jobs ORDER BY created_at DESC, id DESC LIMIT $n", ("$n", limit))
        : Query("SELECT * FROM jobs WHERE project=$p ORDER BY created_at DESC, id DESC LIMIT $n", ("$p", project), ("$n", limit));

    public string LogPath(string id) => Path.Combine(directory, id + ".log");

    public string ReadLog(string id)
    {
        Get(id);
        var path = LogPath(id);
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    /// <summary>Runs one claimed job with its handler, recording the outcome; never throws for the job's own failure.</summary>
    public async Task<Job> RunAsync(Job job, IJobHandler handler, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var context = new JobContext(job, LogPath(job.Id), time);
        context.Log($"started {job.Kind} {job.Args}");
        using var heartbeat = new CancellationTokenSource();
        var beating = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await Task.Delay(Lease / 4, time, heartbeat.Token).ConfigureAwait(false);
                    Heartbeat(job.Id);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
        try
        {
            var result = await handler.RunAsync(context, cancellationToken).ConfigureAwait(false);
            context.Log("succeeded");
            Finish(job.Id, result, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            context.Log($"failed: {ex}");
            Finish(job.Id, null, ex.Message);
        }
        finally
        {
            await heartbeat.CancelAsync().ConfigureAwait(false);
            await beating.ConfigureAwait(false);
        }

        return Get(job.Id);
    }

    private List<Job> Query(string sql, params (string Name, object Value)[] parameters)
    {
        using var c = meta.Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (n, v) in parameters)
        {
            cmd.Parameters.AddWithValue(n, v);
        }

        using var r = cmd.ExecuteReader();
        var jobs = new List<Job>();
        while (r.Read())
        {
            jobs.Add(new Job(
                (string)r["id"], (string)r["project"], (string)r["kind"], (string)r["args"], (string)r["status"], (string)r["trigger"],
                Time(r["created_at"])!.Value, Time(r["started_at"]), Time(r["finished_at"]),
                r["worker"] as string, r["result"] as string, r["error"] as string));
        }

        return jobs;
    }

    private static DateTimeOffset? Time(object value) => value is string s ? DateTimeOffset.Parse(s, CultureInfo.InvariantCulture) : null;

    private static void Execute(SqliteConnection c, SqliteTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var (n, v) in parameters)
        {
            cmd.Parameters.AddWithValue(n, v);
        }

        cmd.ExecuteNonQuery();
    }

    private string Now() => time.GetUtcNow().UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
}
