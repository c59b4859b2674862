using System.CommandLine;
using Spectre.Console;
using Zhongtai.Events.Import;
using Zhongtai.Hosting;

namespace Zhongtai.Cli.Commands;

/// <summary><c>zt import movielens|csv|items</c>: files through the same validation and log as live ingestion.</summary>
internal static class ImportCommands
{
    public static Command Build()
    {
        var import = new Command("import", "Import files into a project's event log (validated like live events; re-runs are idempotent).");
        var path = new Argument<string>("path") { Description = "The file or folder." };

        var movielens = new Command("movielens", "MovieLens: ml-100k (u.data, u.item, u.user) or ml-latest (ratings.csv, movies.csv, tags.csv).") { path, EventsCommands.Project };
        movielens.SetAction((parse, ct) => RunAsync(parse, (importer, progress) => importer.ImportMovieLensAsync(parse.GetValue(path)!, progress, ct)));

        var user = new Option<string>("--user") { Description = "User column (header name or 0-based index).", DefaultValueFactory = _ => "0" };
        var item = new Option<string>("--item") { Description = "Item column.", DefaultValueFactory = _ => "1" };
        var value = new Option<string?>("--value") { Description = "Value column (rating, amount)." };
        var timestamp = new Option<string?>("--timestamp") { Description = "Timestamp column (Unix seconds or ISO 8601)." };
        var type = new Option<string?>("--type") { Description = "Event type column." };
        var eventType = new Option<string>("--event-type") { Description = "The event type when there is no type column.", DefaultValueFactory = _ => "rating" };
        var sep = new Option<string>("--sep") { Description = "Separator: a character, or 'tab'.", DefaultValueFactory = _ => "," };
        var header = new Option<bool?>("--header") { Description = "The first line is a header (default: detected)." };
        var csv = new Command("csv", "Any interaction file with a column mapping.") { path, EventsCommands.Project, user, item, value, timestamp, type, eventType, sep, header };
        csv.SetAction((parse, ct) =>
        {
            var separator = parse.GetValue(sep) is "tab" or "\\t" ? '\t' : parse.GetValue(sep)![0];
            var mapping = new CsvMapping(parse.GetValue(user)!, parse.GetValue(item)!, parse.GetValue(value), parse.GetValue(timestamp), parse.GetValue(type), parse.GetValue(eventType)!, separator, parse.GetValue(header));
            return RunAsync(parse, (importer, progress) => importer.ImportCsvAsync(parse.GetValue(path)!, mapping, progress, ct));
        });

        var items = new Command("items", "A catalog: JSONL of item events, or CSV itemId,title,text,category,tags.") { path, EventsCommands.Project };
        items.SetAction((parse, ct) => RunAsync(parse, (importer, progress) => importer.ImportItemsAsync(parse.GetValue(path)!, progress, ct)));

        import.Subcommands.Add(movielens);
        import.Subcommands.Add(csv);
        import.Subcommands.Add(items);
        return import;
    }

    private static async Task RunAsync(ParseResult parse, Func<Importer, IProgress<long>, Task<ImportResult>> run)
    {
        await using var host = ZtCommand.OpenHost(parse);
        var project = host.Project(parse.GetValue(EventsCommands.Project)!);
        var importer = new Importer(project.Ingestor, host.Time);
        ImportResult result;
        if (parse.GetValue(ZtCommand.Json))
        {
            result = await run(importer, new Progress<long>());
            ZtCommand.WriteJson(result);
            return;
        }

        result = await AnsiConsole.Progress().StartAsync(async ctx =>
        {
            var task = ctx.AddTask("importing (events written)");
            task.IsIndeterminate = true;
            var progress = new Progress<long>(n => task.Description = $"importing: {n:N0} events");
            var r = await run(importer, progress);
            task.StopTask();
            return r;
        });
        AnsiConsole.MarkupLine($"Imported [bold]{result.Events:N0}[/] events from {Markup.Escape(result.Source)}: {result.Written:N0} written, {result.Duplicates:N0} already present.");
        foreach (var (t, n) in result.ByType.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            AnsiConsole.MarkupLine($"  {Markup.Escape(t)}: {n:N0}");
        }
    }
}
