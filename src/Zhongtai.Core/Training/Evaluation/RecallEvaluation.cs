using System.Diagnostics;
using Zhongtai.Training.Recall;

namespace Zhongtai.Training.Evaluation;

/// <summary>The options of every recall model, by name; defaults are each options class's documented defaults.</summary>
public sealed class RecallModelSettings
{
    public PopularityOptions Pop { get; set; } = new();
    public ItemCfOptions ItemCf { get; set; } = new();
    public AlsOptions Als { get; set; } = new();
    public BprOptions Bpr { get; set; } = new();
    public EaseOptions Ease { get; set; } = new();
    public Item2VecOptions Item2Vec { get; set; } = new();
    public DeepWalkOptions DeepWalk { get; set; } = new();
    public Rp3BetaOptions Rp3Beta { get; set; } = new();

    /// <summary>
    /// Weight of each model in a blend (<c>ease+als</c>); a model not listed weighs 1. Default: <c>als</c> 3, the weight of
    /// ALS against EASE (as <see cref="BlendEase"/>) in <c>ease+als</c> chosen on the ml-100k validation splits
    /// (docs/quality.md); others 1.
    /// </summary>
    public Dictionary<string, double> BlendWeights { get; set; } = new(StringComparer.OrdinalIgnoreCase) { ["als"] = 3 };

    /// <summary>
    /// The options of EASE when it is a member of a blend (<c>ease+als</c>); <see cref="Ease"/> applies to EASE alone.
    /// Default: the <see cref="EaseOptions"/> defaults with <see cref="EaseOptions.ZeroDiagonal"/> <c>false</c> (DLAE),
    /// which with ALS weight 3 was the best blend on the ml-100k validation splits (docs/quality.md); alone, EASE keeps
    /// the zero diagonal.
    /// </summary>
    public EaseOptions BlendEase { get; set; } = new() { ZeroDiagonal = false };

    /// <summary>These settings with <see cref="Ease"/> replaced by <see cref="BlendEase"/>: what each blend member trains with.</summary>
    internal RecallModelSettings ForBlendMember()
    {
        var copy = (RecallModelSettings)MemberwiseClone();
        copy.Ease = BlendEase;
        return copy;
    }
}

/// <summary>Builds recall models by name: <c>pop, itemcf, als, bpr, ease, item2vec, deepwalk, rp3beta</c>.</summary>
public static class RecallModelFactory
{
    /// <summary>Every single-model name <see cref="Train"/> accepts; join names with '+' for a <see cref="BlendModel"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["pop", "itemcf", "als", "bpr", "ease", "item2vec", "deepwalk", "rp3beta"];

    /// <summary>
    /// Trains the model called <paramref name="name"/> on <paramref name="train"/>; <paramref name="previous"/> (same kind)
    /// is continued where the model supports a warm start (pop, als, bpr, item2vec, deepwalk; itemcf and ease update
    /// their sufficient statistics).
    /// </summary>
    public static IRecallModel Train(string name, InteractionMatrix train, RecallModelSettings? settings = null, IRecallModel? previous = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        settings ??= new RecallModelSettings();
        if (name.Contains('+', StringComparison.Ordinal))
        {
            var parts = name.Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var member = settings.ForBlendMember();
            var models = parts.Select(p => Train(p, train, member, null, cancellationToken)).ToArray();
            return new BlendModel(models, [.. parts.Select(p => settings.BlendWeights.GetValueOrDefault(p, 1.0))]);
        }

        return name.ToUpperInvariant() switch
        {
            "POP" => PopularityModel.Train(train, settings.Pop, previous as PopularityModel),
            "ITEMCF" => ItemCfModel.Train(train, settings.ItemCf, previous as ItemCfModel, cancellationToken),
            "ALS" => ImplicitAls.Train(train, settings.Als, previous as FactorModel, cancellationToken: cancellationToken),
            "BPR" => Recall.Bpr.Train(train, settings.Bpr, previous as FactorModel, cancellationToken: cancellationToken),
            "EASE" => EaseModel.Train(train, settings.Ease, previous as EaseModel, cancellationToken),
            "ITEM2VEC" => Item2Vec.Train(train, settings.Item2Vec, previous as SkipGramItemModel, cancellationToken),
            "DEEPWALK" => DeepWalk.Train(train, settings.DeepWalk, previous as SkipGramItemModel, cancellationToken),
            "RP3BETA" => Rp3BetaModel.Train(train, settings.Rp3Beta, cancellationToken),
            _ => throw new ArgumentException($"Unknown recall model '{name}'; expected one of: {string.Join(", ", Names)}.", nameof(name)),
        };
    }
}

/// <summary>The metrics of one model on one split (means over the users with test items).</summary>
public sealed record RecallEvalResult
{
    public required string Model { get; init; }
    public required string Protocol { get; init; }
    public required int K { get; init; }

    /// <summary>Users evaluated (those with at least one test item).</summary>
    public int Users { get; init; }
    public double Ndcg { get; init; }
    public double Recall { get; init; }
    public double Precision { get; init; }
    public double HitRate { get; init; }
    public double Mrr { get; init; }
    public double Map { get; init; }

