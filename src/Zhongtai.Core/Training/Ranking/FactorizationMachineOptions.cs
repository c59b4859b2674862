namespace Zhongtai.Training.Ranking;

/// <summary>
/// Hyperparameters of <see cref="FactorizationMachine"/>: a second-order factorization machine (Rendle 2010) with
/// logistic loss, trained by per-parameter AdaGrad SGD.
/// </summary>
public sealed class FactorizationMachineOptions
{
    /// <summary>Feature index space is <c>2^Bits</c>; every sample index must be below it. Default 20. Range 1..28, and 2^Bits·(2k + 2) floats must fit one array. Memory is 4·2^Bits·(2k + 2) bytes (72 MiB at the defaults).</summary>
    public int Bits { get; set; } = 20;

    /// <summary>Number of latent factors k per feature. Default 8 (one 256-bit vector). Range 1..256.</summary>
    public int Factors { get; set; } = 8;

    /// <summary>AdaGrad base learning rate. Default 0.05. Must be positive.</summary>
    public double LearningRate { get; set; } = 0.05;

    /// <summary>L2 penalty on the linear weights (not the bias). Default 1e-6. Must be non-negative.</summary>
    public double L2Linear { get; set; } = 1e-6;

    /// <summary>L2 penalty on the factor vectors. Default 1e-5. Must be non-negative.</summary>
    public double L2Factors { get; set; } = 1e-5;

    /// <summary>Standard deviation of the initial factor values (uniform, deterministic from <see cref="Seed"/>). Default 0.01. Must be non-negative.</summary>
    public double InitStd { get; set; } = 0.01;

    /// <summary>Seed of the factor initialisation. Default 42.</summary>
    public ulong Seed { get; set; } = 42;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad hyperparameter.</summary>
    public void Validate()
    {
        if (Bits is < 1 or > 28)
        {
            throw new ArgumentException($"FactorizationMachineOptions.Bits must be between 1 and 28 (was {Bits}).", nameof(Bits));
        }

        if (Factors is < 1 or > 256)
        {
            throw new ArgumentException($"FactorizationMachineOptions.Factors must be between 1 and 256 (was {Factors}).", nameof(Factors));
        }

        if (((2L * Factors) + 2) << Bits > Array.MaxLength)
        {
            throw new ArgumentException($"FactorizationMachineOptions: 2^{Bits} features × (2·{Factors} + 2) parameters do not fit in one array; lower Bits or Factors.", nameof(Factors));
        }

        if (!double.IsFinite(LearningRate) || LearningRate <= 0)
        {
            throw new ArgumentException($"FactorizationMachineOptions.LearningRate must be a positive finite number (was {LearningRate}).", nameof(LearningRate));
        }

        CheckNonNegative(L2Linear, nameof(L2Linear));
        CheckNonNegative(L2Factors, nameof(L2Factors));
        CheckNonNegative(InitStd, nameof(InitStd));
    }

    internal FactorizationMachineOptions Clone() => (FactorizationMachineOptions)MemberwiseClone();

    private static void CheckNonNegative(double value, string name)
    {
        if (!double.IsFinite(value) || value < 0)
        {
            throw new ArgumentException($"FactorizationMachineOptions.{name} must be a non-negative finite number (was {value}).", name);
        }
    }
}
