using System.Globalization;
using Zhongtai.Events;

namespace Zhongtai.Indexing.Features;

/// <summary>Options of <see cref="RealtimeFeatureFeed"/>.</summary>
public sealed class RealtimeFeatureOptions
{
    /// <summary>Sliding windows, in seconds of event time; each gives three features. Default 300 and 3600.</summary>
    public IReadOnlyList<int> WindowSeconds { get; set; } = [300, 3600];

    /// <summary>Granularity of the windows: counts are kept in buckets this wide (every window a multiple of it). Default 60 s.</summary>
    public int BucketSeconds { get; set; } = 60;

    /// <summary>CTR smoothing: <c>(clicks + CtrPriorClicks) / (exposures + CtrPriorExposures)</c>; 0 when both are 0. Default 0 (raw CTR).</summary>
    public double CtrPriorClicks { get; set; }

    /// <summary>See <see cref="CtrPriorClicks"/>. Default 0.</summary>
    public double CtrPriorExposures { get; set; }

    /// <summary>Entities are forgotten (and the sweep runs) after this many events. Default 10,000.</summary>
    public int SweepEvery { get; set; } = 10_000;

    /// <summary>Throws <see cref="ArgumentException"/> on invalid values.</summary>
    public void Validate()
    {
        if (BucketSeconds < 1)
        {
            throw new ArgumentException($"BucketSeconds must be >= 1; got {BucketSeconds}.", nameof(BucketSeconds));
        }
        if (WindowSeconds.Count == 0 || WindowSeconds.Any(w => w < BucketSeconds || w % BucketSeconds != 0))
        {
            throw new ArgumentException($"WindowSeconds must be a non-empty list of multiples of BucketSeconds ({BucketSeconds}); got [{string.Join(", ", WindowSeconds)}].", nameof(WindowSeconds));
        }
        if (CtrPriorClicks < 0 || CtrPriorExposures < 0 || CtrPriorClicks > CtrPriorExposures)
        {
            throw new ArgumentException("CTR priors must satisfy 0 <= CtrPriorClicks <= CtrPriorExposures.", nameof(CtrPriorClicks));
        }
        if (SweepEvery < 1)
        {
            throw new ArgumentException($"SweepEvery must be >= 1; got {SweepEvery}.", nameof(SweepEvery));
        }
    }
}

/// <summary>
/// Realtime counters for the online feature store, fed by the nearline consumer one event at a time: per item and per
/// user, exposures, clicks and CTR over short sliding windows of event time, written to the stores' TTL overlay as each
/// exposure or click arrives. Features (in this order, for each window W): <c>exposures_Ws</c>, <c>clicks_Ws</c>,
/// <c>ctr_Ws</c> (<see cref="FeatureNames"/>); create both stores with those names.
/// </summary>
/// <remarks>
/// Windows are measured in event time (replay gives the same values); an entity's row is rewritten when one of its own
/// events arrives, so between its events the row shows its counts as of its last event, and the overlay entry expires
/// (store time) after the longest window, after which the base version (or nothing) is served again. Counters live in
/// memory only: after a restart they refill from the events the consumer applies next. Apply from one thread (the
/// consumer's); the stores are safe for concurrent readers.
/// </remarks>
public sealed class RealtimeFeatureFeed
{
    private readonly RealtimeFeatureOptions _options;
    private readonly IFeatureStore _items;
    private readonly IFeatureStore _users;
    private readonly int _buckets;
    private readonly int[] _windowBuckets;
    private readonly TimeSpan _ttl;
    private readonly Dictionary<string, Counters> _itemCounters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Counters> _userCounters = new(StringComparer.Ordinal);
    private readonly float[] _row;
    private readonly Lock _lock = new();
    private long _latestBucket = long.MinValue;
    private long _sinceSweep;

    /// <summary>Creates a feed writing item rows to <paramref name="items"/> and user rows to <paramref name="users"/>.</summary>
    public RealtimeFeatureFeed(IFeatureStore items, IFeatureStore users, RealtimeFeatureOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(users);
        _options = options ?? new RealtimeFeatureOptions();
        _options.Validate();
        var names = FeatureNamesFor(_options);
        foreach (var store in new[] { items, users })
        {
            if (!store.FeatureNames.SequenceEqual(names, StringComparer.Ordinal))
            {
                throw new ArgumentException($"The stores must have the features [{string.Join(", ", names)}]; one has [{string.Join(", ", store.FeatureNames)}].", nameof(items));
            }
        }
        _items = items;
        _users = users;
        _windowBuckets = [.. _options.WindowSeconds.Select(w => w / _options.BucketSeconds)];
        _buckets = _windowBuckets.Max();
        _ttl = TimeSpan.FromSeconds(_options.WindowSeconds.Max());
        _row = new float[names.Count];
        FeatureNames = names;
    }

    /// <summary>The feature names of both stores.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Items and users with counters in memory.</summary>
    public (int Items, int Users) Tracked
    {
        get
        {
            lock (_lock)
            {
                return (_itemCounters.Count, _userCounters.Count);
            }
        }
    }

