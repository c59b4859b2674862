namespace Zhongtai.Training.Recall;

/// <summary>How co-occurrence counts become item-item weights.</summary>
public enum ItemSimilarity
{
    /// <summary><c>c(i,j) / sqrt(n(i) n(j))</c>: symmetric.</summary>
    Cosine,

    /// <summary>
    /// <c>c(i,j) / (n(i) n(j)^alpha)</c>: the probability of j given i, damped by j's popularity (Deshpande &amp; Karypis);
    /// asymmetric.
    /// </summary>
    ConditionalProbability,
}

/// <summary>Options of <see cref="ItemCfModel"/>.</summary>
public sealed class ItemCfOptions
{
    /// <summary>Weighting. Default <see cref="ItemSimilarity.Cosine"/> (chosen on the ml-100k validation split).</summary>
    public ItemSimilarity Similarity { get; set; } = ItemSimilarity.Cosine;

    /// <summary>Popularity damping exponent of the candidate for <see cref="ItemSimilarity.ConditionalProbability"/>, in [0, 1]. Default 0.5.</summary>
    public double Alpha { get; set; } = 0.5;

    /// <summary>Neighbours kept per item. Default 20 (chosen on the ml-100k validation split; 400 scores within 0.002).</summary>
    public int NeighborCount { get; set; } = 20;

    /// <summary>Minimum co-occurrence count for a pair to become neighbours. Default 1.</summary>
    public int MinCoCount { get; set; } = 1;

    /// <summary>Worker threads. Default <c>0</c>: all processors.</summary>
    public int Threads { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> on invalid values.</summary>
    public void Validate()
    {
        if (!(Alpha >= 0 && Alpha <= 1))
        {
            throw new ArgumentException($"Alpha must be in [0, 1]; got {Alpha}.", nameof(Alpha));
        }

        if (NeighborCount < 1)
        {
            throw new ArgumentException($"NeighborCount must be >= 1; got {NeighborCount}.", nameof(NeighborCount));
        }

        if (MinCoCount < 1)
        {
            throw new ArgumentException($"MinCoCount must be >= 1; got {MinCoCount}.", nameof(MinCoCount));
        }

        if (Threads < 0)
        {
            throw new ArgumentException($"Threads must be >= 0 (0 = all processors); got {Threads}.", nameof(Threads));
        }
    }
}

/// <summary>
/// Item-based collaborative filtering on binary co-occurrence: top-N weighted neighbours per item; a user's score for j
/// is the sum of the weights i→j over the items i in the user's history. The model keeps its sufficient statistics
/// (<see cref="Statistics"/>: co-occurrence and item counts, user histories), so a warm start updates the counts with only
/// the changed users and re-selects the neighbours; the result equals training from scratch on the same data.
/// </summary>
public sealed class ItemCfModel : IRecallModel, ISimilarItemsModel
{
    private readonly ItemNeighbours _neighbours;

    internal ItemCfModel(int userCount, int itemCount, ItemNeighbours neighbours, CooccurrenceStatistics statistics, ItemCfOptions options)
    {
        UserCount = userCount;
        ItemCount = itemCount;
        _neighbours = neighbours;
        Statistics = statistics;
        Options = options;
    }

    /// <inheritdoc/>
    public string Name => "itemcf";

    /// <inheritdoc/>
    public int UserCount { get; }

    /// <inheritdoc/>
    public int ItemCount { get; }

    /// <summary>The co-occurrence statistics the neighbours were selected from (kept for warm starts).</summary>
    public CooccurrenceStatistics Statistics { get; }

    /// <summary>The options the neighbours were selected with.</summary>
    public ItemCfOptions Options { get; }

    internal ItemNeighbours Neighbours => _neighbours;

    /// <summary>Neighbour ids of <paramref name="item"/>, best first.</summary>
    public ReadOnlySpan<int> NeighborsOf(int item) => _neighbours.NeighborsOf(item);

    /// <summary>Weights aligned with <see cref="NeighborsOf"/>.</summary>
    public ReadOnlySpan<float> WeightsOf(int item) => _neighbours.WeightsOf(item);

    /// <summary>Builds the neighbour lists from scratch.</summary>
    public static ItemCfModel Train(InteractionMatrix data, ItemCfOptions? options, CancellationToken cancellationToken) =>
        Train(data, options, null, cancellationToken);

    /// <summary>
    /// Builds the neighbour lists for <paramref name="data"/> (the whole current data, not only the new part). With
    /// <paramref name="previous"/> its co-occurrence counts are updated with the users whose items changed — users and
    /// items new in <paramref name="data"/> included — instead of being recounted; the result equals a full run.
    /// </summary>
    public static ItemCfModel Train(InteractionMatrix data, ItemCfOptions? options = null, ItemCfModel? previous = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new ItemCfOptions();
        options.Validate();
        if (data.NonZeroCount == 0)
        {
            throw new ArgumentException("The interaction matrix is empty: no co-occurrences to count.", nameof(data));
        }

        var po = new ParallelOptions
        {
            CancellationToken = cancellationToken,
            MaxDegreeOfParallelism = options.Threads == 0 ? Environment.ProcessorCount : options.Threads,
        };
        var statistics = previous is null ? CooccurrenceStatistics.Build(data, po) : previous.Statistics.Update(data, po);
        return FromStatistics(statistics, options, po);
    }

    private static ItemCfModel FromStatistics(CooccurrenceStatistics statistics, ItemCfOptions options, ParallelOptions po)
    {
        int n = statistics.ItemCount;
        int kMax = Math.Min(options.NeighborCount, Math.Max(1, n - 1));
        int[] counts = statistics.ItemCounts;
        var nbIds = new int[n][];
        var nbW = new float[n][];
        Parallel.For(
            0,
            n,
            po,
            () => (Scores: Array.Empty<float>(), Top: new int[kMax]),
            (i, _, s) =>
            {
                // Select over the row's co-occurring items only (sorted by id, so ties still go to the lower id).
                var rowIds = statistics.Ids[i];
                var rowCounts = statistics.Counts[i];
                if (s.Scores.Length < rowIds.Length)
                {
                    s.Scores = new float[Math.Max(rowIds.Length, 2 * s.Scores.Length)];
                }

                double ni = counts[i];
                for (int t = 0; t < rowIds.Length; t++)
                {
                    int j = rowIds[t], c = rowCounts[t];
                    s.Scores[t] = c < options.MinCoCount
                        ? float.NegativeInfinity
                        : (float)(options.Similarity == ItemSimilarity.Cosine
                            ? c / Math.Sqrt(ni * counts[j])
                            : c / (ni * Math.Pow(counts[j], options.Alpha)));
                }

                int m = TopK.Select(s.Scores.AsSpan(0, rowIds.Length), s.Top);
                var ids = new int[m];
                var ws = new float[m];
                for (int t = 0; t < m; t++)
                {
                    ids[t] = rowIds[s.Top[t]];
                    ws[t] = s.Scores[s.Top[t]];
                }

                nbIds[i] = ids;
                nbW[i] = ws;
                return s;
            },
            _ => { });

        return new ItemCfModel(statistics.UserCount, n, ItemNeighbours.FromRows(nbIds, nbW), statistics, options);
    }

    /// <inheritdoc/>
    public void ScoreItems(int user, ReadOnlySpan<int> history, Span<float> scores) => _neighbours.Score(history, scores);

    /// <inheritdoc/>
    public IReadOnlyList<(int Item, float Score)> SimilarItems(int item, int k) => _neighbours.Similar(item, k);
}
