using System.ComponentModel.DataAnnotations;
using System.IO.Hashing;
using System.Text;
using Zhongtai.Events;
using Zhongtai.Training.Ranking;

namespace Zhongtai.Nearline;

/// <summary>Options of the realtime models (configuration section <c>Realtime</c>).</summary>
public sealed class RealtimeOptions
{
    /// <summary>Run the nearline consumer in the server. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A snapshot is published (and the position committed) this often. Default 60 s.</summary>
    [Range(1, 86_400)]
    public int SnapshotSeconds { get; set; } = 60;

    /// <summary>A click counts for an exposure when it comes within this many seconds of it. Default 1800.</summary>
    [Range(1, 7 * 86_400)]
    public int AttributionWindowSeconds { get; set; } = 1800;

    /// <summary>
    /// Exposures waiting for a click are kept at most this many; beyond it the oldest is settled early (learned as not
    /// clicked, as at the end of its window). This bounds memory under heavy serving: at 50,000 exposures/s the window is
    /// then the last 40 s, at 1,000/s the whole <see cref="AttributionWindowSeconds"/>. Default 2,000,000 (~100 MB).
    /// </summary>
    [Range(1000, 1_000_000_000)]
    public int MaxPendingExposures { get; set; } = 2_000_000;

    /// <summary>Recent items kept per user for co-occurrence. Default 20.</summary>
    [Range(1, 1000)]
    public int RecentItemsPerUser { get; set; } = 20;

    /// <summary>Half-life of item popularity, in hours of event time. Default 24.</summary>
    [Range(0.01, 100_000)]
    public double PopularityHalfLifeHours { get; set; } = 24;

    /// <summary>Hash space of the realtime FTRL model, in bits. Default 20.</summary>
    [Range(10, 28)]
    public int FtrlBits { get; set; } = 20;
}

/// <summary>Counters of one item.</summary>
public sealed class ItemCounters
{
    public long Exposures { get; set; }
    public long Clicks { get; set; }
    public long Likes { get; set; }
    public long Purchases { get; set; }

    // The realtime model's hashed i and c features of this item, remembered (-1: not yet; the c one is for FeatureCategory).
    internal int ItemFeature = -1;
    internal int CategoryFeature = -1;
    internal string? FeatureCategory;

    /// <summary>Exponentially decayed engagement (clicks 1, likes 2, purchases 4), as of <see cref="LastSeconds"/>.</summary>
    public double Popularity { get; set; }

    public long LastSeconds { get; set; }
    public string? Category { get; set; }
}

/// <summary>
/// The realtime models, updated one event at a time in log order: per-item counters and decayed popularity,
/// item-to-item co-occurrence over each user's recent items, and an FTRL click model trained on exposures joined
/// with the clicks that follow within the attribution window. Every update depends on event time only, so
/// replaying the same offsets from a snapshot gives exactly the same state: that is what makes resume exact.
/// </summary>
public sealed class RealtimeState
{
    private const uint Magic = 0x5A54524C; // "ZTRL"
    private const int Version = 3; // 3: pending exposures hold their feature indices; 2: keyed by a 128-bit hash; 1: by the joined string
    private readonly RealtimeOptions _options;
    private readonly FeatureHasher _hasher;
    private (string? User, int UserFeature, string? Scene, int SceneFeature, string? Device, int DeviceFeature) _last;
    private readonly int[] _positionFeatures = Enumerable.Repeat(-1, 129).ToArray(); // p for null, then positions 0..127
    private readonly Dictionary<string, ItemCounters> _items = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, float>> _cooccurrence = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _recent = new(StringComparer.Ordinal);
    private readonly Dictionary<UInt128, Pending> _pending = [];
    private readonly Queue<(long Seconds, UInt128 Key)> _expiry = new();
    private readonly int[] _indices = new int[8];
    private readonly float[] _ones = [1, 1, 1, 1, 1, 1, 1, 1];

