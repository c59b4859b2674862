using System.CommandLine;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;
using Zhongtai.Hosting;
using Zhongtai.Jobs;

namespace Zhongtai.Cli.Commands;

/// <summary><c>zt jobs list|logs ID|run KIND</c>.</summary>
internal static class JobsCommands
{
    public static Command Build()
    {
        var jobs = new Command("jobs", "Offline jobs (training, pipelines): status, logs, results.");
        var limit = new Option<int>("--limit") { Description = "How many of the newest jobs.", DefaultValueFactory = _ => 50 };
        var list = new Command("list", "The newest jobs.") { limit };
        list.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var all = host.Jobs.List(limit: parse.GetValue(limit));
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(all);
                return;
            }

            var table = new Table().AddColumns("id", "project", "kind", "status", "trigger", "created", "finished", "error");
            foreach (var j in all)
            {
                var status = j.Status switch { "succeeded" => "[green]succeeded[/]", "failed" => "[red]failed[/]", var s => s };
                table.AddRow(j.Id, Markup.Escape(j.Project), Markup.Escape(j.Kind), status, Markup.Escape(j.Trigger), $"{j.CreatedAt:u}", j.FinishedAt is { } f ? $"{f:u}" : "", Markup.Escape(j.Error ?? ""));
            }

            AnsiConsole.Write(table);
        });

        var id = new Argument<string>("id") { Description = "The job id." };
        var logs = new Command("logs", "Print a job's log (and its result).") { id };
        logs.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var job = host.Jobs.Get(parse.GetValue(id)!);
            var log = host.Jobs.ReadLog(job.Id);
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(new { job, log });
                return;
            }

            Console.Out.Write(log);
            AnsiConsole.MarkupLine($"[bold]{job.Status}[/] {Markup.Escape(job.Result ?? job.Error ?? "")}");
        });
        var kind = new Argument<string>("kind") { Description = "The job kind: pipeline-run, graph-build, train-full, train-incremental." };
        var args = new Option<string>("--args") { Description = "The job's arguments as JSON, e.g. {\"model\":\"als\"}.", DefaultValueFactory = _ => "{}" };
        var run = new Command("run", "Run one job now, as the schedules would, and print its log.") { kind, args, EventsCommands.Project };
        run.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            await RunAsync(host, parse.GetValue(EventsCommands.Project)!, parse.GetValue(kind)!, parse.GetValue(args)!, "zt jobs run", parse.GetValue(ZtCommand.Json), ct);
        });
        jobs.Subcommands.Add(list);
        jobs.Subcommands.Add(logs);
        jobs.Subcommands.Add(run);
        return jobs;
    }

    /// <summary>Enqueues a job, works the queue until it ends (or waits for the server that claimed it), prints its log; throws when it failed.</summary>
    public static async Task<Job> RunAsync(ZhongtaiHost host, string project, string kind, string args, string trigger, bool json, CancellationToken ct)
    {
        var runner = new JobRunner(host.Jobs, Zhongtai.Pipeline.LakeJobs.Handlers(host), [], host.Time, NullLogger.Instance);
        var job = runner.Enqueue(project, kind, args, trigger);
        if (json)
        {
            await runner.DrainAsync(ct);
        }
        else
        {
            await AnsiConsole.Status().StartAsync($"job {job.Id}: {Markup.Escape(kind)} {Markup.Escape(args)}", _ => runner.DrainAsync(ct));
        }

        var done = host.Jobs.Get(job.Id);
        while (done.Status is JobStatus.Queued or JobStatus.Running)
        {
            // A server on the same data directory may have claimed it first.
            await Task.Delay(500, ct);
            done = host.Jobs.Get(job.Id);
        }

        if (json)
        {
            ZtCommand.WriteJson(done);
        }
        else
        {
            Console.Out.Write(host.Jobs.ReadLog(done.Id));
            AnsiConsole.MarkupLine($"job {done.Id}: [bold]{done.Status}[/] {Markup.Escape(done.Error ?? "")}");
        }

        return done.Status == JobStatus.Succeeded ? done : throw new InvalidOperationException($"Job {done.Id} ({kind}) failed: {done.Error}");
    }
}
