using Zhongtai.Training.Evaluation;
using Zhongtai.Training.Recall;

namespace Zhongtai.Tests.Training.Recall;

public class WarmStartAndValidationTests
{
    [Fact]
    public void Als_WarmStartContinuesAndLowersTheLoss()
    {
        var m = PlantedData.Matrix();
        var o = new AlsOptions { Factors = 8, Iterations = 2, Threads = 1 };
        var first = ImplicitAls.Train(m, o);
        double l1 = ImplicitAls.Loss(first, m, o);
        var second = ImplicitAls.Train(m, o, first);
        double l2 = ImplicitAls.Loss(second, m, o);
        Assert.True(l2 <= l1, $"loss after warm start {l2} > before {l1}");

        // zero iterations returns the previous parameters unchanged (not a fresh init)
        var same = ImplicitAls.Train(m, new AlsOptions { Factors = 8, Iterations = 0 }, second);
        Assert.Equal(second.UserVector(5).ToArray(), same.UserVector(5).ToArray());
        Assert.Equal(second.ItemVector(7).ToArray(), same.ItemVector(7).ToArray());
    }

    [Fact]
    public void Als_IsDeterministicForASeed_WhateverTheThreads()
    {
        var m = PlantedData.Matrix();
        var a = ImplicitAls.Train(m, new AlsOptions { Factors = 8, Iterations = 3, Threads = 1 });
        var b = ImplicitAls.Train(m, new AlsOptions { Factors = 8, Iterations = 3, Threads = 2 });
        Assert.Equal(a.UserVector(3).ToArray(), b.UserVector(3).ToArray());
    }

    [Fact]
    public void Bpr_WarmStartKeepsOldParamsAndInitialisesNewUsersAndItems()
    {
        var small = InteractionMatrix.FromArrays([0, 0, 1, 1], [0, 1, 1, 2]);
        var o = new BprOptions { Factors = 4, Epochs = 5 };
        var first = Bpr.Train(small, o);

        // the new data has more users and items; zero epochs: old rows copied, new rows freshly initialised
        var bigger = PlantedData.Matrix();
        var grown = Bpr.Train(bigger, new BprOptions { Factors = 4, Epochs = 0 }, first);
        Assert.Equal(bigger.UserCount, grown.UserCount);
        Assert.Equal(bigger.ItemCount, grown.ItemCount);
        Assert.Equal(first.UserVector(1).ToArray(), grown.UserVector(1).ToArray());
        Assert.Equal(first.ItemVector(2).ToArray(), grown.ItemVector(2).ToArray());
        Assert.Contains(grown.ItemVector(30).ToArray(), v => v != 0);
    }

    [Fact]
    public void Bpr_WarmStartIsNoWorseThanBefore_AndDeterministicSingleThreaded()
    {
        var m = PlantedData.Matrix();
        var o = new BprOptions { Factors = 8, Epochs = 10, LearningRate = 0.05, Regularization = 0.002 };
        var first = Bpr.Train(m, o);
        double auc1 = Bpr.SampledAuc(first, m, 2000);
        var second = Bpr.Train(m, o, first);
        double auc2 = Bpr.SampledAuc(second, m, 2000);
        Assert.True(auc2 >= auc1 - 0.01, $"AUC after warm start {auc2} < before {auc1}");
        Assert.True(auc2 > 0.9, $"AUC {auc2}");

        var again = Bpr.Train(m, o);
        Assert.Equal(first.UserVector(4).ToArray(), again.UserVector(4).ToArray());
    }

    [Fact]
    public void Item2Vec_WarmStartContinuesFromThePreviousVectors()
    {
        var m = PlantedData.Matrix();
        var o = new Item2VecOptions { Dimension = 8, Epochs = 2 };
        var first = Item2Vec.Train(m, o);
        var kept = Item2Vec.Train(m, new Item2VecOptions { Dimension = 8, Epochs = 0 }, first);
        Assert.Equal(first.GetItemVector(5), kept.GetItemVector(5));
        var fresh = Item2Vec.Train(m, new Item2VecOptions { Dimension = 8, Epochs = 0 });
        Assert.NotEqual(first.GetItemVector(5), fresh.GetItemVector(5));
        Assert.Throws<ArgumentException>(() => Item2Vec.Train(m, new Item2VecOptions { Dimension = 16 }, first));
    }

