namespace Zhongtai.Training.Ranking;

/// <summary>
/// Hyperparameters of <see cref="FtrlModel"/>, FTRL-Proximal logistic regression
/// (McMahan et al., "Ad Click Prediction: a View from the Trenches", KDD 2013). The per-coordinate learning
/// rate is <c>alpha / (beta + sqrt(Σ g²))</c>; L1 and L2 are applied in closed form when a weight is read.
/// </summary>
public sealed class FtrlOptions
{
    /// <summary>Feature index space is <c>2^Bits</c>; every sample index must be below it. Default 20 (1,048,576 coordinates). Range 1..30.</summary>
    public int Bits { get; set; } = 20;

    /// <summary>Learning-rate scale alpha. Default 0.1. Must be positive.</summary>
    public double Alpha { get; set; } = 0.1;

    /// <summary>Learning-rate smoothing beta. Default 1.0 (the paper's recommendation). Must be non-negative.</summary>
    public double Beta { get; set; } = 1.0;

    /// <summary>L1 strength lambda1: weights whose |z| stays at or below it are exactly zero (sparsity). Default 1.0. Must be non-negative.</summary>
    public double L1 { get; set; } = 1.0;

    /// <summary>L2 strength lambda2. Default 1.0. Must be non-negative.</summary>
    public double L2 { get; set; } = 1.0;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad hyperparameter.</summary>
    public void Validate()
    {
        if (Bits is < 1 or > 30)
        {
            throw new ArgumentException($"FtrlOptions.Bits must be between 1 and 30 (was {Bits}).", nameof(Bits));
        }

        if (!double.IsFinite(Alpha) || Alpha <= 0)
        {
            throw new ArgumentException($"FtrlOptions.Alpha must be a positive finite number (was {Alpha}).", nameof(Alpha));
        }

        CheckNonNegative(Beta, nameof(Beta));
        CheckNonNegative(L1, nameof(L1));
        CheckNonNegative(L2, nameof(L2));
    }

    internal FtrlOptions Clone() => (FtrlOptions)MemberwiseClone();

    private static void CheckNonNegative(double value, string name)
    {
        if (!double.IsFinite(value) || value < 0)
        {
            throw new ArgumentException($"FtrlOptions.{name} must be a non-negative finite number (was {value}).", name);
        }
    }
}
