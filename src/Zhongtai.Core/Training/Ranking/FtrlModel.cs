namespace Zhongtai.Training.Ranking;

/// <summary>
/// FTRL-Proximal logistic regression over hashed sparse features (McMahan et al. 2013), the realtime click model:
/// it learns one sample at a time (<see cref="Update"/>), or a batch in order (<see cref="Train"/>), and keeps the
/// per-coordinate state (z, n) so a saved model continues exactly where it stopped (warm start).
/// </summary>
/// <remarks>
/// Thread safety: writers (<see cref="Update"/>, <see cref="Train"/>) are serialised by an internal lock, so any
/// number of threads may feed samples. Readers (<see cref="Predict(in SparseSample)"/> and friends) take no lock:
/// they may run while a writer updates and then see some coordinates of a sample before and some after that
/// update (as Hogwild readers do), never a torn value. Labels are clamped to [0, 1] (a soft label is allowed).
/// The model has an unregularised-by-L1 bias term besides the <c>2^Bits</c> feature coordinates.
/// </remarks>
public sealed class FtrlModel
{
    private const int FormatVersion = 1;
    private static ReadOnlySpan<byte> Magic => "ZTFTRL01"u8;

    private readonly Lock _writeLock = new();
    private readonly int _size;
    private readonly Coordinate[] _c; // features 0..2^Bits-1, then the bias
    private float _alpha, _beta, _l1, _l2;
    private long _samplesSeen;

    /// <summary>A fresh model (all weights zero).</summary>
    public FtrlModel(FtrlOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options.Clone();
        _size = 1 << options.Bits;
        _c = new Coordinate[_size + 1];
        ApplyHyperparameters(Options);
    }

    /// <summary>A copy of the hyperparameters in effect.</summary>
    public FtrlOptions Options { get; private set; }

    /// <summary>The number of samples this model has learned from, including those before a save/load.</summary>
    public long SamplesSeen => Interlocked.Read(ref _samplesSeen);

    /// <summary>Number of feature coordinates with a non-zero weight (the L1-sparse model size).</summary>
    public int NonZeroWeights
    {
        get
        {
            int count = 0;
            for (int i = 0; i < _size; i++)
            {
                if (_c[i].W != 0)
                {
                    count++;
                }
            }

            return count;
        }
    }

    /// <summary>The bias (intercept) weight.</summary>
    public float Bias => _c[_size].W;

    /// <summary>The current weight of feature coordinate <paramref name="index"/>.</summary>
    public float Weight(int index)
    {
        CheckIndex(index);
        return _c[index].W;
    }

    /// <summary>Click probability of a sample.</summary>
    public float Predict(in SparseSample sample) => Sigmoid(PredictMargin(sample));

    /// <summary>The logit (log-odds) of a sample.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public double PredictMargin(in SparseSample sample)
    {
        ReadOnlySpan<int> indices = sample.Indices;
        ReadOnlySpan<float> values = sample.Values;
        Coordinate[] c = _c;
        double margin = c[_size].W;
        for (int j = 0; j < indices.Length; j++)
        {
            int i = indices[j];
            CheckIndex(i);
            margin += c[i].W * values[j];
        }

        return margin;
    }

    /// <summary>Probabilities for every sample of a batch, into <paramref name="destination"/> (length ≥ batch.Count).</summary>
    public void Predict(SparseBatch batch, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (destination.Length < batch.Count)
        {
            throw new ArgumentException($"Destination holds {destination.Length} values; the batch has {batch.Count} samples.", nameof(destination));
        }

        for (int s = 0; s < batch.Count; s++)
        {
            destination[s] = Predict(batch[s]);
        }
    }

    /// <summary>Probabilities for every sample of a batch.</summary>
    public float[] Predict(SparseBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var result = new float[batch.Count];
        Predict(batch, result);
        return result;
    }

    /// <summary>
    /// Learns from one sample and returns the probability predicted for it before the update (the progressive
    /// validation prediction). Thread-safe (serialised with other writers); allocation-free.
    /// </summary>
    /// <exception cref="ArgumentException">A non-finite label, value or weight, or a negative weight.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A feature index outside <c>2^Bits</c>.</exception>
    public float Update(in SparseSample sample)
    {
        CheckSample(sample);
        SampleChecks.CheckLearnable(sample);
        lock (_writeLock)
        {
            return UpdateCore(sample);
        }
    }

