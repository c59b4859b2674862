using Zhongtai.Training.Ranking;

namespace Zhongtai.Tests.Training.Ranking;

public class FactorizationMachineTests
{
    private static readonly FactorizationMachineOptions Options = new() { Bits = 16, Factors = 8, LearningRate = 0.05, Seed = 3 };

    [Fact]
    public void Train_PlantedInteraction_BeatsLinearModelAndApproachesGeneratingModel()
    {
        // A strong user×item-like interaction between fields 0 and 1 that no per-feature weight can express.
        var data = new PlantedCtrData(seed: 21, fields: 4, cardinality: 30, interaction: 1.5);
        SparseBatch train = data.Generate(60_000, seed: 22, out _);
        SparseBatch test = data.Generate(10_000, seed: 23, out float[] truth);

        var fm = new FactorizationMachine(Options);
        fm.Train(train, epochs: 3);
        var lr = new FtrlModel(new FtrlOptions { Bits = 16, L1 = 0.5 });
        lr.Train(train, epochs: 3);

        double fmAuc = RankingMetrics.Auc(fm.Predict(test), test.Labels);
        double lrAuc = RankingMetrics.Auc(lr.Predict(test), test.Labels);
        double bestAuc = RankingMetrics.Auc(truth, test.Labels);
        Assert.True(fmAuc > lrAuc + 0.02, $"FM AUC {fmAuc:F4} vs logistic regression {lrAuc:F4}");
        Assert.True(fmAuc > bestAuc - 0.03, $"FM AUC {fmAuc:F4} vs generating model {bestAuc:F4}");
    }

    [Fact]
    public void Train_PlantedLogisticModel_LearnsIt()
    {
        var data = new PlantedCtrData(seed: 24);
        SparseBatch train = data.Generate(30_000, seed: 25, out _);
        SparseBatch test = data.Generate(5_000, seed: 26, out float[] truth);
        var fm = new FactorizationMachine(Options);
        fm.Train(train, epochs: 2);
        double auc = RankingMetrics.Auc(fm.Predict(test), test.Labels);
        Assert.True(auc > RankingMetrics.Auc(truth, test.Labels) - 0.03, $"AUC {auc:F4}");
    }

    [Fact]
    public void Predict_MatchesTheDefinitionComputedNaively()
    {
        var data = new PlantedCtrData(seed: 27, fields: 3, cardinality: 5, bits: 8);
        var fm = new FactorizationMachine(new FactorizationMachineOptions { Bits = 8, Factors = 11, InitStd = 0.3 });
        fm.Train(data.Generate(200, seed: 28, out _));

        // The O(k·nnz) identity must equal the sum over pairs of <v_i, v_j> x_i x_j, measured pair by pair.
        SparseBatch test = data.Generate(20, seed: 29, out _);
        var naive = new NaiveFm(fm);
        for (int s = 0; s < test.Count; s++)
        {
            Assert.Equal(naive.Margin(test[s]), fm.PredictMargin(test[s]), 4);
        }
    }

    [Fact]
    public void SaveAndLoad_RoundTrip_GivesIdenticalPredictions_AndWarmStartContinues()
    {
        var data = new PlantedCtrData(seed: 30, interaction: 1);
        SparseBatch first = data.Generate(4_000, seed: 31, out _);
        SparseBatch second = data.Generate(4_000, seed: 32, out _);
        SparseBatch test = data.Generate(1_000, seed: 33, out _);

        var continuous = new FactorizationMachine(Options);
        continuous.Train(first);
        var yesterday = new FactorizationMachine(Options);
        yesterday.Train(first);

        using var stream = new MemoryStream();
        yesterday.Save(stream);
        stream.Position = 0;
        FactorizationMachine warm = FactorizationMachine.Load(stream);
        Assert.Equal(yesterday.Predict(test), warm.Predict(test));

        // An unseen feature (hash never trained) predicts the same too: its factors come from the seed, not the file.
        var unseen = new SparseSample([12345], [1f]);
        Assert.Equal(yesterday.PredictMargin(unseen), warm.PredictMargin(unseen));

        continuous.Train(second);
        warm.Train(second);
        Assert.Equal(continuous.Predict(test), warm.Predict(test));
        var cold = new FactorizationMachine(Options);
        cold.Train(second);
        Assert.NotEqual(cold.Predict(test), warm.Predict(test));
        Assert.Equal(8_000, warm.SamplesSeen);
    }

    [Fact]
    public void Load_CorruptedFile_IsRefused()
    {
        var data = new PlantedCtrData(seed: 34);
        var fm = new FactorizationMachine(Options);
        fm.Train(data.Generate(500, seed: 35, out _));
        using var stream = new MemoryStream();
        fm.Save(stream);
        byte[] bytes = stream.ToArray();
        bytes[bytes.Length - 20] ^= 0x01;
        Assert.Throws<InvalidDataException>(() => FactorizationMachine.Load(new MemoryStream(bytes)));
        Assert.Throws<InvalidDataException>(() => FtrlModel.Load(new MemoryStream(stream.ToArray())));
    }

    [Theory]
    [InlineData(0, 8, 0.05, 0.0, "Bits")]
    [InlineData(16, 0, 0.05, 0.0, "Factors")]
    [InlineData(16, 300, 0.05, 0.0, "Factors")]
    [InlineData(16, 8, 0.0, 0.0, "LearningRate")]
    [InlineData(16, 8, 0.05, -1.0, "L2Factors")]
    public void Options_BadHyperparameters_AreRejectedWithTheirName(int bits, int factors, double lr, double l2, string name)
    {
        var options = new FactorizationMachineOptions { Bits = bits, Factors = factors, LearningRate = lr, L2Factors = l2 };
        var error = Assert.Throws<ArgumentException>(() => new FactorizationMachine(options));
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_EmptyBatch_IsRejected()
    {
        var fm = new FactorizationMachine(new FactorizationMachineOptions { Bits = 4, Factors = 2 });
        Assert.Throws<ArgumentException>(() => fm.Train(new SparseBatchBuilder().Build()));
    }

    /// <summary>Reads a model's parameters through its saved file and scores by the O(k·n²) definition.</summary>
    private sealed class NaiveFm
    {
        private readonly FactorizationMachine _model;

        public NaiveFm(FactorizationMachine model) => _model = model;

        public double Margin(SparseSample sample)
        {
            // Linear part and bias: the model with every other feature removed, minus the bias.
            var empty = new SparseSample([], []);
            double bias = _model.PredictMargin(empty);
            int n = sample.Indices.Length;
            var single = new double[n];
            for (int a = 0; a < n; a++)
            {
                single[a] = _model.PredictMargin(new SparseSample(sample.Indices.Slice(a, 1), sample.Values.Slice(a, 1))) - bias;
            }

            // A pair's score minus its singles is exactly the interaction <v_a, v_b> x_a x_b.
            double total = bias;
            for (int a = 0; a < n; a++)
            {
                total += single[a];
                for (int b = a + 1; b < n; b++)
                {
                    int[] idx = [sample.Indices[a], sample.Indices[b]];
                    float[] val = [sample.Values[a], sample.Values[b]];
                    total += _model.PredictMargin(new SparseSample(idx, val)) - bias - single[a] - single[b];
                }
            }

            return total;
        }
    }
}