    /// <summary>Distinct recommended items over the catalog.</summary>
    public double Coverage { get; init; }

    /// <summary>Wall-clock seconds to train.</summary>
    public double TrainSeconds { get; init; }

    /// <summary>Wall-clock seconds to rank every test user.</summary>
    public double EvalSeconds { get; init; }

    /// <summary>Managed bytes allocated while training.</summary>
    public long TrainAllocatedBytes { get; init; }

    /// <summary>The process's peak working set after training (bytes; process-wide high-water mark).</summary>
    public long PeakWorkingSetBytes { get; init; }
}

/// <summary>Runs recall models on an evaluation split: full ranking over all items not in the user's train set, binary relevance.</summary>
public static class RecallEvaluation
{
    /// <summary>
    /// Splits <paramref name="data"/> with <paramref name="protocol"/>, trains every model in <paramref name="modelNames"/> on
    /// the train part and evaluates it at <paramref name="k"/>; one result per model, in order.
    /// </summary>
    public static IReadOnlyList<RecallEvalResult> Run(
        InteractionData data,
        EvalProtocol protocol,
        IReadOnlyList<string> modelNames,
        int k,
        RecallModelSettings? settings = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(modelNames);
        var split = protocol.Split(data);
        var results = new List<RecallEvalResult>(modelNames.Count);
        foreach (string name in modelNames)
        {
            results.Add(TrainAndEvaluate(name, split, protocol.Name, k, settings, cancellationToken));
        }

        return results;
    }

    /// <summary>Trains one model by name on <paramref name="split"/> and evaluates it.</summary>
    public static RecallEvalResult TrainAndEvaluate(string name, EvalSplit split, string protocolName, int k, RecallModelSettings? settings = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(split);
        long alloc0 = GC.GetTotalAllocatedBytes(true);
        long t0 = Stopwatch.GetTimestamp();
        var model = RecallModelFactory.Train(name, split.Train, settings, null, cancellationToken);
        double trainSeconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        long allocated = GC.GetTotalAllocatedBytes(true) - alloc0;
        long peak;
        using (var process = Process.GetCurrentProcess())
        {
            peak = process.PeakWorkingSet64;
        }

        return Evaluate(model, split, protocolName, k, cancellationToken) with
        {
            TrainSeconds = trainSeconds,
            TrainAllocatedBytes = allocated,
            PeakWorkingSetBytes = peak,
        };
    }

    /// <summary>Evaluates a trained model on <paramref name="split"/> at <paramref name="k"/>.</summary>
    public static RecallEvalResult Evaluate(IRecallModel model, EvalSplit split, string protocolName, int k, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(split);
        if (k < 1)
        {
            throw new ArgumentException($"k must be >= 1; got {k}.", nameof(k));
        }

        long t0 = Stopwatch.GetTimestamp();
        var train = split.Train;
        int users = split.Test.Count;
        var top = new int[users][];
        var sums = new double[users, 6];
        Parallel.For(
            0,
            users,
            new ParallelOptions { CancellationToken = cancellationToken },
            () => new float[model.ItemCount],
            (u, _, scores) =>
            {
                var test = split.Test[u];
                if (test.Length == 0)
                {
                    return scores;
                }

                var result = new int[Math.Min(k, model.ItemCount)];
                int m = model.RecommendInto(u, train.ItemsOf(u), scores, result);
                var ranked = result.AsSpan(0, m);
                top[u] = ranked.ToArray();
                sums[u, 0] = RankingMetrics.Ndcg(ranked, test, k);
                sums[u, 1] = RankingMetrics.Recall(ranked, test, k);
                sums[u, 2] = RankingMetrics.Precision(ranked, test, k);
                sums[u, 3] = RankingMetrics.HitRate(ranked, test, k);
                sums[u, 4] = RankingMetrics.Mrr(ranked, test, k);
                sums[u, 5] = RankingMetrics.AveragePrecision(ranked, test, k);
                return scores;
            },
            _ => { });

        int n = 0;
        var mean = new double[6];
        for (int u = 0; u < users; u++)
        {
            if (split.Test[u].Length == 0)
            {
                continue;
            }

            n++;
            for (int m = 0; m < 6; m++)
            {
                mean[m] += sums[u, m];
            }
        }

        for (int m = 0; m < 6; m++)
        {
            mean[m] = n == 0 ? 0 : mean[m] / n;
        }

        return new RecallEvalResult
        {
            Model = model.Name,
            Protocol = protocolName,
            K = k,
            Users = n,
            Ndcg = mean[0],
            Recall = mean[1],
            Precision = mean[2],
            HitRate = mean[3],
            Mrr = mean[4],
            Map = mean[5],
            Coverage = RankingMetrics.Coverage(top.Where(t => t is not null).SelectMany(t => t), model.ItemCount),
            EvalSeconds = Stopwatch.GetElapsedTime(t0).TotalSeconds,
        };
    }
}
