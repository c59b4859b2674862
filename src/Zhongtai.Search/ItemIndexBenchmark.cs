using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Zhongtai.Events;

namespace Zhongtai.Indexing.Inverted;

/// <summary>Throughput of an <see cref="ItemIndex"/> on a generated catalog; the numbers in docs/inverted-index.md.</summary>
public static class ItemIndexBenchmark
{
    /// <summary>What one run measured.</summary>
    public sealed record Result(
        int Items, double IndexSeconds, double ItemsPerSecond, long IndexBytes,
        int Queries, double QueriesPerSecondOneThread, double QueriesPerSecondAllThreads, int Threads,
        double P50Ms, double P99Ms, double MeanHits);

    /// <summary>
    /// Generates <paramref name="items"/> items (seeded: Zipf-distributed words from a 20 000-word vocabulary,
    /// 15% of items with Chinese titles, 50 categories, 200 tags, prices), rebuilds an index in
    /// <paramref name="directory"/> with them (timed, including the commit), then runs
    /// <paramref name="queries"/> generated queries (1-3 words, a third with a category or price filter,
    /// top 10) on one thread and on <paramref name="threads"/> threads.
    /// </summary>
    public static Result Run(string directory, int items = 100_000, int queries = 20_000, int threads = 2, int seed = 42,
        CancellationToken cancellationToken = default)
    {
        var random = new Random(seed);
        var vocabulary = Enumerable.Range(0, 20_000).Select(i => Word(random)).ToArray();
        var zipf = new Zipf(vocabulary.Length, 1.0, random);
        const string Han = "红色连衣裙白衬衫手机电脑耳机无线蓝牙运动鞋男女款夏季新冬季外套咖啡茶杯书包";
        var catalog = new List<Event>(items);
        for (var i = 0; i < items; i++)
        {
            string title;
            if (random.NextDouble() < 0.15)
            {
                var sb = new StringBuilder();
                for (var k = random.Next(4, 12); k > 0; k--)
                {
                    sb.Append(Han[random.Next(Han.Length)]);
                }
                title = sb.ToString();
            }
            else
            {
                title = Words(vocabulary, zipf, random.Next(3, 9));
            }
            catalog.Add(new Event
            {
                Type = EventTypes.Item,
                ItemId = "item" + i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Title = title,
                Text = Words(vocabulary, zipf, random.Next(20, 61)),
                Category = "c" + random.Next(50).ToString(System.Globalization.CultureInfo.InvariantCulture),
                Tags = [.. Enumerable.Range(0, 3).Select(_ => "t" + random.Next(200).ToString(System.Globalization.CultureInfo.InvariantCulture))],
                Attributes = new() { ["price"] = Number(Math.Round(random.NextDouble() * 500, 2)) },
            });
        }

        var generated = new List<SearchQuery>(queries);
        for (var i = 0; i < queries; i++)
        {
            var q = new SearchQuery { Text = Words(vocabulary, zipf, random.Next(1, 4)), Operator = i % 2 == 0 ? TermOperator.And : TermOperator.Or };
            generated.Add((i % 6) switch
            {
                0 => q with { Category = "c" + random.Next(50).ToString(System.Globalization.CultureInfo.InvariantCulture) },
                1 => q with { MinPrice = 50, MaxPrice = 250 },
                _ => q,
            });
        }

        using var index = ItemIndex.Open(directory, new ItemIndexOptions { RefreshInterval = TimeSpan.Zero });
        var watch = Stopwatch.StartNew();
        index.Rebuild(catalog, cancellationToken);
        var indexSeconds = watch.Elapsed.TotalSeconds;
        var bytes = new DirectoryInfo(directory).EnumerateFiles().Sum(f => f.Length);

        // Warm up, then one thread with per-query latency.
        foreach (var q in generated.Take(1000))
        {
            index.Search(q);
        }
        var latencies = new double[queries];
        long hits = 0;
        watch.Restart();
        for (var i = 0; i < queries; i++)
        {
            var start = Stopwatch.GetTimestamp();
            hits += index.Search(generated[i]).Count;
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        var oneThread = queries / watch.Elapsed.TotalSeconds;
        Array.Sort(latencies);

        watch.Restart();
        Parallel.For(0, queries, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken },
            i => index.Search(generated[i]));
        var allThreads = queries / watch.Elapsed.TotalSeconds;

        return new Result(items, indexSeconds, items / indexSeconds, bytes, queries, oneThread, allThreads, threads,
            latencies[queries / 2], latencies[(int)(queries * 0.99)], (double)hits / queries);
    }

    private static JsonElement Number(double value)
    {
        using var doc = JsonDocument.Parse(value.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        return doc.RootElement.Clone();
    }

    private static string Word(Random random)
    {
        const string Letters = "abcdefghijklmnopqrstuvwxyz";
        Span<char> chars = stackalloc char[random.Next(3, 10)];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = Letters[random.Next(Letters.Length)];
        }
        return new string(chars);
    }

    private static string Words(string[] vocabulary, Zipf zipf, int count)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                sb.Append(' ');
            }
            sb.Append(vocabulary[zipf.Next()]);
        }
        return sb.ToString();
    }

    /// <summary>Zipf(s) ranks over [0, n) by inverse CDF on a precomputed table.</summary>
    private sealed class Zipf
    {
        private readonly double[] _cdf;
        private readonly Random _random;

        public Zipf(int n, double s, Random random)
        {
            _random = random;
            _cdf = new double[n];
            var sum = 0.0;
            for (var i = 0; i < n; i++)
            {
                sum += 1.0 / Math.Pow(i + 1, s);
                _cdf[i] = sum;
            }
            for (var i = 0; i < n; i++)
            {
                _cdf[i] /= sum;
            }
        }

        public int Next()
        {
            var i = Array.BinarySearch(_cdf, _random.NextDouble());
            return Math.Min(i < 0 ? ~i : i, _cdf.Length - 1);
        }
    }
}
