using System.Diagnostics;
using System.Numerics.Tensors;
using Zhongtai.Demo;
using Zhongtai.Events;
using Zhongtai.Indexing.Vector;
using Zhongtai.Serving;

namespace Zhongtai.Cli.Bench;

/// <summary>
/// <c>zt bench content</c>: the content channel's index on a generated catalog (demo vocabulary, one title in five in
/// Chinese): insert cost per item as the catalog applies item events, memory per item, and the channel's search (a
/// user's query: the mean of 5 items of one category) with HNSW against an exact scan of the same vectors
/// (<see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/> over a contiguous matrix), with the
/// HNSW recall of the exact top k (by score: ties at the k-th score are common in a generated catalog).
/// </summary>
internal static class ContentBench
{
    public sealed record Result(int Items, int Dimension, int K, int Queries, double InsertMicrosPerItem, double UpdateMicrosPerItem, long IndexBytes, long HeapBytes,
        double HnswP50Micros, double HnswP99Micros, double ExactP50Micros, double ExactP99Micros, double RecallAtK);

    public static Result Run(int items, int queries, int k, int dimension, Action<string> progress, CancellationToken cancellationToken)
    {
        var options = new ContentChannelOptions { Dimension = dimension };
        var events = Catalog(items);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var index = new ContentIndex(options);
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < items; i++)
        {
            index.Apply(i, events[i]);
            if ((i & 0x3FFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        var insert = sw.Elapsed.TotalMicroseconds / items;
        var heap = GC.GetTotalMemory(forceFullCollection: true) - before;
        progress($"{items:N0} items inserted: {insert:F0} µs/item, {heap / 1e6:N0} MB of heap");

        // Re-describe 2% of the items (new titles): re-insertion plus the compactions it triggers.
        var updates = Math.Max(1, items / 50);
        sw.Restart();
        for (var i = 0; i < updates; i++)
        {
            var e = events[i * 50 % items];
            index.Apply(i * 50 % items, new Event { Type = EventTypes.Item, ItemId = e.ItemId, Title = e.Title + " v2 limited edition", Category = e.Category, Tags = e.Tags, Timestamp = e.Timestamp });
        }

        var update = sw.Elapsed.TotalMicroseconds / updates;
        progress($"{updates:N0} updates: {update:F0} µs/item");

        var matrix = new float[(long)items * dimension];
        var present = new bool[items];
        for (var i = 0; i < items; i++)
        {
            present[i] = index.TryGet(i, matrix.AsSpan(i * dimension, dimension));
        }

        var rng = new Random(42);
        var categories = DemoVocabulary.Categories.Length;
        var query = new float[dimension];
        var hits = new VectorHit[k];
        var scores = new float[items];
        var hnswTimes = new double[queries];
        var exactTimes = new double[queries];
        long found = 0, total = 0;
        for (var q = 0; q < queries; q++)
        {
            query.AsSpan().Clear();
            var category = rng.Next(categories);
            for (var s = 0; s < 5; s++)
            {
                var item = (rng.Next(items / categories) * categories) + category;
                index.AddTo(Math.Min(item, items - 1), 1f, query);
            }

            if (!ContentEmbedder.Normalise(query))
            {
                continue;
            }

            var t = Stopwatch.GetTimestamp();
            var n = index.Search(query, k, hits);
            hnswTimes[q] = Stopwatch.GetElapsedTime(t).TotalMicroseconds;

            t = Stopwatch.GetTimestamp();
            for (var i = 0; i < items; i++)
            {
                scores[i] = present[i] ? TensorPrimitives.Dot(query, matrix.AsSpan(i * dimension, dimension)) : float.NegativeInfinity;
            }

            var top = TopK(scores, k);
            exactTimes[q] = Stopwatch.GetElapsedTime(t).TotalMicroseconds;
            // Recall by score, not by id: the generated catalog has many items with identical content, so ties at the
            // k-th score are common; an HNSW hit counts when it scores at least the exact k-th score.
            var kth = top.Length == 0 ? float.PositiveInfinity : top.Min(i => scores[i]);
            for (var i = 0; i < n; i++)
            {
                if (1 - hits[i].Distance >= kth - 1e-5f)
                {
                    found++;
                }
            }

            total += top.Length;
        }

        Array.Sort(hnswTimes);
        Array.Sort(exactTimes);
        return new Result(items, dimension, k, queries, insert, update, index.MemoryBytes, heap,
            hnswTimes[queries / 2], hnswTimes[(int)(queries * 0.99)], exactTimes[queries / 2], exactTimes[(int)(queries * 0.99)], total == 0 ? 0 : (double)found / total);
    }

    private static int[] TopK(float[] scores, int k)
    {
        // A bounded min-heap by score over the whole array (what an exact content channel would run per request).
        var heap = new PriorityQueue<int, float>(k + 1);
        for (var i = 0; i < scores.Length; i++)
        {
            if (heap.Count < k)
            {
                heap.Enqueue(i, scores[i]);
            }
            else if (heap.TryPeek(out _, out var worst) && scores[i] > worst)
            {
                heap.EnqueueDequeue(i, scores[i]);
            }
        }

        var result = new int[heap.Count];
        var r = 0;
        while (heap.TryDequeue(out var item, out _))
        {
            result[r++] = item;
        }

        return result;
    }

    private static Event[] Catalog(int items)
    {
        var events = new Event[items];
        var categories = DemoVocabulary.Categories;
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < items; i++)
        {
            var c = categories[i % categories.Length];
            var variant = i / categories.Length;
            var chinese = variant % 5 == 0;
            var title = chinese
                ? $"{DemoVocabulary.ZhAdjectives[variant % DemoVocabulary.ZhAdjectives.Length]}{c.ZhNouns[variant / 5 % c.ZhNouns.Length]} {DemoVocabulary.Brands[variant % DemoVocabulary.Brands.Length]}"
                : $"{DemoVocabulary.Adjectives[variant % DemoVocabulary.Adjectives.Length]} {c.Nouns[variant / 3 % c.Nouns.Length]} by {DemoVocabulary.Brands[variant / 7 % DemoVocabulary.Brands.Length]}";
            events[i] = new Event
            {
                Type = EventTypes.Item,
                ItemId = "i" + i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Title = title,
                Text = $"For {DemoVocabulary.Audiences[variant % DemoVocabulary.Audiences.Length]}, shipped from {DemoVocabulary.Cities[variant / 11 % DemoVocabulary.Cities.Length]}.",
                Category = c.Name,
                Tags = [c.Tags[variant % c.Tags.Length], c.Tags[variant / 4 % c.Tags.Length]],
                Timestamp = at,
            };
        }

        return events;
    }
}
