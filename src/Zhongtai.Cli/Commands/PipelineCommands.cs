using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Zhongtai.Pipeline;

namespace Zhongtai.Cli.Commands;

/// <summary><c>zt pipeline run</c> and <c>zt bench pipeline</c>.</summary>
internal static class PipelineCommands
{
    public static Command Build()
    {
        var pipeline = new Command("pipeline", "The offline pipeline: export → anti-cheat → samples → recall data → splits, each registered as a dataset.");
        var quarantine = new Option<string?>("--quarantine") { Description = "A Parquet file with a column offset BIGINT: events to leave out of the samples." };
        var noExport = new Option<bool>("--no-export") { Description = "Use the lake as it is; do not export the log first." };
        var run = new Command("run", "Run the pipeline on a project (options: section Pipeline of zhongtai.json).") { EventsCommands.Project, quarantine, noExport };
        run.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var project = host.Project(parse.GetValue(EventsCommands.Project)!);
            var options = PipelineOptions.Load(host.DataDirectory);
            options.QuarantineFile = parse.GetValue(quarantine) ?? options.QuarantineFile;
            options.Export &= !parse.GetValue(noExport);
            var runner = LakeJobs.Runner(host, project, options);
            PipelineReport report;
            if (parse.GetValue(ZtCommand.Json))
            {
                report = await runner.RunAsync(project, null, ct);
                ZtCommand.WriteJson(report);
                return;
            }

            report = await AnsiConsole.Progress().StartAsync(async ctx =>
            {
                ProgressTask? current = null;
                var progress = new Callback(stage =>
                {
                    current?.Value(100).StopTask();
                    current = ctx.AddTask(stage).IsIndeterminate();
                });
                var r = await runner.RunAsync(project, progress, ct);
                current?.Value(100).StopTask();
                return r;
            });
            Print(report);
        });
        pipeline.Subcommands.Add(run);
        return pipeline;
    }

    /// <summary><c>zt bench pipeline</c>.</summary>
    public static Command BuildBench()
    {
        var events = new Option<long>("--events") { Description = "Demo-world events to generate.", DefaultValueFactory = _ => 10_000_000 };
        var memory = new Option<string>("--memory-limit") { Description = "DuckDB memory limit.", DefaultValueFactory = _ => "2GB" };
        var threads = new Option<int>("--threads") { Description = "DuckDB threads (0 = one per core).", DefaultValueFactory = _ => 0 };
        var dir = new Option<string?>("--dir") { Description = "Scratch directory (default: a new one under /tmp, deleted after)." };
        var keep = new Option<bool>("--keep") { Description = "Keep the scratch directory." };
        var bench = new Command("pipeline", "Generate a demo world into a lake, then time the samples, recall and split stages: rows/s and peak memory.") { events, memory, threads, dir, keep };
        bench.SetAction(async (parse, ct) =>
        {
            var json = parse.GetValue(ZtCommand.Json);
            var r = await PipelineBench.RunAsync(new PipelineBenchOptions
            {
                Events = parse.GetValue(events),
                MemoryLimit = parse.GetValue(memory)!,
                Threads = parse.GetValue(threads),
                Directory = parse.GetValue(dir),
                Keep = parse.GetValue(keep),
            }, json ? null : line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"), ct);
            if (json)
            {
                ZtCommand.WriteJson(r);
                return;
            }

            Print(r.Pipeline);
            AnsiConsole.MarkupLine($"{r.Events:N0} events: generate+export {r.GenerateAndExportSeconds:F1} s; samples {r.SampleRows:N0} rows in {r.SamplesSeconds:F1} s ({r.SamplesCpuSeconds:F1} CPU s) = [bold]{r.EventsPerSecond:N0} events/s[/], {r.SampleRowsPerSecond:N0} sample rows/s; all stages {r.Pipeline.Seconds:F1} s; peak RSS [bold]{r.PeakWorkingSetBytes / 1e9:F2} GB[/] (DuckDB memory_limit {Markup.Escape(r.MemoryLimit)}, threads {r.Threads}).");
        });
        return bench;
    }

    private static void Print(PipelineReport report)
    {
        var table = new Table().AddColumns("stage", "seconds", "cpu s", "counts", "datasets");
        foreach (var s in report.Stages)
        {
            table.AddRow(Markup.Escape(s.Stage), s.Seconds.ToString("F1", CultureInfo.InvariantCulture), s.CpuSeconds.ToString("F1", CultureInfo.InvariantCulture),
                Markup.Escape(string.Join(" ", s.Counts.Select(c => $"{c.Key}={c.Value:N0}"))),
                Markup.Escape(string.Join(",", s.Datasets)) + (s.Reused ? " (reused)" : ""));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"Pipeline done in {report.Seconds:F1} s; peak memory {report.PeakWorkingSetBytes / 1e6:N0} MB.");
    }

    /// <summary>Reports on the calling thread, in order (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class Callback(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
