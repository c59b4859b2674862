using System.CommandLine;
using Spectre.Console;

namespace Zhongtai.Cli.Commands;

/// <summary><c>zt projects create|list</c>: the unit of isolation.</summary>
internal static class ProjectsCommands
{
    public static Command Build()
    {
        var projects = new Command("projects", "Projects: each has its own event log, lake, datasets, models and indexes.");
        var name = new Argument<string>("name") { Description = "The project's name (a-z, 0-9, '-', '_')." };
        var create = new Command("create", "Create a project (nothing happens if it exists).") { name };
        create.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            host.Apps.EnsureProject(parse.GetValue(name)!);
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(new { name = parse.GetValue(name) });
            }
            else
            {
                AnsiConsole.MarkupLine($"Project [bold]{Markup.Escape(parse.GetValue(name)!)}[/] exists.");
            }
        });
        var list = new Command("list", "List projects.");
        list.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var all = host.Apps.ListProjects();
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(all);
            }
            else
            {
                foreach (var p in all)
                {
                    AnsiConsole.WriteLine(p);
                }
            }
        });
        projects.Subcommands.Add(create);
        projects.Subcommands.Add(list);
        return projects;
    }
}
