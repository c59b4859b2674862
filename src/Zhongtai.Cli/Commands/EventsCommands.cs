using System.CommandLine;
using System.Text;
using Spectre.Console;
using Zhongtai.Events.Ingest;
using Zhongtai.Gateway;
using Zhongtai.Hosting;
using Zhongtai.Lake;

namespace Zhongtai.Cli.Commands;

/// <summary><c>zt events count|tail</c>.</summary>
internal static class EventsCommands
{
    public static readonly Option<string> Project = new("--project", "-p") { Description = "The project.", DefaultValueFactory = _ => AppService.DefaultProject };

    public static Command Build()
    {
        var events = new Command("events", "The durable event log of a project.");

        var count = new Command("count", "Print the number of durable events.") { Project };
        count.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var log = host.Project(parse.GetValue(Project)!).Events;
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(new { count = log.Count, startOffset = log.StartOffset, nextOffset = log.NextOffset });
            }
            else
            {
                AnsiConsole.MarkupLine($"{log.Count:N0} durable events (offsets {log.StartOffset:N0}..{log.NextOffset - 1:N0}).");
            }
        });

        var n = new Option<int>("-n", "--lines") { Description = "How many of the newest events to print.", DefaultValueFactory = _ => 10 };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new events as they become durable (Ctrl+C stops)." };
        var tail = new Command("tail", "Print the newest events, as NDJSON lines prefixed by their offset (or raw NDJSON with --json).") { Project, n, follow };
        tail.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var log = host.Project(parse.GetValue(Project)!).Events;
            var json = parse.GetValue(ZtCommand.Json);
            var next = Math.Max(log.StartOffset, log.NextOffset - parse.GetValue(n));
            do
            {
                foreach (var record in log.Read(next))
                {
                    var text = Zhongtai.Events.Ingest.EventCodec.ToJson(record.Payload.Span);
                    Console.Out.WriteLine(json ? text : $"{record.Offset}\t{text}");
                    next = record.Offset + 1;
                }

                if (!parse.GetValue(follow))
                {
                    break;
                }

                try
                {
                    await log.WaitForAsync(next, ct);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            while (true);
        });

        var export = new Command("export", "Export the durable log (from where the last export ended) to the lake: Parquet partitioned by date and hour.") { Project };
        export.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var project = host.Project(parse.GetValue(Project)!);
            var result = await new LakeExporter(time: host.Time).ExportAsync(project, ct);
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(result);
            }
            else
            {
                AnsiConsole.MarkupLine($"Exported [bold]{result.Rows:N0}[/] events into {result.Files:N0} Parquet file(s) over {result.Partitions:N0} partition(s) of {Markup.Escape(project.LakeDirectory)}; lake is at offset {result.LastOffset:N0}.");
            }
        });

        events.Subcommands.Add(count);
        events.Subcommands.Add(export);
        events.Subcommands.Add(tail);
        return events;
    }
}
