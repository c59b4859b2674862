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
/// diagonal regularization grows with item popularity (EDLAE). Closed form: training always recomputes from the data
/// (no warm start).
/// </summary>
public sealed class EaseModel : IRecallModel, ISimilarItemsModel
{
    private readonly float[] _b;
    private readonly int _ld;

    private EaseModel(int userCount, int itemCount, float[] b, int ld)
    {
        UserCount = userCount;
        ItemCount = itemCount;
        _b = b;
        _ld = ld;
    }

    /// <inheritdoc/>
    public string Name => "ease";

    /// <inheritdoc/>
    public int UserCount { get; }

    /// <inheritdoc/>
    public int ItemCount { get; }

    /// <summary>The weight of item <paramref name="from"/> towards item <paramref name="to"/>.</summary>
    public float Weight(int from, int to) => _b[((long)from * _ld) + to];

    /// <summary>Trains the model.</summary>
    public static EaseModel Train(InteractionMatrix data, EaseOptions? options = null, CancellationToken cancellationToken = default)
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

        var userWeight = new float[data.UserCount];
        double weightSum = 0;
        for (int u = 0; u < data.UserCount; u++)
        {
            int c = data.CountOf(u);
            userWeight[u] = c == 0 ? 0f : (float)Math.Pow(c, -options.UserWeightExponent);
            weightSum += userWeight[u] * c;
        }

        float norm = (float)(data.NonZeroCount / weightSum);
        for (int u = 0; u < data.UserCount; u++)
        {
            userWeight[u] *= norm;
        }

        int ld = DenseSpdInverse.PaddedSize(n);
        var g = new float[(long)ld * ld];
        var po = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = options.Threads == 0 ? Environment.ProcessorCount : options.Threads };
        Parallel.For(0, n, po, i =>
        {
            long row = (long)i * ld;
            foreach (int u in data.UsersOf(i))
            {
                float w = userWeight[u];
                foreach (int j in data.ItemsOf(u))
                {
                    g[row + j] += w;
                }
            }

            g[row + i] += (float)(options.Lambda + (options.DropoutRegularization * g[row + i]));
        });
        for (int i = n; i < ld; i++)
        {
            g[((long)i * ld) + i] = 1f;
        }

        DenseSpdInverse.Invert(g, n, options.Threads, cancellationToken);

        // B = -P / diag(P) column-wise, zero diagonal; reuse the buffer.
        var diag = new float[n];
        for (int j = 0; j < n; j++)
        {
            diag[j] = g[((long)j * ld) + j];
        }

        Parallel.For(0, n, po, i =>
        {
            var row = g.AsSpan((int)((long)i * ld), n);
            for (int j = 0; j < n; j++)
            {
                row[j] = -row[j] / diag[j];
            }

            row[i] = 0f;
        });

        return new EaseModel(data.UserCount, n, g, ld);
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
