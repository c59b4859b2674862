using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using Zhongtai.Training;

namespace Zhongtai.Cli.Commands;

/// <summary><c>zt train full|incremental --model NAME</c>: one run of the rocket by hand, as a job.</summary>
internal static class TrainCommands
{
    public static Command Build()
    {
        var train = new Command("train", "Train a model as a job (recall models from the log, rankers from the pipeline's ranking splits): evaluate it against production on a fresh holdout, gate it, register it, promote it if it passes.");
        train.Subcommands.Add(Stage("full", "Train from scratch on the full history.", incremental: false));
        train.Subcommands.Add(Stage("incremental", "Warm-start from the production version and continue on the data since.", incremental: true));
        return train;
    }

    private static Command Stage(string name, string description, bool incremental)
    {
        var model = new Option<string>("--model", "-m") { Description = $"The model: {string.Join(", ", RecallTraining.Models.Concat(RankerTraining.Models))}.", DefaultValueFactory = _ => "als" };
        var factors = new Option<int?>("--factors") { Description = "Override the latent dimension for this run." };
        var iterations = new Option<int?>("--iterations") { Description = "Override the iterations (ALS) or epochs (BPR, rankers) for this run." };
        var command = new Command(name, description) { model, factors, iterations, EventsCommands.Project };
        command.SetAction(async (parse, ct) =>
        {
            await using var host = ZtCommand.OpenHost(parse);
            var args = new Dictionary<string, object> { ["model"] = parse.GetValue(model)! };
            if (parse.GetValue(factors) is { } f)
            {
                args["factors"] = f;
            }

            if (parse.GetValue(iterations) is { } it)
            {
                args["iterations"] = it;
                args["epochs"] = it;
            }

            await JobsCommands.RunAsync(host, parse.GetValue(EventsCommands.Project)!, incremental ? TrainingJobHandler.Incremental : TrainingJobHandler.Full,
                JsonSerializer.Serialize(args), "zt train", parse.GetValue(ZtCommand.Json), ct);
        });
        return command;
    }
}
