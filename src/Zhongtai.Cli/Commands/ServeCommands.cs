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
                var export = ctx.AddTask("2. event log → lake (Parquet)");
                var exported = await EventsCommands.ExportAsync(project, host.Time, ct);
                export.Description = $"2. lake: {exported.Rows:N0} new rows, {exported.Files} file(s)";
                export.Value = export.MaxValue;
                var train = ctx.AddTask("3. train ALS → admission gate → registry");
                if (project.Models.Resolve("als", Zhongtai.Registry.ModelAliases.Production) is { } production)
                {
                    train.Description = $"3. als v{production.Version} is production";
                }
                else
                {
                    var runner = new Zhongtai.Jobs.JobRunner(host.Jobs, Zhongtai.Pipeline.LakeJobs.Handlers(host), [], host.Time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
                    var job = runner.Enqueue(project.Name, Zhongtai.Training.TrainingJobHandler.Full, "{\"model\":\"als\"}", "quickstart");
                    await runner.DrainAsync(ct);
                    var done = host.Jobs.Get(job.Id);
                    train.Description = done.Status == Zhongtai.Jobs.JobStatus.Succeeded
                        ? $"3. als trained, gated and promoted (job {done.Id})"
                        : $"3. training failed: {Markup.Escape(done.Error ?? "")} (zt jobs logs {done.Id})";
                }

                train.Value = train.MaxValue;
            });
            if (project.Models.Resolve("als", Zhongtai.Registry.ModelAliases.Production) is { } als)
            {
                AnsiConsole.MarkupLine($"Model [bold]als[/] v{als.Version} is production: holdout ndcg@10 {als.Metrics.GetValueOrDefault("ndcg@10"):F4}, recall@10 {als.Metrics.GetValueOrDefault("recall@10"):F4} (zt models show als)");
            }

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
        var dir = Path.Combine(host.Project().Directory, "demo");
        Directory.CreateDirectory(dir);
        world.Truth.WriteFraudLabels(Path.Combine(dir, "fraud.jsonl"));

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
