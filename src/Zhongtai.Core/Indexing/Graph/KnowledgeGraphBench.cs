using System.Diagnostics;
using System.Globalization;
using Zhongtai.Demo;
using Zhongtai.Events;

namespace Zhongtai.Indexing.Graph;

/// <summary>Options of <see cref="KnowledgeGraphBench.Run"/>.</summary>
public sealed class KnowledgeGraphBenchOptions
{
    /// <summary>Demo world seed. Default 42.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>Demo world scale (1 = 2,000 items, 1,000 users). Default 1.</summary>
    public double Scale { get; set; } = 1.0;

    /// <summary>Start items per query: a user's most recent distinct engaged items. Default 20.</summary>
    public int HistoryItems { get; set; } = 20;

    /// <summary>Results per query. Default 100.</summary>
    public int K { get; set; } = 100;

    /// <summary>Decay per hop. Default 0.5.</summary>
    public float Decay { get; set; } = 0.5f;

    /// <summary>Passes over all users' queries per measured path (the best pass is reported). Default 3.</summary>
    public int Passes { get; set; } = 3;

    /// <summary>Graph options. Default: <see cref="KnowledgeGraphOptions"/> defaults.</summary>
    public KnowledgeGraphOptions Graph { get; set; } = new();
}

/// <summary>One measured query path.</summary>
public sealed record KnowledgeGraphBenchQuery(string Path, int Queries, double QueriesPerSecond, double ParallelQueriesPerSecond, double MeanResults);

/// <summary>What <see cref="KnowledgeGraphBench.Run"/> measured.</summary>
public sealed record KnowledgeGraphBenchResult(
    long Events,
    double GenerateSeconds,
    double ColdBuildSeconds,
    double BuildSeconds,
    int Nodes,
    IReadOnlyDictionary<Relation, int> Edges,
    long SnapshotBytes,
    double SaveSeconds,
    double LoadSeconds,
    IReadOnlyList<KnowledgeGraphBenchQuery> Queries,
    int Walks,
    double WalkSeconds);

