using System.Diagnostics;
using System.Globalization;
using Zhongtai.Training.Evaluation;
using Zhongtai.Training.Recall;

namespace Zhongtai.Bench.Recall;

/// <summary>
/// <c>recall-warm --data ml-latest-small [--models ease,itemcf] [--repeat 3]</c>: the interactions sorted by time, ids
/// assigned in order of first appearance (as the project's id dictionaries do), the first 90% trained from scratch (A),
/// then the whole data (A ∪ B) trained twice: from scratch, and warm from the model of A. Prints seconds and the largest
/// score difference between the two models of A ∪ B (over every user and item).
/// </summary>
internal static class WarmStartSpeed
{
    public static int Run(Dictionary<string, string> opts)
    {
        var models = opts.GetValueOrDefault("models", "ease,itemcf").Split(',', StringSplitOptions.RemoveEmptyEntries);
        int repeat = int.Parse(opts.GetValueOrDefault("repeat", "3"), CultureInfo.InvariantCulture);
        double share = double.Parse(opts.GetValueOrDefault("share", "0.9"), CultureInfo.InvariantCulture);
        if (!opts.ContainsKey("data"))
        {
            opts["data"] = "ml-latest-small";
        }

        foreach (var (name, data) in RecallBenchCommands.Datasets(opts))
        {
            var order = Enumerable.Range(0, data.Count).OrderBy(i => data.Timestamps[i]).ThenBy(i => i).ToArray();
            var userIds = new Dictionary<int, int>();
            var itemIds = new Dictionary<int, int>();
            var users = new int[order.Length];
            var items = new int[order.Length];
            for (int t = 0; t < order.Length; t++)
            {
                int i = order[t];
                users[t] = userIds.TryGetValue(data.Users[i], out int u) ? u : userIds[data.Users[i]] = userIds.Count;
                items[t] = itemIds.TryGetValue(data.Items[i], out int j) ? j : itemIds[data.Items[i]] = itemIds.Count;
            }

            int cut = (int)(order.Length * share);
            var a = InteractionMatrix.FromArrays(users.AsSpan(0, cut), items.AsSpan(0, cut));
            var all = InteractionMatrix.FromArrays(users, items);
            int changedUsers = Enumerable.Range(0, all.UserCount).Count(u => u >= a.UserCount || !all.ItemsOf(u).SequenceEqual(a.ItemsOf(u)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"## {name}: A = first {share:P0} by time ({a.NonZeroCount:N0} pairs, {a.UserCount} users, {a.ItemCount} items); A ∪ B = {all.NonZeroCount:N0} pairs, {all.UserCount} users, {all.ItemCount} items; {changedUsers} users changed; {Environment.ProcessorCount} threads"));
            foreach (var model in models)
            {
                var settings = new RecallModelSettings();
                var previous = RecallModelFactory.Train(model, a, settings);
                var fullTimes = new List<double>();
                var warmTimes = new List<double>();
                IRecallModel? full = null, warm = null;
                for (int r = 0; r < repeat; r++)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    full = RecallModelFactory.Train(model, all, settings);
                    fullTimes.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
                    full = null;
                    GC.Collect();
                    t0 = Stopwatch.GetTimestamp();
                    warm = RecallModelFactory.Train(model, all, settings, previous);
                    warmTimes.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
                    if (r < repeat - 1)
                    {
                        warm = null;
                        GC.Collect();
                    }
                }

                full = RecallModelFactory.Train(model, all, settings);
                double maxDiff = 0, maxScore = 0;
                var s1 = new float[all.ItemCount];
                var s2 = new float[all.ItemCount];
                for (int u = 0; u < all.UserCount; u++)
                {
                    full.ScoreItems(u, all.ItemsOf(u), s1);
                    warm!.ScoreItems(u, all.ItemsOf(u), s2);
                    for (int i = 0; i < s1.Length; i++)
                    {
                        maxDiff = Math.Max(maxDiff, Math.Abs(s1[i] - s2[i]));
                        maxScore = Math.Max(maxScore, Math.Abs(s1[i]));
                    }
                }

                // the statistics alone: counted from scratch vs updated from the model of A
                var po = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount };
                var statsFull = new List<double>();
                var statsWarm = new List<double>();
                for (int r = 0; r < repeat; r++)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    _ = previous is EaseModel ? (object)EaseStatistics.Build(all, settings.Ease.UserWeightExponent, po) : CooccurrenceStatistics.Build(all, po);
                    statsFull.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
                    t0 = Stopwatch.GetTimestamp();
                    _ = previous is EaseModel e ? (object)e.Statistics.Update(all) : ((ItemCfModel)previous).Statistics.Update(all, po);
                    statsWarm.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{model,-7} statistics: count {Fmt(statsFull)} s   update {Fmt(statsWarm)} s"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{model,-7} full {Fmt(fullTimes)} s   warm {Fmt(warmTimes)} s   max |score full - warm| {maxDiff:E2} (max |score| {maxScore:F3})"));
            }
        }

        return 0;
    }

    private static string Fmt(List<double> xs) => string.Join(" / ", xs.Select(x => x.ToString("F3", CultureInfo.InvariantCulture)));
}
