using Zhongtai.Experiments;

namespace Zhongtai.Tests.Experiments;

public class ExperimentStatisticsTests
{
    [Theory]
    // Reference values: Wilson score intervals at z = 1.959964 (as R's prop.test(correct = FALSE) and statsmodels' proportion_confint(method="wilson")).
    [InlineData(3, 10, 0.107791, 0.603222)]
    [InlineData(0, 10, 0.0, 0.277533)]
    [InlineData(10, 10, 0.722467, 1.0)]
    [InlineData(2, 6, 0.096771, 0.700007)]
    [InlineData(50, 100, 0.403832, 0.596168)]
    public void Wilson_MatchesReferenceIntervals(long x, long n, double low, double high)
    {
        var r = ExperimentStatistics.Wilson(x, n);
        Assert.Equal((double)x / n, r.Rate, 12);
        Assert.Equal(low, r.Low, 5);
        Assert.Equal(high, r.High, 5);
    }

    [Fact]
    public void Wilson_NoTrials_IsTheWholeInterval()
    {
        var r = ExperimentStatistics.Wilson(0, 0);
        Assert.Equal((0.0, 0.0, 1.0), (r.Rate, r.Low, r.High));
    }

    [Fact]
    public void Compare_TwoProportionZTest_MatchesHandComputation()
    {
        // 7/10 vs 3/10: pooled p = 0.5, se = sqrt(0.25 * 0.2) = 0.223607, z = 0.4 / se = 1.788854, p = erfc(z / sqrt 2) = 0.073638.
        var c = ExperimentStatistics.Compare(ExperimentStatistics.Wilson(7, 10), ExperimentStatistics.Wilson(3, 10))!;
        Assert.Equal(0.4, c.Difference, 12);
        Assert.Equal(1.788854, c.Z, 5);
        Assert.Equal(0.073638, c.PValue, 5);
        Assert.Equal(4.0 / 3.0, c.Relative!.Value, 9);

        // Newcombe's hybrid score interval from the Wilson limits: 0.4 ± sqrt((0.7 - 0.396778)² + (0.603222 - 0.3)²).
        Assert.Equal(0.4 - Math.Sqrt(Math.Pow(0.7 - 0.396778, 2) + Math.Pow(0.603222 - 0.3, 2)), c.Low, 5);
        Assert.Equal(0.4 + Math.Sqrt(Math.Pow(0.892209 - 0.7, 2) + Math.Pow(0.3 - 0.107791, 2)), c.High, 5);

        Assert.Null(ExperimentStatistics.Compare(ExperimentStatistics.Wilson(1, 2), ExperimentStatistics.Wilson(0, 0)));
        var same = ExperimentStatistics.Compare(ExperimentStatistics.Wilson(0, 5), ExperimentStatistics.Wilson(0, 9))!;
        Assert.Equal((0.0, 1.0), (same.Z, same.PValue));
        Assert.Null(same.Relative);
    }

    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(0.5, 0.4795001222)]
    [InlineData(1.0, 0.1572992070)]
    [InlineData(2.0, 0.0046777350)]
    [InlineData(-1.0, 1.8427007930)]
    public void Erfc_MatchesTables(double x, double expected) =>
        Assert.Equal(expected, ExperimentStatistics.Erfc(x), 6);
}
