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
        var eval = new Command("eval", "Score the latest run (running one if there is none, or if the log has moved on since) against the demo's fraud labels (projects/P/demo/fraud.jsonl).") { EventsCommands.Project, fresh };
        eval.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var project = host.Project(parse.GetValue(EventsCommands.Project)!);
            var dir = parse.GetValue(fresh) ? null : RiskRuns.LatestRunDirectory(project.Directory);
            if (dir is not null && RiskRuns.ReadReport(dir).LakeOffset < project.Events.NextOffset - 1)
            {
                dir = null; // the log has moved on since that run: judge what is there now
            }

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

        var benchScale = new Option<double>("--scale") { Description = "Demo world scale (users and items).", DefaultValueFactory = _ => 10 };
        var benchDays = new Option<int>("--days") { Description = "Days of behaviour (scale 10 × 28 days ≈ 10M events).", DefaultValueFactory = _ => 28 };
        var benchDir = new Option<string>("--dir") { Description = "Scratch directory: the lake is generated there once and reused.", DefaultValueFactory = _ => Path.Combine(Path.GetTempPath(), "zt-bench-risk") };
        var bench = new Command("bench", "Time and peak RSS of one anti-cheat run over a large demo world (generated once into --dir/lake, labels in --dir/fraud.jsonl), then its precision/recall.") { benchScale, benchDays, benchDir };
        bench.SetAction(async (parse, ct) =>
        {
            var json = parse.GetValue(ZtCommand.Json);
            var result = await RiskBenchAsync(parse.GetValue(benchDir)!, parse.GetValue(benchScale), parse.GetValue(benchDays), AntiCheatOptionsFromEnvironment(),
                line => { if (!json) { AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"); } }, ct);
            if (json)
            {
                ZtCommand.WriteJson(result);
                return;
            }

            WriteReport(result.Report);
            AnsiConsole.MarkupLine("Steps (ms): " + string.Join(", ", result.Report.StepsMs.Select(kv => $"{kv.Key} {kv.Value:F0}")));
            AnsiConsole.MarkupLine($"Anti-cheat over [bold]{result.Events:N0}[/] events in [bold]{result.Seconds:F1} s[/] wall, {result.CpuSeconds:F1} s CPU ({result.EventsPerSecond:N0} events/s) on {result.Threads} threads, DuckDB memory limit {Markup.Escape(result.MemoryLimit)}; peak RSS [bold]{result.PeakRssBytes / 1e6:N0} MB[/]{(result.PeakRssIsRunOnly ? " (of the run)" : " (of the process)")}.");
            AnsiConsole.MarkupLine($"Precision {result.Evaluation.Precision:P2}, recall {result.Evaluation.Recall:P2}, honest events quarantined {result.Evaluation.HonestQuarantinedShare:P3}.");
        });

        risk.Subcommands.Add(run);
        risk.Subcommands.Add(eval);
        risk.Subcommands.Add(release);
        risk.Subcommands.Add(list);
        risk.Subcommands.Add(bench);
        return risk;
    }

    /// <summary>Exports what the lake lacks, then runs the anti-cheat into a new run directory.</summary>
    public static async Task<(string RunId, string Directory, RiskReport Report)> RunAsync(ZhongtaiHost host, Project project, CancellationToken ct)
    {
        if (LakeExporter.ReadCheckpoint(project.LakeDirectory).LastOffset < project.Events.NextOffset - 1)
        {
            await new LakeExporter(time: host.Time).ExportAsync(project, ct);
        }

        return RiskRuns.Run(project.Directory, project.LakeDirectory, LoadOptions(host), host.Time, ct);
    }

    /// <summary>The <c>Risk</c> section from the same sources as the host's options (zhongtai.json beside the binary and in the data directory, ZT__ variables).</summary>
    public static AntiCheatOptions LoadOptions(ZhongtaiHost host) => AntiCheatOptions.From(ZhongtaiConfiguration.Build(host.DataDirectory));

    public sealed record RiskBenchResult(long Events, double Seconds, double CpuSeconds, double EventsPerSecond, long PeakRssBytes, bool PeakRssIsRunOnly,
        string MemoryLimit, int Threads, double GenerateSeconds, RiskReport Report, RiskEvaluationResult Evaluation);

    /// <summary>Generates the world into <c>dir/lake</c> unless there, then measures one run and scores it.</summary>
    public static async Task<RiskBenchResult> RiskBenchAsync(string dir, double scale, int days, AntiCheatOptions options, Action<string> progress, CancellationToken ct)
    {
        var lakeDir = Path.Combine(dir, "lake");
        var labels = Path.Combine(dir, "fraud.jsonl");
        double generateSeconds = 0;
        if (!File.Exists(labels))
        {
            progress($"generating the demo world (scale {scale}, {days} days) into {lakeDir} ...");
            long started = TimeProvider.System.GetTimestamp();
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }

            Directory.CreateDirectory(dir);
            var world = Zhongtai.Demo.DemoWorld.Generate(new Zhongtai.Demo.DemoWorldOptions { Seed = 42, Scale = scale, Days = days });
            long offset = 0;
            await new LakeExporter(new LakeExportOptions { FlushToDisk = false }).ExportAsync(lakeDir, world.Events(ct).Select(e => (offset++, e)), ct);
            world.Truth.WriteFraudLabels(labels + ".tmp");
            File.Move(labels + ".tmp", labels);
            generateSeconds = TimeProvider.System.GetElapsedTime(started).TotalSeconds;
            progress($"{offset:N0} events in {generateSeconds:F0} s");
        }

        bool reset = ResetPeakRss();
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        var report = new AntiCheat(options).Run(lakeDir, RiskReleases.None, Path.Combine(dir, "run"), ct);
        long peak = PeakRssBytes();
        double cpuSeconds = (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        using var lake = LakeQuery.Open(lakeDir, options.Threads, options.MemoryLimit);
        var evaluation = RiskEvaluation.Evaluate(lake, Path.Combine(dir, "run"), labels, options);
        double seconds = report.ElapsedMs / 1000;
        return new RiskBenchResult(report.EventsScanned, seconds, cpuSeconds, report.EventsScanned / Math.Max(1e-9, seconds), peak, reset,
            options.MemoryLimit, options.Threads ?? Environment.ProcessorCount, generateSeconds, report, evaluation);
    }

    /// <summary>The <c>Risk</c> section from zhongtai.json beside the binary and ZT__ variables (no data directory).</summary>
    private static AntiCheatOptions AntiCheatOptionsFromEnvironment() => AntiCheatOptions.From(new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "zhongtai.json"), optional: true)
        .AddEnvironmentVariables("ZT__")
        .Build());

    /// <summary>Resets the kernel's peak-RSS mark of this process (Linux: "5" to /proc/self/clear_refs); false where unsupported.</summary>
    private static bool ResetPeakRss()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>VmHWM of this process (Linux), else the managed view of the peak working set.</summary>
    private static long PeakRssBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64;
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
