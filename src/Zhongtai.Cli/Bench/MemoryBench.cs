using System.Collections.Concurrent;
using System.Diagnostics;
using Zhongtai.Demo;
using Zhongtai.Events;
using Zhongtai.Nearline;
using Zhongtai.Serving;
using Zhongtai.Training.Ranking;

namespace Zhongtai.Cli.Bench;

/// <summary>
/// <c>zt bench memory</c>: managed heap per user of each per-user structure of serving and the nearline models, for N
/// users (default 1,000,000) with a small history each, applied as events (fresh id strings per event, as the log's
/// decoder gives them) to: a bare id map (the floor any per-user map pays), the serving catalog without co-engagement
/// (its user histories), the serving catalog as the engine runs it (with co-engagement), and the realtime state.
/// Each structure's bytes are <c>GC.GetTotalMemory(true)</c> deltas over its catalog-only state; the marginal cost is
/// measured between N/2 and N users (co-engagement saturates in this workload, histories do not).
/// </summary>
/// <remarks>
/// Workload (seeded): items in clusters of <c>2·history</c>; each user picks a cluster and clicks <c>history</c>
/// distinct items of it; before the clicks it is shown <c>exposures</c> of them in one request, and the first two clicks
/// carry that request id (joined by the realtime FTRL model). Users' sessions are spread evenly over 24 h of event
/// time, so the realtime model's pending exposures (attribution window 30 min) stay bounded as in a real day.
/// </remarks>
internal static class MemoryBench
{
    public sealed record Structure(string Name, long Bytes, double BytesPerUser, double MarginalBytesPerUser, double Seconds, string Note);

    public sealed record Result(int Users, int Items, int History, int Exposures, long EventsPerStructure, IReadOnlyList<Structure> Structures,
        long WorkingSetBytes, long PeakWorkingSetBytes, long HeapBytes);

