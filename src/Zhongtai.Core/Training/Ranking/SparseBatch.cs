namespace Zhongtai.Training.Ranking;

/// <summary>
/// One training or scoring sample as a view into a <see cref="SparseBatch"/> (or into caller-owned spans):
/// hashed feature indices with their values, a label (0/1 for click models, a graded relevance for
/// ranking), a weight and a group id (request or user; used by grouped metrics and LambdaRank).
/// Creating one allocates nothing.
/// </summary>
public readonly ref struct SparseSample
{
    public SparseSample(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, float label = 0f, float weight = 1f, int group = 0)
    {
        if (indices.Length != values.Length)
        {
            throw new ArgumentException($"A sample needs one value per index ({indices.Length} indices, {values.Length} values).", nameof(values));
        }

        Indices = indices;
        Values = values;
        Label = label;
        Weight = weight;
        Group = group;
    }

    public ReadOnlySpan<int> Indices { get; }

    public ReadOnlySpan<float> Values { get; }

    public float Label { get; }

    public float Weight { get; }

    public int Group { get; }
}

/// <summary>
/// A batch of sparse samples in CSR layout: sample <c>i</c> owns
/// <c>Indices[Offsets[i]..Offsets[i + 1]]</c> and the same range of <c>Values</c>.
/// Labels, weights and groups are one entry per sample. Immutable once built; build with
/// <see cref="SparseBatchBuilder"/>.
/// </summary>
public sealed class SparseBatch
{
    private readonly int[] _offsets;
    private readonly int[] _indices;
    private readonly float[] _values;
    private readonly float[] _labels;
    private readonly float[] _weights;
    private readonly int[] _groups;

    internal SparseBatch(int[] offsets, int[] indices, float[] values, float[] labels, float[] weights, int[] groups, int count)
    {
        _offsets = offsets;
        _indices = indices;
        _values = values;
        _labels = labels;
        _weights = weights;
        _groups = groups;
        Count = count;
    }

    /// <summary>The number of samples.</summary>
    public int Count { get; }

    /// <summary>Total number of stored (index, value) pairs.</summary>
    public int NonZeros => _offsets[Count];

    public ReadOnlySpan<int> Offsets => _offsets.AsSpan(0, Count + 1);

    public ReadOnlySpan<int> Indices => _indices.AsSpan(0, NonZeros);

    public ReadOnlySpan<float> Values => _values.AsSpan(0, NonZeros);

    public ReadOnlySpan<float> Labels => _labels.AsSpan(0, Count);

    public ReadOnlySpan<float> Weights => _weights.AsSpan(0, Count);

    public ReadOnlySpan<int> Groups => _groups.AsSpan(0, Count);

    /// <summary>The largest feature index plus one (0 for a batch without features).</summary>
    public int IndexBound()
    {
        int max = -1;
        foreach (int index in Indices)
        {
            max = Math.Max(max, index);
        }

        return max + 1;
    }

    public SparseSample this[int i]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(i);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(i, Count);
            int start = _offsets[i];
            int length = _offsets[i + 1] - start;
            return new SparseSample(_indices.AsSpan(start, length), _values.AsSpan(start, length), _labels[i], _weights[i], _groups[i]);
        }
    }

    /// <summary>Samples <c>[start, start + count)</c> as a new batch (copies).</summary>
    public SparseBatch Slice(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + count, Count);
        int from = _offsets[start];
        int to = _offsets[start + count];
        var offsets = new int[count + 1];
        for (int i = 0; i <= count; i++)
        {
            offsets[i] = _offsets[start + i] - from;
        }

        return new SparseBatch(
            offsets,
            _indices.AsSpan(from, to - from).ToArray(),
            _values.AsSpan(from, to - from).ToArray(),
            _labels.AsSpan(start, count).ToArray(),
            _weights.AsSpan(start, count).ToArray(),
            _groups.AsSpan(start, count).ToArray(),
            count);
    }
}

/// <summary>
/// Appends samples into growing contiguous arrays and produces a <see cref="SparseBatch"/>.
/// Not thread-safe. Growth is amortised (doubling); nothing is allocated per sample.
/// </summary>
public sealed class SparseBatchBuilder
{
    private int[] _offsets;
    private int[] _indices;
    private float[] _values;
    private float[] _labels;
    private float[] _weights;
    private int[] _groups;
    private int _count;

