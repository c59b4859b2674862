using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Zhongtai.Training.Ranking;

/// <summary>
/// Second-order factorization machine for click prediction over hashed sparse features:
/// <c>ŷ = w0 + Σ wᵢxᵢ + ½ Σ_f [(Σ vᵢ_f xᵢ)² − Σ vᵢ_f² xᵢ²]</c>, scored in O(k·nnz), with logistic loss and
/// per-parameter AdaGrad. Like <see cref="FtrlModel"/> it learns incrementally and a saved model (weights plus
/// AdaGrad accumulators) continues where it stopped.
/// </summary>
/// <remarks>
/// Thread safety: writers (<see cref="Update"/>, <see cref="Train"/>) are serialised by an internal lock; readers
/// take none and may observe a sample's parameters half-way through a concurrent update (never torn floats).
/// Factor vectors start from a deterministic hash of (<see cref="FactorizationMachineOptions.Seed"/>, position), so
/// untouched features need not be stored. Labels are clamped to [0, 1].
/// </remarks>
public sealed class FactorizationMachine
{
    private const int FormatVersion = 1;
    private const float AdaGradEpsilon = 1e-8f;
    private static ReadOnlySpan<byte> Magic => "ZTFMACH1"u8;

    private readonly Lock _writeLock = new();
    private readonly int _size;
    private readonly int _k;
    private readonly int _stride;
    private readonly float[] _p; // per feature, contiguous: v[k], accV[k], w, accW (one or two cache lines)
    private double _w0, _w0Acc;
    private float _lr, _l2w, _l2v;
    private long _samplesSeen;

    public FactorizationMachine(FactorizationMachineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options.Clone();
        _size = 1 << options.Bits;
        _k = options.Factors;
        _stride = (2 * _k) + 2;
        _p = new float[_size * _stride];
        ApplyHyperparameters(Options);
        InitFactors(_p, _k, _stride, options.Seed, (float)options.InitStd);
    }

    /// <summary>A copy of the hyperparameters in effect.</summary>
    public FactorizationMachineOptions Options { get; private set; }

    public long SamplesSeen => Interlocked.Read(ref _samplesSeen);

    public float Predict(in SparseSample sample) => FtrlModel.Sigmoid(PredictMargin(sample));

    /// <summary>The logit of a sample, O(k·nnz), allocation-free.</summary>
    public double PredictMargin(in SparseSample sample)
    {
        Span<float> sums = stackalloc float[_k];
        CheckSample(sample);
        return Margin(sample.Indices, sample.Values, sums);
    }

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

    public float[] Predict(SparseBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var result = new float[batch.Count];
        Predict(batch, result);
        return result;
    }

    /// <summary>Learns from one sample; returns the probability predicted before the update. Thread-safe, allocation-free.</summary>
    /// <exception cref="ArgumentException">A non-finite label, value or weight, or a negative weight.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A feature index outside <c>2^Bits</c>.</exception>
    public float Update(in SparseSample sample)
    {
        CheckSample(sample);
        SampleChecks.CheckLearnable(sample);
        Span<float> sums = stackalloc float[_k];
        lock (_writeLock)
        {
            return UpdateCore(sample, sums);
        }
    }

    /// <summary>
    /// Learns from the batch in order, <paramref name="epochs"/> times; returns the mean progressive log-loss of the last epoch.
    /// </summary>
    /// <exception cref="ArgumentException">The batch is empty, has an index outside <c>2^Bits</c>, or epochs &lt; 1.</exception>
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

        Span<float> sums = stackalloc float[_k];
        double loss = 0, total = 0;
        lock (_writeLock)
        {
            for (int epoch = 0; epoch < epochs; epoch++)
            {
                loss = 0;
                total = 0;
                for (int s = 0; s < batch.Count; s++)
                {
                    if ((s & 0xFFFF) == 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                    }

                    if (s + 2 < batch.Count)
                    {
                        Prefetch(batch[s + 2].Indices);
                    }

                    SparseSample sample = batch[s];
                    float p = UpdateCore(sample, sums);
                    double y = Math.Clamp(sample.Label, 0f, 1f);
                    double pc = Math.Clamp(p, RankingMetrics.Epsilon, 1 - RankingMetrics.Epsilon);
                    loss -= sample.Weight * ((y * Math.Log(pc)) + ((1 - y) * Math.Log(1 - pc)));
                    total += sample.Weight;
                }
            }
        }

