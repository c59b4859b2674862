using System.Collections;
using System.Collections.Frozen;

namespace Zhongtai.Experiments;

/// <summary>One experiment's bucket for a unit, with what the bucket overrides. Immutable; built once per config.</summary>
public sealed class ExperimentAssignment
{
    internal ExperimentAssignment(ExperimentConfig experiment, BucketConfig bucket, bool isControl)
    {
        ExperimentId = experiment.Id;
        Layer = experiment.EffectiveLayer;
        Bucket = bucket.Name;
        IsControl = isControl;
        Label = experiment.Id + ":" + bucket.Name;
        ModelAlias = bucket.ModelAlias;
        ChannelQuotas = bucket.ChannelQuotas is { Count: > 0 } q ? q.ToFrozenDictionary(StringComparer.Ordinal) : FrozenDictionary<string, int>.Empty;
        Rules = bucket.Rules is { Count: > 0 } r ? r.ToFrozenDictionary(StringComparer.Ordinal) : FrozenDictionary<string, string>.Empty;
    }

    public string ExperimentId { get; }
    public string Layer { get; }
    public string Bucket { get; }

    /// <summary>True for the experiment's control bucket.</summary>
    public bool IsControl { get; }

    /// <summary><c>experimentId:bucket</c>, as logged in <c>properties.bucket</c>.</summary>
    public string Label { get; }

    /// <summary>The model alias to rank with; null: serving's default.</summary>
    public string? ModelAlias { get; }

    /// <summary>Recall channel → quota; empty: serving's defaults.</summary>
    public IReadOnlyDictionary<string, int> ChannelQuotas { get; }

    /// <summary>Free key/values for the serving engine; empty when none.</summary>
    public IReadOnlyDictionary<string, string> Rules { get; }

    public override string ToString() => Label;
}

/// <summary>
/// The assignments of one unit in one scene: at most one per layer, in layer order, with the overrides merged (on a
/// conflict between layers the earlier layer wins). Instances are cached per config and shared between requests:
/// never mutate, and compare by content, not by reference.
/// </summary>
public sealed class ExperimentAssignments : IReadOnlyList<ExperimentAssignment>
{
    /// <summary>No experiment: serving's defaults, nothing to log.</summary>
    public static readonly ExperimentAssignments Empty = new([]);

    private readonly ExperimentAssignment[] _items;

    internal ExperimentAssignments(ExperimentAssignment[] items)
    {
        _items = items;
        BucketLabel = items.Length == 0 ? null : string.Join(',', items.Select(a => a.Label));
        ModelAlias = items.Select(a => a.ModelAlias).FirstOrDefault(m => m is not null);
        ChannelQuotas = Merge(items, a => a.ChannelQuotas);
        Rules = Merge(items, a => a.Rules);
    }

    /// <summary>
    /// What serving logs as <c>properties.bucket</c>: <c>exp:bucket</c>, several joined by ',' in layer order
    /// (e.g. <c>rank-v2:treatment,recall-mix:control</c>); null when empty (log no bucket).
    /// </summary>
    public string? BucketLabel { get; }

    /// <summary>The first model alias any assigned bucket overrides; null: serving's default.</summary>
    public string? ModelAlias { get; }

    /// <summary>Merged channel quotas; empty: serving's defaults.</summary>
    public IReadOnlyDictionary<string, int> ChannelQuotas { get; }

    /// <summary>Merged rules; empty when none.</summary>
    public IReadOnlyDictionary<string, string> Rules { get; }

    public bool IsEmpty => _items.Length == 0;

    public int Count => _items.Length;

    public ExperimentAssignment this[int index] => _items[index];

    /// <summary>The assignment for <paramref name="experimentId"/>, or null.</summary>
    public ExperimentAssignment? Find(string experimentId)
    {
        foreach (var a in _items)
        {
            if (a.ExperimentId == experimentId)
            {
                return a;
            }
        }

        return null;
    }

    /// <summary>Allocation-free enumeration with <c>foreach</c>.</summary>
    public ReadOnlySpan<ExperimentAssignment>.Enumerator GetEnumerator() => new ReadOnlySpan<ExperimentAssignment>(_items).GetEnumerator();

    IEnumerator<ExperimentAssignment> IEnumerable<ExperimentAssignment>.GetEnumerator() => ((IEnumerable<ExperimentAssignment>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    public override string ToString() => BucketLabel ?? "(none)";

    private static FrozenDictionary<string, T> Merge<T>(ExperimentAssignment[] items, Func<ExperimentAssignment, IReadOnlyDictionary<string, T>> pick)
    {
        if (items.Length == 1)
        {
            return (FrozenDictionary<string, T>)pick(items[0]);
        }

        var merged = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var a in items)
        {
            foreach (var (k, v) in pick(a))
            {
                merged.TryAdd(k, v);
            }
        }

        return merged.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
