using System.Diagnostics;
using System.Globalization;
using Zhongtai.Training.LightGbm;
using Zhongtai.Training.Ranking;

namespace Zhongtai.Bench.Ranking;

/// <summary>
/// LightGBM through ML.NET on dense numeric features: binary (planted non-linear click model) and LambdaRank
/// (planted graded relevance, 20 candidates per query). Wall and whole-process CPU time (LightGBM uses every core;
/// the CPU time includes ML.NET's data conversion), default <see cref="GbdtOptions"/>.
/// </summary>
internal static class GbdtBench
{
    private static readonly int? Threads = int.TryParse(Environment.GetEnvironmentVariable("ZT_GBDT_THREADS"), out int t) ? t : null;

    public static void Run(int rows)
    {
        Console.WriteLine();
        Console.WriteLine($"# GBDT (LightGBM via ML.NET), {Environment.ProcessorCount} cores, LightGBM threads {Threads?.ToString(CultureInfo.InvariantCulture) ?? "all"} (ZT_GBDT_THREADS), otherwise default options (100 trees, 31 leaves)");
        Console.WriteLine("| objective | train rows | features | train wall s | train process-CPU s | test metric | generating model |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");

        DenseDataset train = Binary(rows, seed: 1, out _);
        DenseDataset test = Binary(rows / 5, seed: 2, out float[] truth);
        var watch = Stopwatch.StartNew();
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        GbdtModel model = GbdtModel.Train(train, new GbdtOptions { NumberOfThreads = Threads });
        double seconds = watch.Elapsed.TotalSeconds;
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        double auc = RankingMetrics.Auc(model.Predict(test), test.Labels);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| binary | {train.Count:N0} | {train.FeatureCount} | {seconds:F2} | {cpuSeconds:F2} | AUC {auc:F4} | AUC {RankingMetrics.Auc(truth, test.Labels):F4} |"));

        DenseDataset rankTrain = Ranking(rows / 20, seed: 3, out _);
        DenseDataset rankTest = Ranking(rows / 100, seed: 4, out float[] utility);
        watch.Restart();
        cpu = Process.GetCurrentProcess().TotalProcessorTime;
        GbdtModel ranker = GbdtModel.Train(rankTrain, new GbdtOptions { Objective = GbdtObjective.LambdaRank, NumberOfThreads = Threads });
        seconds = watch.Elapsed.TotalSeconds;
        cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        double ndcg = RankingMetrics.Ndcg(ranker.Predict(rankTest), rankTest.Labels, rankTest.Groups, k: 10);
        double best = RankingMetrics.Ndcg(utility, rankTest.Labels, rankTest.Groups, k: 10);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| LambdaRank | {rankTrain.Count:N0} | {rankTrain.FeatureCount} | {seconds:F2} | {cpuSeconds:F2} | NDCG@10 {ndcg:F4} | NDCG@10 {best:F4} |"));
    }

    private static DenseDataset Binary(int count, int seed, out float[] truth)
    {
        const int d = 10;
        var random = new Random(seed);
        var x = new float[count * d];
        var y = new float[count];
        truth = new float[count];
        for (int i = 0; i < count; i++)
        {
            Span<float> row = x.AsSpan(i * d, d);
            for (int j = 0; j < d; j++)
            {
                row[j] = (float)random.NextDouble();
            }

            double margin = -1.5 + (2 * (row[0] > 0.6f ? 1 : 0)) + (3 * row[1] * row[2]) - (1.5 * row[3]) + Math.Sin(6 * row[4]);
            double p = 1 / (1 + Math.Exp(-margin));
            truth[i] = (float)p;
            y[i] = random.NextDouble() < p ? 1f : 0f;
        }

        return new DenseDataset(x, d, y);
    }

    private static DenseDataset Ranking(int queries, int seed, out float[] utility)
    {
        const int d = 8, perQuery = 20;
        var random = new Random(seed);
        int n = queries * perQuery;
        var x = new float[n * d];
        var y = new float[n];
        var groups = new int[n];
        utility = new float[n];
        for (int i = 0; i < n; i++)
        {
            Span<float> row = x.AsSpan(i * d, d);
            for (int j = 0; j < d; j++)
            {
                row[j] = (float)random.NextDouble();
            }

            double u = (2 * row[0]) + (row[1] > 0.7f ? 1.5 : 0) - row[2] + (row[3] * row[4]);
            utility[i] = (float)u;
            double noisy = u + (0.4 * (random.NextDouble() - 0.5));
            y[i] = noisy switch { > 2.4 => 3, > 1.8 => 2, > 1.2 => 1, _ => 0 };
            groups[i] = i / perQuery;
        }

        return new DenseDataset(x, d, y, groups: groups);
    }
}
