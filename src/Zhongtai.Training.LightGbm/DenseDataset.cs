namespace Zhongtai.Training.LightGbm;

/// <summary>
/// Dense numeric samples for <see cref="GbdtModel"/>: <see cref="Features"/> is row-major
/// (<c>Count × FeatureCount</c>), one label, weight and group id per row. Groups (requests or users) matter for
/// LambdaRank; rows of one group need not be contiguous.
/// </summary>
public sealed class DenseDataset
{
    public DenseDataset(float[] features, int featureCount, float[] labels, float[]? weights = null, int[]? groups = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (featureCount < 1)
        {
            throw new ArgumentException($"A dataset needs at least one feature (was {featureCount}).", nameof(featureCount));
        }

        if (labels.Length == 0)
        {
            throw new ArgumentException("The dataset is empty.", nameof(labels));
        }

        if (features.Length != (long)labels.Length * featureCount)
        {
            throw new ArgumentException($"{features.Length} feature values do not make {labels.Length} rows of {featureCount}.", nameof(features));
        }

        if (weights is not null && weights.Length != labels.Length)
        {
            throw new ArgumentException($"{weights.Length} weights for {labels.Length} rows.", nameof(weights));
        }

        if (groups is not null && groups.Length != labels.Length)
        {
            throw new ArgumentException($"{groups.Length} group ids for {labels.Length} rows.", nameof(groups));
        }

        Features = features;
        FeatureCount = featureCount;
        Labels = labels;
        Weights = weights;
        Groups = groups;
    }

    public float[] Features { get; }

    public int FeatureCount { get; }

    public float[] Labels { get; }

    public float[]? Weights { get; }

    public int[]? Groups { get; }

    public int Count => Labels.Length;

    public ReadOnlySpan<float> Row(int i) => Features.AsSpan(i * FeatureCount, FeatureCount);
}
