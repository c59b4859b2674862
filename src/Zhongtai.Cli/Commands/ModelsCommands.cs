using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Zhongtai.Registry;

namespace Zhongtai.Cli.Commands;

/// <summary><c>zt models list|show|promote|rollback|gc</c>.</summary>
internal static class ModelsCommands
{
    public static Command Build()
    {
        var models = new Command("models", "The model registry: versions, aliases (production, candidate, previous), promotion, rollback, GC.");
        var name = new Argument<string>("name") { Description = "The model's name." };
        var version = new Argument<int>("version") { Description = "The version number." };

        var list = new Command("list", "Models with their versions and aliases.") { EventsCommands.Project };
        list.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var registry = host.Project(parse.GetValue(EventsCommands.Project)!).Models;
            var all = registry.Names().Select(n => registry.Versions(n)).ToList();
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(all.SelectMany(v => v));
                return;
            }

            var table = new Table().AddColumns("model", "version", "aliases", "status", "trainer", "metrics", "created");
            foreach (var v in all.SelectMany(v => v))
            {
                table.AddRow(Markup.Escape(v.Name), v.Version.ToString(CultureInfo.InvariantCulture), Markup.Escape(string.Join(",", v.Aliases)), Markup.Escape(v.Status),
                    Markup.Escape(v.Trainer), Markup.Escape(string.Join(" ", v.Metrics.Where(m => m.Key.StartsWith("ndcg", StringComparison.Ordinal) || m.Key.StartsWith("auc", StringComparison.Ordinal)).Select(m => $"{m.Key}={m.Value:G4}"))), v.CreatedAt.ToString("u", CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
        });

        var show = new Command("show", "One model's versions, or one version with its lineage, metrics and judgement.") { name, EventsCommands.Project };
        var showVersion = new Option<int?>("--version", "-v") { Description = "The version (default: all)." };
        show.Options.Add(showVersion);
        show.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var registry = host.Project(parse.GetValue(EventsCommands.Project)!).Models;
            IReadOnlyList<ModelVersion> versions = parse.GetValue(showVersion) is { } v ? [registry.Get(parse.GetValue(name)!, v)] : registry.Versions(parse.GetValue(name)!);
            if (versions.Count == 0)
            {
                throw new RegistryException("model_not_found", $"No model named '{parse.GetValue(name)}'.");
            }

            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(versions);
                return;
            }

            foreach (var m in versions)
            {
                AnsiConsole.Write(new Rule($"[bold]{Markup.Escape(m.Name)}[/] v{m.Version} {Markup.Escape(string.Join(",", m.Aliases))}").LeftJustified());
                AnsiConsole.MarkupLine($"status: [bold]{Markup.Escape(m.Status)}[/] {Markup.Escape(string.Join("; ", m.StatusReasons))}");
                AnsiConsole.MarkupLine($"trainer: {Markup.Escape(m.Trainer)}  format: {Markup.Escape(m.Format)}  parent: {m.ParentVersion?.ToString(CultureInfo.InvariantCulture) ?? "-"}  by: {Markup.Escape(m.CreatedBy)}  at: {m.CreatedAt:u}");
                AnsiConsole.MarkupLine($"artifact: sha256 {m.Checksum} ({m.Size:N0} bytes)  datasets: {Markup.Escape(string.Join(", ", m.Datasets))}");
                AnsiConsole.MarkupLine($"metrics: {Markup.Escape(string.Join("  ", m.Metrics.Select(x => $"{x.Key}={x.Value:G6}")))}");
                AnsiConsole.MarkupLine($"config: {Markup.Escape(m.Config)}");
            }
        });

        var promote = new Command("promote", "Make a version production (the old production becomes previous).") { name, version, EventsCommands.Project };
        promote.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var v = host.Project(parse.GetValue(EventsCommands.Project)!).Models.Promote(parse.GetValue(name)!, parse.GetValue(version), "zt models promote");
            Report(parse, v, "promoted to production");
        });

        var rollback = new Command("rollback", "Production goes back to the previous version.") { name, EventsCommands.Project };
        rollback.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var v = host.Project(parse.GetValue(EventsCommands.Project)!).Models.Rollback(parse.GetValue(name)!);
            Report(parse, v, "is production again");
        });

        var days = new Option<double>("--retention-days") { Description = "Keep unaliased versions and files younger than this.", DefaultValueFactory = _ => 7 };
        var gc = new Command("gc", "Delete unaliased versions and unreferenced artifacts older than the retention.") { days, EventsCommands.Project };
        gc.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var (versions, files) = host.Project(parse.GetValue(EventsCommands.Project)!).Models.CollectGarbage(TimeSpan.FromDays(parse.GetValue(days)));
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(new { versions, files });
            }
            else
            {
                AnsiConsole.MarkupLine($"Deleted {versions} version(s) and {files} artifact file(s).");
            }
        });

        models.Subcommands.Add(list);
        models.Subcommands.Add(show);
        models.Subcommands.Add(promote);
        models.Subcommands.Add(rollback);
        models.Subcommands.Add(gc);
        return models;
    }

    private static void Report(ParseResult parse, ModelVersion v, string what)
    {
        if (parse.GetValue(ZtCommand.Json))
        {
            ZtCommand.WriteJson(v);
        }
        else
        {
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(v.Name)}[/] v{v.Version} {what}.");
        }
    }
}
