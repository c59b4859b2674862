using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using Zhongtai.Cli.Commands;
using Zhongtai.Events.Ingest;
using Zhongtai.Gateway;
using Zhongtai.Hosting;

namespace Zhongtai.Cli;

/// <summary>The <c>zt</c> command line: every command runs over the same <see cref="ZhongtaiHost"/> as the server.</summary>
internal static class ZtCommand
{
    public static readonly Option<string?> Data = new("--data", "-d")
    {
        Description = "The data directory (default: ./data, or DataDirectory in zhongtai.json / ZT__DATADIRECTORY).",
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print machine-readable JSON instead of tables.",
        Recursive = true,
    };

    public static RootCommand Build()
    {
        var root = new RootCommand("zt — Zhongtai, the self-hosted industrial AI system: ingest, train, serve.");
        root.Options.Add(Data);
        root.Options.Add(Json);
        root.Subcommands.Add(ServeCommands.Serve());
        root.Subcommands.Add(ServeCommands.Quickstart());
        root.Subcommands.Add(ProjectsCommands.Build());
        root.Subcommands.Add(AppsCommands.Build());
        root.Subcommands.Add(EventsCommands.Build());
        root.Subcommands.Add(ExperimentsCommands.Build());
        root.Subcommands.Add(ImportCommands.Build());
        root.Subcommands.Add(DemoCommands.Build());
        root.Subcommands.Add(EvalCommand.Build());
        root.Subcommands.Add(TrainCommands.Build());
        root.Subcommands.Add(ModelsCommands.Build());
        root.Subcommands.Add(JobsCommands.Build());
        root.Subcommands.Add(RiskCommands.Build());
        root.Subcommands.Add(BenchCommands.Build());
        root.Subcommands.Add(DatasetsCommands.Build());
        root.Subcommands.Add(PipelineCommands.Build());
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            return await Build().Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception ex) when (ex is AppException or Zhongtai.Lake.LakeException or KeyNotFoundException or Zhongtai.Registry.RegistryException or Zhongtai.Events.Import.ImportException or EventBatchException or ArgumentException or InvalidOperationException or IOException or System.ComponentModel.DataAnnotations.ValidationException)
        {
            var code = ex switch
            {
                AppException a => a.Code,
                Zhongtai.Registry.RegistryException r => r.Code,
                EventBatchException => "invalid_events",
                _ => "error",
            };
            if (args.Contains("--json"))
            {
                Console.Error.WriteLine(JsonSerializer.Serialize(new Dictionary<string, string> { ["code"] = code, ["message"] = ex.Message }));
            }
            else
            {
                AnsiConsole.MarkupLine($"[red]error[/] ({code}): {Markup.Escape(ex.Message)}");
            }

            return 2;
        }
    }

    /// <summary>Opens the host for the data directory the command names.</summary>
    public static ZhongtaiHost OpenHost(ParseResult parse, ILoggerFactory? loggers = null, IDictionary<string, string?>? overrides = null)
    {
        var options = ZhongtaiConfiguration.Load(parse.GetValue(Data), overrides);
        return ZhongtaiHost.Open(options, TimeProvider.System, loggers ?? LoggerFactory.Create(b => b.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning)));
    }

    public static void WriteJson<T>(T value) =>
        Console.Out.WriteLine(JsonSerializer.Serialize(value, CliJson.Options));
}

internal static class CliJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { WriteIndented = false };
}
