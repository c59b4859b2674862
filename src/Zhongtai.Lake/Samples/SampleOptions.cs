using System.ComponentModel.DataAnnotations;
using Zhongtai.Events;

namespace Zhongtai.Samples;

/// <summary>
/// How the lake becomes ranking and recall samples (configuration section <c>Pipeline:Samples</c>). Every default is
/// listed here and in docs/samples.md.
/// </summary>
public sealed class SampleOptions
{
    /// <summary>
    /// An action counts for an exposure when it follows it (same user, item, and request id when the action carries
    /// one) within this many seconds, inclusive. Default 1,800 (30 minutes).
    /// </summary>
    [Range(1, int.MaxValue)]
    public int AttributionWindowSeconds { get; set; } = 1_800;

    /// <summary>
    /// Weight of each action type in the weighted label; an exposure's weighted label is the sum of the weights of the
    /// action types that followed it (each type counted once), and its binary label is 1 when that sum is positive.
    /// These types are also the positive interactions of rating logs and recall histories.
    /// Defaults: click 1, like 2, share 2, purchase 4, dwell 1, rating 1.
    /// </summary>
    public Dictionary<string, double> ActionWeights { get; set; } = new(StringComparer.Ordinal)
    {
        [EventTypes.Click] = 1,
        [EventTypes.Like] = 2,
        [EventTypes.Share] = 2,
        [EventTypes.Purchase] = 4,
        [EventTypes.Dwell] = 1,
        [EventTypes.Rating] = 1,
    };

    /// <summary>A dwell counts as an action when the dwell events following an exposure sum to at least this many seconds. Default 10.</summary>
    public double MinDwellSeconds { get; set; } = 10;

    /// <summary>A rating is a positive interaction only when its value is at least this. Default 0 (every rating).</summary>
    public double MinRating { get; set; }

    /// <summary>Event types counted as clicks by the click and CTR features. Default click and rating (ratings are the clicks of rating logs).</summary>
    public List<string> ClickTypes { get; set; } = [EventTypes.Click, EventTypes.Rating];

    /// <summary>Windows (hours) of the user and item exposure/click/CTR features. Default 1, 24, 168.</summary>
    public List<int> FeatureWindowsHours { get; set; } = [1, 24, 168];

    /// <summary>Prior CTR of the Bayesian smoothing <c>(clicks + prior·strength) / (exposures + strength)</c>. Default 0.05.</summary>
    [Range(0.0, 1.0)]
    public double CtrPrior { get; set; } = 0.05;

    /// <summary>Strength (pseudo-exposures) of the CTR prior. Default 20.</summary>
    [Range(0.0, 1e9)]
    public double CtrPriorStrength { get; set; } = 20;

    /// <summary>
    /// Where the lake has no exposures (rating logs such as MovieLens), each user's first interaction with an item is a
    /// positive and this many negatives are drawn for it. Default 4.
    /// </summary>
    [Range(0, 1000)]
    public int NegativesPerPositive { get; set; } = 4;

    /// <summary>Negatives are drawn with probability proportional to item popularity raised to this power (0 = uniform). Default 0.75.</summary>
    [Range(0.0, 2.0)]
    public double NegativePopularityExponent { get; set; } = 0.75;

    /// <summary>Seed of the negative sampling (the same seed, the same negatives). Default 42.</summary>
    public long Seed { get; set; } = 42;

    /// <summary>Recall: the newest interactions kept per user history. Default 200.</summary>
    [Range(1, 100_000)]
    public int MaxHistoryLength { get; set; } = 200;

    /// <summary>Recall: a gap longer than this many seconds between two interactions starts a new session. Default 1,800.</summary>
    [Range(1, int.MaxValue)]
    public int SessionGapSeconds { get; set; } = 1_800;

    /// <summary>Recall: popularity-sampled negatives per user (items the user never interacted with). Default 20.</summary>
    [Range(0, 100_000)]
    public int RecallNegativesPerUser { get; set; } = 20;

    /// <summary>Split: share of the samples' time range in train (from the earliest sample). Default 0.8.</summary>
    [Range(0.0, 1.0)]
    public double TrainRatio { get; set; } = 0.8;

    /// <summary>Split: share of the time range in validation (after train); the rest is test. Default 0.1.</summary>
    [Range(0.0, 1.0)]
    public double ValidationRatio { get; set; } = 0.1;

    /// <summary>Split: explicit end (exclusive) of train; overrides <see cref="TrainRatio"/>. Default none.</summary>
    public DateTimeOffset? TrainEnd { get; set; }

    /// <summary>Split: explicit end (exclusive) of validation; overrides <see cref="ValidationRatio"/>. Default none.</summary>
    public DateTimeOffset? ValidationEnd { get; set; }

    internal void Validate()
    {
        Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);
        if (ActionWeights.Count == 0 || ActionWeights.Keys.Any(k => !IsTypeName(k)) || ClickTypes.Any(k => !IsTypeName(k)))
        {
            throw new ValidationException("Sample action and click types must be non-empty names of letters, digits, '_' and '-'.");
        }

        if (ActionWeights.ContainsKey(EventTypes.Exposure))
        {
            throw new ValidationException("'exposure' cannot be an action type.");
        }

        if (FeatureWindowsHours.Count == 0 || FeatureWindowsHours.Any(h => h < 1) || FeatureWindowsHours.Distinct().Count() != FeatureWindowsHours.Count)
        {
            throw new ValidationException("FeatureWindowsHours must be distinct positive hours.");
        }

        if (TrainRatio + ValidationRatio > 1)
        {
            throw new ValidationException("TrainRatio + ValidationRatio must be at most 1.");
        }

        if (TrainEnd is { } a && ValidationEnd is { } b && b < a)
        {
            throw new ValidationException("ValidationEnd must not be before TrainEnd.");
        }
    }

    private static bool IsTypeName(string s) =>
        s.Length is > 0 and <= 64 && s.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-');
}