    /// <summary>The feature names for <paramref name="options"/> (defaults: <c>exposures_300s, clicks_300s, ctr_300s, exposures_3600s, ...</c>).</summary>
    public static IReadOnlyList<string> FeatureNamesFor(RealtimeFeatureOptions? options = null)
    {
        options ??= new RealtimeFeatureOptions();
        return [.. options.WindowSeconds.SelectMany(w =>
        {
            var s = w.ToString(CultureInfo.InvariantCulture);
            return new[] { $"exposures_{s}s", $"clicks_{s}s", $"ctr_{s}s" };
        })];
    }

    /// <summary>Applies one event: exposures and clicks update the item's and the user's rows; other events are ignored.</summary>
    public void Apply(Event e)
    {
        ArgumentNullException.ThrowIfNull(e);
        bool click = e.Type == EventTypes.Click;
        if (!(click || e.Type == EventTypes.Exposure) || e.ItemId is null)
        {
            return;
        }
        long bucket = Math.DivRem(e.Timestamp.ToUnixTimeSeconds(), _options.BucketSeconds, out long rem);
        if (rem < 0)
        {
            bucket--;
        }
        lock (_lock)
        {
            _latestBucket = Math.Max(_latestBucket, bucket);
            Update(_itemCounters, e.ItemId, bucket, click, _items);
            if (e.UserId is not null)
            {
                Update(_userCounters, e.UserId, bucket, click, _users);
            }
            if (++_sinceSweep >= _options.SweepEvery)
            {
                _sinceSweep = 0;
                Forget(_itemCounters);
                Forget(_userCounters);
            }
        }
    }

    /// <summary>The <c>Action&lt;long, Event&gt;</c> a consumer hook takes (the offset is not needed).</summary>
    public void Apply(long offset, Event e) => Apply(e);

    private void Update(Dictionary<string, Counters> map, string key, long bucket, bool click, IFeatureStore store)
    {
        if (!map.TryGetValue(key, out var c))
        {
            map[key] = c = new Counters(_buckets);
        }
        c.Add(bucket, click);
        long now = Math.Max(bucket, c.Last);
        Span<int> exposureSums = stackalloc int[_windowBuckets.Length];
        Span<int> clickSums = stackalloc int[_windowBuckets.Length];
        c.Sum(now, _windowBuckets, exposureSums, clickSums);
        for (int w = 0; w < _windowBuckets.Length; w++)
        {
            int exposures = exposureSums[w], clicks = clickSums[w];
            double denominator = exposures + _options.CtrPriorExposures;
            _row[3 * w] = exposures;
            _row[(3 * w) + 1] = clicks;
            _row[(3 * w) + 2] = denominator > 0 ? (float)((clicks + _options.CtrPriorClicks) / denominator) : 0f;
        }
        store.Put(key, _row, _ttl);
    }

    private void Forget(Dictionary<string, Counters> map)
    {
        long horizon = _latestBucket - _buckets;
        List<string>? stale = null;
        foreach (var (key, c) in map)
        {
            if (c.Last <= horizon)
            {
                (stale ??= []).Add(key);
            }
        }
        foreach (var key in stale ?? [])
        {
            map.Remove(key);
        }
    }

    /// <summary>A ring of per-bucket (exposures, clicks) counts, indexed by bucket number modulo the ring size.</summary>
    private sealed class Counters(int size)
    {
        private readonly int[] _exposures = new int[size];
        private readonly int[] _clicks = new int[size];
        private readonly long[] _bucketOf = Init(size);

        public long Last { get; private set; } = long.MinValue;

        public void Add(long bucket, bool click)
        {
            if (Last != long.MinValue && bucket <= Last - _exposures.Length)
            {
                return; // older than every window: late event, nothing to count
            }
            int slot = (int)(((bucket % _exposures.Length) + _exposures.Length) % _exposures.Length);
            if (_bucketOf[slot] != bucket)
            {
                _bucketOf[slot] = bucket;
                _exposures[slot] = 0;
                _clicks[slot] = 0;
            }
            if (click)
            {
                _clicks[slot]++;
            }
            else
            {
                _exposures[slot]++;
            }
            Last = Math.Max(Last, bucket);
        }

        /// <summary>
        /// For each window length in <paramref name="windows"/> (in buckets), the counts of that many buckets ending at
        /// <paramref name="now"/> (inclusive), in one pass over the ring.
        /// </summary>
        public void Sum(long now, int[] windows, Span<int> exposures, Span<int> clicks)
        {
            exposures.Clear();
            clicks.Clear();
            for (int i = 0; i < _exposures.Length; i++)
            {
                ulong age = (ulong)(now - _bucketOf[i]); // unchecked: a bucket after now, or never used, is huge
                if (age >= (ulong)_exposures.Length)
                {
                    continue;
                }

                for (int w = 0; w < windows.Length; w++)
                {
                    if (age < (ulong)windows[w])
                    {
                        exposures[w] += _exposures[i];
                        clicks[w] += _clicks[i];
                    }
                }
            }
        }

        private static long[] Init(int size)
        {
            var a = new long[size];
            Array.Fill(a, long.MinValue);
            return a;
        }
    }
}
