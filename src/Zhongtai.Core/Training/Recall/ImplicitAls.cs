using System.Numerics.Tensors;

namespace Zhongtai.Training.Recall;

/// <summary>Options of <see cref="ImplicitAls"/>.</summary>
public sealed class AlsOptions
{
    /// <summary>Latent factors. Default 200 (chosen on the ml-100k validation split).</summary>
    public int Factors { get; set; } = 200;

    /// <summary>L2 regularization λ on both sides. Default 50 (chosen on the ml-100k validation split).</summary>
    public double Regularization { get; set; } = 50;

    /// <summary>Confidence slope: an observed pair has confidence <c>1 + Alpha·r</c>. Default 7 (chosen on the ml-100k validation split).</summary>
    public double Alpha { get; set; } = 7;

    /// <summary>Use the interaction values as r (ratings, counts); when false every observed pair has r = 1. Default false.</summary>
    public bool UseValues { get; set; }

    /// <summary>
    /// Frequency-scaled regularization (Rendle et al. 2022, "Revisiting the performance of iALS"): a row's λ is multiplied
    /// by <c>(w_row / mean w)^ν</c> where <c>w_row = n_other + Alpha·n_row</c> is the row's total confidence weight.
    /// 0 gives the same λ to every row. Default 0.5 (chosen on the ml-100k validation split).
    /// </summary>
    public double RegularizationExponent { get; set; } = 0.5;

    /// <summary>Alternating sweeps (users then items). Default 15.</summary>
    public int Iterations { get; set; } = 15;

    /// <summary>Conjugate-gradient steps per row solve (Takács et al.; 3 is the usual choice). Default 3.</summary>
    public int CgSteps { get; set; } = 3;

    /// <summary>Fresh factors are uniform in ±InitScale. Default 0.01.</summary>
    public double InitScale { get; set; } = 0.01;

    /// <summary>Seed of the initialization. Default 42. Results do not depend on <see cref="Threads"/>.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>Worker threads. Default <c>0</c>: all processors.</summary>
    public int Threads { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> on invalid values.</summary>
    public void Validate()
    {
        if (Factors < 1 || Factors > 4096)
        {
            throw new ArgumentException($"Factors must be in [1, 4096]; got {Factors}.", nameof(Factors));
        }

        if (!(Regularization >= 0) || double.IsInfinity(Regularization))
        {
            throw new ArgumentException($"Regularization must be a finite number >= 0; got {Regularization}.", nameof(Regularization));
        }

        if (!(Alpha >= 0) || double.IsInfinity(Alpha))
        {
            throw new ArgumentException($"Alpha must be a finite number >= 0; got {Alpha}.", nameof(Alpha));
        }

        if (!(RegularizationExponent >= 0 && RegularizationExponent <= 2))
        {
            throw new ArgumentException($"RegularizationExponent must be in [0, 2]; got {RegularizationExponent}.", nameof(RegularizationExponent));
        }

        if (Iterations < 0)
        {
            throw new ArgumentException($"Iterations must be >= 0; got {Iterations}.", nameof(Iterations));
        }

        if (CgSteps < 1)
        {
            throw new ArgumentException($"CgSteps must be >= 1; got {CgSteps}.", nameof(CgSteps));
        }

        if (!(InitScale > 0) || double.IsInfinity(InitScale))
        {
            throw new ArgumentException($"InitScale must be a finite number > 0; got {InitScale}.", nameof(InitScale));
        }

        if (Threads < 0)
        {
            throw new ArgumentException($"Threads must be >= 0 (0 = all processors); got {Threads}.", nameof(Threads));
        }
    }
}

/// <summary>
/// Implicit-feedback ALS (Hu, Koren &amp; Volinsky 2008: confidence <c>c = 1 + α r</c>, preference 1 on observed pairs and 0
/// elsewhere) with each row solved approximately by a few conjugate-gradient steps started from the current value
/// (Takács, Pilászy &amp; Tikk 2011), so a sweep costs O(nnz·k + (U+I)·k²·steps). Warm start: pass the previous model;
/// existing users and items keep their factors, new ones get a fresh random init.
/// </summary>
public static class ImplicitAls
{
    /// <summary>Trains (or continues) the model.</summary>
    public static FactorModel Train(InteractionMatrix data, AlsOptions? options = null, FactorModel? previous = null, Action<int>? onIteration = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new AlsOptions();
        options.Validate();
        if (data.NonZeroCount == 0)
        {
            throw new ArgumentException("The interaction matrix is empty: ALS needs interactions.", nameof(data));
        }

        int k = options.Factors;
        var rng = new Random(options.Seed);
        var (users, items, _) = FactorModel.WarmStart(previous, data.UserCount, data.ItemCount, k, false, (float)options.InitScale, rng, "ALS");
        int userCount = users.Length / k, itemCount = items.Length / k;
        var po = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = options.Threads == 0 ? Environment.ProcessorCount : options.Threads };
        var gram = new float[k * k];
        float[] userExtra = ExtraRegularization(data.UserCount, data.ItemCount, data.CountOf, options);
        var itemCounts = data.ItemCounts();
        float[] itemExtra = ExtraRegularization(data.ItemCount, data.UserCount, i => itemCounts[i], options);
        for (int it = 0; it < options.Iterations; it++)
        {
            // users from items
            Gram(items, itemCount, k, (float)options.Regularization, gram);
            Parallel.For(0, data.UserCount, po, () => new float[4 * k], (u, _, buf) =>
            {
                SolveRow(users.AsSpan(u * k, k), data.ItemsOf(u), data.ValuesOf(u), items, gram, userExtra[u], k, options, buf);
                return buf;
            }, _ => { });

            // items from users
            Gram(users, userCount, k, (float)options.Regularization, gram);
            Parallel.For(0, data.ItemCount, po, () => new float[4 * k], (i, _, buf) =>
            {
                SolveRow(items.AsSpan(i * k, k), data.UsersOf(i), data.ItemValuesOf(i), users, gram, itemExtra[i], k, options, buf);
                return buf;
            }, _ => { });
            onIteration?.Invoke(it);
        }

