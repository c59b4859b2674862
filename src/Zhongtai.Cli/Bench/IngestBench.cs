using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Zhongtai.Events;
using Zhongtai.Events.Ingest;
using Zhongtai.Events.Log;
using Zhongtai.Hosting;
using Zhongtai.Server;

namespace Zhongtai.Cli.Bench;

/// <summary>
/// <c>zt bench ingest</c>: durable events/s and MB/s into the log directly and through HTTP (wrk, batches of
/// 1,000), next to the disk's own fsync'd sequential write bandwidth measured in the same run.
/// </summary>
internal static class IngestBench
{
    public sealed record Measurement(string Name, double EventsPerSecond, double MegabytesPerSecond, double Seconds, string Note);

    public sealed record Report(string Directory, int BatchSize, int EventBytes, IReadOnlyList<Measurement> Measurements, long PeakWorkingSetBytes, double DirectToDiskRatio);

    public static async Task<Report> RunAsync(string directory, int seconds, int batchSize, int connections, Action<string> progress, CancellationToken ct)
    {
        Directory.CreateDirectory(directory);
        var time = TimeProvider.System;
        var events = SampleEvents(batchSize, time.GetUtcNow(), new Random(42));
        var body = Encoding.UTF8.GetBytes("[" + string.Join(",", events.Select(e => System.Text.Json.JsonSerializer.Serialize(e, EventJsonContext.Default.Event))) + "]");
        var payloads = events.Select(e => (ReadOnlyMemory<byte>)System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(e, EventJsonContext.Default.Event)).ToArray();
        var eventBytes = (int)payloads.Average(p => p.Length);
        var batchBytes = payloads.Sum(p => p.Length + Segment.HeaderSize);
        var results = new List<Measurement>();

        progress($"disk: sequential writes of {batchBytes / 1024} KiB, fsync after each");
        var disk = DiskBandwidth(Path.Combine(directory, "disk.bin"), batchBytes, seconds);
        results.Add(new Measurement("disk fsync'd sequential write (same chunk size)", 0, disk, seconds, $"{batchBytes / 1024} KiB + fsync"));
        var diskBig = DiskBandwidth(Path.Combine(directory, "disk.bin"), 4 << 20, seconds);
        results.Add(new Measurement("disk fsync'd sequential write (4 MiB chunks)", 0, diskBig, seconds, "4 MiB + fsync"));

        foreach (var writers in new[] { 1, 4 })
        {
            progress($"log: {writers} writer(s), batches of {batchSize}");
            var dir = Path.Combine(directory, $"log-{writers}");
            await using var log = Zhongtai.Events.Log.EventLog.Open(dir, new EventLogOptions(), time, NullLogger.Instance);
            var sw = Stopwatch.StartNew();
            var until = TimeSpan.FromSeconds(seconds);
            await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
            {
                while (sw.Elapsed < until)
                {
                    await log.AppendAsync(payloads, null, ct);
                }
            }, ct)));
            var elapsed = sw.Elapsed.TotalSeconds;
            var bytes = Directory.EnumerateFiles(dir, "*.log").Sum(f => new FileInfo(f).Length);
            results.Add(new Measurement($"log direct, {writers} writer(s)", log.Count / elapsed, bytes / elapsed / 1e6, elapsed, "fsync per group commit"));
        }

        results.Add(await HttpAsync(Path.Combine(directory, "http"), body, batchSize, seconds, connections, progress, ct));
        Directory.Delete(directory, recursive: true);
        var bestDirect = results.Where(r => r.Name.StartsWith("log direct", StringComparison.Ordinal)).Max(r => r.MegabytesPerSecond);
        return new Report(directory, batchSize, eventBytes, results, Process.GetCurrentProcess().PeakWorkingSet64, bestDirect / disk);
    }

    private static async Task<Measurement> HttpAsync(string directory, byte[] body, int batchSize, int seconds, int connections, Action<string> progress, CancellationToken ct)
    {
        const string name = "HTTP POST /v1/events (wrk)";
        if (!Wrk.Installed)
        {
            return new Measurement(name, 0, 0, 0, "skipped: install wrk (apt-get install wrk)");
        }

        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = directory });
        var token = host.Apps.Create("bench").Token;
        var port = Wrk.FreePort();
        var app = ZhongtaiServer.Build(host, [$"http://127.0.0.1:{port}"]);
        await app.StartAsync(ct);
        try
        {
            var bodyFile = Path.Combine(directory, "body.json");
            await File.WriteAllBytesAsync(bodyFile, body, ct);
            var script = Path.Combine(directory, "post.lua");
            await File.WriteAllTextAsync(script, $$"""
                local f = io.open("{{bodyFile}}", "rb")
                wrk.method = "POST"
                wrk.body = f:read("*a")
                f:close()
                wrk.headers["Content-Type"] = "application/json"
                wrk.headers["Authorization"] = "Bearer {{token}}"
                """, ct);
            progress($"http: wrk -t1 -c{connections} -d{seconds}s, {batchSize} events a request");
            var before = host.Project().Events.Count;
            var run = await Wrk.RunAsync(name, ["-s", script, $"http://127.0.0.1:{port}/v1/events"], connections, seconds, ct);
            var durable = host.Project().Events.Count - before;
            var bytes = Directory.EnumerateFiles(Path.Combine(directory, "projects", "default", "events"), "*.log").Sum(f => new FileInfo(f).Length);
            return new Measurement(name, durable / (double)seconds, bytes / (double)seconds / 1e6, seconds,
                $"{run.RequestsPerSecond:F0} req/s, p99 {run.P99}, non-2xx {run.Non2xx}, {connections} connections, load generator on the same 2 cores");
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    /// <summary>MB/s of sequential writes of <paramref name="chunk"/> bytes, each followed by fsync.</summary>
    private static double DiskBandwidth(string path, int chunk, int seconds)
    {
        var data = new byte[chunk];
        new Random(1).NextBytes(data);
        long written = 0;
        var sw = Stopwatch.StartNew();
        using (var handle = File.OpenHandle(path, FileMode.Create, FileAccess.Write))
        {
            while (sw.Elapsed.TotalSeconds < seconds)
            {
                RandomAccess.Write(handle, data, written);
                RandomAccess.FlushToDisk(handle);
                written += chunk;
            }
        }

        var mbps = written / sw.Elapsed.TotalSeconds / 1e6;
        File.Delete(path);
        return mbps;
    }

    /// <summary>Realistic behaviour events without ids (so that nothing is deduplicated).</summary>
    private static List<Event> SampleEvents(int count, DateTimeOffset now, Random random)
    {
        string[] types = ["exposure", "exposure", "exposure", "click", "like", "dwell"];
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            var type = types[random.Next(types.Length)];
            return new Event
            {
                Type = type,
                UserId = "u" + random.Next(1_000_000),
                ItemId = "i" + random.Next(100_000),
                Timestamp = now.AddSeconds(-random.Next(600)),
                Scene = "home",
                Position = random.Next(20),
                RequestId = "r" + random.Next(),
                Device = random.Next(2) == 0 ? "ios" : "android",
                Value = type == "dwell" ? random.Next(1, 300) : null,
            };
        })];
    }
}