    public RealtimeState(RealtimeOptions options)
    {
        _options = options;
        _hasher = new FeatureHasher(options.FtrlBits, seed: 7);
        Ftrl = new FtrlModel(new FtrlOptions { Bits = options.FtrlBits });
    }

    /// <summary>The next offset to apply: everything before it is in this state.</summary>
    public long NextOffset { get; private set; }

    /// <summary>Events applied since the state began (across snapshots).</summary>
    public long EventsApplied { get; private set; }

    /// <summary>Exposure/click samples the FTRL model has learned from.</summary>
    public long SamplesLearned { get; private set; }

    public FtrlModel Ftrl { get; private set; }

    public IReadOnlyDictionary<string, ItemCounters> Items => _items;

    /// <summary>Applies the event at <paramref name="offset"/>; offsets must be applied in order, each once.</summary>
    public void Apply(long offset, Event e)
    {
        if (offset < NextOffset)
        {
            return; // already in this state: a replay after resume
        }

        NextOffset = offset + 1;
        EventsApplied++;
        var now = e.Timestamp.ToUnixTimeSeconds();
        ExpireExposures(now);
        if (e.Type == EventTypes.Item && e.ItemId is not null)
        {
            Counters(e.ItemId).Category = e.Category;
            return;
        }

        if (e.UserId is null || e.ItemId is null)
        {
            return;
        }

        var item = Counters(e.ItemId);
        switch (e.Type)
        {
            case EventTypes.Exposure:
                item.Exposures++;
                var key = PendingKey(e.UserId, e.ItemId, e.RequestId);
                if (_pending.TryAdd(key, Features(now, e.UserId, e.ItemId, item, e.Scene, e.Position, e.Device)))
                {
                    _expiry.Enqueue((now + _options.AttributionWindowSeconds, key));
                    while (_pending.Count > _options.MaxPendingExposures && _expiry.TryDequeue(out var oldest))
                    {
                        if (_pending.Remove(oldest.Key, out var settled))
                        {
                            Learn(settled, label: 0);
                        }
                    }
                }

                return;
            case EventTypes.Click:
                item.Clicks++;
                Engage(item, now, 1);
                if (_pending.Remove(PendingKey(e.UserId, e.ItemId, e.RequestId), out var exposure))
                {
                    Learn(exposure, label: 1);
                }

                break;
            case EventTypes.Like:
                item.Likes++;
                Engage(item, now, 2);
                break;
            case EventTypes.Purchase:
                item.Purchases++;
                Engage(item, now, 4);
                break;
            default:
                return;
        }

        CoOccur(e.UserId, e.ItemId);
    }

    /// <summary>The items most often engaged with together with <paramref name="itemId"/>, strongest first.</summary>
    public IReadOnlyList<(string Item, float Weight)> Neighbours(string itemId, int k)
    {
        if (!_cooccurrence.TryGetValue(itemId, out var row))
        {
            return [];
        }

        return [.. row.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(k).Select(kv => (kv.Key, kv.Value))];
    }

    /// <summary>The most popular items as of <paramref name="atSeconds"/> (Unix seconds), with decay applied.</summary>
    public IReadOnlyList<(string Item, double Score)> Popular(int k, long atSeconds, string? category = null) =>
        [.. _items.Where(kv => category is null || kv.Value.Category == category)
            .Select(kv => (kv.Key, Decayed(kv.Value, atSeconds)))
            .OrderByDescending(x => x.Item2).ThenBy(x => x.Key, StringComparer.Ordinal).Take(k)];

    /// <summary>The FTRL model's click probability for a user seeing an item in a context.</summary>
    public float PredictClick(string userId, string itemId, string? scene, int? position, string? device)
    {
        var n = Fill(Features(0, userId, itemId, scene, position, device));
        return Ftrl.Predict(new SparseSample(_indices.AsSpan(0, n), _ones.AsSpan(0, n)));
    }

