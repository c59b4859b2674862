using Zhongtai.Training.Ranking;

namespace Zhongtai.Tests.Training.Ranking;

public class FtrlModelTests
{
    private static readonly FtrlOptions Options = new() { Bits = 16, Alpha = 0.1, Beta = 1, L1 = 0.5, L2 = 1 };

    [Fact]
    public void Train_PlantedLogisticModel_HeldOutAucCloseToGeneratingModel()
    {
        var data = new PlantedCtrData(seed: 1);
        SparseBatch train = data.Generate(40_000, seed: 2, out _);
        SparseBatch test = data.Generate(10_000, seed: 3, out float[] truth);

        var model = new FtrlModel(Options);
        double progressiveLoss = model.Train(train, epochs: 2);
        float[] predicted = model.Predict(test);

        double auc = RankingMetrics.Auc(predicted, test.Labels);
        double bestAuc = RankingMetrics.Auc(truth, test.Labels);
        Assert.True(auc > 0.70, $"AUC {auc:F4}");
        Assert.True(auc > bestAuc - 0.02, $"AUC {auc:F4} vs generating model {bestAuc:F4}");
        double loss = RankingMetrics.LogLoss(predicted, test.Labels);
        double bestLoss = RankingMetrics.LogLoss(truth, test.Labels);
        Assert.True(loss < bestLoss + 0.02, $"log-loss {loss:F4} vs generating model {bestLoss:F4}");
        Assert.True(progressiveLoss < 0.69, $"progressive log-loss {progressiveLoss:F4}");
        Assert.Equal(80_000, model.SamplesSeen);

        // The learned weight of the numeric feature has the planted sign.
        Assert.True(model.Weight(data.NumericIndex) > 0.5f, $"numeric weight {model.Weight(data.NumericIndex)}");
    }

    [Fact]
    public void Update_SingleSamples_EqualsTrainOnTheSameSequence()
    {
        var data = new PlantedCtrData(seed: 4);
        SparseBatch batch = data.Generate(2_000, seed: 5, out _);
        var online = new FtrlModel(Options);
        for (int s = 0; s < batch.Count; s++)
        {
            online.Update(batch[s]);
        }

        var offline = new FtrlModel(Options);
        offline.Train(batch);
        Assert.Equal(offline.Predict(batch), online.Predict(batch));
    }

    [Fact]
    public void L1_ZeroesRareFeatures()
    {
        var data = new PlantedCtrData(seed: 6);
        SparseBatch batch = data.Generate(5_000, seed: 7, out _);
        var dense = new FtrlModel(new FtrlOptions { Bits = 16, L1 = 0 });
        var sparse = new FtrlModel(new FtrlOptions { Bits = 16, L1 = 20 });
        dense.Train(batch);
        sparse.Train(batch);
        Assert.True(sparse.NonZeroWeights < dense.NonZeroWeights / 2, $"{sparse.NonZeroWeights} vs {dense.NonZeroWeights}");
    }

    [Fact]
    public void SaveAndLoad_RoundTrip_GivesIdenticalPredictions()
    {
        var data = new PlantedCtrData(seed: 8);
        var model = new FtrlModel(Options);
        model.Train(data.Generate(5_000, seed: 9, out _));
        SparseBatch test = data.Generate(1_000, seed: 10, out _);

        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        FtrlModel loaded = FtrlModel.Load(stream);

        Assert.Equal(model.Predict(test), loaded.Predict(test));
        Assert.Equal(model.SamplesSeen, loaded.SamplesSeen);
        Assert.Equal(Options.L1, loaded.Options.L1);
        Assert.True(stream.Length < 241 * 20 + 200, $"file is {stream.Length} bytes for 241 features");
    }

    [Fact]
    public void WarmStart_ContinuesRatherThanRestarts()
    {
        var data = new PlantedCtrData(seed: 11);
        SparseBatch first = data.Generate(5_000, seed: 12, out _);
        SparseBatch second = data.Generate(5_000, seed: 13, out _);
        SparseBatch test = data.Generate(2_000, seed: 14, out _);

        var continuous = new FtrlModel(Options);
        continuous.Train(first);
        continuous.Train(second);

        var yesterday = new FtrlModel(Options);
        yesterday.Train(first);
        using var stream = new MemoryStream();
        yesterday.Save(stream);
        stream.Position = 0;
        FtrlModel warm = FtrlModel.Load(stream);
        warm.Train(second);

        var cold = new FtrlModel(Options);
        cold.Train(second);

        // Save/load in the middle changes nothing: the warm model is the continuous one, bit for bit.
        Assert.Equal(continuous.Predict(test), warm.Predict(test));
        Assert.Equal(10_000, warm.SamplesSeen);
        Assert.NotEqual(cold.Predict(test), warm.Predict(test));
    }

