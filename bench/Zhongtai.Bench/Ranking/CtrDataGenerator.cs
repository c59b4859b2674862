using Zhongtai.Training.Ranking;

namespace Zhongtai.Bench.Ranking;

/// <summary>
/// A planted click model shaped like an e-commerce feed log: 20 hashed categorical fields (user and item with
/// skewed popularity, scene, category, brand, ... and one cross, category×age) plus 3 numeric features.
/// The label is drawn from the logistic model, so the generating probabilities give the best achievable AUC.
/// </summary>
internal sealed class CtrDataGenerator
{
    private static readonly (string Name, int Cardinality, double Skew, double Scale)[] FieldSpecs =
    [
        ("user", 50_000, 2.0, 0.5), ("item", 20_000, 2.5, 0.6), ("scene", 5, 1, 0.3), ("cat", 200, 1.5, 0.4),
        ("brand", 2_000, 2.0, 0.3), ("city", 300, 1.5, 0.2), ("device", 4, 1, 0.2), ("os", 3, 1, 0.1),
        ("hour", 24, 1, 0.2), ("weekday", 7, 1, 0.1), ("age", 8, 1, 0.3), ("gender", 3, 1, 0.2),
        ("price", 20, 1, 0.3), ("position", 10, 1, 0.5), ("channel", 6, 1, 0.3), ("seller", 5_000, 2.0, 0.3),
        ("tag", 1_000, 1.5, 0.3), ("network", 4, 1, 0.1), ("appver", 30, 1.5, 0.1),
    ];

    private readonly FeatureHasher _hasher;
    private readonly int[][] _index;
    private readonly double[][] _weight;
    private readonly int[] _crossIndex;
    private readonly double[] _crossWeight;
    private readonly int[] _numericIndex;

    public CtrDataGenerator(int bits, int seed)
    {
        _hasher = new FeatureHasher(bits, seed: 0);
        var random = new Random(seed);
        _index = new int[FieldSpecs.Length][];
        _weight = new double[FieldSpecs.Length][];
        for (int f = 0; f < FieldSpecs.Length; f++)
        {
            var (name, cardinality, _, scale) = FieldSpecs[f];
            _index[f] = new int[cardinality];
            _weight[f] = new double[cardinality];
            for (int c = 0; c < cardinality; c++)
            {
                _index[f][c] = _hasher.Index(name, c.ToString(System.Globalization.CultureInfo.InvariantCulture));
                _weight[f][c] = Normal(random) * scale;
            }
        }

        int catCount = FieldSpecs[3].Cardinality, ageCount = FieldSpecs[10].Cardinality;
        _crossIndex = new int[catCount * ageCount];
        _crossWeight = new double[catCount * ageCount];
        for (int c = 0; c < _crossIndex.Length; c++)
        {
            _crossIndex[c] = _hasher.Index($"cat^age={c / ageCount}^{c % ageCount}");
            _crossWeight[c] = Normal(random) * 0.5;
        }

        _numericIndex = [_hasher.Index("num:item_ctr_7d"), _hasher.Index("num:log_count"), _hasher.Index("num:recency")];
    }

    /// <summary>Non-zeros per sample: 19 fields, 1 cross, 3 numeric.</summary>
    public int NonZerosPerSample => FieldSpecs.Length + 1 + 3;

    public SparseBatch Generate(int count, int seed, out float[] truth)
    {
        var random = new Random(seed);
        var builder = new SparseBatchBuilder(count, NonZerosPerSample);
        truth = new float[count];
        Span<int> indices = stackalloc int[NonZerosPerSample];
        Span<float> values = stackalloc float[NonZerosPerSample];
        Span<int> chosen = stackalloc int[FieldSpecs.Length];
        for (int s = 0; s < count; s++)
        {
            double margin = -2.2;
            for (int f = 0; f < FieldSpecs.Length; f++)
            {
                var (_, cardinality, skew, _) = FieldSpecs[f];
                int c = Math.Min(cardinality - 1, (int)(cardinality * Math.Pow(random.NextDouble(), skew)));
                chosen[f] = c;
                indices[f] = _index[f][c];
                values[f] = 1f;
                margin += _weight[f][c];
            }

            int cross = (chosen[3] * FieldSpecs[10].Cardinality) + chosen[10];
            indices[FieldSpecs.Length] = _crossIndex[cross];
            values[FieldSpecs.Length] = 1f;
            margin += _crossWeight[cross];

            // Numeric features: a noisy item CTR (correlated with the item's true effect), a count and a recency.
            float itemCtr = (float)Math.Clamp((1 / (1 + Math.Exp(-_weight[1][chosen[1]] * 3))) + (Normal(random) * 0.05), 0, 1);
            float logCount = (float)(random.NextDouble() * 3);
            float recency = (float)random.NextDouble();
            int n = FieldSpecs.Length + 1;
            indices[n] = _numericIndex[0];
            values[n] = itemCtr;
            indices[n + 1] = _numericIndex[1];
            values[n + 1] = logCount;
            indices[n + 2] = _numericIndex[2];
            values[n + 2] = recency;
            margin += (0.3 * logCount) - (0.8 * recency);

            double p = 1 / (1 + Math.Exp(-margin));
            truth[s] = (float)p;
            builder.Add(indices, values, random.NextDouble() < p ? 1f : 0f);
        }

        return builder.Build();
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
