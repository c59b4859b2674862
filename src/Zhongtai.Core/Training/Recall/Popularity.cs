namespace Zhongtai.Training.Recall;

/// <summary>Options of <see cref="PopularityModel"/>.</summary>
public sealed class PopularityOptions
{
    /// <summary>
    /// Half-life of the exponential time decay, in days; each interaction counts <c>0.5^(age/halfLife)</c> where age is
    /// measured back from <see cref="ReferenceTimestamp"/>. Default <c>0</c>: no decay (plain counts).
    /// </summary>
    public double HalfLifeDays { get; set; }

    /// <summary>Unix seconds the decay is measured from. Default <c>null</c>: the latest timestamp in the data.</summary>
    public long? ReferenceTimestamp { get; set; }

    /// <summary>Optional category of every item (length = item count, -1 = none) for per-category top lists. Default <c>null</c>.</summary>
    public int[]? ItemCategories { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> on invalid values.</summary>
    public void Validate()
    {
        if (!(HalfLifeDays >= 0) || double.IsInfinity(HalfLifeDays))
        {
            throw new ArgumentException($"HalfLifeDays must be a finite number >= 0 (0 = no decay); got {HalfLifeDays}.", nameof(HalfLifeDays));
        }
    }
}

/// <summary>
/// Popularity baseline: every item scored by its (optionally time-decayed) number of distinct users; global and per category.
/// Warm start: a previous model's decayed counts are carried forward, decayed to the new reference time, and the new
/// interactions are added, so training on only the new slice continues the old counts.
/// </summary>
public sealed class PopularityModel : IRecallModel
{
    private readonly float[] _scores;
    private readonly int[] _ranked;
    private readonly int[]? _categories;

    private PopularityModel(int userCount, float[] scores, long reference, int[]? categories)
    {
        UserCount = userCount;
        _scores = scores;
        ReferenceTimestamp = reference;
        _categories = categories;
        _ranked = new int[scores.Length];
        TopK.Select(scores, _ranked);
    }

    /// <inheritdoc/>
    public string Name => "pop";

    /// <inheritdoc/>
    public int UserCount { get; }

    /// <inheritdoc/>
    public int ItemCount => _scores.Length;

    /// <summary>The time the scores are decayed to (Unix seconds).</summary>
    public long ReferenceTimestamp { get; }

    /// <summary>Score of every item.</summary>
    public ReadOnlySpan<float> Scores => _scores;

    /// <summary>Trains the model; <paramref name="previous"/> (optional) is continued.</summary>
    public static PopularityModel Train(InteractionMatrix data, PopularityOptions? options = null, PopularityModel? previous = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new PopularityOptions();
        options.Validate();
        if (data.NonZeroCount == 0 && previous is null)
        {
            throw new ArgumentException("The interaction matrix is empty: nothing to count.", nameof(data));
        }

        if (options.ItemCategories is { } cats && cats.Length < data.ItemCount)
        {
            throw new ArgumentException($"ItemCategories has {cats.Length} entries but there are {data.ItemCount} items.", nameof(options));
        }

        int itemCount = Math.Max(data.ItemCount, previous?.ItemCount ?? 0);
        long reference = options.ReferenceTimestamp ?? Math.Max(data.MaxTimestamp(), previous?.ReferenceTimestamp ?? 0);
        double lambda = options.HalfLifeDays > 0 ? Math.Log(2) / (options.HalfLifeDays * 86400.0) : 0;
        var scores = new float[itemCount];
        if (previous is not null)
        {
            float carry = (float)Math.Exp(-lambda * (reference - previous.ReferenceTimestamp));
            for (int i = 0; i < previous.ItemCount; i++)
            {
                scores[i] = previous._scores[i] * carry;
            }
        }

        for (int u = 0; u < data.UserCount; u++)
        {
            var items = data.ItemsOf(u);
            var times = data.TimesOf(u);
            for (int p = 0; p < items.Length; p++)
            {
                scores[items[p]] += lambda == 0 ? 1f : (float)Math.Exp(-lambda * (reference - times[p]));
            }
        }

        return new PopularityModel(Math.Max(data.UserCount, previous?.UserCount ?? 0), scores, reference, options.ItemCategories ?? previous?._categories);
    }

    /// <inheritdoc/>
    public void ScoreItems(int user, ReadOnlySpan<int> history, Span<float> scores) => _scores.CopyTo(scores);

    /// <summary>The <paramref name="k"/> most popular items, optionally restricted to one category.</summary>
    public int[] TopItems(int k, int? category = null)
    {
        if (category is null)
        {
            return _ranked[..Math.Min(k, _ranked.Length)];
        }

        if (_categories is null)
        {
            throw new InvalidOperationException("The model was trained without ItemCategories.");
        }

        var list = new List<int>(k);
        foreach (int i in _ranked)
        {
            if (list.Count == k)
            {
                break;
            }

            if (_categories[i] == category.Value)
            {
                list.Add(i);
            }
        }

        return [.. list];
    }
}