    /// <summary>
    /// Learns from every sample of <paramref name="batch"/>, in order, <paramref name="epochs"/> times, holding the
    /// write lock for the whole call. Returns the mean progressive log-loss of the last epoch (each sample scored
    /// just before it was learned).
    /// </summary>
    /// <exception cref="ArgumentException">The batch is empty, a sample has an index outside <c>2^Bits</c>, or epochs &lt; 1.</exception>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public double Train(SparseBatch batch, int epochs = 1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            throw new ArgumentException("Cannot train on an empty batch.", nameof(batch));
        }

        if (epochs < 1)
        {
            throw new ArgumentException($"Epochs must be at least 1 (was {epochs}).", nameof(epochs));
        }

        if (batch.IndexBound() > _size)
        {
            throw new ArgumentException($"The batch has feature index {batch.IndexBound() - 1}, outside this model's 2^{Options.Bits} coordinates.", nameof(batch));
        }

        ReadOnlySpan<int> offsets = batch.Offsets;
        ReadOnlySpan<int> indices = batch.Indices;
        ReadOnlySpan<float> values = batch.Values;
        ReadOnlySpan<float> labels = batch.Labels;
        ReadOnlySpan<float> weights = batch.Weights;
        double loss = 0, totalWeight = 0;
        lock (_writeLock)
        {
            for (int epoch = 0; epoch < epochs; epoch++)
            {
                loss = 0;
                totalWeight = 0;
                for (int s = 0; s < batch.Count; s++)
                {
                    if ((s & 0xFFFF) == 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                    }

                    int start = offsets[s];
                    int length = offsets[s + 1] - start;
                    if (s + 2 < batch.Count)
                    {
                        Prefetch(indices[offsets[s + 2]..offsets[s + 3]]);
                    }

                    var sample = new SparseSample(indices.Slice(start, length), values.Slice(start, length), labels[s], weights[s]);
                    float p = UpdateCore(sample);
                    double y = Math.Clamp(labels[s], 0f, 1f);
                    double pc = Math.Clamp(p, RankingMetrics.Epsilon, 1 - RankingMetrics.Epsilon);
                    loss -= weights[s] * ((y * Math.Log(pc)) + ((1 - y) * Math.Log(1 - pc)));
                    totalWeight += weights[s];
                }
            }
        }

        return totalWeight > 0 ? loss / totalWeight : 0;
    }

    /// <summary>
    /// Replaces the learning hyperparameters (alpha, beta, L1, L2) and keeps the learned state; <c>Bits</c> must not change.
    /// </summary>
    public void SetHyperparameters(FtrlOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Bits != Options.Bits)
        {
            throw new ArgumentException($"Bits cannot change on a trained model ({Options.Bits} → {options.Bits}); the hashed feature space would no longer match.", nameof(options));
        }

        lock (_writeLock)
        {
            Options = options.Clone();
            ApplyHyperparameters(Options);
            for (int i = 0; i <= _size; i++)
            {
                _c[i].W = ComputeWeight(i);
            }
        }
    }

    /// <summary>
    /// Writes the model: hyperparameters, the sample count and (index, z, n) for every coordinate that has been
    /// updated (as float32), framed with magic, format version and an XXH64 checksum (see <c>ModelFile</c>).
    /// </summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        PayloadWriter writer;
        lock (_writeLock)
        {
            int touched = 0;
            for (int i = 0; i <= _size; i++)
            {
                if (_c[i].N != 0)
                {
                    touched++;
                }
            }

            writer = new PayloadWriter(64 + (touched * 12));
            writer.Int32(Options.Bits);
            writer.Double(_alpha);
            writer.Double(_beta);
            writer.Double(_l1);
            writer.Double(_l2);
            writer.Int64(_samplesSeen);
            writer.Int32(touched);
            for (int i = 0; i <= _size; i++)
            {
                if (_c[i].N != 0)
                {
                    writer.Int32(i);
                    writer.Single(_c[i].Z);
                    writer.Single(_c[i].N);
                }
            }
        }

        ModelFile.Write(stream, Magic, FormatVersion, writer.Written);
    }

    /// <summary>
    /// Reads a model written by <see cref="Save(Stream)"/>; it predicts exactly as the saved one and continues learning from
    /// its state (warm start).
    /// </summary>
    /// <exception cref="InvalidDataException">The stream is not an intact FTRL model file of this format version.</exception>
    public static FtrlModel Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] payload = ModelFile.Read(stream, Magic, FormatVersion, "FTRL model");
        var reader = new PayloadReader(payload, "FTRL model");
        var options = new FtrlOptions
        {
            Bits = reader.Int32(),
            Alpha = reader.Double(),
            Beta = reader.Double(),
            L1 = reader.Double(),
            L2 = reader.Double(),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"FTRL model file is corrupt: {e.Message}", e);
        }

        var model = new FtrlModel(options);
        model._samplesSeen = reader.Int64();
        int touched = reader.Int32();
        if (touched < 0 || touched > model._size + 1)
        {
            throw new InvalidDataException($"FTRL model file is corrupt: {touched} stored coordinates.");
        }

        for (int k = 0; k < touched; k++)
        {
            int i = reader.Int32();
            if ((uint)i > (uint)model._size)
            {
                throw new InvalidDataException($"FTRL model file is corrupt: coordinate {i}.");
            }

            ref Coordinate c = ref model._c[i];
            c.Z = reader.Single();
            c.N = reader.Single();
            if (!float.IsFinite(c.Z) || !float.IsFinite(c.N) || c.N < 0)
            {
                throw new InvalidDataException($"FTRL model file is corrupt: coordinate {i} has z {c.Z}, n {c.N}.");
            }

            c.SqrtN = MathF.Sqrt(c.N);
            c.W = model.ComputeWeight(i);
        }

        if (!reader.AtEnd)
        {
            throw new InvalidDataException("FTRL model file is corrupt: trailing bytes.");
        }

        return model;
    }

    public void Save(string path)
    {
        using var stream = File.Create(path);
        Save(stream);
    }

    public static FtrlModel Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Load(stream);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private float UpdateCore(in SparseSample sample)
    {
        ReadOnlySpan<int> indices = sample.Indices;
        ReadOnlySpan<float> values = sample.Values;
        Coordinate[] c = _c;
        float margin = c[_size].W;
        for (int j = 0; j < indices.Length; j++)
        {
            margin += c[indices[j]].W * values[j];
        }

        float p = Sigmoid(margin);
        float g = (p - Math.Clamp(sample.Label, 0f, 1f)) * sample.Weight;
        if (g != 0)
        {
            float invAlpha = 1f / _alpha;
            float l1 = _l1, l2 = _l2, beta = _beta;
            for (int j = 0; j < indices.Length; j++)
            {
                UpdateCoordinate(ref c[indices[j]], g * values[j], invAlpha, l1, beta, l2);
            }

            UpdateCoordinate(ref c[_size], g, invAlpha, 0f, beta, l2);
        }

        _samplesSeen++;
        return p;
    }

    /// <summary>Asks the CPU to fetch the cache lines of an upcoming sample's coordinates while this one is learned.</summary>
    private unsafe void Prefetch(ReadOnlySpan<int> upcoming)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            return;
        }

        fixed (Coordinate* c = _c)
        {
            foreach (int i in upcoming)
            {
                System.Runtime.Intrinsics.X86.Sse.Prefetch0(c + i);
            }
        }
    }

    /// <summary>
    /// One FTRL-Proximal step: σ = (√(n + g²) − √n) / α; z += g − σw; n += g²;
    /// w = 0 if |z| ≤ λ1, else −(z − sign(z)λ1) / ((β + √n) / α + λ2).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void UpdateCoordinate(ref Coordinate c, float g, float invAlpha, float l1, float beta, float l2)
    {
        float n = c.N + (g * g);
        float sqrtN = MathF.Sqrt(n);
        float z = c.Z + g - ((sqrtN - c.SqrtN) * invAlpha * c.W);
        c.Z = z;
        c.N = n;
        c.SqrtN = sqrtN;
        c.W = Weight(z, sqrtN, invAlpha, l1, beta, l2);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static float Weight(float z, float sqrtN, float invAlpha, float l1, float beta, float l2) =>
        MathF.Abs(z) <= l1 ? 0f : -(z - MathF.CopySign(l1, z)) / (((beta + sqrtN) * invAlpha) + l2);

    private float ComputeWeight(int i)
    {
        ref Coordinate c = ref _c[i];
        return Weight(c.Z, c.SqrtN, 1f / _alpha, i == _size ? 0f : _l1, _beta, _l2);
    }

    private void ApplyHyperparameters(FtrlOptions options)
    {
        _alpha = (float)options.Alpha;
        _beta = (float)options.Beta;
        _l1 = (float)options.L1;
        _l2 = (float)options.L2;
    }

    private void CheckSample(in SparseSample sample)
    {
        foreach (int i in sample.Indices)
        {
            CheckIndex(i);
        }
    }

    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)_size)
        {
            ThrowIndex(index);
        }
    }

    private void ThrowIndex(int index) =>
        throw new ArgumentOutOfRangeException(nameof(index), index, $"Feature index outside this model's 2^{Options.Bits} coordinates.");

    /// <summary>The learned state of one coordinate, kept together so an update touches one cache line.</summary>
    private struct Coordinate
    {
        public float W;     // the weight (z, n) imply, kept current by every update
        public float Z;
        public float N;     // Σ g²
        public float SqrtN; // √N, cached: one square root per update instead of two
    }

    internal static float Sigmoid(double margin)
    {
        margin = Math.Clamp(margin, -35.0, 35.0);
        return (float)(1.0 / (1.0 + Math.Exp(-margin)));
    }
}
