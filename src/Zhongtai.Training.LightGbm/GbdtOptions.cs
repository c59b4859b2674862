namespace Zhongtai.Training.LightGbm;

/// <summary>The LightGBM objective.</summary>
public enum GbdtObjective
{
    /// <summary>Binary log-loss on 0/1 labels (click-through); predictions are probabilities.</summary>
    Binary,

    /// <summary>LambdaRank on graded relevance labels (integers 0..30) within groups; predictions are scores for ordering.</summary>
    LambdaRank,
}

/// <summary>Hyperparameters of <see cref="GbdtModel"/> (gradient-boosted trees by LightGBM through ML.NET).</summary>
public sealed class GbdtOptions
{
    /// <summary>Objective. Default <see cref="GbdtObjective.Binary"/>.</summary>
    public GbdtObjective Objective { get; set; } = GbdtObjective.Binary;

    /// <summary>Boosting rounds (trees). Default 100. Range 1..100000.</summary>
    public int NumberOfIterations { get; set; } = 100;

    /// <summary>Maximum leaves per tree. Default 31 (LightGBM's default). Range 2..131072.</summary>
    public int NumberOfLeaves { get; set; } = 31;

    /// <summary>Shrinkage per tree. Default 0.1. Range (0, 1].</summary>
    public double LearningRate { get; set; } = 0.1;

    /// <summary>Minimum samples in a leaf. Default 20. Must be at least 1.</summary>
    public int MinimumExampleCountPerLeaf { get; set; } = 20;

    /// <summary>L2 regularisation of leaf values. Default 0.01. Must be non-negative.</summary>
    public double L2Regularization { get; set; } = 0.01;

    /// <summary>Native threads; null lets LightGBM use all cores. Default null. Must be at least 1 when set.</summary>
    public int? NumberOfThreads { get; set; }

    /// <summary>Seed for ML.NET and LightGBM. Default 42.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad hyperparameter.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Objective))
        {
            throw new ArgumentException($"GbdtOptions.Objective {Objective} is not a known objective.", nameof(Objective));
        }

        if (NumberOfIterations is < 1 or > 100_000)
        {
            throw new ArgumentException($"GbdtOptions.NumberOfIterations must be between 1 and 100000 (was {NumberOfIterations}).", nameof(NumberOfIterations));
        }

        if (NumberOfLeaves is < 2 or > 131_072)
        {
            throw new ArgumentException($"GbdtOptions.NumberOfLeaves must be between 2 and 131072 (was {NumberOfLeaves}).", nameof(NumberOfLeaves));
        }

        if (!double.IsFinite(LearningRate) || LearningRate <= 0 || LearningRate > 1)
        {
            throw new ArgumentException($"GbdtOptions.LearningRate must be in (0, 1] (was {LearningRate}).", nameof(LearningRate));
        }

        if (MinimumExampleCountPerLeaf < 1)
        {
            throw new ArgumentException($"GbdtOptions.MinimumExampleCountPerLeaf must be at least 1 (was {MinimumExampleCountPerLeaf}).", nameof(MinimumExampleCountPerLeaf));
        }

        if (!double.IsFinite(L2Regularization) || L2Regularization < 0)
        {
            throw new ArgumentException($"GbdtOptions.L2Regularization must be a non-negative finite number (was {L2Regularization}).", nameof(L2Regularization));
        }

        if (NumberOfThreads is < 1)
        {
            throw new ArgumentException($"GbdtOptions.NumberOfThreads must be at least 1 when set (was {NumberOfThreads}).", nameof(NumberOfThreads));
        }
    }
}
