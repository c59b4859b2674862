using System.Numerics.Tensors;

namespace Zhongtai.Training.Recall;

/// <summary>
/// A weighted blend of recall models: each model's scores for a user are standardised (zero mean, unit variance over the
/// candidates: the catalog less the user's history, whose scores item-based models inflate) and summed with its weight — the score-level form of merging recall channels. Named <c>a+b</c>.
/// </summary>
public sealed class BlendModel : IRecallModel
{
    private readonly IRecallModel[] _models;
    private readonly float[] _weights;

    /// <summary>Blends <paramref name="models"/> (same item count) with <paramref name="weights"/>.</summary>
    public BlendModel(IReadOnlyList<IRecallModel> models, IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(weights);
        if (models.Count == 0 || models.Count != weights.Count)
        {
            throw new ArgumentException($"A blend needs one weight per model; got {models.Count} models and {weights.Count} weights.");
        }

        if (models.Any(m => m.ItemCount != models[0].ItemCount))
        {
            throw new ArgumentException("Blended models must score the same items.", nameof(models));
        }

        if (weights.Any(w => !double.IsFinite(w)))
        {
            throw new ArgumentException("Blend weights must be finite numbers.", nameof(weights));
        }

        _models = [.. models];
        _weights = [.. weights.Select(w => (float)w)];
        Name = string.Join('+', _models.Select(m => m.Name));
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>The blended models, in order.</summary>
    public IReadOnlyList<IRecallModel> Models => _models;

    /// <summary>The weights aligned with <see cref="Models"/>.</summary>
    public IReadOnlyList<float> Weights => _weights;

    /// <inheritdoc/>
    public int UserCount => _models.Max(m => m.UserCount);

    /// <inheritdoc/>
    public int ItemCount => _models[0].ItemCount;

    /// <inheritdoc/>
    public void ScoreItems(int user, ReadOnlySpan<int> history, Span<float> scores)
    {
        scores.Clear();
        var part = new float[ItemCount];
        for (int m = 0; m < _models.Length; m++)
        {
            _models[m].ScoreItems(user, history, part);
            double sum = TensorPrimitives.Sum(part), squares = TensorPrimitives.SumOfSquares(part);
            int count = part.Length;
            foreach (int h in history)
            {
                if ((uint)h < (uint)part.Length)
                {
                    sum -= part[h];
                    squares -= (double)part[h] * part[h];
                    count--;
                }
            }

            if (count < 1)
            {
                continue;
            }

            double mean = sum / count;
            float std = (float)Math.Sqrt(Math.Max(0, (squares / count) - (mean * mean)));
            TensorPrimitives.Subtract(part, (float)mean, part);
            if (std > 0)
            {
                TensorPrimitives.MultiplyAdd(part, _weights[m] / std, scores, scores);
            }
        }
    }
}
