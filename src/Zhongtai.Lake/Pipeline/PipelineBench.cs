using System.Diagnostics;
using Zhongtai.Datasets;
using Zhongtai.Demo;
using Zhongtai.Lake;
using Zhongtai.Meta;

namespace Zhongtai.Pipeline;

/// <summary>Options of <see cref="PipelineBench"/>.</summary>
public sealed class PipelineBenchOptions
{
    /// <summary>Demo-world events to generate (the stream is cut there). Default 10,000,000.</summary>
    public long Events { get; set; } = 10_000_000;

    /// <summary>DuckDB memory limit. Default "2GB".</summary>
    public string MemoryLimit { get; set; } = "2GB";

    /// <summary>DuckDB threads; 0 = one per core. Default 0.</summary>
    public int Threads { get; set; }

    /// <summary>Scratch directory; default a new one under the temp folder.</summary>
    public string? Directory { get; set; }

    /// <summary>Keep the scratch directory after the run. Default false.</summary>
    public bool Keep { get; set; }

    /// <summary>
    /// Sessions per user per day of the demo world. Default 4: the world's size grows with scale × sessions, and the demo's
    /// ground-truth setup is quadratic in scale (users × items), so more sessions of fewer users reach 10M events in
    /// seconds rather than many minutes.
    /// </summary>
    public double SessionsPerUserPerDay { get; set; } = 4;

    /// <summary>Demo-world seed. Default 42.</summary>
    public long Seed { get; set; } = 42;
}

/// <summary>What <see cref="PipelineBench"/> measured.</summary>
public sealed record PipelineBenchResult(
    long Events, double GenerateAndExportSeconds, long SampleRows, double SamplesSeconds, double SamplesCpuSeconds, double EventsPerSecond, double SampleRowsPerSecond,
    long PeakWorkingSetBytes, string MemoryLimit, int Threads, PipelineReport Pipeline);

/// <summary>
/// The pipeline benchmark: generates a demo world (at the scale that gives the asked number of events, over 7 days)
/// straight into a lake, then runs the pipeline over it (no export, no anti-cheat) and reports rows/s and peak memory.
/// </summary>
public static class PipelineBench
{
    /// <summary>Demo events per unit of scale over 7 days at one session per user per day (about 250,000).</summary>
    private const double EventsPerScale = 250_000;

    public static async Task<PipelineBenchResult> RunAsync(PipelineBenchOptions options, Action<string>? log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        var dir = options.Directory ?? Path.Combine(Path.GetTempPath(), "zt-bench-pipeline-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(dir);
        try
        {
            var lakeDir = Path.Combine(dir, "lake");
            var sw = Stopwatch.StartNew();
            // A kept lake of about the asked size (the demo world gives the asked count within a few percent) is reused.
            if (LakeExporter.ReadCheckpoint(lakeDir).TotalRows < options.Events * 0.9)
            {
                if (System.IO.Directory.Exists(lakeDir))
                {
                    System.IO.Directory.Delete(lakeDir, recursive: true);
                }

                var world = DemoWorld.Generate(new DemoWorldOptions
                {
                    Scale = options.Events / (EventsPerScale * options.SessionsPerUserPerDay) * 1.12,
                    SessionsPerUserPerDay = options.SessionsPerUserPerDay,
                    Days = 7,
                    Seed = options.Seed,
                });
                log?.Invoke($"generating {options.Events:N0} demo events into {lakeDir}");
                var export = await new LakeExporter(new LakeExportOptions { FlushToDisk = false })
                    .ExportAsync(lakeDir, world.Events(ct).Take((int)Math.Min(options.Events, int.MaxValue)).Select((e, i) => ((long)i, e)), ct).ConfigureAwait(false);
                log?.Invoke($"exported {export.Rows:N0} events into {export.Files:N0} files in {sw.Elapsed.TotalSeconds:F1} s");
            }

            double generate = sw.Elapsed.TotalSeconds;

            // Measure the pipeline's peak, not the generator's: drop the generator's heap and reset the kernel's peak RSS.
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            ResetPeakWorkingSet();
            var registry = new DatasetRegistry(MetaStore.Open(Path.Combine(dir, "meta.db")), Path.Combine(dir, "project"), "bench", TimeProvider.System);
            var pipeline = new PipelineOptions { Export = false, DuckDbMemoryLimit = options.MemoryLimit, DuckDbThreads = options.Threads };
            var runner = new PipelineRunner(registry, pipeline) { Trace = (sql, seconds) => log?.Invoke($"  {seconds,6:F2} s  {sql}") };
            var report = await runner.RunAsync(lakeDir, null, new LogProgress(log), ct).ConfigureAwait(false);
            var samples = report.Stages.Single(s => s.Stage == "samples");
            long events = LakeExporter.ReadCheckpoint(lakeDir).TotalRows;
            return new PipelineBenchResult(events, generate, samples.Counts["samples"], samples.Seconds, samples.CpuSeconds, events / samples.Seconds,
                samples.Counts["samples"] / samples.Seconds, report.PeakWorkingSetBytes, options.MemoryLimit,
                options.Threads > 0 ? options.Threads : Environment.ProcessorCount, report);
        }
        finally
        {
            if (!options.Keep && options.Directory is null)
            {
                System.IO.Directory.Delete(dir, recursive: true);
            }
        }
    }

    /// <summary>Resets VmHWM to the current RSS (Linux: write 5 to /proc/self/clear_refs); no-op elsewhere.</summary>
    private static void ResetPeakWorkingSet()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private sealed class LogProgress(Action<string>? log) : IProgress<string>
    {
        private readonly Stopwatch _sw = Stopwatch.StartNew();

        public void Report(string value) => log?.Invoke($"[{_sw.Elapsed.TotalSeconds,6:F1} s] {value}");
    }
}
