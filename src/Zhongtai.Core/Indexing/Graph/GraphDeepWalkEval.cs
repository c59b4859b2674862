using System.Diagnostics;
using System.Globalization;
using System.Text;
using Zhongtai.Events;
using Zhongtai.Training.Evaluation;
using Zhongtai.Training.Recall;

namespace Zhongtai.Indexing.Graph;

/// <summary>One embedding's next-item HitRate@K in <see cref="GraphDeepWalkEval"/>.</summary>
public sealed record GraphDeepWalkEvalRow(string Model, string Corpus, double HitRate, double TrainSeconds);

/// <summary>
/// Embedding quality of DeepWalk on the knowledge graph against DeepWalk on the interaction (item-CF) graph and item2vec,
/// on a ratings file split leave-last-out: the graph is built from the train interactions only (as click events in time
/// order, plus catalog events carrying the genres as tags when <c>u.item</c> or <c>movies.csv</c> sits beside the ratings),
/// and every model is scored by <see cref="ItemToItemEvaluation.NextItemHitRate"/> (query = the user's last train item,
/// hit = the held-out next item among the K nearest by cosine).
/// </summary>
public static class GraphDeepWalkEval
{
    /// <summary>Runs the comparison; <paramref name="dimension"/> and <paramref name="threads"/> apply to every skip-gram model.</summary>
    public static IReadOnlyList<GraphDeepWalkEvalRow> Run(string ratingsPath, int k = 10, int dimension = 64, int threads = 2, int seed = 42, TextWriter? log = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(ratingsPath);
        bool csv = ratingsPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);
        var data = RatingsLoader.Load(ratingsPath, csv ? "csv" : "movielens");
        var split = EvalProtocol.Parse("leave-last-out", seed: seed).Split(data);
        var itemIds = data.ItemIds ?? throw new InvalidOperationException("The ratings loader did not keep the item ids.");
        var userIds = data.UserIds ?? throw new InvalidOperationException("The ratings loader did not keep the user ids.");
        var denseItem = new Dictionary<string, int>(itemIds.Length, StringComparer.Ordinal);
        for (int i = 0; i < itemIds.Length; i++)
        {
            denseItem[itemIds[i]] = i;
        }

        var events = new List<Event>(split.Train.NonZeroCount + itemIds.Length);
        var genres = Genres(ratingsPath, csv);
        foreach (var (item, tags) in genres)
        {
            if (denseItem.ContainsKey(item))
            {
                events.Add(new Event { Type = EventTypes.Item, ItemId = item, Tags = tags, Timestamp = DateTimeOffset.UnixEpoch });
            }
        }
        var t0 = DateTimeOffset.UnixEpoch.AddYears(30);
        for (int u = 0; u < split.Train.UserCount; u++)
        {
            var seq = split.Train.SequenceOf(u);
            for (int j = 0; j < seq.Length; j++)
            {
                events.Add(new Event { Type = EventTypes.Click, UserId = userIds[u], ItemId = itemIds[seq[j]], Timestamp = t0.AddSeconds(j) });
            }
        }
        var sw = Stopwatch.StartNew();
        var graph = KnowledgeGraphBuilder.Build(events, new KnowledgeGraphOptions(), ct);
        log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Path.GetFileName(ratingsPath)}: {data.UserCount} users, {data.ItemCount} items, {split.Train.NonZeroCount} train interactions, {genres.Count} items with genres; graph {graph.NodeCount} nodes, {graph.EdgeCount(Relation.CoEngagement)} co-engagement and {graph.EdgeCount(Relation.ItemTag)} item-tag edges in {sw.Elapsed.TotalSeconds:F1} s"));

        var rows = new List<GraphDeepWalkEvalRow>();
        void Add(string model, string corpus, float[] table, double seconds)
        {
            double hr = ItemToItemEvaluation.NextItemHitRate(table, dimension, split, k);
            rows.Add(new GraphDeepWalkEvalRow(model, corpus, hr, seconds));
            log?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {model,-24} HitRate@{k} {hr:F4}  ({seconds:F1} s)"));
        }

        foreach (var (name, relations) in new (string, Relation[])[]
        {
            ("graph-deepwalk", [Relation.CoEngagement]),
            ("graph-deepwalk+tags", [Relation.CoEngagement, Relation.ItemTag]),
        })
        {
            if (relations.Contains(Relation.ItemTag) && graph.EdgeCount(Relation.ItemTag) == 0)
            {
                continue;
            }
            var e = GraphDeepWalk.Train(graph, new GraphDeepWalkOptions { Dimension = dimension, Threads = threads, Seed = seed, Relations = relations }, ct);
            Add(name, "knowledge-graph walks (" + string.Join(" + ", relations) + ")", e.Table(id => denseItem.TryGetValue(id, out int d) ? d : null, data.ItemCount), e.TrainSeconds);
        }

        sw.Restart();
        var dw = DeepWalk.Train(split.Train, new DeepWalkOptions { Dimension = dimension, Threads = threads, Seed = seed }, null, ct);
        Add("interaction-deepwalk", "item-CF graph walks (DeepWalk trainer)", dw.Input, sw.Elapsed.TotalSeconds);
        sw.Restart();
        var i2v = Item2Vec.Train(split.Train, new Item2VecOptions { Dimension = dimension, Threads = threads, Seed = seed }, null, ct);
        Add("item2vec", "user sequences", i2v.Input, sw.Elapsed.TotalSeconds);
        return rows;
    }

    /// <summary>Markdown table of <paramref name="rows"/>.</summary>
    public static string ToMarkdown(IReadOnlyList<GraphDeepWalkEvalRow> rows, int k)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"| model | corpus | next-item HitRate@{k} | train s |");
        sb.AppendLine("| --- | --- | ---: | ---: |");
        foreach (var r in rows)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {r.Model} | {r.Corpus} | {r.HitRate:F4} | {r.TrainSeconds:F1} |");
        }
        return sb.ToString();
    }

    /// <summary>Genres by item id from <c>u.item</c> (ml-100k, '|'-separated, 19 genre flags) or <c>movies.csv</c> (ml-latest).</summary>
    private static Dictionary<string, string[]> Genres(string ratingsPath, bool csv)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(ratingsPath))!;
        var result = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!csv && File.Exists(Path.Combine(dir, "u.item")))
        {
            foreach (var line in File.ReadLines(Path.Combine(dir, "u.item"), Encoding.Latin1))
            {
                var f = line.Split('|');
                if (f.Length < 24)
                {
                    continue;
                }
                var tags = Enumerable.Range(0, 19).Where(g => f[f.Length - 19 + g] == "1").Select(g => "genre" + g.ToString(CultureInfo.InvariantCulture)).ToArray();
                result[f[0]] = tags;
            }
        }
        else if (csv && File.Exists(Path.Combine(dir, "movies.csv")))
        {
            foreach (var line in File.ReadLines(Path.Combine(dir, "movies.csv")).Skip(1))
            {
                int first = line.IndexOf(',', StringComparison.Ordinal);
                int last = line.LastIndexOf(',');
                if (first <= 0 || last <= first)
                {
                    continue;
                }
                var g = line[(last + 1)..];
                result[line[..first]] = g == "(no genres listed)" ? [] : g.Split('|');
            }
        }
        return result;
    }
}
