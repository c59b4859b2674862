namespace Zhongtai.Training.Recall;

/// <summary>Options of <see cref="EaseModel"/>.</summary>
public sealed class EaseOptions
{
    /// <summary>L2 regularization λ added to the diagonal of the Gram matrix. Default 200 (chosen on the ml-100k validation split).</summary>
    public double Lambda { get; set; } = 200;

    /// <summary>
    /// Extra diagonal regularization proportional to each item's own count: the diagonal gets <c>λ + ρ·G_ii</c>.
    /// This is the dropout emphasis of EDLAE (Steck 2020, ρ = p/(1-p) for dropout rate p); 0 gives plain EASE.
    /// Default 2 (chosen on the ml-100k validation split; see docs/recall-models.md).
    /// </summary>
    public double DropoutRegularization { get; set; } = 2;

    /// <summary>
    /// Users are weighted by <c>n_u^-γ</c> in the Gram matrix (normalised so the mean weight per interaction is 1), so
    /// heavy users do not dominate the co-occurrences; 0 weighs every user 1 (plain EASE). Default 0.5 (chosen on the
    /// ml-100k validation split).
    /// </summary>
    public double UserWeightExponent { get; set; } = 0.5;

    /// <summary>
    /// Each item's scores are multiplied by <c>count_j^β</c> (its training count): β &gt; 0 favours popular items,
    /// β &lt; 0 obscure ones. Default 0 (plain EASE scores).
    /// </summary>
    public double PopularityExponent { get; set; }

    /// <summary>
    /// <c>true</c>: the EASE/EDLAE solution with the zero-diagonal constraint, <c>B_ij = -P_ij / P_jj</c>. <c>false</c>: the
    /// DLAE solution without it (Steck 2020), <c>B = I - P·Λ</c>, i.e. <c>B_ij = -P_ij·Λ_j</c> off the diagonal.
    /// Default <c>true</c>.
    /// </summary>
    public bool ZeroDiagonal { get; set; } = true;

    /// <summary>
    /// Largest item count accepted. EASE holds two dense item×item float matrices (8·n² bytes: 3.2 GB at 20,000 items) and
    /// costs ~n³ flops, so larger catalogs are refused with an <see cref="ArgumentException"/>. Default 20,000.
    /// </summary>
    public int MaxItems { get; set; } = 20_000;

    /// <summary>Worker threads. Default <c>0</c>: all processors.</summary>
    public int Threads { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> on invalid values.</summary>
    public void Validate()
    {
        if (!(Lambda > 0) || double.IsInfinity(Lambda))
        {
            throw new ArgumentException($"Lambda must be a finite number > 0; got {Lambda}.", nameof(Lambda));
        }

        if (!(DropoutRegularization >= 0) || double.IsInfinity(DropoutRegularization))
        {
            throw new ArgumentException($"DropoutRegularization must be a finite number >= 0; got {DropoutRegularization}.", nameof(DropoutRegularization));
        }

        if (!(UserWeightExponent >= 0 && UserWeightExponent <= 2))
        {
            throw new ArgumentException($"UserWeightExponent must be in [0, 2]; got {UserWeightExponent}.", nameof(UserWeightExponent));
        }

        if (!(PopularityExponent >= -2 && PopularityExponent <= 2))
        {
            throw new ArgumentException($"PopularityExponent must be in [-2, 2]; got {PopularityExponent}.", nameof(PopularityExponent));
        }

        if (MaxItems < 1)
        {
            throw new ArgumentException($"MaxItems must be >= 1; got {MaxItems}.", nameof(MaxItems));
        }

        if (Threads < 0)
        {
            throw new ArgumentException($"Threads must be >= 0 (0 = all processors); got {Threads}.", nameof(Threads));
        }
    }
}

/// <summary>
/// EASE (Steck 2019): the closed-form item-item model <c>B = I - P·diag(1/diag(P))</c> with <c>P = (XᵀX + λI)⁻¹</c> over the
/// binary interaction matrix X; a user's scores are <c>x_u B</c>. With <see cref="EaseOptions.DropoutRegularization"/> the
/// diagonal regularization grows with item popularity (EDLAE). The model keeps its sufficient statistics
/// (<see cref="Statistics"/>: the Gram matrix, item counts and user histories), so a warm start updates them with only the
/// changed users and re-inverts; the result equals training from scratch on the same data.
/// </summary>
public sealed class EaseModel : IRecallModel, ISimilarItemsModel
{
    private readonly float[] _b;
    private readonly int _ld;

    internal EaseModel(int userCount, int itemCount, float[] b, int ld, EaseStatistics statistics, EaseOptions options)
    {
        UserCount = userCount;
        ItemCount = itemCount;
        _b = b;
        _ld = ld;
        Statistics = statistics;
        Options = options;
    }

    /// <inheritdoc/>
    public string Name => "ease";

    /// <inheritdoc/>
    public int UserCount { get; }

    /// <inheritdoc/>
    public int ItemCount { get; }

