using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Zhongtai.Gateway;

namespace Zhongtai.Cli.Commands;

/// <summary><c>zt apps create|list|disable|enable|rotate-secret</c>.</summary>
internal static class AppsCommands
{
    public static Command Build()
    {
        var apps = new Command("apps", "Apps: credentials (AppKey/AppSecret) that belong to a project and carry scopes.");
        var name = new Argument<string>("name") { Description = "The app's name (a-z, 0-9, '-', '_')." };

        var project = new Option<string>("--project", "-p") { Description = "The project the app belongs to (created if absent).", DefaultValueFactory = _ => AppService.DefaultProject };
        var scopes = new Option<string>("--scopes") { Description = "Comma-separated scopes: ingest, serve, manage, llm.", DefaultValueFactory = _ => "ingest,serve" };
        var expires = new Option<double?>("--expires-in-days") { Description = "Credentials expire after this many days (default: never)." };
        var create = new Command("create", "Create an app; its secret is shown once.") { name, project, scopes, expires };
        create.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            DateTimeOffset? expiresAt = parse.GetValue(expires) is { } days ? host.Time.GetUtcNow().AddDays(days) : null;
            var credentials = host.Apps.Create(parse.GetValue(name)!, parse.GetValue(project)!, parse.GetValue(scopes)!.Split(','), expiresAt);
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(new
                {
                    appKey = credentials.App.AppKey,
                    appSecret = credentials.AppSecret,
                    token = credentials.Token,
                    name = credentials.App.Name,
                    project = credentials.App.Project,
                    scopes = credentials.App.Scopes,
                    expiresAt = credentials.App.ExpiresAt,
                });
            }
            else
            {
                ShowCredentials(credentials, "created");
            }
        });

        var list = new Command("list", "List apps.");
        list.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var all = host.Apps.List();
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(all);
                return;
            }

            var table = new Table().AddColumns("name", "appKey", "project", "scopes", "status", "created", "expires");
            foreach (var a in all)
            {
                table.AddRow(a.Name, a.AppKey, a.Project, string.Join(",", a.Scopes), a.IsActive ? "[green]active[/]" : "[red]disabled[/]",
                    a.CreatedAt.ToString("u", CultureInfo.InvariantCulture), a.ExpiresAt?.ToString("u", CultureInfo.InvariantCulture) ?? "never");
            }

            AnsiConsole.Write(table);
        });

        apps.Subcommands.Add(create);
        apps.Subcommands.Add(list);
        apps.Subcommands.Add(StatusCommand("disable", "Disable an app: its credentials stop working.", name, (s, n) => s.Disable(n)));
        apps.Subcommands.Add(StatusCommand("enable", "Enable a disabled app.", name, (s, n) => s.Enable(n)));

        var rotate = new Command("rotate-secret", "Issue a new secret; the old one stops working.") { name };
        rotate.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var credentials = host.Apps.RotateSecret(parse.GetValue(name)!);
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(new { appKey = credentials.App.AppKey, appSecret = credentials.AppSecret, token = credentials.Token });
            }
            else
            {
                ShowCredentials(credentials, "rotated");
            }
        });
        apps.Subcommands.Add(rotate);
        return apps;
    }

    private static Command StatusCommand(string verb, string description, Argument<string> name, Func<AppService, string, App> change)
    {
        var command = new Command(verb, description) { name };
        command.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var app = change(host.Apps, parse.GetValue(name)!);
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(app);
            }
            else
            {
                AnsiConsole.MarkupLine($"App [bold]{Markup.Escape(app.Name)}[/] is now {app.Status}.");
            }
        });
        return command;
    }

    private static void ShowCredentials(AppCredentials c, string what)
    {
        AnsiConsole.MarkupLine($"App [bold]{Markup.Escape(c.App.Name)}[/] {what} in project [bold]{Markup.Escape(c.App.Project)}[/] with scopes {string.Join(",", c.App.Scopes)}.");
        AnsiConsole.MarkupLine($"  AppKey:    {c.App.AppKey}");
        AnsiConsole.MarkupLine($"  AppSecret: {Markup.Escape(c.AppSecret)}   [yellow](shown once: store it now)[/]");
        AnsiConsole.MarkupLine($"  Header:    Authorization: Bearer {Markup.Escape(c.Token)}");
    }
}