    /// <summary>Writes the whole state (with the offset it covers) in one checksummed stream.</summary>
    public void Save(Stream stream)
    {
        using var body = new MemoryStream();
        using (var w = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(NextOffset);
            w.Write(EventsApplied);
            w.Write(SamplesLearned);
            w.Write(_items.Count);
            foreach (var (id, c) in _items)
            {
                w.Write(id);
                w.Write(c.Exposures);
                w.Write(c.Clicks);
                w.Write(c.Likes);
                w.Write(c.Purchases);
                w.Write(c.Popularity);
                w.Write(c.LastSeconds);
                w.Write(c.Category ?? "");
            }

            w.Write(_cooccurrence.Count);
            foreach (var (id, row) in _cooccurrence)
            {
                w.Write(id);
                w.Write(row.Count);
                foreach (var (other, weight) in row)
                {
                    w.Write(other);
                    w.Write(weight);
                }
            }

            w.Write(_recent.Count);
            foreach (var (user, items) in _recent)
            {
                w.Write(user);
                w.Write(items.Count);
                items.ForEach(w.Write);
            }

            w.Write(_expiry.Count);
            foreach (var (seconds, key) in _expiry)
            {
                w.Write(seconds);
                w.Write((ulong)key);
                w.Write((ulong)(key >> 64));
                var has = _pending.TryGetValue(key, out var p);
                w.Write(has);
                if (has)
                {
                    w.Write(p.Seconds);
                    foreach (var index in (ReadOnlySpan<int>)[p.U, p.I, p.S, p.P, p.D, p.C, p.Uc])
                    {
                        w.Write(index);
                    }
                }
            }

            using var ftrl = new MemoryStream();
            Ftrl.Save(ftrl);
            w.Write((int)ftrl.Length);
            w.Write(ftrl.GetBuffer(), 0, (int)ftrl.Length);
        }

        using var header = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        header.Write(Magic);
        header.Write(Version);
        header.Write(body.Length);
        header.Write(XxHash64.HashToUInt64(body.GetBuffer().AsSpan(0, (int)body.Length)));
        header.Write(body.GetBuffer(), 0, (int)body.Length);
    }

