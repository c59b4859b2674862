using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Zhongtai.Training.Evaluation;
using Zhongtai.Training.Recall;

namespace Zhongtai.Bench.Recall;

/// <summary>
/// Custom runners: <c>recall-quality</c> (every model on ml-100k and ml-latest-small, random-split 0.25, K=10),
/// <c>recall-tune</c> (grid search on a validation split carved from train), <c>recall-speed</c> (item2vec vs fastText,
/// ALS/BPR seconds per epoch).
/// </summary>
public static class RecallBenchCommands
{
    private const string DataRoot = "/work/shared/datasets";

    public static bool TryRun(string[] args, out int exitCode)
    {
        exitCode = 0;
        if (args.Length == 0)
        {
            return false;
        }

        var opts = ParseFlags(args.AsSpan(1));
        switch (args[0])
        {
            case "recall-quality":
                exitCode = Quality(opts);
                return true;
            case "recall-tune":
                exitCode = RecallTuning.Run(opts);
                return true;
            case "recall-speed":
                exitCode = RecallSpeed.Run(opts);
                return true;
            case "recall-warm":
                exitCode = WarmStartSpeed.Run(opts);
                return true;
            case "recall-inverse":
                exitCode = InverseSpeed.Run(opts);
                return true;
            default:
                return false;
        }
    }

    internal static Dictionary<string, string> ParseFlags(ReadOnlySpan<string> args)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                string key = args[i][2..];
                d[key] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
            }
        }

        return d;
    }

    internal static IEnumerable<(string Name, InteractionData Data)> Datasets(Dictionary<string, string> opts)
    {
        string which = opts.GetValueOrDefault("data", "all");
        string ml100k = Path.Combine(DataRoot, "ml-100k", "u.data");
        string mlSmall = Path.Combine(DataRoot, "ml-latest-small", "ratings.csv");
        if (which is "all" or "ml-100k")
        {
            if (File.Exists(ml100k))
            {
                yield return ("ml-100k", RatingsLoader.Load(ml100k, "movielens"));
            }
            else
            {
                Console.WriteLine($"skip ml-100k: {ml100k} not found");
            }
        }

        if (which is "all" or "ml-latest-small")
        {
            if (File.Exists(mlSmall))
            {
                yield return ("ml-latest-small", RatingsLoader.Load(mlSmall, "csv"));
            }
            else
            {
                Console.WriteLine($"skip ml-latest-small: {mlSmall} not found");
            }
        }
    }

    private static int Quality(Dictionary<string, string> opts)
    {
        int k = int.Parse(opts.GetValueOrDefault("k", "10"), CultureInfo.InvariantCulture);
        var models = opts.GetValueOrDefault("models", string.Join(',', RecallModelFactory.Names)).Split(',', StringSplitOptions.RemoveEmptyEntries);
        var protocol = EvalProtocol.Parse(opts.GetValueOrDefault("protocol", "random-split"), double.Parse(opts.GetValueOrDefault("test-ratio", "0.25"), CultureInfo.InvariantCulture), 42);
        var all = new List<object>();
        foreach (var (name, data) in Datasets(opts))
        {
            var split = protocol.Split(data);
            Console.WriteLine($"## {name}: {data.UserCount} users, {data.ItemCount} items, {data.Count} ratings; {protocol.Name} test users {split.TestUserCount}, test items {split.TestItemCount}");
            Console.WriteLine();
            Console.WriteLine($"| model | NDCG@{k} | Recall@{k} | Precision@{k} | MAP@{k} | HitRate@{k} | MRR@{k} | coverage | train s |");
            Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
            foreach (string m in models)
            {
                RecallEvalResult r;
                try
                {
                    r = RecallEvaluation.TrainAndEvaluate(m, split, protocol.Name, k);
                }
                catch (ArgumentException e)
                {
                    Console.WriteLine($"| {m} | refused: {e.Message} |");
                    continue;
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Model} | {r.Ndcg:F4} | {r.Recall:F4} | {r.Precision:F4} | {r.Map:F4} | {r.HitRate:F4} | {r.Mrr:F4} | {r.Coverage:F3} | {r.TrainSeconds:F2} |"));
                all.Add(new { dataset = name, result = r });
            }

            Console.WriteLine();
        }

        if (opts.TryGetValue("json", out string? path) && path != "true")
        {
            File.WriteAllText(path, JsonSerializer.Serialize(all, new JsonSerializerOptions { WriteIndented = true }), Encoding.UTF8);
        }

        return 0;
    }
}
