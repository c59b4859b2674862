using System.CommandLine;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using Zhongtai.Gateway;
using Zhongtai.Hosting;
using Zhongtai.Server;

namespace Zhongtai.Cli.Commands;

/// <summary><c>zt serve</c> and <c>zt quickstart</c>.</summary>
internal static class ServeCommands
{
    private static readonly Option<string> Urls = new("--urls") { Description = "Where to listen (semicolon-separated).", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
    private static readonly Option<string> LogFormat = new("--log-format") { Description = "Console log format: simple or json.", DefaultValueFactory = _ => "simple" };

    public static Command Serve()
    {
        var serve = new Command("serve", "Run the HTTP server.") { Urls, LogFormat };
        serve.SetAction(async (parse, ct) =>
        {
            using var loggers = CreateLoggers(parse.GetValue(LogFormat)!);
            await using var host = ZtCommand.OpenHost(parse, loggers);
            await RunServerAsync(host, parse.GetValue(Urls)!, ct);
        });
        return serve;
    }

    public static Command Quickstart()
    {
        var quickstart = new Command("quickstart", "The main job: the whole loop on demo data (ingest through the API, lake, training, gate, registry, realtime models), then serve. A second run reuses what exists.") { Urls, LogFormat };
        quickstart.SetAction(async (parse, ct) =>
        {
            using var loggers = CreateLoggers(parse.GetValue(LogFormat)!);
            await using var host = ZtCommand.OpenHost(parse, loggers);
            var credentials = EnsureQuickstartApp(host);
            var urls = parse.GetValue(Urls)!;
            var baseUrl = urls.Split(';')[0].TrimEnd('/');
            AnsiConsole.Write(new Rule("[bold]Zhongtai quick start[/]").LeftJustified());
            AnsiConsole.MarkupLine($"Data directory: [bold]{Markup.Escape(host.DataDirectory)}[/]");
            var app = ZhongtaiServer.Build(host, urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            await app.StartAsync(ct);
            var project = host.Project();
            await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn()).StartAsync(async ctx =>
            {
                var ingest = ctx.AddTask("1. demo world → POST /v1/events");
                if (project.Events.Count == 0)
                {
                    await IngestDemoThroughApiAsync(host, app.Urls.First(), credentials.Token, ingest, ct);
                }
                else
                {
                    ingest.Description = $"1. demo world: {project.Events.Count:N0} events already ingested";
                }

                ingest.Value = ingest.MaxValue;
                var pipeline = ctx.AddTask("2. pipeline: log → lake → anti-cheat → samples → splits");
                var report = await Zhongtai.Pipeline.LakeJobs.Runner(host, project).RunAsync(project, null, ct);
                var stages = report.Stages.ToDictionary(x => x.Stage);
                pipeline.Description = $"2. pipeline: {stages["anti-cheat"].Counts["quarantined"]:N0} events quarantined, {stages["samples"].Counts["samples"]:N0} ranking samples (zt datasets list)";
                pipeline.Value = pipeline.MaxValue;

                var runner = new Zhongtai.Jobs.JobRunner(host.Jobs, Zhongtai.Pipeline.LakeJobs.Handlers(host), [], host.Time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
                await RunJobAsync(ctx.AddTask("3. train ALS (recall) → admission gate → registry"), "3.", "als", Zhongtai.Training.TrainingJobHandler.Full);
                await RunJobAsync(ctx.AddTask("4. train FTRL (ranking) on the samples → gate → registry"), "4.", "ftrl", Zhongtai.Training.TrainingJobHandler.Full);
                await RunJobAsync(ctx.AddTask("5. build the knowledge graph"), "5.", null, Zhongtai.Jobs.GraphJobHandler.GraphBuild);

                async Task RunJobAsync(ProgressTask task, string step, string? model, string kind)
                {
                    if (model is not null && project.Models.Resolve(model, Zhongtai.Registry.ModelAliases.Production) is { } production)
                    {
                        task.Description = $"{step} {model} v{production.Version} is production";
                    }
                    else if (model is null && Zhongtai.Indexing.Graph.KnowledgeGraphSnapshots.LatestPath(Zhongtai.Indexing.Graph.KnowledgeGraphSnapshots.DirectoryOf(project.Directory)) is not null)
                    {
                        task.Description = $"{step} knowledge graph snapshot exists";
                    }
                    else
                    {
                        var job = runner.Enqueue(project.Name, kind, model is null ? "{}" : $"{{\"model\":\"{model}\"}}", "quickstart");
                        await runner.DrainAsync(ct);
                        var done = host.Jobs.Get(job.Id);
                        task.Description = done.Status == Zhongtai.Jobs.JobStatus.Succeeded
                            ? $"{step} {model ?? "graph"} done (job {done.Id})"
                            : $"{step} {model ?? "graph"} failed: {Markup.Escape(done.Error ?? "")} (zt jobs logs {done.Id})";
                    }

                    task.Value = task.MaxValue;
                }
            });
            foreach (var (model, metrics) in new[] { ("als", new[] { "ndcg@10", "recall@10" }), ("ftrl", new[] { "auc", "logloss" }) })
            {
                if (project.Models.Resolve(model, Zhongtai.Registry.ModelAliases.Production) is { } version)
                {
                    AnsiConsole.MarkupLine($"Model [bold]{model}[/] v{version.Version} is production: {string.Join(", ", metrics.Select(m => $"{m} {version.Metrics.GetValueOrDefault(m):F4}"))} (zt models show {model})");
                }
            }

            if (Zhongtai.Risk.RiskRuns.LatestRunDirectory(project.Directory) is { } riskRun && File.Exists(Path.Combine(project.Directory, "demo", "fraud.jsonl")))
            {
                var riskOptions = RiskCommands.LoadOptions(host);
                using var lake = Zhongtai.Lake.LakeQuery.Open(project.LakeDirectory, riskOptions.Threads, riskOptions.MemoryLimit);
                var risk = Zhongtai.Risk.RiskEvaluation.Evaluate(lake, riskRun, Path.Combine(project.Directory, "demo", "fraud.jsonl"), riskOptions);
                AnsiConsole.MarkupLine($"Anti-cheat against the planted fraud: precision {risk.Precision:P1}, recall {risk.Recall:P1}, honest events quarantined {risk.HonestQuarantinedShare:P2} (zt risk eval)");
            }

            await PrintTasteMatchAsync(host, app.Urls.First(), credentials.Token, ct);
            AnsiConsole.MarkupLine($"Lake: {Markup.Escape(project.LakeDirectory)} at offset {Zhongtai.Lake.LakeExporter.ReadCheckpoint(project.LakeDirectory).LastOffset:N0}");
            AnsiConsole.MarkupLine($"App [bold]quickstart[/] (scopes {string.Join(",", credentials.App.Scopes)}); token in {Markup.Escape(CredentialsPath(host))}");
            AnsiConsole.MarkupLine($"Events in the default project: {project.Events.Count:N0}");
            AnsiConsole.MarkupLine($"API reference: {baseUrl}/docs   OpenAPI: {baseUrl}/openapi/v1.json   Metrics: {baseUrl}/metrics");
            AnsiConsole.MarkupLine("Try:");
            Console.WriteLine($"  curl -s {baseUrl}/healthz");
            Console.WriteLine($"  curl -s -H 'Authorization: Bearer {credentials.Token}' -d '[{{\"id\":\"e1\",\"type\":\"click\",\"userId\":\"u1\",\"itemId\":\"i9\",\"timestamp\":\"{host.Time.GetUtcNow():yyyy-MM-ddTHH:mm:ssZ}\"}}]' {baseUrl}/v1/events");
            Console.WriteLine($"  curl -s -H 'Authorization: Bearer {credentials.Token}' {baseUrl}/v1/events/stats");
            Console.WriteLine($"  curl -s -H 'Authorization: Bearer {credentials.Token}' '{baseUrl}/v1/realtime/popular?k=5'");
            Console.WriteLine($"  curl -s -H 'Authorization: Bearer {credentials.Token}' {baseUrl}/v1/models/als");
            Console.WriteLine($"  curl -s -H 'Authorization: Bearer {credentials.Token}' -d '{{\"userId\":\"u-1\",\"scene\":\"home\",\"count\":5}}' {baseUrl}/v1/recommend -H 'Content-Type: application/json'");
            Console.WriteLine($"  curl -s -H 'Authorization: Bearer {credentials.Token}' '{baseUrl}/v1/items/i-1/similar?count=5'");
            Console.WriteLine($"  curl -s -H 'Authorization: Bearer {credentials.Token}' -d '{{\"query\":\"vintage\",\"userId\":\"u-1\",\"count\":5}}' {baseUrl}/v1/search -H 'Content-Type: application/json'");
            AnsiConsole.MarkupLine($"[green]Serving[/] on {Markup.Escape(string.Join(", ", app.Urls))} (Ctrl+C to stop).");
            await WaitAndStopAsync(app, ct);
        });
        return quickstart;
    }

    private static async Task RunServerAsync(ZhongtaiHost host, string urls, CancellationToken ct)
    {
        var app = ZhongtaiServer.Build(host, urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        await app.StartAsync(ct);
        AnsiConsole.MarkupLine($"[green]Serving[/] on {Markup.Escape(string.Join(", ", app.Urls))} (Ctrl+C to stop).");
        await WaitAndStopAsync(app, ct);
    }

    /// <summary>The demo world, posted to the running server in NDJSON batches of 1,000 (ids make a re-run idempotent).</summary>
    /// <summary>
    /// How well the served lists match the demo users' planted tastes: for genuine users, the share of recommended
    /// items in their planted top categories, against the share those categories have in the catalog (what a random
    /// list would get), asked through the real API.
    /// </summary>
    private static async Task PrintTasteMatchAsync(ZhongtaiHost host, string url, string token, CancellationToken ct)
    {
        var path = Path.Combine(host.Project().Directory, "demo", "truth.json");
        if (!File.Exists(path))
        {
            return;
        }

        using var truth = JsonDocument.Parse(await File.ReadAllBytesAsync(path, ct));
        var categoryOf = truth.RootElement.GetProperty("itemCategory").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
        var users = truth.RootElement.GetProperty("userTopCategories").EnumerateObject().Take(200).ToList();
        using var client = new HttpClient { BaseAddress = new Uri(url) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        double served = 0, inTaste = 0, expected = 0;
        foreach (var user in users)
        {
            var top = user.Value.EnumerateArray().Take(2).Select(c => c.GetString()!).ToHashSet(StringComparer.Ordinal);
            using var response = await client.PostAsync("/v1/recommend", new StringContent($$"""{"userId":"{{user.Name}}","scene":"home","count":10}""", System.Text.Encoding.UTF8, "application/json"), ct);
            if (!response.IsSuccessStatusCode)
            {
                return;
            }

            using var list = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            foreach (var item in list.RootElement.GetProperty("items").EnumerateArray())
            {
                served++;
                inTaste += categoryOf.TryGetValue(item.GetProperty("itemId").GetString()!, out var c) && top.Contains(c) ? 1 : 0;
            }

            expected += (double)categoryOf.Values.Count(top.Contains) / categoryOf.Count;
        }

        if (served > 0)
        {
            var share = inTaste / served;
            var random = expected / users.Count;
            AnsiConsole.MarkupLine($"Served lists vs planted tastes ({users.Count} demo users, /v1/recommend): [bold]{share:P1}[/] of items in the user's two planted top categories; a random list: {random:P1} ({share / random:F1}× lift)");
        }
    }

    private static async Task IngestDemoThroughApiAsync(ZhongtaiHost host, string url, string token, ProgressTask task, CancellationToken ct)
    {
        var world = Zhongtai.Demo.DemoWorld.Generate(DemoCommands.Options(host, seed: 42, scale: 1, days: 7));
        using var client = new HttpClient { BaseAddress = new Uri(url) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        task.MaxValue = 250_000;
        var body = new System.Text.StringBuilder();
        var inBatch = 0;
        long sent = 0;
        foreach (var e in world.Events(ct))
        {
            body.Append(System.Text.Json.JsonSerializer.Serialize(e, Zhongtai.Events.EventJsonContext.Default.Event)).Append('\n');
            if (++inBatch == 1_000)
            {
                await PostAsync();
            }
        }

        await PostAsync();
        DemoCommands.WriteTruth(host.Project(), world);

        async Task PostAsync()
        {
            if (inBatch == 0)
            {
                return;
            }

            using var content = new StringContent(body.ToString(), System.Text.Encoding.UTF8, "application/x-ndjson");
            using var response = await client.PostAsync("/v1/events?backfill=true", content, ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"Ingesting the demo world failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            }

            sent += inBatch;
            task.Value = Math.Min(sent, task.MaxValue - 1);
            task.Description = $"1. demo world → POST /v1/events: {sent:N0}";
            body.Clear();
            inBatch = 0;
        }
    }

    private static async Task WaitAndStopAsync(Microsoft.AspNetCore.Builder.WebApplication app, CancellationToken ct)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, ct);
        }
        catch (OperationCanceledException)
        {
        }

        await app.StopAsync(CancellationToken.None);
        await app.DisposeAsync();
    }

    private static string CredentialsPath(ZhongtaiHost host) => Path.Combine(host.DataDirectory, "quickstart-app.json");

    /// <summary>The quick start's app: created once; its credentials kept (mode 600) so that a second run can print them.</summary>
    private static AppCredentials EnsureQuickstartApp(ZhongtaiHost host)
    {
        var path = CredentialsPath(host);
        if (File.Exists(path))
        {
            var saved = JsonSerializer.Deserialize<SavedCredentials>(File.ReadAllText(path), CliJson.Options)!;
            var app = host.Apps.FindByKey(saved.AppKey);
            if (app is not null)
            {
                return new AppCredentials(app, saved.AppSecret);
            }
        }

        var created = host.Apps.List().Any(a => a.Name == "quickstart")
            ? host.Apps.RotateSecret("quickstart")
            : host.Apps.Create("quickstart", AppService.DefaultProject, Scopes.All);
        File.WriteAllText(path, JsonSerializer.Serialize(new SavedCredentials(created.App.AppKey, created.AppSecret), CliJson.Options));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return created;
    }

    internal static ILoggerFactory CreateLoggers(string format) => LoggerFactory.Create(b =>
    {
        b.SetMinimumLevel(LogLevel.Information);
        b.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        if (format == "json")
        {
            b.AddJsonConsole();
        }
        else
        {
            b.AddSimpleConsole(o => o.SingleLine = true);
        }
    });

    private sealed record SavedCredentials(string AppKey, string AppSecret);
}