    public SparseBatchBuilder(int expectedSamples = 1024, int expectedNonZerosPerSample = 16)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(expectedSamples);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(expectedNonZerosPerSample);
        _offsets = new int[expectedSamples + 1];
        _indices = new int[expectedSamples * expectedNonZerosPerSample];
        _values = new float[_indices.Length];
        _labels = new float[expectedSamples];
        _weights = new float[expectedSamples];
        _groups = new int[expectedSamples];
    }

    public int Count => _count;

    /// <summary>Appends a sample whose features all have value 1 (one-hot categorical features).</summary>
    public void Add(ReadOnlySpan<int> indices, float label, float weight = 1f, int group = 0)
    {
        int start = Reserve(indices.Length);
        indices.CopyTo(_indices.AsSpan(start));
        _values.AsSpan(start, indices.Length).Fill(1f);
        Finish(indices.Length, label, weight, group);
    }

    /// <summary>Appends a sample with explicit feature values (numeric features, or weighted categorical ones).</summary>
    public void Add(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, float label, float weight = 1f, int group = 0)
    {
        if (indices.Length != values.Length)
        {
            throw new ArgumentException($"A sample needs one value per index ({indices.Length} indices, {values.Length} values).", nameof(values));
        }

        foreach (float value in values)
        {
            if (!float.IsFinite(value))
            {
                throw new ArgumentException($"Sample {_count}: feature values must be finite (found {value}).", nameof(values));
            }
        }

        int start = Reserve(indices.Length);
        indices.CopyTo(_indices.AsSpan(start));
        values.CopyTo(_values.AsSpan(start));
        Finish(indices.Length, label, weight, group);
    }

    public void Add(in SparseSample sample) => Add(sample.Indices, sample.Values, sample.Label, sample.Weight, sample.Group);

    /// <summary>Hands the accumulated arrays to a new batch and resets the builder to empty.</summary>
    public SparseBatch Build()
    {
        var batch = new SparseBatch(_offsets, _indices, _values, _labels, _weights, _groups, _count);
        _offsets = [0];
        _indices = [];
        _values = [];
        _labels = [];
        _weights = [];
        _groups = [];
        _count = 0;
        return batch;
    }

    private int Reserve(int nnz)
    {
        if (nnz < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(nnz));
        }

        int start = _offsets[_count];
        if (start + nnz > _indices.Length)
        {
            int size = Math.Max(start + nnz, Math.Max(16, _indices.Length * 2));
            Array.Resize(ref _indices, size);
            Array.Resize(ref _values, size);
        }

        if (_count + 1 >= _offsets.Length)
        {
            int size = Math.Max(16, _labels.Length * 2);
            Array.Resize(ref _offsets, size + 1);
            Array.Resize(ref _labels, size);
            Array.Resize(ref _weights, size);
            Array.Resize(ref _groups, size);
        }

        return start;
    }

    private void Finish(int nnz, float label, float weight, int group)
    {
        if (!float.IsFinite(label) || !float.IsFinite(weight) || weight < 0)
        {
            throw new ArgumentException($"Sample {_count}: label and weight must be finite and the weight non-negative (label {label}, weight {weight}).");
        }

        _labels[_count] = label;
        _weights[_count] = weight;
        _groups[_count] = group;
        _offsets[_count + 1] = _offsets[_count] + nnz;
        _count++;
    }
}

/// <summary>Checks a caller-made sample before a model learns from it: one NaN would poison the state for good.</summary>
internal static class SampleChecks
{
    public static void CheckLearnable(in SparseSample sample)
    {
        if (!float.IsFinite(sample.Label) || !float.IsFinite(sample.Weight) || sample.Weight < 0)
        {
            throw new ArgumentException($"A sample's label and weight must be finite and the weight non-negative (label {sample.Label}, weight {sample.Weight}).", nameof(sample));
        }

        foreach (float value in sample.Values)
        {
            if (!float.IsFinite(value))
            {
                throw new ArgumentException($"A sample's feature values must be finite (found {value}).", nameof(sample));
            }
        }
    }
}