    public static Result Run(int users, int items, int history, int exposures, Action<string> progress, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(users, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(items, 2 * history);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(exposures, history);
        var workload = new Workload(users, items, history, exposures);
        var structures = new List<Structure>();
        var serving = new ServingOptions();
        var realtimeOptions = new RealtimeOptions();

        // The floor: a concurrent map from each user id to one shared object.
        var shared = new object();
        structures.Add(Measure("id map (ConcurrentDictionary<string, object>)", workload, progress, cancellationToken,
            () => new ConcurrentDictionary<string, object>(StringComparer.Ordinal),
            (map, _, e) =>
            {
                if (e.UserId is not null)
                {
                    map.TryAdd(e.UserId, shared);
                }
            },
            items: false, "the floor any string-keyed per-user map pays").Structure);

        var hasher = new FeatureHasher(realtimeOptions.FtrlBits, seed: 7);
        structures.Add(Measure("serving catalog: user histories", workload, progress, cancellationToken,
            () => new ServingCatalog(serving, hasher, coEngagementWindow: 0), (c, o, e) => c.Apply(o, e), items: true,
            $"recent ≤ {serving.RecentItemsPerUser}, consumed ≤ {serving.ConsumedItemsPerUser}, exposures ≤ {serving.ExposuresPerUser} per user; includes the id map").Structure);

        var (withCo, catalog) = Measure("serving catalog: histories + co-engagement", workload, progress, cancellationToken,
            () => new ServingCatalog(serving, hasher, realtimeOptions.RecentItemsPerUser), (c, o, e) => c.Apply(o, e), items: true,
            $"as the engine runs it (co-engagement window {realtimeOptions.RecentItemsPerUser}); co-engagement rows are per item pair and saturate in this workload");
        structures.Add(withCo);

        var (realtime, state) = Measure("realtime state (RealtimeState)", workload, progress, cancellationToken,
            () => new RealtimeState(realtimeOptions), (s, o, e) => s.Apply(o, e), items: true,
            "recent item ids per user (strings), co-occurrence by string, pending exposures, item counters, FTRL");
        structures.Add(realtime);

        var heap = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var result = new Result(users, items, history, exposures, workload.EventsPerStructure, structures, process.WorkingSet64, process.PeakWorkingSet64, heap);
        GC.KeepAlive(catalog);
        GC.KeepAlive(state);
        return result;
    }

    private static (Structure Structure, T Value) Measure<T>(string name, Workload workload, Action<string> progress, CancellationToken cancellationToken,
        Func<T> create, Action<T, long, Event> apply, bool items, string note)
    {
        progress($"{name}: {workload.Users:N0} users …");
        var before = Heap();
        var value = create();
        long offset = 0;
        if (items)
        {
            foreach (var e in workload.ItemEvents())
            {
                apply(value, offset++, e);
            }
        }

        var catalogOnly = Heap();
        var sw = Stopwatch.StartNew();
        var half = workload.Users / 2;
        long atHalf = 0;
        for (var u = 0; u < workload.Users; u++)
        {
            if (u == half)
            {
                atHalf = Heap();
            }

            if ((u & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            foreach (var e in workload.UserEvents(u))
            {
                apply(value, offset++, e);
            }
        }

        var seconds = sw.Elapsed.TotalSeconds;
        var after = Heap();
        var bytes = after - catalogOnly;
        var structure = new Structure(name, bytes, (double)bytes / workload.Users, (double)(after - atHalf) / (workload.Users - half), seconds,
            items ? $"{note}; catalog alone {(catalogOnly - before) / 1e6:N1} MB" : note);
        progress($"{name}: {structure.BytesPerUser:N0} B/user (marginal {structure.MarginalBytesPerUser:N0}), {seconds:F1} s");
        GC.KeepAlive(value);
        return (structure, value);
    }

    private static long Heap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>The seeded events: items, then each user's session; fresh strings for every event's ids.</summary>
    private sealed class Workload(int users, int items, int history, int exposures)
    {
        private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public int Users => users;

        /// <summary>Events each structure applies for the users (items not counted).</summary>
        public long EventsPerStructure => (long)users * (history + exposures);

        public IEnumerable<Event> ItemEvents()
        {
            var categories = DemoVocabulary.Categories;
            for (var i = 0; i < items; i++)
            {
                var c = categories[i % categories.Length];
                yield return new Event
                {
                    Type = EventTypes.Item,
                    ItemId = "i" + i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Title = $"{DemoVocabulary.Adjectives[i % DemoVocabulary.Adjectives.Length]} {c.Nouns[i / categories.Length % c.Nouns.Length]} {DemoVocabulary.Brands[i % DemoVocabulary.Brands.Length]}",
                    Category = c.Name,
                    Tags = [c.Tags[i % c.Tags.Length], c.Tags[(i / 7) % c.Tags.Length]],
                    Timestamp = Start.AddDays(-30),
                };
            }
        }

        public IEnumerable<Event> UserEvents(int u)
        {
            var rng = new SplitMix((ulong)u * 0x9E3779B97F4A7C15UL + 17);
            var clusterSize = 2 * history;
            var clusters = items / clusterSize;
            var first = (int)(rng.Next() % (ulong)clusters) * clusterSize;
            var picks = new int[clusterSize];
            for (var i = 0; i < clusterSize; i++)
            {
                picks[i] = first + i;
            }

            for (var i = 0; i < history; i++)
            {
                var j = i + (int)(rng.Next() % (ulong)(clusterSize - i));
                (picks[i], picks[j]) = (picks[j], picks[i]);
            }

            var chosen = picks;
            var at = Start.AddSeconds((double)u * 86_400 / users);
            var user = Invariant(u);
            var request = "r-" + user;
            for (var i = 0; i < exposures; i++)
            {
                yield return new Event
                {
                    Type = EventTypes.Exposure, UserId = "u" + user, ItemId = Item(chosen[i]), Scene = "home", Position = i, RequestId = request, Timestamp = at,
                };
            }

            for (var i = 0; i < history; i++)
            {
                yield return new Event
                {
                    Type = EventTypes.Click, UserId = "u" + user, ItemId = Item(chosen[i]), RequestId = i < Math.Min(2, exposures) ? request : null,
                    Timestamp = at.AddSeconds(5 + i),
                };
            }
        }

        private static string Item(int i) => "i" + Invariant(i);

        private static string Invariant(int i) => i.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private struct SplitMix(ulong state)
    {
        public ulong Next()
        {
            var z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
