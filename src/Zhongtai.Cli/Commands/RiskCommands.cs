using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Spectre.Console;
using Zhongtai.Hosting;
using Zhongtai.Lake;
using Zhongtai.Risk;

namespace Zhongtai.Cli.Commands;

/// <summary><c>zt risk run|eval|release|releases</c>: the anti-cheat stage over the lake.</summary>
internal static class RiskCommands
{
    public static Command Build()
    {
        var risk = new Command("risk", "Anti-cheat over the lake: quarantine (with reasons) and flagged users, items, devices and IPs.");

        var run = new Command("run", "Export the log to the lake if behind, run every rule, write projects/P/risk/runs/<id>/ and point risk/latest at it.") { EventsCommands.Project };
        run.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var project = host.Project(parse.GetValue(EventsCommands.Project)!);
            var (runId, dir, report) = await RunAsync(host, project, ct);
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(new { runId, directory = dir, report });
                return;
            }

            WriteReport(report);
            AnsiConsole.MarkupLine($"Run [bold]{runId}[/] → {Markup.Escape(dir)}");
        });

        var fresh = new Option<bool>("--fresh") { Description = "Run the anti-cheat first even when a run exists." };
        var eval = new Command("eval", "Score the latest run (running one if there is none) against the demo's fraud labels (projects/P/demo/fraud.jsonl).") { EventsCommands.Project, fresh };
        eval.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var project = host.Project(parse.GetValue(EventsCommands.Project)!);
            var dir = parse.GetValue(fresh) ? null : RiskRuns.LatestRunDirectory(project.Directory);
            if (dir is null)
            {
                (_, dir, _) = await RunAsync(host, project, ct);
            }

            var options = LoadOptions(host);
            using var lake = LakeQuery.Open(project.LakeDirectory, options.Threads, options.MemoryLimit);
            var result = RiskEvaluation.Evaluate(lake, dir, Path.Combine(project.Directory, "demo", "fraud.jsonl"), options);
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(new { run = Path.GetFileName(dir), evaluation = result });
                return;
            }

            var kinds = new Table().AddColumns("fraud kind", "events", "quarantined", "recall");
            foreach (var k in result.Kinds)
            {
                kinds.AddRow(k.Kind, $"{k.Events:N0}", $"{k.Quarantined:N0}", $"{k.Recall:P1}");
            }

            var rules = new Table().AddColumns("rule", "events", "fraud", "precision");
            foreach (var r in result.RulesPrecision)
            {
                rules.AddRow(r.Rule, $"{r.Events:N0}", $"{r.Fraud:N0}", $"{r.Precision:P1}");
            }

            AnsiConsole.Write(kinds);
            AnsiConsole.Write(rules);
            AnsiConsole.MarkupLine($"Run {Markup.Escape(Path.GetFileName(dir))}: precision [bold]{result.Precision:P2}[/], recall [bold]{result.Recall:P2}[/] of {result.FraudEvents:N0} fraud events; honest events quarantined [bold]{result.HonestQuarantinedShare:P2}[/] of {result.BehaviourEvents - result.FraudEvents:N0}.");
        });

        var user = new Option<string?>("--user") { Description = "Release this user: account-level rules no longer quarantine its events." };
        var item = new Option<string?>("--item") { Description = "Release this item: it is no longer reported as flagged." };
        var reason = new Option<string>("--reason") { Description = "Why (kept with the release).", Required = true };
        var by = new Option<string?>("--by") { Description = "Who releases (default: $USER)." };
        var release = new Command("release", "Release a quarantined user or a flagged item; the next run respects it.") { EventsCommands.Project, user, item, reason, by };
        release.SetAction(async (parse, ct) =>
        {
            var (u, i) = (parse.GetValue(user), parse.GetValue(item));
            if ((u is null) == (i is null))
            {
                throw new ArgumentException("Name exactly one of --user ID or --item ID.");
            }

            await using var host = ZtCommand.OpenHost(parse);
            var project = host.Project(parse.GetValue(EventsCommands.Project)!);
            var releases = RiskReleases.Open(RiskReleases.PathFor(project.Directory));
            var r = releases.Release(u is null ? ReleaseKind.Item : ReleaseKind.User, u ?? i!, parse.GetValue(reason)!,
                parse.GetValue(by) ?? Environment.UserName, host.Time);
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(r);
            }
            else
            {
                AnsiConsole.MarkupLine($"Released {r.Kind.ToString().ToLowerInvariant()} [bold]{Markup.Escape(r.Id)}[/] ({Markup.Escape(r.Reason)}, by {Markup.Escape(r.By)}); the next [bold]zt risk run[/] respects it.");
            }
        });

        var list = new Command("releases", "List the releases, oldest first.") { EventsCommands.Project };
        list.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var project = host.Project(parse.GetValue(EventsCommands.Project)!);
            var releases = RiskReleases.Open(RiskReleases.PathFor(project.Directory)).All;
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(releases);
                return;
            }

            var table = new Table().AddColumns("kind", "id", "reason", "by", "at");
            foreach (var r in releases)
            {
                table.AddRow(r.Kind.ToString().ToLowerInvariant(), Markup.Escape(r.Id), Markup.Escape(r.Reason), Markup.Escape(r.By), r.At.ToString("u", System.Globalization.CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
        });

        risk.Subcommands.Add(run);
        risk.Subcommands.Add(eval);
        risk.Subcommands.Add(release);
        risk.Subcommands.Add(list);
        return risk;
    }

    /// <summary>Exports what the lake lacks, then runs the anti-cheat into a new run directory.</summary>
    public static async Task<(string RunId, string Directory, RiskReport Report)> RunAsync(ZhongtaiHost host, Project project, CancellationToken ct)
    {
        if (LakeExporter.ReadCheckpoint(project.LakeDirectory).LastOffset < project.Events.NextOffset - 1)
        {
            await EventsCommands.ExportAsync(project, host.Time, ct);
        }

        return RiskRuns.Run(project.Directory, project.LakeDirectory, LoadOptions(host), host.Time, ct);
    }

    /// <summary>The <c>Risk</c> section from the same sources as the host's options (zhongtai.json beside the binary and in the data directory, ZT__ variables).</summary>
    public static AntiCheatOptions LoadOptions(ZhongtaiHost host)
    {
        var config = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "zhongtai.json"), optional: true)
            .AddJsonFile(Path.Combine(host.DataDirectory, "zhongtai.json"), optional: true)
            .AddEnvironmentVariables("ZT__")
            .Build();
        return AntiCheatOptions.From(config);
    }

    private static void WriteReport(RiskReport report)
    {
        var table = new Table().AddColumns("rule", "level", "events", "entities");
        foreach (var r in report.Rules)
        {
            table.AddRow(r.Rule, r.Level.ToString().ToLowerInvariant(), $"{r.Events:N0}", r.Entities > 0 ? $"{r.Entities:N0}" : "-");
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"Scanned {report.EventsScanned:N0} events ({report.BehaviourEvents:N0} behaviour) up to offset {report.LakeOffset:N0}: quarantined [bold]{report.EventsQuarantined:N0}[/] ({report.QuarantinedShare:P2}); flagged {report.UsersFlagged:N0} users, {report.ItemsFlagged:N0} items, {report.DevicesFlagged:N0} devices, {report.IpsFlagged:N0} IPs; released {report.UsersReleased:N0} users, {report.ItemsReleased:N0} items; {report.ElapsedMs / 1000:F1} s.");
    }
}
