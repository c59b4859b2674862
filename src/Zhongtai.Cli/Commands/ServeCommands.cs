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
        var quickstart = new Command("quickstart", "The main job: set up a data directory (an app with all scopes), then serve. A second run reuses what exists.") { Urls, LogFormat };
        quickstart.SetAction(async (parse, ct) =>
        {
            using var loggers = CreateLoggers(parse.GetValue(LogFormat)!);
            await using var host = ZtCommand.OpenHost(parse, loggers);
            var credentials = EnsureQuickstartApp(host);
            var urls = parse.GetValue(Urls)!;
            var baseUrl = urls.Split(';')[0].TrimEnd('/');
            AnsiConsole.Write(new Rule("[bold]Zhongtai quick start[/]").LeftJustified());
            AnsiConsole.MarkupLine($"Data directory: [bold]{Markup.Escape(host.DataDirectory)}[/]");
            AnsiConsole.MarkupLine($"App [bold]quickstart[/] (scopes {string.Join(",", credentials.App.Scopes)}); token in {Markup.Escape(CredentialsPath(host))}");
            AnsiConsole.MarkupLine($"Events in the default project: {host.Project().Events.Count:N0}");
            AnsiConsole.MarkupLine($"API reference: {baseUrl}/docs   OpenAPI: {baseUrl}/openapi/v1.json   Metrics: {baseUrl}/metrics");
            AnsiConsole.MarkupLine("Try:");
            AnsiConsole.WriteLine($"  curl -s {baseUrl}/healthz");
            AnsiConsole.WriteLine($"  curl -s -H 'Authorization: Bearer {credentials.Token}' -d '[{{\"id\":\"e1\",\"type\":\"click\",\"userId\":\"u1\",\"itemId\":\"i9\",\"timestamp\":\"{host.Time.GetUtcNow():yyyy-MM-ddTHH:mm:ssZ}\"}}]' {baseUrl}/v1/events");
            AnsiConsole.WriteLine($"  curl -s -H 'Authorization: Bearer {credentials.Token}' {baseUrl}/v1/events/stats");
            await RunServerAsync(host, urls, ct);
        });
        return quickstart;
    }

    private static async Task RunServerAsync(ZhongtaiHost host, string urls, CancellationToken ct)
    {
        var app = ZhongtaiServer.Build(host, urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        await app.StartAsync(ct);
        AnsiConsole.MarkupLine($"[green]Serving[/] on {Markup.Escape(string.Join(", ", app.Urls))} (Ctrl+C to stop).");
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
