using Zhongtai.Training.Recall;

namespace Zhongtai.Indexing.Graph;

/// <summary>Options of <see cref="GraphDeepWalk"/>. Skip-gram settings are inherited (dimension 64, window 5, 5 negatives, ...).</summary>
public sealed class GraphDeepWalkOptions : SkipGramOptions
{
    /// <summary>Creates options with the DeepWalk defaults of the interaction trainer (<see cref="DeepWalkOptions"/>): 3 epochs, no sub-sampling.</summary>
    public GraphDeepWalkOptions()
    {
        Epochs = 3;
        SubSample = 0;
    }

    /// <summary>Walks started from every item. Default 10.</summary>
    public int WalksPerItem { get; set; } = 10;

    /// <summary>Items per walk. Default 40.</summary>
    public int WalkLength { get; set; } = 40;

    /// <summary>Relations walked (item→item steps, or item→attribute→item). Default co-engagement and item–tag.</summary>
    public IReadOnlyCollection<Relation> Relations { get; set; } = [Relation.CoEngagement, Relation.ItemTag];
}

/// <summary>Item embeddings keyed by item id: row i of <see cref="Vectors"/> is item <see cref="ItemIds"/>[i].</summary>
public sealed record GraphItemEmbeddings(string[] ItemIds, float[] Vectors, int Dimension, int Walks, double TrainSeconds)
{
    /// <summary>
    /// The vectors laid out by another id space (row = <paramref name="denseIdOf"/>(item id), <paramref name="rows"/> rows);
    /// items the graph does not know, or that have no dense id, stay zero.
    /// </summary>
    public float[] Table(Func<string, int?> denseIdOf, int rows)
    {
        ArgumentNullException.ThrowIfNull(denseIdOf);
        var table = new float[rows * Dimension];
        for (int i = 0; i < ItemIds.Length; i++)
        {
            if (denseIdOf(ItemIds[i]) is { } row && (uint)row < (uint)rows)
            {
                Vectors.AsSpan(i * Dimension, Dimension).CopyTo(table.AsSpan(row * Dimension, Dimension));
            }
        }
        return table;
    }
}

/// <summary>
/// DeepWalk over the knowledge graph: the graph's deterministic weighted random walks (<see cref="KnowledgeGraph.RandomWalks"/>
/// over co-engagement and item→tag→item steps) are the corpus of the project's skip-gram trainer (the same SGNS engine
/// as item2vec and interaction DeepWalk), so items with few interactions still get vectors from their tags.
/// </summary>
public static class GraphDeepWalk
{
    /// <summary>Trains item embeddings on the graph's walks; the items are the graph's item nodes that appear in a walk.</summary>
    public static GraphItemEmbeddings Train(KnowledgeGraph graph, GraphDeepWalkOptions? options = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(graph);
        options ??= new GraphDeepWalkOptions();
        options.Validate();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var walks = graph.RandomWalks(options.WalksPerItem, options.WalkLength, options.Seed, options.Relations, ct);

        // Walks hold graph node ids; the trainer wants a dense vocabulary 0..V-1.
        var vocabOf = new Dictionary<int, int>();
        var nodes = new List<int>();
        var corpus = new List<int[]>(walks.Length);
        foreach (var walk in walks)
        {
            if (walk.Length < 2)
            {
                continue;
            }
            var seq = new int[walk.Length];
            for (int i = 0; i < walk.Length; i++)
            {
                if (!vocabOf.TryGetValue(walk[i], out int v))
                {
                    vocabOf[walk[i]] = v = nodes.Count;
                    nodes.Add(walk[i]);
                }
                seq[i] = v;
            }
            corpus.Add(seq);
        }
        if (corpus.Count == 0)
        {
            throw new ArgumentException("The graph has no walkable item edges for the chosen relations: DeepWalk has no corpus.", nameof(graph));
        }
        var (input, _, _) = SkipGramEngine.Train(corpus, nodes.Count, options, null, null, ct);
        var ids = nodes.Select(graph.KeyOf).ToArray();
        return new GraphItemEmbeddings(ids, input, options.Dimension, corpus.Count, sw.Elapsed.TotalSeconds);
    }
}
