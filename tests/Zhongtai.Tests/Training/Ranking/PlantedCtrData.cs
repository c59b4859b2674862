using Zhongtai.Training.Ranking;

namespace Zhongtai.Tests.Training.Ranking;

/// <summary>
/// Samples from a known click model: per-field value weights (a logistic model), optionally a pairwise
/// interaction between fields 0 and 1 through latent vectors (what a factorization machine can learn and a
/// linear model cannot), and one numeric feature. Keeps the true probability of every sample.
/// </summary>
internal sealed class PlantedCtrData
{
    public PlantedCtrData(int seed, int fields = 6, int cardinality = 40, double interaction = 0, int bits = 16)
    {
        Fields = fields;
        Cardinality = cardinality;
        Interaction = interaction;
        Hasher = new FeatureHasher(bits, seed: 7);
        var random = new Random(seed);
        FieldWeights = new double[fields, cardinality];
        for (int f = 0; f < fields; f++)
        {
            for (int c = 0; c < cardinality; c++)
            {
                FieldWeights[f, c] = Normal(random) * 0.8;
            }
        }

        Latent0 = new double[cardinality, 2];
        Latent1 = new double[cardinality, 2];
        for (int c = 0; c < cardinality; c++)
        {
            for (int d = 0; d < 2; d++)
            {
                Latent0[c, d] = Normal(random);
                Latent1[c, d] = Normal(random);
            }
        }

        Names = new int[fields, cardinality];
        for (int f = 0; f < fields; f++)
        {
            for (int c = 0; c < cardinality; c++)
            {
                Names[f, c] = Hasher.Index($"f{f}", $"v{c}");
            }
        }

        NumericIndex = Hasher.Index("num:ctr");
    }

    public int Fields { get; }

    public int Cardinality { get; }

    public double Interaction { get; }

    public FeatureHasher Hasher { get; }

    public double Bias { get; } = -1.0;

    public double NumericWeight { get; } = 1.5;

    public double[,] FieldWeights { get; }

    public double[,] Latent0 { get; }

    public double[,] Latent1 { get; }

    public int[,] Names { get; }

    public int NumericIndex { get; }

    /// <summary>Draws <paramref name="count"/> samples; <paramref name="truth"/> receives the generating probabilities.</summary>
    public SparseBatch Generate(int count, int seed, out float[] truth)
    {
        var random = new Random(seed);
        var builder = new SparseBatchBuilder(count, Fields + 1);
        truth = new float[count];
        Span<int> indices = stackalloc int[Fields + 1];
        Span<float> values = stackalloc float[Fields + 1];
        Span<int> chosen = stackalloc int[Fields];
        for (int s = 0; s < count; s++)
        {
            double margin = Bias;
            for (int f = 0; f < Fields; f++)
            {
                int c = random.Next(Cardinality);
                chosen[f] = c;
                indices[f] = Names[f, c];
                values[f] = 1f;
                margin += FieldWeights[f, c];
            }

            float x = (float)random.NextDouble();
            indices[Fields] = NumericIndex;
            values[Fields] = x;
            margin += NumericWeight * x;
            if (Interaction != 0)
            {
                margin += Interaction * ((Latent0[chosen[0], 0] * Latent1[chosen[1], 0]) + (Latent0[chosen[0], 1] * Latent1[chosen[1], 1]));
            }

            double p = 1 / (1 + Math.Exp(-margin));
            truth[s] = (float)p;
            float label = random.NextDouble() < p ? 1f : 0f;
            builder.Add(indices, values, label, 1f, group: s / 10);
        }

        return builder.Build();
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
