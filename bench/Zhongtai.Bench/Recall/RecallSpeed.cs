using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Zhongtai.Training.Evaluation;
using Zhongtai.Training.Recall;

namespace Zhongtai.Bench.Recall;

/// <summary>
/// <c>recall-speed</c>: item2vec SGNS against the fastText skip-gram binary on the same sequences (same dim, window,
/// negatives, epochs, sub-sampling, learning rate, 1 thread each), with the embedding quality as next-item HitRate@10 on a
/// leave-last-out split; then ALS and BPR seconds per epoch with the NDCG@10 they reach on the random split.
/// </summary>
internal static partial class RecallSpeed
{
    public static int Run(Dictionary<string, string> opts)
    {
        string fasttext = opts.GetValueOrDefault("fasttext", "/usr/bin/fasttext");
        int epochs = int.Parse(opts.GetValueOrDefault("epochs", "5"), CultureInfo.InvariantCulture);
        int dim = int.Parse(opts.GetValueOrDefault("dim", "64"), CultureInfo.InvariantCulture);
        int window = int.Parse(opts.GetValueOrDefault("window", "5"), CultureInfo.InvariantCulture);
        int negatives = int.Parse(opts.GetValueOrDefault("neg", "5"), CultureInfo.InvariantCulture);
        double subsample = double.Parse(opts.GetValueOrDefault("t", "1e-4"), CultureInfo.InvariantCulture);
        double lr = double.Parse(opts.GetValueOrDefault("lr", "0.025"), CultureInfo.InvariantCulture);
        int repeat = int.Parse(opts.GetValueOrDefault("repeat", "1"), CultureInfo.InvariantCulture);
        foreach (var (name, data) in RecallBenchCommands.Datasets(opts))
        {
            var loo = EvalProtocol.Parse("leave-last-out").Split(data);
            var sequences = Item2Vec.Sequences(loo.Train);
            long tokens = sequences.Sum(s => (long)s.Length);
            Console.WriteLine($"## {name}: {sequences.Count} sequences, {tokens} tokens; dim {dim}, window {window}, negatives {negatives}, epochs {epochs}, t {subsample}, lr {lr}, 1 thread");
            Console.WriteLine();
            Console.WriteLine("| trainer | words/s/thread | train s | next-item HitRate@10 |");
            Console.WriteLine("| --- | --- | --- | --- |");
            var o = new Item2VecOptions { Dimension = dim, Window = window, Negatives = negatives, Epochs = epochs, SubSample = subsample, LearningRate = lr, Threads = 1 };
            for (int r = 0; r < repeat; r++)
            {
                long t0 = Stopwatch.GetTimestamp();
                var model = Item2Vec.Train(loo.Train, o);
                double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                double hr = ItemToItemEvaluation.NextItemHitRate(model.Input, dim, loo, 10);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| zhongtai item2vec | {model.TokensPerSecondPerThread:F0} | {s:F2} | {hr:F4} |"));
            }

            if (File.Exists(fasttext))
            {
                for (int r = 0; r < repeat; r++)
                {
                    RunFastText(fasttext, sequences, loo, dim, window, negatives, epochs, subsample, lr);
                }
            }
            else
            {
                Console.WriteLine($"| fastText | not installed ({fasttext}) | | |");
            }

            Console.WriteLine();
            FactorSpeed(data, opts);
        }

        return 0;
    }

    private static void RunFastText(string exe, IReadOnlyList<int[]> sequences, EvalSplit loo, int dim, int window, int negatives, int epochs, double t, double lr)
    {
        string dir = Directory.CreateTempSubdirectory("zt-fasttext").FullName;
        try
        {
            string corpus = Path.Combine(dir, "corpus.txt");
            var sb = new StringBuilder();
            foreach (var s in sequences)
            {
                sb.AppendJoin(' ', s.Select(i => "i" + i.ToString(CultureInfo.InvariantCulture))).Append('\n');
            }

            File.WriteAllText(corpus, sb.ToString());
            string output = Path.Combine(dir, "model");
            var psi = new ProcessStartInfo(exe)
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            foreach (string a in new[]
            {
                "skipgram", "-input", corpus, "-output", output, "-dim", dim.ToString(CultureInfo.InvariantCulture),
                "-ws", window.ToString(CultureInfo.InvariantCulture), "-neg", negatives.ToString(CultureInfo.InvariantCulture),
                "-epoch", epochs.ToString(CultureInfo.InvariantCulture), "-minCount", "1", "-minn", "0", "-maxn", "0",
                "-t", t.ToString(CultureInfo.InvariantCulture), "-lr", lr.ToString(CultureInfo.InvariantCulture), "-thread", "1", "-verbose", "2",
            })
            {
                psi.ArgumentList.Add(a);
            }

            long t0 = Stopwatch.GetTimestamp();
            using var p = Process.Start(psi)!;
            var errTask = p.StandardError.ReadToEndAsync();
            string stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            string log = stdout + errTask.Result;
            var matches = WordsPerSecond().Matches(log);
            string wps = matches.Count > 0 ? matches[^1].Groups[1].Value : "?";

            // vectors: "i123 v1 v2 ..." per line after a header
            var table = new float[loo.Train.ItemCount * dim];
            foreach (string line in File.ReadLines(output + ".vec").Skip(1))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < dim + 1 || !parts[0].StartsWith('i'))
                {
                    continue;
                }

                int item = int.Parse(parts[0].AsSpan(1), CultureInfo.InvariantCulture);
                for (int d = 0; d < dim; d++)
                {
                    table[(item * dim) + d] = float.Parse(parts[d + 1], CultureInfo.InvariantCulture);
                }
            }

            double hr = ItemToItemEvaluation.NextItemHitRate(table, dim, loo, 10);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| fastText 0.9.2 skipgram | {wps} | {seconds:F2} (process) | {hr:F4} |"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static void FactorSpeed(InteractionData data, Dictionary<string, string> opts)
    {
        var split = new EvalProtocol { TestRatio = 0.25, Seed = 42 }.Split(data);
        var settings = new RecallModelSettings();
        Console.WriteLine("| trainer | threads | epochs | s/epoch | NDCG@10 |");
        Console.WriteLine("| --- | --- | --- | --- | --- |");
        foreach (int threads in new[] { 1, 2 })
        {
            var als = new AlsOptions { Threads = threads };
            long t0 = Stopwatch.GetTimestamp();
            var m = ImplicitAls.Train(split.Train, als);
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            var r = RecallEvaluation.Evaluate(m, split, "random-split", 10);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| als (CG, f={als.Factors}) | {threads} | {als.Iterations} | {s / als.Iterations:F4} | {r.Ndcg:F4} |"));
        }

        foreach (int threads in new[] { 1, 2 })
        {
            var bpr = new BprOptions { Threads = threads };
            long t0 = Stopwatch.GetTimestamp();
            var m = Bpr.Train(split.Train, bpr);
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            var r = RecallEvaluation.Evaluate(m, split, "random-split", 10);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| bpr (f={bpr.Factors}) | {threads} | {bpr.Epochs} | {s / bpr.Epochs:F4} | {r.Ndcg:F4} |"));
        }

        Console.WriteLine();
    }

    [GeneratedRegex(@"words/sec/thread:\s*(\d+)")]
    private static partial Regex WordsPerSecond();
}
