namespace Zhongtai.Indexing.Vector;

/// <summary>
/// Seeded generator of clustered vectors that look like learned embeddings: each cluster has a centre and a random
/// low-dimensional subspace; a point is its centre plus a Gaussian combination of the subspace directions plus a little isotropic noise.
/// Base vectors and queries drawn from the same generator (with different seeds) share the clusters.
/// </summary>
public sealed class ClusteredVectors
{
    private readonly int _dim;
    private readonly int _clusters;
    private readonly int _subspace;
    private readonly float[] _centres;
    private readonly float[] _bases;
    private readonly float _noise;

    /// <param name="dimension">Vector dimension.</param>
    /// <param name="clusters">Number of clusters (default 100).</param>
    /// <param name="subspace">Intrinsic dimension of each cluster (default 12).</param>
    /// <param name="noise">Standard deviation of the isotropic noise (default 0.05; cluster spread is about 0.3 per direction).</param>
    /// <param name="seed">Seed of the clusters.</param>
    public ClusteredVectors(int dimension, int clusters = 100, int subspace = 32, float noise = 0.1f, int seed = 7)
    {
        _dim = dimension;
        _clusters = clusters;
        _subspace = subspace;
        _noise = noise;
        var rng = new Random(seed);
        _centres = new float[clusters * dimension];
        _bases = new float[clusters * subspace * dimension];
        for (int i = 0; i < _centres.Length; i++)
        {
            _centres[i] = Gaussian(rng);
        }
        float scale = 0.3f;
        for (int i = 0; i < _bases.Length; i++)
        {
            _bases[i] = Gaussian(rng) * scale / MathF.Sqrt(subspace);
        }
    }

    /// <summary>Draws <paramref name="count"/> row-major vectors.</summary>
    public float[] Sample(int count, int seed)
    {
        var rng = new Random(seed);
        var data = new float[(long)count * _dim];
        Span<float> z = stackalloc float[_subspace];
        for (int i = 0; i < count; i++)
        {
            int c = rng.Next(_clusters);
            var row = data.AsSpan(i * _dim, _dim);
            _centres.AsSpan(c * _dim, _dim).CopyTo(row);
            for (int s = 0; s < _subspace; s++)
            {
                z[s] = Gaussian(rng) * 3f;
            }
            for (int s = 0; s < _subspace; s++)
            {
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(_bases.AsSpan(((c * _subspace) + s) * _dim, _dim), z[s], row, row);
            }
            for (int d = 0; d < _dim; d++)
            {
                row[d] += Gaussian(rng) * _noise;
            }
        }
        return data;
    }

    private static float Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }
}
