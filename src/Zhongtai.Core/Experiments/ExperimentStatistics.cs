namespace Zhongtai.Experiments;

/// <summary>A proportion with its 95% Wilson score interval. With no trials the rate is 0 and the interval [0, 1].</summary>
public sealed record RateEstimate(long Successes, long Trials, double Rate, double Low, double High);

/// <summary>
/// A bucket's rate against control's: the difference (bucket − control) with Newcombe's 95% interval (hybrid score,
/// from the two Wilson intervals), the relative lift (null when control's rate is 0), and the two-sided p-value of the
/// pooled two-proportion z-test.
/// </summary>
public sealed record RateComparison(double Difference, double Low, double High, double? Relative, double Z, double PValue);

/// <summary>The statistics of the experiment report: Wilson intervals, two-proportion z-tests, the normal tail.</summary>
public static class ExperimentStatistics
{
    /// <summary>The two-sided 95% normal quantile.</summary>
    public const double Z95 = 1.959963984540054;

    /// <summary>The Wilson score interval of <paramref name="successes"/> out of <paramref name="trials"/> at <paramref name="z"/>.</summary>
    public static RateEstimate Wilson(long successes, long trials, double z = Z95)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(successes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(successes, trials);
        if (trials == 0)
        {
            return new RateEstimate(0, 0, 0, 0, 1);
        }

        double n = trials;
        double p = successes / n;
        double z2 = z * z;
        double denominator = 1 + (z2 / n);
        double center = (p + (z2 / (2 * n))) / denominator;
        double half = z / denominator * Math.Sqrt((p * (1 - p) / n) + (z2 / (4 * n * n)));
        return new RateEstimate(successes, trials, p, Math.Max(0, center - half), Math.Min(1, center + half));
    }

    /// <summary>
    /// <paramref name="treatment"/> against <paramref name="control"/>; null when either has no trials.
    /// </summary>
    public static RateComparison? Compare(RateEstimate treatment, RateEstimate control)
    {
        if (treatment.Trials == 0 || control.Trials == 0)
        {
            return null;
        }

        double diff = treatment.Rate - control.Rate;

        // Newcombe (1998), method 10: the hybrid score interval from the two Wilson intervals.
        double low = diff - Math.Sqrt(Square(treatment.Rate - treatment.Low) + Square(control.High - control.Rate));
        double high = diff + Math.Sqrt(Square(treatment.High - treatment.Rate) + Square(control.Rate - control.Low));

        double pooled = (double)(treatment.Successes + control.Successes) / (treatment.Trials + control.Trials);
        double se = Math.Sqrt(pooled * (1 - pooled) * ((1.0 / treatment.Trials) + (1.0 / control.Trials)));
        double z = se > 0 ? diff / se : 0;
        double relative = control.Rate > 0 ? diff / control.Rate : double.NaN;
        return new RateComparison(diff, low, high, double.IsNaN(relative) ? null : relative, z, TwoSidedP(z));
    }

    /// <summary>The two-sided p-value of a standard normal statistic: <c>erfc(|z| / √2)</c>, clamped to [0, 1].</summary>
    public static double TwoSidedP(double z) => Math.Clamp(Erfc(Math.Abs(z) / Math.Sqrt(2)), 0, 1);

    /// <summary>
    /// The complementary error function, with relative error below 1.2e-7 everywhere (the Chebyshev fit of
    /// Numerical Recipes, "erfcc").
    /// </summary>
    public static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1 / (1 + (0.5 * z));
        double poly = 0.17087277;
        foreach (double c in ErfcCoefficients)
        {
            poly = c + (t * poly);
        }

        double r = t * Math.Exp((-z * z) + poly);
        return x >= 0 ? r : 2 - r;
    }

    // -1.26551223 + t(1.00002368 + t(0.37409196 + ... + t(-0.82215223 + t 0.17087277))), evaluated from the inside out.
    private static readonly double[] ErfcCoefficients =
        [-0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223];

    private static double Square(double d) => d * d;
}
