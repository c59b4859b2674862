using System.Diagnostics;
using Zhongtai.Indexing.Features;

namespace Zhongtai.Cli.Bench;

/// <summary><c>zt bench features</c>: latency of batched lookups (500 keys × 50 features) from the embedded feature store.</summary>
internal static class FeatureBench
{
    public sealed record Result(int Keys, int Features, int Batch, int Batches, double P50Micros, double P99Micros, double P999Micros, double KeysPerSecond, double LoadSeconds, long ManagedBytes);

    public static Result Run(int keys, int features, int batch, int batches, string directory)
    {
        var names = Enumerable.Range(0, features).Select(i => "f" + i).ToArray();
        var random = new Random(42);
        var store = new EmbeddedFeatureStore(directory, names, TimeProvider.System);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var sw = Stopwatch.StartNew();
        store.LoadVersion("bench", Enumerable.Range(0, keys).Select(i => ("u" + i, Enumerable.Range(0, features).Select(_ => (float)random.NextDouble()).ToArray())));
        var load = sw.Elapsed.TotalSeconds;
        var managed = GC.GetTotalMemory(forceFullCollection: true) - before;
        for (var i = 0; i < 1000; i++)
        {
            store.Put("hot" + i, new float[features], TimeSpan.FromHours(1)); // a live overlay, as in serving
        }

        var keyBatches = Enumerable.Range(0, 64).Select(_ => Enumerable.Range(0, batch).Select(_ => "u" + random.Next(keys + keys / 10)).ToArray()).ToArray();
        var dest = new float[batch * features];
        var found = new bool[batch];
        var times = new double[batches];
        for (var i = 0; i < 2000; i++)
        {
            store.GetMany(keyBatches[i % keyBatches.Length], dest, found);
        }

        var total = Stopwatch.StartNew();
        for (var i = 0; i < batches; i++)
        {
            var t = Stopwatch.GetTimestamp();
            store.GetMany(keyBatches[i % keyBatches.Length], dest, found);
            times[i] = Stopwatch.GetElapsedTime(t).TotalMicroseconds;
        }

        var elapsed = total.Elapsed.TotalSeconds;
        Array.Sort(times);
        Directory.Delete(directory, recursive: true);
        return new Result(keys, features, batch, batches, times[batches / 2], times[(int)(batches * 0.99)], times[(int)(batches * 0.999)], (double)batches * batch / elapsed, load, managed);
    }
}