    /// <summary>Reads a state written by <see cref="Save"/>; a corrupt or truncated snapshot is refused.</summary>
    public static RealtimeState Load(Stream stream, RealtimeOptions options)
    {
        using var header = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        var version = header.ReadUInt32() == Magic ? header.ReadInt32() : -1;
        if (version is not (1 or 2 or Version))
        {
            throw new InvalidDataException("Not a realtime snapshot (bad magic or version).");
        }

        var length = header.ReadInt64();
        var checksum = header.ReadUInt64();
        var bytes = header.ReadBytes((int)length);
        if (bytes.Length != length || XxHash64.HashToUInt64(bytes) != checksum)
        {
            throw new InvalidDataException("The realtime snapshot is truncated or corrupt.");
        }

        var state = new RealtimeState(options);
        using var r = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
        state.NextOffset = r.ReadInt64();
        state.EventsApplied = r.ReadInt64();
        state.SamplesLearned = r.ReadInt64();
        for (var n = r.ReadInt32(); n > 0; n--)
        {
            var id = r.ReadString();
            var c = new ItemCounters { Exposures = r.ReadInt64(), Clicks = r.ReadInt64(), Likes = r.ReadInt64(), Purchases = r.ReadInt64(), Popularity = r.ReadDouble(), LastSeconds = r.ReadInt64() };
            var category = r.ReadString();
            c.Category = category.Length == 0 ? null : category;
            state._items[id] = c;
        }

        for (var n = r.ReadInt32(); n > 0; n--)
        {
            var row = state._cooccurrence[r.ReadString()] = new Dictionary<string, float>(StringComparer.Ordinal);
            for (var m = r.ReadInt32(); m > 0; m--)
            {
                row[r.ReadString()] = r.ReadSingle();
            }
        }

        for (var n = r.ReadInt32(); n > 0; n--)
        {
            var list = state._recent[r.ReadString()] = [];
            for (var m = r.ReadInt32(); m > 0; m--)
            {
                list.Add(r.ReadString());
            }
        }

        for (var n = r.ReadInt32(); n > 0; n--)
        {
            var seconds = r.ReadInt64();
            var key = version == 1 ? KeyOf(r.ReadString()) : ReadKey(r);
            state._expiry.Enqueue((seconds, key));
            if (r.ReadBoolean())
            {
                if (version < 3)
                {
                    // Older snapshots kept the exposure's strings: its features are computed from them now.
                    var (at, user, item, scene, position, device) = (r.ReadInt64(), r.ReadString(), r.ReadString(), r.ReadString(), r.ReadInt32(), r.ReadString());
                    state._pending[key] = state.Features(at, user, item, scene.Length == 0 ? null : scene, position < 0 ? null : position, device.Length == 0 ? null : device);
                }
                else
                {
                    state._pending[key] = new Pending(r.ReadInt64(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32());
                }
            }
        }

        var ftrl = r.ReadBytes(r.ReadInt32());
        state.Ftrl = FtrlModel.Load(new MemoryStream(ftrl));
        return state;
    }

    private ItemCounters Counters(string itemId)
    {
        if (!_items.TryGetValue(itemId, out var c))
        {
            _items[itemId] = c = new ItemCounters();
        }

        return c;
    }

    private void Engage(ItemCounters item, long now, double weight)
    {
        item.Popularity = Decayed(item, now) + weight;
        item.LastSeconds = Math.Max(item.LastSeconds, now);
    }

    private double Decayed(ItemCounters item, long now) =>
        item.Popularity * Math.Pow(2, -Math.Max(0, now - item.LastSeconds) / (_options.PopularityHalfLifeHours * 3600));

    private void CoOccur(string user, string item)
    {
        if (!_recent.TryGetValue(user, out var recent))
        {
            _recent[user] = recent = [];
        }

        foreach (var other in recent)
        {
            if (other != item)
            {
                Bump(item, other);
                Bump(other, item);
            }
        }

        recent.Remove(item);
        recent.Add(item);
        if (recent.Count > _options.RecentItemsPerUser)
        {
            recent.RemoveAt(0);
        }
    }

    private void Bump(string a, string b)
    {
        if (!_cooccurrence.TryGetValue(a, out var row))
        {
            _cooccurrence[a] = row = new Dictionary<string, float>(StringComparer.Ordinal);
        }

        row[b] = row.GetValueOrDefault(b) + 1;
    }

    private void ExpireExposures(long now)
    {
        while (_expiry.TryPeek(out var head) && head.Seconds <= now)
        {
            _expiry.Dequeue();
            if (_pending.Remove(head.Key, out var exposure))
            {
                Learn(exposure, label: 0);
            }
        }
    }

    private void Learn(Pending exposure, float label)
    {
        var n = Fill(exposure);
        Ftrl.Update(new SparseSample(_indices.AsSpan(0, n), _ones.AsSpan(0, n), label));
        SamplesLearned++;
    }

    /// <summary>
    /// An exposure's features as of when it was served — u, i, s, p, d, c and uc hashed into the model's space — so a
    /// pending exposure holds seven ints and no strings (nothing for the GC to trace or promote per exposure).
    /// </summary>
    internal Pending Features(long seconds, string user, string item, string? scene, int? position, string? device)
    {
        var category = _items.TryGetValue(item, out var c) ? c.Category ?? "" : "";
        return new Pending(seconds, _hasher.Index("u", user), _hasher.Index("i", item), _hasher.Index("s", scene ?? ""), PositionIndex(position),
            _hasher.Index("d", device ?? ""), _hasher.Index("c", category), _hasher.Index("uc", user, category));
    }

    /// <summary>
    /// <see cref="Features(long, string, string, string?, int?, string?)"/> for an exposure being applied: the same
    /// indices, most of them remembered instead of hashed again — the item's and its category's on its counters, the
    /// user's, scene's and device's from the previous exposure (a served list's exposures follow one another).
    /// </summary>
    internal Pending Features(long seconds, string user, string item, ItemCounters counters, string? scene, int? position, string? device)
    {
        var category = counters.Category ?? "";
        if (counters.ItemFeature < 0)
        {
            counters.ItemFeature = _hasher.Index("i", item);
        }

        if (!ReferenceEquals(counters.FeatureCategory, category))
        {
            (counters.CategoryFeature, counters.FeatureCategory) = (_hasher.Index("c", category), category);
        }

        if (!string.Equals(user, _last.User, StringComparison.Ordinal))
        {
            (_last.User, _last.UserFeature) = (user, _hasher.Index("u", user));
        }

        scene ??= "";
        if (!string.Equals(scene, _last.Scene, StringComparison.Ordinal))
        {
            (_last.Scene, _last.SceneFeature) = (scene, _hasher.Index("s", scene));
        }

        device ??= "";
        if (!string.Equals(device, _last.Device, StringComparison.Ordinal))
        {
            (_last.Device, _last.DeviceFeature) = (device, _hasher.Index("d", device));
        }

        return new Pending(seconds, _last.UserFeature, counters.ItemFeature, _last.SceneFeature, PositionIndex(position),
            _last.DeviceFeature, counters.CategoryFeature, _hasher.Index("uc", user, category));
    }

    private int PositionIndex(int? position)
    {
        var slot = position is { } p && p >= 0 && p < _positionFeatures.Length - 1 ? p + 1 : position is null ? 0 : -1;
        if (slot >= 0 && _positionFeatures[slot] >= 0)
        {
            return _positionFeatures[slot];
        }

        Span<char> digits = stackalloc char[11];
        var written = 0;
        if (position is { } pos)
        {
            pos.TryFormat(digits, out written, default, System.Globalization.CultureInfo.InvariantCulture);
        }

        var index = _hasher.Index("p", digits[..written]);
        if (slot >= 0)
        {
            _positionFeatures[slot] = index;
        }

        return index;
    }

    private int Fill(Pending p)
    {
        ReadOnlySpan<int> indices = [p.U, p.I, p.S, p.P, p.D, p.C, p.Uc];
        indices.CopyTo(_indices);
        return indices.Length;
    }

    /// <summary>The key of a pending exposure: a 128-bit hash of user, item and request joined by U+0001.</summary>
    private static UInt128 PendingKey(string user, string item, string? request)
    {
        var length = user.Length + item.Length + (request?.Length ?? 0) + 2;
        if (length > 1024)
        {
            return KeyOf(user + "\u0001" + item + "\u0001" + request);
        }

        Span<char> joined = stackalloc char[length];
        user.AsSpan().CopyTo(joined);
        joined[user.Length] = '\u0001';
        item.AsSpan().CopyTo(joined[(user.Length + 1)..]);
        joined[user.Length + 1 + item.Length] = '\u0001';
        request.AsSpan().CopyTo(joined[(user.Length + item.Length + 2)..]);
        return KeyOf(joined);
    }

    private static UInt128 ReadKey(BinaryReader r)
    {
        var lower = r.ReadUInt64();
        var upper = r.ReadUInt64();
        return new UInt128(upper, lower);
    }

    private static UInt128 KeyOf(ReadOnlySpan<char> joined) => XxHash128.HashToUInt128(System.Runtime.InteropServices.MemoryMarshal.AsBytes(joined));

    /// <summary>A served item waiting for its click: when, and its feature indices (see <see cref="Features(long, string, string, string?, int?, string?)"/>).</summary>
    internal readonly record struct Pending(long Seconds, int U, int I, int S, int P, int D, int C, int Uc);
}
