using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Zhongtai.Datasets;
using Zhongtai.Hosting;

namespace Zhongtai.Cli.Commands;

/// <summary><c>zt datasets list|show</c>: the versioned datasets of a project and their lineage.</summary>
internal static class DatasetsCommands
{
    /// <summary>The dataset registry of a project of the host.</summary>
    public static DatasetRegistry Registry(ZhongtaiHost host, string project) => Zhongtai.Pipeline.LakeJobs.Datasets(host, host.Project(project));

    public static Command Build()
    {
        var datasets = new Command("datasets", "Versioned datasets (samples, recall data, splits, quarantine) with lineage, schema and statistics.");

        var name = new Option<string?>("--name") { Description = "Only versions of this dataset." };
        var list = new Command("list", "Every dataset version, newest first per name.") { EventsCommands.Project, name };
        list.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var all = Registry(host, parse.GetValue(EventsCommands.Project)!).List(parse.GetValue(name));
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(all.Select(d => new { d.Id, d.Kind, d.Rows, d.CreatedAt, d.Checksum, d.ConfigHash, d.CodeVersion, inputs = d.Lineage.Inputs, d.Lineage.FromOffset, d.Lineage.ToOffset, d.Path }));
                return;
            }

            var table = new Table().AddColumns("dataset", "kind", "rows", "tables", "inputs", "offsets", "checksum", "created");
            foreach (var d in all)
            {
                table.AddRow(Markup.Escape(d.Id), Markup.Escape(d.Kind), d.Rows.ToString("N0", CultureInfo.InvariantCulture),
                    Markup.Escape(string.Join(",", d.Tables.Select(t => t.Name))), Markup.Escape(string.Join(",", d.Lineage.Inputs)),
                    d.Lineage.ToOffset < 0 ? "-" : $"{d.Lineage.FromOffset:N0}..{d.Lineage.ToOffset:N0}", d.Checksum[..12],
                    d.CreatedAt.ToString("u", CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
        });

        var id = new Argument<string>("id") { Description = "name@version, or a name for its newest version." };
        var show = new Command("show", "One dataset version: lineage, configuration, tables, schema and column statistics.") { id, EventsCommands.Project };
        show.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var d = Registry(host, parse.GetValue(EventsCommands.Project)!).Get(parse.GetValue(id)!);
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(d);
                return;
            }

            AnsiConsole.Write(new Rule($"[bold]{Markup.Escape(d.Id)}[/] ({Markup.Escape(d.Kind)})").LeftJustified());
            AnsiConsole.MarkupLine($"path      {Markup.Escape(d.Path)}");
            AnsiConsole.MarkupLine($"created   {d.CreatedAt:u}   code {Markup.Escape(d.CodeVersion)}");
            AnsiConsole.MarkupLine($"checksum  {d.Checksum}");
            AnsiConsole.MarkupLine($"config    {d.ConfigHash}  {Markup.Escape(d.Config.Length > 200 ? d.Config[..200] + "…" : d.Config)}");
            AnsiConsole.MarkupLine($"lineage   offsets {d.Lineage.FromOffset:N0}..{d.Lineage.ToOffset:N0}, {d.Lineage.Partitions.Count} partition(s), inputs: {Markup.Escape(d.Lineage.Inputs.Count == 0 ? "-" : string.Join(", ", d.Lineage.Inputs))}");
            foreach (var t in d.Tables)
            {
                var table = new Table().Title($"{Markup.Escape(t.Name)}: {t.Rows:N0} rows, {t.Bytes / 1e6:N1} MB").AddColumns("column", "type", "min", "max", "nulls", "distinct≈");
                foreach (var c in t.Columns)
                {
                    table.AddRow(Markup.Escape(c.Name), Markup.Escape(c.Type), Markup.Escape(Short(c.Min)), Markup.Escape(Short(c.Max)), c.Nulls.ToString("N0", CultureInfo.InvariantCulture), c.DistinctApprox.ToString("N0", CultureInfo.InvariantCulture));
                }

                AnsiConsole.Write(table);
            }
        });

        datasets.Subcommands.Add(list);
        datasets.Subcommands.Add(show);
        return datasets;
    }

    private static string Short(string? s) => s is null ? "" : s.Length > 40 ? s[..40] + "…" : s;
}
