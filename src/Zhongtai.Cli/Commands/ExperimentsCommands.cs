using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Zhongtai.Experiments;
using Zhongtai.Hosting;
using Zhongtai.Lake;

namespace Zhongtai.Cli.Commands;

/// <summary><c>zt experiments list|validate|report</c>.</summary>
internal static class ExperimentsCommands
{
    public static Command Build()
    {
        var experiments = new Command("experiments", "Online experiments: the config (projects/P/experiments.json) and their reports from the logs.");

        var list = new Command("list", "Show the experiments of a project, as configured.") { EventsCommands.Project };
        list.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var project = host.Project(parse.GetValue(EventsCommands.Project)!);
            var path = ExperimentSet.PathFor(project.Directory);
            var set = ExperimentSet.Load(path);
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(set.Experiments);
                return;
            }

            if (set.Experiments.Count == 0)
            {
                AnsiConsole.MarkupLine($"No experiments ({Markup.Escape(path)} is absent or empty).");
                return;
            }

            var table = new Table().AddColumns("experiment", "status", "scenes", "layer", "traffic", "buckets (weight: overrides)");
            foreach (var e in set.Experiments)
            {
                var buckets = string.Join(Environment.NewLine, e.Buckets.Select(b => Describe(e, b)));
                table.AddRow(
                    Markup.Escape(e.Id),
                    e.Status == ExperimentStatus.Running ? "[green]running[/]" : "[grey]stopped[/]",
                    Markup.Escape(string.Join(",", e.Scenes)),
                    Markup.Escape(e.EffectiveLayer),
                    e.Traffic.ToString("P1", CultureInfo.InvariantCulture),
                    Markup.Escape(buckets));
            }