    /// <summary>The sufficient statistics the weights were solved from (kept for warm starts).</summary>
    public EaseStatistics Statistics { get; }

    /// <summary>The options the weights were solved with.</summary>
    public EaseOptions Options { get; }

    internal float[] WeightMatrix => _b;

    internal int LeadingDimension => _ld;

    /// <summary>The weight of item <paramref name="from"/> towards item <paramref name="to"/>.</summary>
    public float Weight(int from, int to) => _b[((long)from * _ld) + to];

    /// <summary>Trains the model from scratch.</summary>
    public static EaseModel Train(InteractionMatrix data, EaseOptions? options, CancellationToken cancellationToken) =>
        Train(data, options, null, cancellationToken);

    /// <summary>
    /// Trains the model on <paramref name="data"/> (the whole current data, not only the new part). With
    /// <paramref name="previous"/> (trained with the same <see cref="EaseOptions.UserWeightExponent"/>) its statistics are
    /// updated with the users whose items changed instead of being recounted — users and items new in
    /// <paramref name="data"/> included — then the system is solved again; the result equals a full run on the same data.
    /// </summary>
    public static EaseModel Train(InteractionMatrix data, EaseOptions? options = null, EaseModel? previous = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new EaseOptions();
        options.Validate();
        if (data.NonZeroCount == 0)
        {
            throw new ArgumentException("The interaction matrix is empty: EASE needs interactions.", nameof(data));
        }

        int n = data.ItemCount;
        if (n > options.MaxItems)
        {
            throw new ArgumentException(
                $"EASE refuses {n} items: it is limited to MaxItems = {options.MaxItems} (dense n x n inverse, {8.0 * n * n / 1e9:F1} GB). " +
                "Use itemcf/als/bpr for this catalog, or raise EaseOptions.MaxItems if the machine has the memory.",
                nameof(data));
        }

        var po = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = options.Threads == 0 ? Environment.ProcessorCount : options.Threads };
        var statistics = previous is not null && previous.Statistics.UserWeightExponent == options.UserWeightExponent
            ? previous.Statistics.Update(data)
            : EaseStatistics.Build(data, options.UserWeightExponent, po);
        return Solve(statistics, options, po, cancellationToken);
    }

    private static EaseModel Solve(EaseStatistics statistics, EaseOptions options, ParallelOptions po, CancellationToken cancellationToken)
    {
        int n = statistics.ItemCount;
        float norm = statistics.WeightSum > 0 ? (float)(statistics.NonZeroCount / statistics.WeightSum) : 1f;
        int ld = DenseSpdInverse.PaddedSize(n);
        var g = new float[(long)ld * ld];
        var reg = new float[n];
        var gram = statistics.Gram;
        Parallel.For(0, n, po, i =>
        {
            var src = gram.AsSpan((int)((long)i * n), n);
            var dst = g.AsSpan((int)((long)i * ld), n);
            System.Numerics.Tensors.TensorPrimitives.Multiply(src, norm, dst);
            reg[i] = (float)(options.Lambda + (options.DropoutRegularization * dst[i]));
            dst[i] += reg[i];
        });
        for (int i = n; i < ld; i++)
        {
            g[((long)i * ld) + i] = 1f;
        }

        DenseSpdInverse.Invert(g, n, options.Threads, cancellationToken);

        // Column scale: EASE -1/P_jj, DLAE -Λ_j; times count_j^β. Zero diagonal; reuse the buffer.
        var scale = new float[n];
        for (int j = 0; j < n; j++)
        {
            double s = options.ZeroDiagonal ? -1.0 / g[((long)j * ld) + j] : -reg[j];
            if (options.PopularityExponent != 0)
            {
                s *= Math.Pow(Math.Max(1, statistics.ItemCounts[j]), options.PopularityExponent);
            }

            scale[j] = (float)s;
        }

        Parallel.For(0, n, po, i =>
        {
            var row = g.AsSpan((int)((long)i * ld), n);
            System.Numerics.Tensors.TensorPrimitives.Multiply(row, scale, row);
            row[i] = 0f;
        });

        return new EaseModel(statistics.UserCount, n, g, ld, statistics, options);
    }
    /// <inheritdoc/>
    public void ScoreItems(int user, ReadOnlySpan<int> history, Span<float> scores)
    {
        scores.Clear();
        foreach (int i in history)
        {
            if ((uint)i < (uint)ItemCount)
            {
                System.Numerics.Tensors.TensorPrimitives.Add(scores, _b.AsSpan((int)((long)i * _ld), ItemCount), scores);
            }
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<(int Item, float Score)> SimilarItems(int item, int k)
    {
        var row = _b.AsSpan((int)((long)item * _ld), ItemCount).ToArray();
        row[item] = float.NegativeInfinity;
        var top = new int[Math.Min(k, ItemCount)];
        int m = TopK.Select(row, top);
        var list = new (int, float)[m];
        for (int t = 0; t < m; t++)
        {
            list[t] = (top[t], row[top[t]]);
        }

        return list;
    }
}
