using Zhongtai.Training.Evaluation;
using Zhongtai.Training.Recall;

namespace Zhongtai.Tests.Training.Recall;

public class Rp3BetaTests
{
    // u0 = {0, 1}, u1 = {0, 1, 2}, u2 = {1, 2}: user degrees 2, 3, 2; item counts 2, 3, 2.
    private static InteractionMatrix Tiny() => InteractionMatrix.FromArrays([0, 0, 1, 1, 1, 2, 2], [0, 1, 0, 1, 2, 1, 2]);

    [Fact]
    public void Weights_MatchHandComputedWalk_AlphaOne()
    {
        // alpha = 1, beta = 0: W[i,j] = 1/n_i · Σ_u x_ui x_uj / deg_u
        var m = Rp3BetaModel.Train(Tiny(), new Rp3BetaOptions { Alpha = 1, Beta = 0, NormalizeRows = false, Threads = 1 });
        AssertRow(m, 0, (1, 5.0 / 12), (2, 1.0 / 6));   // (1/2)(1/2 + 1/3), (1/2)(1/3)
        AssertRow(m, 1, (0, 5.0 / 18), (2, 5.0 / 18)); // (1/3)(1/2 + 1/3) both; tie goes to the lower id
        AssertRow(m, 2, (1, 5.0 / 12), (0, 1.0 / 6));

        // beta = 1 divides column j by count_j; the user score sums the rows of the history
        var b = Rp3BetaModel.Train(Tiny(), new Rp3BetaOptions { Alpha = 1, Beta = 1, NormalizeRows = false, Threads = 1 });
        AssertRow(b, 0, (1, 5.0 / 36), (2, 1.0 / 12));
        var scores = new float[3];
        b.ScoreItems(0, [0, 2], scores);
        Assert.Equal(0.0 + (1.0 / 12), scores[0], 5);       // from 2 → 0: (1/6)/2
        Assert.Equal((5.0 / 36) + (5.0 / 36), scores[1], 5); // 0 → 1 and 2 → 1
        Assert.Equal(1.0 / 12, scores[2], 5);               // 0 → 2
    }

    [Fact]
    public void Alpha_RaisesTransitionProbabilities_AndRowsNormalise()
    {
        // alpha = 0.5: W[0,1] = 2^-0.5 (2^-0.5 + 3^-0.5), W[0,2] = 2^-0.5 · 3^-0.5; normalised to sum 1
        var m = Rp3BetaModel.Train(Tiny(), new Rp3BetaOptions { Alpha = 0.5, Beta = 0, NormalizeRows = true, Threads = 1 });
        double w01 = Math.Pow(2, -0.5) * (Math.Pow(2, -0.5) + Math.Pow(3, -0.5));
        double w02 = Math.Pow(2, -0.5) * Math.Pow(3, -0.5);
        AssertRow(m, 0, (1, w01 / (w01 + w02)), (2, w02 / (w01 + w02)));

        // NeighborCount 1 keeps only the strongest
        var one = Rp3BetaModel.Train(Tiny(), new Rp3BetaOptions { Alpha = 1, Beta = 0, NeighborCount = 1, NormalizeRows = false });
        Assert.Equal([1], one.NeighborsOf(0).ToArray());
    }

    [Fact]
    public void Options_Validate_AndFactoryBuildsIt()
    {
        Assert.Throws<ArgumentException>(() => Rp3BetaModel.Train(Tiny(), new Rp3BetaOptions { Beta = 1.5 }));
        Assert.Throws<ArgumentException>(() => Rp3BetaModel.Train(Tiny(), new Rp3BetaOptions { NeighborCount = 0 }));
        Assert.Throws<ArgumentException>(() => Rp3BetaModel.Train(InteractionMatrix.FromArrays([], [], userCount: 1, itemCount: 1)));
        Assert.IsType<Rp3BetaModel>(RecallModelFactory.Train("rp3beta", Tiny()));
        Assert.Contains("rp3beta", RecallModelFactory.Names);
    }

    private static void AssertRow(Rp3BetaModel m, int item, params (int Item, double Weight)[] expected)
    {
        Assert.Equal(expected.Select(e => e.Item).ToArray(), m.NeighborsOf(item).ToArray());
        var ws = m.WeightsOf(item);
        for (int t = 0; t < expected.Length; t++)
        {
            Assert.Equal(expected[t].Weight, ws[t], 5);
        }
    }
}