    [Fact]
    public void Load_CorruptedOrTruncatedFile_IsRefused()
    {
        var data = new PlantedCtrData(seed: 15);
        var model = new FtrlModel(Options);
        model.Train(data.Generate(1_000, seed: 16, out _));
        using var stream = new MemoryStream();
        model.Save(stream);
        byte[] bytes = stream.ToArray();

        byte[] flipped = (byte[])bytes.Clone();
        flipped[bytes.Length / 2] ^= 0x10;
        var corrupt = Assert.Throws<InvalidDataException>(() => FtrlModel.Load(new MemoryStream(flipped)));
        Assert.Contains("checksum", corrupt.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => FtrlModel.Load(new MemoryStream(bytes[..^9])));
        Assert.Throws<InvalidDataException>(() => FtrlModel.Load(new MemoryStream(bytes[..10])));

        byte[] wrongMagic = (byte[])bytes.Clone();
        wrongMagic[0] = (byte)'X';
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => FtrlModel.Load(new MemoryStream(wrongMagic))).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 0.1, 1, 1, 1, "Bits")]
    [InlineData(31, 0.1, 1, 1, 1, "Bits")]
    [InlineData(16, 0, 1, 1, 1, "Alpha")]
    [InlineData(16, double.NaN, 1, 1, 1, "Alpha")]
    [InlineData(16, 0.1, -1, 1, 1, "Beta")]
    [InlineData(16, 0.1, 1, -0.5, 1, "L1")]
    [InlineData(16, 0.1, 1, 1, double.PositiveInfinity, "L2")]
    public void Options_BadHyperparameters_AreRejectedWithTheirName(int bits, double alpha, double beta, double l1, double l2, string name)
    {
        var options = new FtrlOptions { Bits = bits, Alpha = alpha, Beta = beta, L1 = l1, L2 = l2 };
        var error = Assert.Throws<ArgumentException>(() => new FtrlModel(options));
        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_EmptyBatchOrOutOfRangeIndex_IsRejected()
    {
        var model = new FtrlModel(new FtrlOptions { Bits = 4 });
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => model.Train(new SparseBatchBuilder().Build())).Message, StringComparison.Ordinal);
        var builder = new SparseBatchBuilder();
        builder.Add([16], 1f);
        Assert.Throws<ArgumentException>(() => model.Train(builder.Build()));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Update(new SparseSample([16], [1f], 1f)));
        Assert.Throws<ArgumentException>(() => model.Train(PlantedBatch(), epochs: 0));
        Assert.Throws<ArgumentException>(() => model.SetHyperparameters(new FtrlOptions { Bits = 5 }));
        Assert.Throws<ArgumentException>(() => model.Update(new SparseSample([1], [float.NaN], 1f)));
        Assert.Throws<ArgumentException>(() => model.Update(new SparseSample([1], [1f], float.PositiveInfinity)));
        Assert.Throws<ArgumentException>(() => model.Update(new SparseSample([1], [1f], 1f, weight: -2f)));
        Assert.Equal(0, model.SamplesSeen);
    }

    [Fact]
    public void Update_FromManyThreads_LearnsEverySample()
    {
        var data = new PlantedCtrData(seed: 17);
        SparseBatch batch = data.Generate(8_000, seed: 18, out _);
        var model = new FtrlModel(Options);
        Parallel.For(0, 4, t =>
        {
            for (int s = t; s < batch.Count; s += 4)
            {
                model.Update(batch[s]);
            }
        });

        Assert.Equal(batch.Count, model.SamplesSeen);
        Assert.True(RankingMetrics.Auc(model.Predict(batch), batch.Labels) > 0.7);
    }

    private static SparseBatch PlantedBatch()
    {
        var builder = new SparseBatchBuilder();
        builder.Add([1], 1f);
        return builder.Build();
    }
}