        return new FactorModel("als", userCount, itemCount, k, users, items, null);
    }

    /// <summary>
    /// The objective ALS minimises: Σ_observed c(1 - x·y)² + Σ_unobserved (x·y)² + λ(‖X‖² + ‖Y‖²).
    /// </summary>
    public static double Loss(FactorModel model, InteractionMatrix data, AlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        int k = model.Factors;
        var gram = new float[k * k];
        Gram(model.ItemFactors, model.ItemCount, k, 0f, gram);
        double loss = 0;
        var tmp = new float[k];
        for (int u = 0; u < Math.Min(data.UserCount, model.UserCount); u++)
        {
            var x = model.UserVector(u);
            MatVec(gram, x, tmp, k);
            loss += TensorPrimitives.Dot(x, tmp); // all pairs as unobserved
            var its = data.ItemsOf(u);
            var vals = data.ValuesOf(u);
            for (int p = 0; p < its.Length; p++)
            {
                double s = TensorPrimitives.Dot(x, model.ItemVector(its[p]));
                double c = 1 + (options.Alpha * (options.UseValues ? vals[p] : 1));
                loss += (c * (1 - s) * (1 - s)) - (s * s);
            }
        }

        loss += options.Regularization * (TensorPrimitives.Dot(model.UserFactors, model.UserFactors) + TensorPrimitives.Dot(model.ItemFactors, model.ItemFactors));
        return loss;
    }

    // per-row λ on top of the shared one: λ((w_row / mean w)^ν - 1), w_row = nOther + α·n_row
    private static float[] ExtraRegularization(int rows, int nOther, Func<int, int> count, AlsOptions o)
    {
        var extra = new float[rows];
        if (o.RegularizationExponent == 0 || rows == 0)
        {
            return extra;
        }

        double mean = 0;
        for (int r = 0; r < rows; r++)
        {
            mean += nOther + (o.Alpha * count(r));
        }

        mean /= rows;
        for (int r = 0; r < rows; r++)
        {
            double w = (nOther + (o.Alpha * count(r))) / mean;
            extra[r] = (float)(o.Regularization * (Math.Pow(w, o.RegularizationExponent) - 1));
        }

        return extra;
    }

    // gram = YᵀY + reg·I
    private static void Gram(float[] y, int rows, int k, float reg, float[] gram)
    {
        Array.Clear(gram);
        for (int r = 0; r < rows; r++)
        {
            var row = y.AsSpan(r * k, k);
            for (int a = 0; a < k; a++)
            {
                float v = row[a];
                if (v != 0)
                {
                    TensorPrimitives.MultiplyAdd(row, v, gram.AsSpan(a * k, k), gram.AsSpan(a * k, k));
                }
            }
        }

        for (int a = 0; a < k; a++)
        {
            gram[(a * k) + a] += reg;
        }
    }

    private static void MatVec(float[] m, ReadOnlySpan<float> x, Span<float> result, int k)
    {
        for (int a = 0; a < k; a++)
        {
            result[a] = TensorPrimitives.Dot(m.AsSpan(a * k, k), x);
        }
    }

    private static void SolveRow(Span<float> x, ReadOnlySpan<int> cols, ReadOnlySpan<float> vals, float[] other, float[] gram, float extraReg, int k, AlsOptions o, float[] buf)
    {
        var r = buf.AsSpan(0, k);
        var p = buf.AsSpan(k, k);
        var ap = buf.AsSpan(2 * k, k);
        float alpha = (float)o.Alpha;

        // r = b - A x, with A = gram + Σ (c-1) y yᵀ and b = Σ c y
        MatVec(gram, x, r, k);
        if (extraReg != 0)
        {
            TensorPrimitives.MultiplyAdd(x, extraReg, r, r);
        }

        TensorPrimitives.Negate(r, r);
        for (int t = 0; t < cols.Length; t++)
        {
            var y = other.AsSpan(cols[t] * k, k);
            float c = 1 + (alpha * (o.UseValues ? vals[t] : 1f));
            float coef = c - ((c - 1) * TensorPrimitives.Dot(y, x));
            TensorPrimitives.MultiplyAdd(y, coef, r, r);
        }

        r.CopyTo(p);
        float rsOld = TensorPrimitives.Dot(r, r);
        if (rsOld < 1e-20f)
        {
            return;
        }

        for (int step = 0; step < o.CgSteps; step++)
        {
            MatVec(gram, p, ap, k);
            if (extraReg != 0)
            {
                TensorPrimitives.MultiplyAdd(p, extraReg, ap, ap);
            }

            for (int t = 0; t < cols.Length; t++)
            {
                var y = other.AsSpan(cols[t] * k, k);
                float c = 1 + (alpha * (o.UseValues ? vals[t] : 1f));
                TensorPrimitives.MultiplyAdd(y, (c - 1) * TensorPrimitives.Dot(y, p), ap, ap);
            }

            float pap = TensorPrimitives.Dot(p, ap);
            if (!(pap > 0))
            {
                return;
            }

            float a = rsOld / pap;
            TensorPrimitives.MultiplyAdd(p, a, x, x);
            TensorPrimitives.MultiplyAdd(ap, -a, r, r);
            float rsNew = TensorPrimitives.Dot(r, r);
            if (rsNew < 1e-20f)
            {
                return;
            }

            TensorPrimitives.MultiplyAdd(p, rsNew / rsOld, r, p);
            rsOld = rsNew;
        }
    }
}
