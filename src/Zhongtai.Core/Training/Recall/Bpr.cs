using System.Numerics.Tensors;

namespace Zhongtai.Training.Recall;

/// <summary>Options of <see cref="Bpr"/>.</summary>
public sealed class BprOptions
{
    /// <summary>Latent factors. Default 64.</summary>
    public int Factors { get; set; } = 64;

    /// <summary>SGD step size. Default 0.02 (chosen on the ml-100k validation split).</summary>
    public double LearningRate { get; set; } = 0.02;

    /// <summary>L2 regularization on the factors and biases touched by a step. Default 0.03 (chosen on the ml-100k validation split).</summary>
    public double Regularization { get; set; } = 0.03;

    /// <summary>Epochs; an epoch draws as many (user, positive, negative) triples as there are interactions. Default 150.</summary>
    public int Epochs { get; set; } = 150;

    /// <summary>Learn an item bias. Default true.</summary>
    public bool ItemBias { get; set; } = true;

    /// <summary>Fresh factors are uniform in ±InitScale. Default 0.1.</summary>
    public double InitScale { get; set; } = 0.1;

    /// <summary>Seed. Default 42. With <see cref="Threads"/> = 1 training is deterministic.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>Hogwild SGD threads (lock-free, each with its own seeded generator). Default 1.</summary>
    public int Threads { get; set; } = 1;

    /// <summary>Throws <see cref="ArgumentException"/> on invalid values.</summary>
    public void Validate()
    {
        if (Factors < 1 || Factors > 4096)
        {
            throw new ArgumentException($"Factors must be in [1, 4096]; got {Factors}.", nameof(Factors));
        }

        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
        {
            throw new ArgumentException($"LearningRate must be a finite number > 0; got {LearningRate}.", nameof(LearningRate));
        }

        if (!(Regularization >= 0) || double.IsInfinity(Regularization))
        {
            throw new ArgumentException($"Regularization must be a finite number >= 0; got {Regularization}.", nameof(Regularization));
        }

        if (Epochs < 0)
        {
            throw new ArgumentException($"Epochs must be >= 0; got {Epochs}.", nameof(Epochs));
        }

        if (!(InitScale > 0) || double.IsInfinity(InitScale))
        {
            throw new ArgumentException($"InitScale must be a finite number > 0; got {InitScale}.", nameof(InitScale));
        }

        if (Threads < 1)
        {
            throw new ArgumentException($"Threads must be >= 1; got {Threads}.", nameof(Threads));
        }
    }
}

/// <summary>
/// Bayesian personalised ranking (Rendle et al. 2009) by SGD over uniformly drawn (user, positive, negative) triples,
/// Hogwild over <see cref="BprOptions.Threads"/>. Warm start: pass the previous model; existing factors continue,
/// new users and items get a fresh random init.
/// </summary>
public static class Bpr
{
    /// <summary>Trains (or continues) the model.</summary>
    public static FactorModel Train(InteractionMatrix data, BprOptions? options = null, FactorModel? previous = null, Action<int>? onEpoch = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new BprOptions();
        options.Validate();
        if (data.NonZeroCount == 0)
        {
            throw new ArgumentException("The interaction matrix is empty: BPR needs interactions.", nameof(data));
        }

        int k = options.Factors;
        var (users, items, bias) = FactorModel.WarmStart(previous, data.UserCount, data.ItemCount, k, options.ItemBias, (float)options.InitScale, new Random(options.Seed), "BPR");
        int itemCount = data.ItemCount;

        // the user of every interaction, to draw positives uniformly
        var rowOf = new int[data.NonZeroCount];
        var cols = new int[data.NonZeroCount];
        for (int u = 0, p = 0; u < data.UserCount; u++)
        {
            foreach (int i in data.ItemsOf(u))
            {
                rowOf[p] = u;
                cols[p++] = i;
            }
        }

        int threads = options.Threads;
        var rngs = new Random[threads];
        for (int t = 0; t < threads; t++)
        {
            rngs[t] = new Random(unchecked((options.Seed * 1_000_003) + (t * 7919) + 17)); // not HashCode: that is randomised per process
        }

        float lr = (float)options.LearningRate, reg = (float)options.Regularization;
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int perThread = (data.NonZeroCount + threads - 1) / threads;
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                var rng = rngs[t];
                var diff = new float[k];
                var xu = new float[k];
                for (int s = 0; s < perThread; s++)
                {
                    int idx = rng.Next(cols.Length);
                    int u = rowOf[idx], i = cols[idx];
                    var history = data.ItemsOf(u);
                    if (history.Length >= itemCount)
                    {
                        continue;
                    }

                    int j;
                    do
                    {
                        j = rng.Next(itemCount);
                    }
                    while (history.BinarySearch(j) >= 0);

                    var x = users.AsSpan(u * k, k);
                    var yi = items.AsSpan(i * k, k);
                    var yj = items.AsSpan(j * k, k);
                    TensorPrimitives.Subtract(yi, yj, diff);
                    float xuij = TensorPrimitives.Dot(x, diff) + (bias is null ? 0f : bias[i] - bias[j]);
                    float z = 1f / (1f + MathF.Exp(xuij)); // σ(-x_uij)
                    x.CopyTo(xu);

                    // x += lr (z (yi - yj) - reg x)
                    TensorPrimitives.Multiply(x, 1f - (lr * reg), x);
                    TensorPrimitives.MultiplyAdd(diff, lr * z, x, x);

                    // yi += lr (z xu - reg yi); yj += lr (-z xu - reg yj)
                    TensorPrimitives.Multiply(yi, 1f - (lr * reg), yi);
                    TensorPrimitives.MultiplyAdd(xu, lr * z, yi, yi);
                    TensorPrimitives.Multiply(yj, 1f - (lr * reg), yj);
                    TensorPrimitives.MultiplyAdd(xu, -lr * z, yj, yj);
                    if (bias is not null)
                    {
                        bias[i] += lr * (z - (reg * bias[i]));
                        bias[j] += lr * (-z - (reg * bias[j]));
                    }
                }
            });
            onEpoch?.Invoke(epoch);
        }

        return new FactorModel("bpr", users.Length / k, items.Length / k, k, users, items, bias);
    }

    /// <summary>
    /// Sampled ranking accuracy: the share of (user, positive, random negative) triples, drawn with <paramref name="seed"/>,
    /// that the model orders correctly (an AUC estimate; 0.5 is chance).
    /// </summary>
    public static double SampledAuc(FactorModel model, InteractionMatrix data, int samples = 10_000, int seed = 7)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        var rng = new Random(seed);
        int correct = 0, drawn = 0;
        var scores = new float[model.ItemCount];
        for (int s = 0; s < samples; s++)
        {
            int u = rng.Next(data.UserCount);
            var h = data.ItemsOf(u);
            if (h.IsEmpty || h.Length >= data.ItemCount)
            {
                continue;
            }

            int i = h[rng.Next(h.Length)], j;
            do
            {
                j = rng.Next(data.ItemCount);
            }
            while (h.BinarySearch(j) >= 0);
            model.ScoreItems(u, h, scores);
            drawn++;
            if (scores[i] > scores[j])
            {
                correct++;
            }
        }

        return drawn == 0 ? double.NaN : (double)correct / drawn;
    }
}