/// <summary>
/// Builds the knowledge graph of a demo world and measures build time, snapshot save/load, <see cref="KnowledgeGraph.Expand"/>
/// queries per second (one thread and <see cref="Parallel.For(int, int, Action{int})"/> over all cores) for each user's
/// recent items, and DeepWalk random-walk generation.
/// </summary>
public static class KnowledgeGraphBench
{
    /// <summary>Runs the benchmark, printing a markdown table to <paramref name="output"/> when given.</summary>
    public static KnowledgeGraphBenchResult Run(KnowledgeGraphBenchOptions options, TextWriter? output = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.HistoryItems);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.K);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Passes);

        var sw = Stopwatch.StartNew();
        var world = DemoWorld.Generate(new DemoWorldOptions { Seed = options.Seed, Scale = options.Scale });
        var events = world.Events(ct).ToList();
        var generate = sw.Elapsed.TotalSeconds;

        // The first build includes JIT compilation; the second is the steady state.
        sw.Restart();
        var graph = KnowledgeGraphBuilder.Build(events, options.Graph, ct);
        var coldBuild = sw.Elapsed.TotalSeconds;
        sw.Restart();
        graph = KnowledgeGraphBuilder.Build(events, options.Graph, ct);
        var build = sw.Elapsed.TotalSeconds;

        var path = Path.Combine(Path.GetTempPath(), $"zt-kg-bench-{Environment.ProcessId}.ztkg");
        double save, load;
        long bytes;
        try
        {
            sw.Restart();
            graph.Save(path, ct);
            save = sw.Elapsed.TotalSeconds;
            bytes = new FileInfo(path).Length;
            sw.Restart();
            _ = KnowledgeGraph.Load(path);
            load = sw.Elapsed.TotalSeconds;
        }
        finally
        {
            File.Delete(path);
        }

        // Each user's most recent distinct engaged items, newest weighted highest.
        var histories = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (e.UserId is { } user && e.ItemId is { } item && options.Graph.EngagementTypes.Contains(e.Type))
            {
                if (!histories.TryGetValue(user, out var list))
                {
                    histories[user] = list = [];
                }
                list.Remove(item);
                list.Add(item);
            }
        }
        var starts = histories.Values
            .Select(h => h.TakeLast(options.HistoryItems)
                .Select((id, i) => graph.TryGetNode(NodeType.Item, id, out var node) ? new GraphNeighbour(node, i + 1f) : new GraphNeighbour(-1, 0f))
                .Where(s => s.Node >= 0).ToArray())
            .Where(s => s.Length > 0)
            .ToArray();

        Relation[][] paths =
        [
            [Relation.ItemTag, Relation.TagItem],
            [Relation.CoEngagement],
            [Relation.CoEngagement, Relation.CoEngagement],
            [Relation.ItemTag, Relation.TagItem, Relation.CoEngagement],
        ];
        var queries = new List<KnowledgeGraphBenchQuery>();
        foreach (var p in paths)
        {
            ct.ThrowIfCancellationRequested();
            long results = 0;
            foreach (var s in starts)
            {
                results += graph.Expand(s, p, options.Decay, options.K).Length; // warm-up and result count
            }
            double best = double.MaxValue, bestParallel = double.MaxValue;
            for (var pass = 0; pass < options.Passes; pass++)
            {
                sw.Restart();
                foreach (var s in starts)
                {
                    _ = graph.Expand(s, p, options.Decay, options.K);
                }
                best = Math.Min(best, sw.Elapsed.TotalSeconds);
                sw.Restart();
                Parallel.For(0, starts.Length, new ParallelOptions { CancellationToken = ct }, i => graph.Expand(starts[i], p, options.Decay, options.K));
                bestParallel = Math.Min(bestParallel, sw.Elapsed.TotalSeconds);
            }
            queries.Add(new KnowledgeGraphBenchQuery(
                string.Join(" → ", p), starts.Length, starts.Length / best, starts.Length / bestParallel, (double)results / starts.Length));
        }

        sw.Restart();
        var walks = graph.RandomWalks(10, 40, options.Seed, [Relation.CoEngagement, Relation.ItemTag], ct);
        var walkSeconds = sw.Elapsed.TotalSeconds;

        var result = new KnowledgeGraphBenchResult(
            events.Count, generate, coldBuild, build, graph.NodeCount,
            Enum.GetValues<Relation>().ToDictionary(r => r, graph.EdgeCount),
            bytes, save, load, queries, walks.Length, walkSeconds);
        if (output is not null)
        {
            Print(result, options, output);
        }
        return result;
    }

    private static void Print(KnowledgeGraphBenchResult r, KnowledgeGraphBenchOptions o, TextWriter w)
    {
        var c = CultureInfo.InvariantCulture;
        w.WriteLine(string.Create(c, $"Knowledge graph on the demo world (seed {o.Seed}, scale {o.Scale}), {Environment.ProcessorCount} cores"));
        w.WriteLine();
        w.WriteLine("| measure | value |");
        w.WriteLine("| --- | --- |");
        w.WriteLine(string.Create(c, $"| events | {r.Events:N0} (generated in {r.GenerateSeconds:F2} s) |"));
        w.WriteLine(string.Create(c, $"| build | {r.BuildSeconds:F3} s ({r.Events / r.BuildSeconds:N0} events/s); first build with JIT {r.ColdBuildSeconds:F3} s |"));
        w.WriteLine(string.Create(c, $"| nodes | {r.Nodes:N0} |"));
        w.WriteLine(string.Create(c, $"| edges | {string.Join(", ", r.Edges.Where(e => e.Value > 0).Select(e => $"{e.Key} {e.Value:N0}"))} |"));
        w.WriteLine(string.Create(c, $"| snapshot | {r.SnapshotBytes / 1024.0:N0} KiB, save {r.SaveSeconds * 1000:F1} ms, load {r.LoadSeconds * 1000:F1} ms |"));
        w.WriteLine(string.Create(c, $"| random walks | {r.Walks:N0} walks × 40 steps in {r.WalkSeconds:F3} s |"));
        w.WriteLine();
        w.WriteLine(string.Create(c, $"Expand: start = each user's last {o.HistoryItems} engaged items, k = {o.K}, decay {o.Decay}"));
        w.WriteLine();
        w.WriteLine("| path | queries | queries/s (1 thread) | queries/s (parallel) | mean results |");
        w.WriteLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var q in r.Queries)
        {
            w.WriteLine(string.Create(c, $"| {q.Path} | {q.Queries:N0} | {q.QueriesPerSecond:N0} | {q.ParallelQueriesPerSecond:N0} | {q.MeanResults:F1} |"));
        }
    }
}
