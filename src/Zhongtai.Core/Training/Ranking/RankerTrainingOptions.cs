using Zhongtai.Training.Ranking;

namespace Zhongtai.Training;

/// <summary>Training of the ranking models (<c>ftrl</c>, <c>fm</c>) on the pipeline's ranking samples (configuration <c>Training:Ranking</c>).</summary>
public sealed class RankerTrainingOptions
{
    /// <summary>Name of the split dataset the rankers learn from (train) and are judged on (test). Default "ranking-splits".</summary>
    public string SplitsDataset { get; set; } = "ranking-splits";

    /// <summary>Hashed feature space: 2^Bits weights. Default 20.</summary>
    public int Bits { get; set; } = 20;

    /// <summary>User and item ids are features (memorisation) as well as their statistics. Default true.</summary>
    public bool Identities { get; set; } = true;

    /// <summary>Passes over the training rows of a full run. Default 2.</summary>
    public int Epochs { get; set; } = 2;

    /// <summary>Passes over the new rows of an incremental run (warm-started from production). Default 1.</summary>
    public int IncrementalEpochs { get; set; } = 1;

    /// <summary>FTRL hyperparameters (bits come from <see cref="Bits"/>).</summary>
    public FtrlOptions Ftrl { get; set; } = new();

    /// <summary>Factorization machine hyperparameters (bits come from <see cref="Bits"/>).</summary>
    public FactorizationMachineOptions Fm { get; set; } = new();

    /// <summary>The admission gate for rankers. Default: test AUC may not drop by more than 0.005 absolute; log-loss not up by more than 2%.</summary>
    public GateOptions Gate { get; set; } = new()
    {
        Rules =
        [
            new GateRule { Metric = "auc", MaxAbsoluteDrop = 0.005 },
            new GateRule { Metric = "logloss", LowerIsBetter = true, MaxRelativeDrop = 0.02 },
        ],
    };
}
