using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;
using Zhongtai.Jobs;
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

            var runner = new JobRunner(host.Jobs, Zhongtai.Pipeline.LakeJobs.Handlers(host), [], host.Time, NullLogger.Instance);
            var job = runner.Enqueue(parse.GetValue(EventsCommands.Project)!, incremental ? TrainingJobHandler.Incremental : TrainingJobHandler.Full, JsonSerializer.Serialize(args), "zt train");
            var json = parse.GetValue(ZtCommand.Json);
            if (json)
            {
                await runner.DrainAsync(ct);
            }
            else
            {
                await AnsiConsole.Status().StartAsync($"job {job.Id}: training {parse.GetValue(model)}", _ => runner.DrainAsync(ct));
            }

            var done = host.Jobs.Get(job.Id);
            while (done.Status is JobStatus.Queued or JobStatus.Running)
            {
                // A server on the same data directory may have claimed it first.
                await Task.Delay(500, ct);
                done = host.Jobs.Get(job.Id);
            }

            if (json)
            {
                ZtCommand.WriteJson(done);
            }
            else
            {
                Console.Out.Write(host.Jobs.ReadLog(done.Id));
                AnsiConsole.MarkupLine($"job {done.Id}: [bold]{done.Status}[/] {Markup.Escape(done.Error ?? "")}");
            }

            if (done.Status != JobStatus.Succeeded)
            {
                throw new InvalidOperationException($"Training job {done.Id} failed: {done.Error}");
            }
        });
        return command;
    }
}