        return total > 0 ? loss / total : 0;
    }

    /// <summary>Replaces learning rate and L2 penalties, keeping the learned state; Bits, Factors, InitStd and Seed must not change.</summary>
    public void SetHyperparameters(FactorizationMachineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Bits != Options.Bits || options.Factors != Options.Factors || options.Seed != Options.Seed || options.InitStd != Options.InitStd)
        {
            throw new ArgumentException("Bits, Factors, Seed and InitStd cannot change on a trained factorization machine.", nameof(options));
        }

        lock (_writeLock)
        {
            Options = options.Clone();
            ApplyHyperparameters(Options);
        }
    }

    /// <summary>
    /// Writes hyperparameters, bias and, for every feature that has been updated, its linear weight, factors and
    /// AdaGrad accumulators; framed with magic, version and an XXH64 checksum.
    /// </summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        PayloadWriter writer;
        lock (_writeLock)
        {
            int touched = 0;
            for (int i = 0; i < _size; i++)
            {
                if (IsTouched(i))
                {
                    touched++;
                }
            }

            writer = new PayloadWriter(128 + (touched * (12 + (8 * _k))));
            writer.Int32(Options.Bits);
            writer.Int32(_k);
            writer.Double(Options.LearningRate);
            writer.Double(Options.L2Linear);
            writer.Double(Options.L2Factors);
            writer.Double(Options.InitStd);
            writer.UInt64(Options.Seed);
            writer.Int64(_samplesSeen);
            writer.Double(_w0);
            writer.Double(_w0Acc);
            writer.Int32(touched);
            for (int i = 0; i < _size; i++)
            {
                if (IsTouched(i))
                {
                    writer.Int32(i);
                    int b = i * _stride;
                    writer.Single(_p[b + (2 * _k)]);
                    writer.Single(_p[b + (2 * _k) + 1]);
                    writer.Singles(_p.AsSpan(b, _k));
                    writer.Singles(_p.AsSpan(b + _k, _k));
                }
            }
        }

        ModelFile.Write(stream, Magic, FormatVersion, writer.Written);
    }

    /// <summary>Reads a model written by <see cref="Save(Stream)"/>: identical predictions, and training continues from its state.</summary>
    /// <exception cref="InvalidDataException">The stream is not an intact factorization machine file of this format version.</exception>
    public static FactorizationMachine Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        const string What = "Factorization machine";
        byte[] payload = ModelFile.Read(stream, Magic, FormatVersion, What);
        var reader = new PayloadReader(payload, What);
        var options = new FactorizationMachineOptions
        {
            Bits = reader.Int32(),
            Factors = reader.Int32(),
            LearningRate = reader.Double(),
            L2Linear = reader.Double(),
            L2Factors = reader.Double(),
            InitStd = reader.Double(),
            Seed = reader.UInt64(),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{What} file is corrupt: {e.Message}", e);
        }

        var model = new FactorizationMachine(options);
        model._samplesSeen = reader.Int64();
        model._w0 = reader.Double();
        model._w0Acc = reader.Double();
        int touched = reader.Int32();
        if (touched < 0 || touched > model._size)
        {
            throw new InvalidDataException($"{What} file is corrupt: {touched} stored features.");
        }

        int k = model._k;
        for (int t = 0; t < touched; t++)
        {
            int i = reader.Int32();
            if ((uint)i >= (uint)model._size)
            {
                throw new InvalidDataException($"{What} file is corrupt: feature {i}.");
            }

            int b = i * model._stride;
            model._p[b + (2 * k)] = reader.Single();
            model._p[b + (2 * k) + 1] = reader.Single();
            reader.Singles(model._p.AsSpan(b, k));
            reader.Singles(model._p.AsSpan(b + k, k));
        }

        if (!reader.AtEnd)
        {
            throw new InvalidDataException($"{What} file is corrupt: trailing bytes.");
        }

        return model;
    }

    public void Save(string path)
    {
        using var stream = File.Create(path);
        Save(stream);
    }

    public static FactorizationMachine Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Load(stream);
    }

    private bool IsTouched(int i)
    {
        int b = i * _stride;
        if (_p[b + (2 * _k) + 1] != 0)
        {
            return true;
        }

        foreach (float a in _p.AsSpan(b + _k, _k))
        {
            if (a != 0)
            {
                return true;
            }
        }

        return false;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private double Margin(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, Span<float> sums)
    {
        sums.Clear();
        double linear = _w0;
        double squares = 0;
        for (int j = 0; j < indices.Length; j++)
        {
            int i = indices[j];
            float x = values[j];
            Span<float> record = _p.AsSpan(i * _stride, _stride);
            linear += record[2 * _k] * x;
            squares += AccumulateFactors(record[.._k], x, sums) * x * x;
        }

        double pairs = 0;
        foreach (float s in sums)
        {
            pairs += s * s;
        }

        return linear + (0.5 * (pairs - squares));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private float UpdateCore(in SparseSample sample, Span<float> sums)
    {
        ReadOnlySpan<int> indices = sample.Indices;
        ReadOnlySpan<float> values = sample.Values;
        float p = FtrlModel.Sigmoid(Margin(indices, values, sums));
        float g = (p - Math.Clamp(sample.Label, 0f, 1f)) * sample.Weight;
        _samplesSeen++;
        if (g == 0)
        {
            return p;
        }

        _w0Acc += (double)g * g;
        _w0 -= _lr * g / (Math.Sqrt(_w0Acc) + AdaGradEpsilon);
        for (int j = 0; j < indices.Length; j++)
        {
            int i = indices[j];
            float x = values[j];
            Span<float> record = _p.AsSpan(i * _stride, _stride);
            ref float w = ref record[2 * _k];
            ref float wAcc = ref record[(2 * _k) + 1];
            float gw = (g * x) + (_l2w * w);
            wAcc += gw * gw;
            w -= _lr * gw / (MathF.Sqrt(wAcc) + AdaGradEpsilon);
            UpdateFactors(record[.._k], record.Slice(_k, _k), sums, g * x, g * x * x);
        }

        return p;
    }

    /// <summary>Asks the CPU to fetch every cache line of an upcoming sample's feature records while this one is learned.</summary>
    private unsafe void Prefetch(ReadOnlySpan<int> upcoming)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            return;
        }

        int bytes = _stride * sizeof(float);
        fixed (float* p = _p)
        {
            foreach (int i in upcoming)
            {
                byte* record = (byte*)(p + ((long)i * _stride));
                for (int offset = 0; offset < bytes; offset += 64)
                {
                    System.Runtime.Intrinsics.X86.Sse.Prefetch0(record + offset);
                }

                System.Runtime.Intrinsics.X86.Sse.Prefetch0(record + bytes - 1);
            }
        }
    }

    /// <summary>sums += v·x; returns Σ v².</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float AccumulateFactors(Span<float> v, float x, Span<float> sums)
    {
        int f = 0;
        float squares = 0;
        if (Vector.IsHardwareAccelerated && v.Length >= Vector<float>.Count)
        {
            var vx = new Vector<float>(x);
            var sq = Vector<float>.Zero;
            ref float vr = ref MemoryMarshal.GetReference(v);
            ref float sr = ref MemoryMarshal.GetReference(sums);
            for (; f <= v.Length - Vector<float>.Count; f += Vector<float>.Count)
            {
                var vv = Vector.LoadUnsafe(ref vr, (nuint)f);
                var ss = Vector.LoadUnsafe(ref sr, (nuint)f);
                (ss + (vv * vx)).StoreUnsafe(ref sr, (nuint)f);
                sq += vv * vv;
            }

            squares = Vector.Sum(sq);
        }

        for (; f < v.Length; f++)
        {
            sums[f] += v[f] * x;
            squares += v[f] * v[f];
        }

        return squares;
    }

    /// <summary>AdaGrad step on one factor vector: grad_f = gx·sum_f − gxx·v_f + l2·v_f.</summary>
    private void UpdateFactors(Span<float> v, Span<float> acc, ReadOnlySpan<float> sums, float gx, float gxx)
    {
        int f = 0;
        if (Vector.IsHardwareAccelerated && v.Length >= Vector<float>.Count)
        {
            var vgx = new Vector<float>(gx);
            var vgxx = new Vector<float>(gxx);
            var vl2 = new Vector<float>(_l2v);
            var vlr = new Vector<float>(_lr);
            var veps = new Vector<float>(AdaGradEpsilon);
            ref float vr = ref MemoryMarshal.GetReference(v);
            ref float ar = ref MemoryMarshal.GetReference(acc);
            ref float sr = ref MemoryMarshal.GetReference(sums);
            for (; f <= v.Length - Vector<float>.Count; f += Vector<float>.Count)
            {
                var vv = Vector.LoadUnsafe(ref vr, (nuint)f);
                var grad = (vgx * Vector.LoadUnsafe(ref sr, (nuint)f)) - (vgxx * vv) + (vl2 * vv);
                var aa = Vector.LoadUnsafe(ref ar, (nuint)f) + (grad * grad);
                aa.StoreUnsafe(ref ar, (nuint)f);
                (vv - (vlr * grad / (Vector.SquareRoot(aa) + veps))).StoreUnsafe(ref vr, (nuint)f);
            }
        }

        for (; f < v.Length; f++)
        {
            float grad = (gx * sums[f]) - (gxx * v[f]) + (_l2v * v[f]);
            acc[f] += grad * grad;
            v[f] -= _lr * grad / (MathF.Sqrt(acc[f]) + AdaGradEpsilon);
        }
    }

    private void ApplyHyperparameters(FactorizationMachineOptions options)
    {
        _lr = (float)options.LearningRate;
        _l2w = (float)options.L2Linear;
        _l2v = (float)options.L2Factors;
    }

    /// <summary>Uniform in [−√3σ, √3σ] from SplitMix64 of (seed, feature·k + factor): stable across runtimes, no stored state.</summary>
    private static void InitFactors(float[] p, int k, int stride, ulong seed, float std)
    {
        float scale = std * MathF.Sqrt(3f);
        ulong state = seed * 0x9E3779B97F4A7C15UL;
        int features = p.Length / stride;
        for (int i = 0; i < features; i++)
        {
            Span<float> v = p.AsSpan(i * stride, k);
            for (int f = 0; f < k; f++)
            {
                state += 0x9E3779B97F4A7C15UL;
                ulong z = state;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                z ^= z >> 31;
                float unit = (z >> 40) * (1f / (1 << 24)); // [0, 1)
                v[f] = ((2f * unit) - 1f) * scale;
            }
        }
    }

    private void CheckSample(in SparseSample sample)
    {
        foreach (int i in sample.Indices)
        {
            if ((uint)i >= (uint)_size)
            {
                throw new ArgumentOutOfRangeException(nameof(sample), i, $"Feature index outside this model's 2^{Options.Bits} coordinates.");
            }
        }
    }
}
