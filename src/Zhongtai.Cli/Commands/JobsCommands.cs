using System.CommandLine;
using Spectre.Console;

namespace Zhongtai.Cli.Commands;

/// <summary><c>zt jobs list|logs ID</c>.</summary>
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
        jobs.Subcommands.Add(list);
        jobs.Subcommands.Add(logs);
        return jobs;
    }
}
