using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using Zhongtai.Demo;
using Zhongtai.Events;
using Zhongtai.Hosting;

namespace Zhongtai.Cli.Commands;

/// <summary><c>zt demo generate</c>: a deterministic simulated world, ingested through the normal validation.</summary>
internal static class DemoCommands
{
    public static Command Build()
    {
        var demo = new Command("demo", "The demo world: catalog, users with planted tastes, sessions, and labelled fraud.");
        var seed = new Option<long>("--seed") { Description = "Random seed (same seed, same world).", DefaultValueFactory = _ => 42 };
        var scale = new Option<double>("--scale") { Description = "1 = 2,000 items, 1,000 users, about 250,000 events over 7 days; linear.", DefaultValueFactory = _ => 1.0 };
        var days = new Option<int>("--days") { Description = "Days of history, ending today.", DefaultValueFactory = _ => 7 };
        var generate = new Command("generate", "Generate the demo world into a project's event log; ground truth goes to projects/P/demo/.") { seed, scale, days, EventsCommands.Project };
        generate.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var project = host.Project(parse.GetValue(EventsCommands.Project)!);
            var options = Options(host, parse.GetValue(seed), parse.GetValue(scale), parse.GetValue(days));
            var json = parse.GetValue(ZtCommand.Json);
            var summary = json
                ? await IngestAsync(project, options, _ => { }, ct)
                : await AnsiConsole.Progress().StartAsync(async ctx =>
                {
                    var task = ctx.AddTask("generating the demo world");
                    task.IsIndeterminate = true;
                    var s = await IngestAsync(project, options, n => task.Description = $"demo world: {n:N0} events ingested", ct);
                    task.StopTask();
                    return s;
                });
            if (json)
            {
                ZtCommand.WriteJson(summary);
            }
            else
            {
                AnsiConsole.MarkupLine($"Demo world (seed {options.Seed}, scale {options.Scale}): {summary.Items:N0} items, {summary.Users:N0} users, [bold]{summary.Events:N0}[/] events ({summary.Written:N0} written), {summary.FraudEvents:N0} fraud events labelled in {Markup.Escape(summary.TruthDirectory)}.");
            }
        });
        demo.Subcommands.Add(generate);
        return demo;
    }

    public sealed record DemoSummary(long Seed, double Scale, int Items, int Users, long Events, long Written, long FraudEvents, string TruthDirectory);

    /// <summary>Demo options for a world that ends today (so that its events are fresh for serving).</summary>
    public static DemoWorldOptions Options(ZhongtaiHost host, long seed, double scale, int days) => new()
    {
        Seed = seed,
        Scale = scale,
        Days = days,
        Start = new DateTimeOffset(host.Time.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero).AddDays(-days),
    };

    /// <summary>Generates the world into the project's log in batches through the ingestor, and writes the ground truth.</summary>
    public static async Task<DemoSummary> IngestAsync(Project project, DemoWorldOptions options, Action<long> progress, CancellationToken ct)
    {
        var world = DemoWorld.Generate(options);
        long total = 0, written = 0;
        var batch = new List<Event>(5_000);
        foreach (var e in world.Events(ct))
        {
            batch.Add(e);
            if (batch.Count == 5_000)
            {
                written += await FlushAsync();
            }
        }

        written += await FlushAsync();
        var truthDir = WriteTruth(project, world);
        return new DemoSummary(options.Seed, options.Scale, world.ItemCount, world.UserCount, total, written, world.Truth.FraudEvents.Count, truthDir);

        async Task<long> FlushAsync()
        {
            if (batch.Count == 0)
            {
                return 0;
            }

            // The world is history (up to Days old): backfill lifts the maximum-age window, nothing else.
            var result = await project.Ingestor.IngestAsync(batch, backfill: true, ct);
            total += result.Accepted;
            progress(total);
            batch.Clear();
            return result.Accepted - result.Duplicates;
        }
    }

    internal static string WriteTruth(Project project, DemoWorld world)
    {
        var dir = Path.Combine(project.Directory, "demo");
        Directory.CreateDirectory(dir);
        world.Truth.WriteFraudLabels(Path.Combine(dir, "fraud.jsonl"));
        var truth = new
        {
            world.Options.Seed,
            world.Options.Scale,
            world.Truth.UserTopCategories,
            world.Truth.UserTopItems,
            FraudUsers = world.Truth.FraudUsers.ToDictionary(kv => kv.Key, kv => kv.Value.ToString()),
            world.Truth.ClickFarmTargets,
            world.Truth.ItemCategory,
        };
        File.WriteAllText(Path.Combine(dir, "truth.json"), JsonSerializer.Serialize(truth, CliJson.Options));
        return dir;
    }
}