    [Fact]
    public void SkipGram_IsDeterministicForASeed_SingleThreaded()
    {
        var m = PlantedData.Matrix();
        var a = Item2Vec.Train(m, new Item2VecOptions { Dimension = 8, Epochs = 2, Seed = 9 });
        var b = Item2Vec.Train(m, new Item2VecOptions { Dimension = 8, Epochs = 2, Seed = 9 });
        var c = Item2Vec.Train(m, new Item2VecOptions { Dimension = 8, Epochs = 2, Seed = 10 });
        Assert.Equal(a.GetItemVector(11), b.GetItemVector(11));
        Assert.NotEqual(a.GetItemVector(11), c.GetItemVector(11));
        var w1 = DeepWalk.Train(m, new DeepWalkOptions { Dimension = 8, Epochs = 1, WalksPerItem = 2 });
        var w2 = DeepWalk.Train(m, new DeepWalkOptions { Dimension = 8, Epochs = 1, WalksPerItem = 2 });
        Assert.Equal(w1.GetItemVector(3), w2.GetItemVector(3));
    }

    public static TheoryData<string, Action> BadOptions => new()
    {
        { "Factors", () => ImplicitAls.Train(PlantedData.Matrix(), new AlsOptions { Factors = 0 }) },
        { "Regularization", () => ImplicitAls.Train(PlantedData.Matrix(), new AlsOptions { Regularization = double.NaN }) },
        { "CgSteps", () => ImplicitAls.Train(PlantedData.Matrix(), new AlsOptions { CgSteps = 0 }) },
        { "RegularizationExponent", () => ImplicitAls.Train(PlantedData.Matrix(), new AlsOptions { RegularizationExponent = -1 }) },
        { "DropoutRegularization", () => EaseModel.Train(PlantedData.Matrix(), new EaseOptions { DropoutRegularization = -1 }) },
        { "UserWeightExponent", () => EaseModel.Train(PlantedData.Matrix(), new EaseOptions { UserWeightExponent = 5 }) },
        { "PopularityPrior", () => Item2Vec.Train(PlantedData.Matrix(), new Item2VecOptions { PopularityPrior = double.PositiveInfinity }) },
        { "LearningRate", () => Bpr.Train(PlantedData.Matrix(), new BprOptions { LearningRate = -1 }) },
        { "Threads", () => Bpr.Train(PlantedData.Matrix(), new BprOptions { Threads = 0 }) },
        { "Lambda", () => EaseModel.Train(PlantedData.Matrix(), new EaseOptions { Lambda = 0 }) },
        { "NeighborCount", () => ItemCfModel.Train(PlantedData.Matrix(), new ItemCfOptions { NeighborCount = 0 }) },
        { "Alpha", () => ItemCfModel.Train(PlantedData.Matrix(), new ItemCfOptions { Alpha = 2 }) },
        { "Window", () => Item2Vec.Train(PlantedData.Matrix(), new Item2VecOptions { Window = 0 }) },
        { "SubSample", () => Item2Vec.Train(PlantedData.Matrix(), new Item2VecOptions { SubSample = 1 }) },
        { "WalkLength", () => DeepWalk.Train(PlantedData.Matrix(), new DeepWalkOptions { WalkLength = 1 }) },
        { "HalfLifeDays", () => PopularityModel.Train(PlantedData.Matrix(), new PopularityOptions { HalfLifeDays = -1 }) },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void BadHyperparameters_ThrowArgumentExceptionNamingTheOption(string option, Action train)
    {
        var e = Assert.Throws<ArgumentException>(train);
        Assert.Contains(option, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pop")]
    [InlineData("itemcf")]
    [InlineData("als")]
    [InlineData("bpr")]
    [InlineData("ease")]
    [InlineData("item2vec")]
    [InlineData("deepwalk")]
    public void EmptyData_ThrowsAClearError(string name)
    {
        var empty = InteractionMatrix.FromArrays([], [], userCount: 3, itemCount: 4);
        var e = Assert.Throws<ArgumentException>(() => RecallModelFactory.Train(name, empty));
        Assert.Contains("empty", e.Message, StringComparison.Ordinal);
    }
}
