using System.CommandLine;
using Spectre.Console;
using Zhongtai.Events.Import;
using Zhongtai.Hosting;
using Zhongtai.Samples;
using Zhongtai.Training.Evaluation;

namespace Zhongtai.Cli.Commands;

/// <summary>
/// <c>zt eval</c>: imports a ratings file into a temporary data directory through the normal importer and event
/// log, builds interactions from the log the way training does, then trains and evaluates recall models with a
/// fixed protocol (full ranking, binary relevance).
/// </summary>
internal static class EvalCommand
{
    public static Command Build()
    {
        var ratings = new Option<string>("--ratings") { Description = "The ratings file (ml-100k u.data, ml-latest ratings.csv, or any user,item[,value[,timestamp]] file).", Required = true };
        var format = new Option<string>("--format") { Description = "movielens or csv.", DefaultValueFactory = _ => "movielens" };
        var sep = new Option<string>("--sep") { Description = "csv: the separator (a character, or 'tab').", DefaultValueFactory = _ => "," };
        var header = new Option<bool?>("--header") { Description = "csv: the first line is a header (default: detected)." };
        var protocol = new Option<string>("--protocol") { Description = "random-split or leave-last-out.", DefaultValueFactory = _ => "random-split" };
        var testRatio = new Option<double>("--test-ratio") { Description = "random-split: the share of each user's interactions held out.", DefaultValueFactory = _ => 0.25 };
        var seed = new Option<int>("--seed") { Description = "random-split: the seed.", DefaultValueFactory = _ => 42 };
        var models = new Option<string>("--models") { Description = $"Comma-separated: {string.Join(",", RecallModelFactory.Names)}; a+b is a blend.", DefaultValueFactory = _ => "pop,itemcf,als,bpr,ease,item2vec,ease+als" };
        var k = new Option<int>("--k") { Description = "Cut-off of the metrics.", DefaultValueFactory = _ => 10 };
        var weights = new Option<string?>("--blend-weights") { Description = "Weights of the models in a blend (a+b), e.g. als=2 (a model not listed weighs 1; default als=3)." };
        var easeZeroDiagonal = new Option<bool?>("--ease-zero-diagonal") { Description = "EASE, alone and in a blend: constrain the diagonal of B to zero (true, EASE) or not (false, DLAE); default: true alone, false in a blend (ease+als)." };
        var keep = new Option<string?>("--keep-data") { Description = "Use this data directory instead of a temporary one, and keep it." };
        var eval = new Command("eval", "Evaluate recall models on a ratings file with a fixed protocol; one JSON object per model with --json.")
        {
            ratings, format, sep, header, protocol, testRatio, seed, models, k, weights, easeZeroDiagonal, keep,
        };
        eval.SetAction(async (parse, ct) =>
        {
            var json = parse.GetValue(ZtCommand.Json);
            var names = parse.GetValue(models)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var unknown = names.SelectMany(n => n.Split('+')).Where(n => !RecallModelFactory.Names.Contains(n, StringComparer.OrdinalIgnoreCase)).ToList();
            if (unknown.Count > 0)
            {
                throw new ArgumentException($"Unknown model(s) {string.Join(",", unknown)}; known: {string.Join(",", RecallModelFactory.Names)}.");
            }

            var settings = new RecallModelSettings();
            if (parse.GetValue(easeZeroDiagonal) is bool zeroDiagonal)
            {
                settings.Ease.ZeroDiagonal = zeroDiagonal;
                settings.BlendEase.ZeroDiagonal = zeroDiagonal;
            }

            foreach (var pair in (parse.GetValue(weights) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var kv = pair.Split('=', 2);
                if (kv.Length != 2 || !double.TryParse(kv[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var w))
                {
                    throw new ArgumentException($"--blend-weights expects model=weight pairs separated by commas; got '{pair}'.");
                }

                settings.BlendWeights[kv[0]] = w;
            }

            var evalProtocol = EvalProtocol.Parse(parse.GetValue(protocol)!, parse.GetValue(testRatio), parse.GetValue(seed));
            var dataDir = parse.GetValue(keep) ?? Path.Combine(Path.GetTempPath(), "zt-eval-" + Guid.NewGuid().ToString("N"));
            try
            {
                await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dataDir });
                var project = host.Project();
                var path = parse.GetValue(ratings)!;
                var importer = new Importer(project.Ingestor, host.Time);
                Status(json, $"importing {path} through the event log");
                if (parse.GetValue(format) is "movielens")
                {
                    await importer.ImportMovieLensAsync(path, null, ct);
                }
                else
                {
                    var separator = parse.GetValue(sep) is "tab" or "\\t" ? '\t' : parse.GetValue(sep)![0];
                    var columns = File.ReadLines(path).First(l => l.Length > 0).Split(separator).Length;
                    var mapping = new CsvMapping("0", "1", columns > 2 ? "2" : null, columns > 3 ? "3" : null, Separator: separator, Header: parse.GetValue(header));
                    await importer.ImportCsvAsync(path, mapping, null, ct);
                }

                var interactions = InteractionsBuilder.Build(project.Events, project.UserIds, project.ItemIds, new InteractionOptions());
                var data = new InteractionData(interactions.Users, interactions.Items, interactions.Values, interactions.Timestamps, interactions.UserIds.Length, interactions.ItemIds.Length)
                {
                    UserIds = interactions.UserIds,
                    ItemIds = interactions.ItemIds,
                };
                Status(json, $"{data.Count:N0} interactions, {data.UserCount:N0} users, {data.ItemCount:N0} items; protocol {evalProtocol.Name}");
                var split = evalProtocol.Split(data);
                var results = new List<RecallEvalResult>();
                foreach (var name in names)
                {
                    Status(json, $"training and evaluating {name}");
                    var result = RecallEvaluation.TrainAndEvaluate(name, split, evalProtocol.Name, parse.GetValue(k), settings, ct);
                    results.Add(result);
                    if (json)
                    {
                        ZtCommand.WriteJson(result);
                    }
                }

                if (!json)
                {
                    var table = new Table().AddColumns("model", $"NDCG@{parse.GetValue(k)}", "Recall", "Precision", "HitRate", "MRR", "MAP", "coverage", "train s", "peak MB");
                    foreach (var r in results)
                    {
                        table.AddRow(r.Model, $"{r.Ndcg:F4}", $"{r.Recall:F4}", $"{r.Precision:F4}", $"{r.HitRate:F4}", $"{r.Mrr:F4}", $"{r.Map:F4}", $"{r.Coverage:F3}", $"{r.TrainSeconds:F2}", $"{r.PeakWorkingSetBytes / 1e6:F0}");
                    }

                    AnsiConsole.Write(table);
                }
            }
            finally
            {
                if (parse.GetValue(keep) is null && Directory.Exists(dataDir))
                {
                    Directory.Delete(dataDir, recursive: true);
                }
            }
        });
        return eval;
    }

    private static void Status(bool json, string message)
    {
        if (json)
        {
            Console.Error.WriteLine(message);
        }
        else
        {
            AnsiConsole.MarkupLine($"[grey]{Markup.Escape(message)}[/]");
        }
    }
}