            AnsiConsole.Write(table);
        });

        var file = new Argument<string?>("file") { Description = "The file to check (default: the project's experiments.json).", Arity = ArgumentArity.ZeroOrOne };
        var validate = new Command("validate", "Check an experiments file; prints every problem and exits 2 when it is invalid.") { EventsCommands.Project, file };
        validate.SetAction(async (parse, ct) =>
        {
            string path;
            if (parse.GetValue(file) is { } given)
            {
                path = given;
            }
            else
            {
                await using var host = ZtCommand.OpenHost(parse);
                path = ExperimentSet.PathFor(host.Project(parse.GetValue(EventsCommands.Project)!).Directory);
            }

            if (!File.Exists(path))
            {
                throw new IOException($"No file '{path}'.");
            }

            var set = ExperimentSet.Load(path);
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(new { valid = true, experiments = set.Experiments.Count });
            }
            else
            {
                AnsiConsole.MarkupLine($"{Markup.Escape(path)} is valid: {set.Experiments.Count} experiment(s).");
            }
        });

        var id = new Argument<string>("id") { Description = "The experiment id." };
        var since = new Option<string?>("--since") { Description = "Only exposures from this time on: ISO 8601 (UTC when no offset) or an age such as 24h, 7d, 90m." };
        var noExport = new Option<bool>("--no-export") { Description = "Report from the lake as it is, without exporting the newest events first." };
        var report = new Command("report", "Per bucket: exposures, users, CTR and conversion with 95% intervals, and the difference against control (z-test).")
        {
            EventsCommands.Project, id, since, noExport,
        };
        report.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var project = host.Project(parse.GetValue(EventsCommands.Project)!);
            var from = parse.GetValue(since) is { } text ? ParseSince(text, host.Time) : (DateTimeOffset?)null;
            var result = await ReportAsync(project, host.Time, parse.GetValue(id)!, from, !parse.GetValue(noExport), ct);
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(result);
            }
            else
            {
                Print(result);
            }
        });

        experiments.Subcommands.Add(list);
        experiments.Subcommands.Add(validate);
        experiments.Subcommands.Add(report);
        return experiments;
    }

    /// <summary>Exports the newest events (unless told not to), then computes the report over the lake.</summary>
    public static async Task<ExperimentReport> ReportAsync(Project project, TimeProvider time, string experimentId, DateTimeOffset? since, bool export, CancellationToken ct)
    {
        if (export)
        {
            await new LakeExporter(time: time).ExportAsync(project, ct);
        }

        var config = ExperimentSet.Load(ExperimentSet.PathFor(project.Directory)).Find(experimentId);
        using var lake = LakeQuery.Open(project.LakeDirectory);
        return Report(lake, experimentId, config, since);
    }

    /// <summary>The report of <paramref name="experimentId"/> over an open lake.</summary>
    public static ExperimentReport Report(LakeQuery lake, string experimentId, ExperimentConfig? config, DateTimeOffset? since)
    {
        var (sql, parameters) = ExperimentReport.Query(experimentId, since);
        var counts = lake.Rows(sql, parameters).Select(r => new BucketCounts(
            (string)r[0]!, Long(r[1]), Long(r[2]), Long(r[3]), Long(r[4]), Long(r[5]), Long(r[6])));
        return ExperimentReport.Build(experimentId, config, counts, since);
    }

    /// <summary>ISO 8601 (UTC when no offset is given) or an age: <c>90m</c>, <c>24h</c>, <c>7d</c>.</summary>
    public static DateTimeOffset ParseSince(string text, TimeProvider time)
    {
        if (text.Length > 1 && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out long n))
        {
            TimeSpan? age = text[^1] switch
            {
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                'd' => TimeSpan.FromDays(n),
                _ => null,
            };
            if (age is { } a)
            {
                return time.GetUtcNow() - a;
            }
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            return at;
        }

        throw new ArgumentException($"--since '{text}' is neither an ISO 8601 time nor an age such as 24h or 7d.");
    }

    private static long Long(object? value) => value switch
    {
        null => 0,
        System.Numerics.BigInteger big => (long)big,
        _ => Convert.ToInt64(value, CultureInfo.InvariantCulture),
    };

    private static string Describe(ExperimentConfig e, BucketConfig b)
    {
        var parts = new List<string>();
        if (b.ModelAlias is not null)
        {
            parts.Add("model=" + b.ModelAlias);
        }

        if (b.ChannelQuotas is { Count: > 0 } q)
        {
            parts.Add("quotas{" + string.Join(",", q.Select(kv => kv.Key + "=" + kv.Value.ToString(CultureInfo.InvariantCulture))) + "}");
        }

        if (b.Rules is { Count: > 0 } r)
        {
            parts.Add("rules{" + string.Join(",", r.Select(kv => kv.Key + "=" + kv.Value)) + "}");
        }

        var control = b.Name == e.EffectiveControl ? " (control)" : "";
        return $"{b.Name}{control} {b.Weight.ToString("0.####", CultureInfo.InvariantCulture)}: {(parts.Count == 0 ? "-" : string.Join(" ", parts))}";
    }

    private static void Print(ExperimentReport report)
    {
        var since = report.Since is { } s ? $" since {s:u}" : "";
        AnsiConsole.MarkupLine($"Experiment [bold]{Markup.Escape(report.ExperimentId)}[/]{since}; control: {Markup.Escape(report.Control ?? "(none)")}");
        if (report.Buckets.Count == 0)
        {
            AnsiConsole.MarkupLine("No exposures logged for this experiment.");
            return;
        }

        var ctr = new Table().Title("CTR per exposure").AddColumns(new[] { "bucket", "exposures", "clicked", "CTR [95% CI]", "vs control [95% CI]", "p" }.Select(Markup.Escape).ToArray());
        var conversion = new Table().Title("conversion per user").AddColumns(new[] { "bucket", "users", "converted", "rate [95% CI]", "vs control [95% CI]", "p" }.Select(Markup.Escape).ToArray());
        foreach (var b in report.Buckets)
        {
            var name = Markup.Escape(b.Bucket + (b.IsControl ? " (control)" : ""));
            ctr.AddRow(
                name,
                b.Counts.Exposures.ToString("N0", CultureInfo.InvariantCulture),
                b.Counts.ClickedExposures.ToString("N0", CultureInfo.InvariantCulture),
                Markup.Escape(Rate(b.Ctr)),
                Markup.Escape(Diff(b.CtrVsControl)),
                P(b.CtrVsControl));
            conversion.AddRow(
                name,
                b.Counts.Users.ToString("N0", CultureInfo.InvariantCulture),
                b.Counts.ConvertedUsers.ToString("N0", CultureInfo.InvariantCulture),
                Markup.Escape(Rate(b.Conversion)),
                Markup.Escape(Diff(b.ConversionVsControl)),
                P(b.ConversionVsControl));
        }

        AnsiConsole.Write(ctr);
        AnsiConsole.Write(conversion);
        AnsiConsole.MarkupLine("[grey]CTR = clicked exposures / exposures (clicks matched by request_id + item_id); conversion = users with an attributed purchase / users. Wilson and Newcombe 95% intervals; two-proportion z-test.[/]");
    }

    private static string Rate(RateEstimate r) =>
        r.Trials == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{r.Rate:0.00%} [{r.Low:0.00%}, {r.High:0.00%}]");

    private static string Diff(RateComparison? c) =>
        c is null ? "" : string.Create(CultureInfo.InvariantCulture, $"{c.Difference * 100:+0.00;-0.00}pp [{c.Low * 100:+0.00;-0.00}, {c.High * 100:+0.00;-0.00}]{(c.Relative is { } rel ? $" ({rel:+0.0%;-0.0%})" : "")}");

    private static string P(RateComparison? c) =>
        c is null ? "" : c.PValue < 1e-4 ? "<0.0001" : c.PValue.ToString("0.0000", CultureInfo.InvariantCulture);
}
