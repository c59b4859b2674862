namespace Zhongtai.Training.Recall;

/// <summary>Options of <see cref="Rp3BetaModel"/>.</summary>
public sealed class Rp3BetaOptions
{
    /// <summary>
    /// Exponent α applied to both transition probabilities (1/deg_u and 1/deg_i), in [0, 2]. Default 0.8 (chosen on the
    /// ml-100k validation splits, docs/quality.md).
    /// </summary>
    public double Alpha { get; set; } = 0.8;

    /// <summary>Popularity penalty β: the weight i→j is divided by count_j^β; in [0, 1]. Default 0.5 (validation-chosen).</summary>
    public double Beta { get; set; } = 0.5;

    /// <summary>Neighbours kept per item (largest weights). Default 200 (validation-chosen).</summary>
    public int NeighborCount { get; set; } = 200;

    /// <summary>Scale each item's kept weights to sum to 1 (the L1 row normalisation of Paudel et al.). Default <c>true</c>.</summary>
    public bool NormalizeRows { get; set; } = true;

    /// <summary>Worker threads. Default <c>0</c>: all processors.</summary>
    public int Threads { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> on invalid values.</summary>
    public void Validate()
    {
        if (!(Alpha >= 0 && Alpha <= 2))
        {
            throw new ArgumentException($"Alpha must be in [0, 2]; got {Alpha}.", nameof(Alpha));
        }

        if (!(Beta >= 0 && Beta <= 1))
        {
            throw new ArgumentException($"Beta must be in [0, 1]; got {Beta}.", nameof(Beta));
        }

        if (NeighborCount < 1)
        {
            throw new ArgumentException($"NeighborCount must be >= 1; got {NeighborCount}.", nameof(NeighborCount));
        }

        if (Threads < 0)
        {
            throw new ArgumentException($"Threads must be >= 0 (0 = all processors); got {Threads}.", nameof(Threads));
        }
    }
}

/// <summary>
/// RP3beta (Paudel, Christoffel, Neumann, Bernstein 2017): a three-step random walk item → user → item on the binary
/// interaction graph. With P_iu = 1/deg_i and P_uj = 1/deg_u each raised to α, the weight
/// <c>W[i,j] = deg_i^−α · Σ_u x_ui x_uj deg_u^−α / count_j^β</c>; the top <see cref="Rp3BetaOptions.NeighborCount"/> per item
/// are kept (optionally L1-normalised); a user's score for j is Σ over the history i of W[i,j]. Interaction values are
/// ignored (binary graph).
/// </summary>
public sealed class Rp3BetaModel : IRecallModel, ISimilarItemsModel
{
    private readonly ItemNeighbours _neighbours;

    private Rp3BetaModel(int userCount, int itemCount, ItemNeighbours neighbours, Rp3BetaOptions options)
    {
        UserCount = userCount;
        ItemCount = itemCount;
        _neighbours = neighbours;
        Options = options;
    }

    /// <inheritdoc/>
    public string Name => "rp3beta";

    /// <inheritdoc/>
    public int UserCount { get; }

    /// <inheritdoc/>
    public int ItemCount { get; }

    /// <summary>The options the model was trained with.</summary>
    public Rp3BetaOptions Options { get; }

    /// <summary>Neighbour ids of <paramref name="item"/>, best first.</summary>
    public ReadOnlySpan<int> NeighborsOf(int item) => _neighbours.NeighborsOf(item);

    /// <summary>Weights aligned with <see cref="NeighborsOf"/>.</summary>
    public ReadOnlySpan<float> WeightsOf(int item) => _neighbours.WeightsOf(item);

    /// <summary>Computes the transition weights and keeps the top neighbours per item.</summary>
    public static Rp3BetaModel Train(InteractionMatrix data, Rp3BetaOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new Rp3BetaOptions();
        options.Validate();
        if (data.NonZeroCount == 0)
        {
            throw new ArgumentException("The interaction matrix is empty: no transitions to compute.", nameof(data));
        }

        int n = data.ItemCount;
        int kMax = Math.Min(options.NeighborCount, Math.Max(1, n - 1));
        var userWeight = new float[data.UserCount];
        for (int u = 0; u < userWeight.Length; u++)
        {
            int d = data.CountOf(u);
            userWeight[u] = d == 0 ? 0f : (float)Math.Pow(d, -options.Alpha);
        }

        var counts = data.ItemCounts();
        var colScale = new float[n];
        for (int j = 0; j < n; j++)
        {
            colScale[j] = counts[j] == 0 ? 0f : (float)Math.Pow(counts[j], -options.Beta);
        }

        var nbIds = new int[n][];
        var nbW = new float[n][];
        var po = new ParallelOptions
        {
            CancellationToken = cancellationToken,
            MaxDegreeOfParallelism = options.Threads == 0 ? Environment.ProcessorCount : options.Threads,
        };
        Parallel.For(
            0,
            n,
            po,
            () => (Acc: new float[n], Top: new int[kMax]),
            (i, _, s) =>
            {
                var acc = s.Acc;
                acc.AsSpan().Clear();
                foreach (int u in data.UsersOf(i))
                {
                    float w = userWeight[u];
                    foreach (int j in data.ItemsOf(u))
                    {
                        acc[j] += w;
                    }
                }

                float rowScale = counts[i] == 0 ? 0f : (float)Math.Pow(counts[i], -options.Alpha);
                for (int j = 0; j < n; j++)
                {
                    float a = acc[j];
                    acc[j] = a > 0 && j != i ? a * rowScale * colScale[j] : float.NegativeInfinity;
                }

                int m = TopK.Select(acc, s.Top);
                var ids = new int[m];
                var ws = new float[m];
                double sum = 0;
                for (int t = 0; t < m; t++)
                {
                    ids[t] = s.Top[t];
                    ws[t] = acc[s.Top[t]];
                    sum += ws[t];
                }

                if (options.NormalizeRows && sum > 0)
                {
                    for (int t = 0; t < m; t++)
                    {
                        ws[t] = (float)(ws[t] / sum);
                    }
                }

                nbIds[i] = ids;
                nbW[i] = ws;
                return s;
            },
            _ => { });

        return new Rp3BetaModel(data.UserCount, n, ItemNeighbours.FromRows(nbIds, nbW), options);
    }

    /// <inheritdoc/>
    public void ScoreItems(int user, ReadOnlySpan<int> history, Span<float> scores) => _neighbours.Score(history, scores);

    /// <inheritdoc/>
    public IReadOnlyList<(int Item, float Score)> SimilarItems(int item, int k) => _neighbours.Similar(item, k);
}
