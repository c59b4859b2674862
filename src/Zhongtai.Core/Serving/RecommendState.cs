using System.Collections.Frozen;
using System.Numerics;
using Zhongtai.Hosting;
using Zhongtai.Indexing.Vector;

namespace Zhongtai.Serving;

/// <summary>The popular lists (dense id, decayed score), best first: overall and per category.</summary>
internal sealed record PopularLists((int Item, float Score)[] Overall, FrozenDictionary<string, (int Item, float Score)[]> ByCategory)
{
    public static readonly PopularLists Empty = new([], FrozenDictionary<string, (int, float)[]>.Empty);
}

/// <summary>One channel of a request's plan.</summary>
internal readonly record struct ChannelPlan(IRecallChannel Channel, int Quota, int TimeoutMs, int Bit);

/// <summary>A scene made ready to serve (channels resolved, lists frozen); cached per scene object, rebuilt only for experiment overrides.</summary>
internal sealed record CompiledPlan(
    SceneConfig Scene,
    ChannelPlan[] Channels,
    string ModelName,
    string ModelAlias,
    string RankingModel,
    RerankRules Rules,
    FrozenSet<string>? Block,
    FrozenDictionary<string, double>? Boost)
{
    public bool UsesVector { get; } = Channels.Any(c => c.Channel.Name == ChannelNames.Vector);
    public bool NeedsModel => UsesVector;
    public bool NeedsTerms { get; } = Channels.Any(c => c.Channel.Name == ChannelNames.Inverted);

    /// <summary><see cref="Block"/> by dense id, built by the engine for the catalog of the time (<see cref="RecommendEngine.BlockBitmap"/>).</summary>
    public ItemBitmap? BlockBits { get; set; }
}

/// <summary>
/// Which merged candidates may be served: not deleted, consumed, excluded, filtered out, blocked or flagged. The scene's
/// block list and the flagged items are tested as bits by dense id (<see cref="ItemBitmap"/>); the id string is hashed
/// only for an item interned after the bitmap was built, or when the host added risk filters of its own.
/// </summary>
internal readonly struct CandidateFilter
{
    private readonly RecommendEngine _engine;
    private readonly ServingCatalog _catalog;
    private readonly UserHistory? _history;
    private readonly RecommendRequest? _request;
    private readonly HashSet<int>? _exclude;
    private readonly int _self;
    private readonly ItemBitmap? _flagged;
    private readonly ItemBitmap? _block;
    private readonly CompiledPlan? _plan;
    private readonly bool _needsItem;
    private readonly bool _otherRisk;

    public CandidateFilter(RecommendEngine engine, CompiledPlan? plan, UserHistory? history, RecommendRequest? request, HashSet<int>? exclude, int self)
    {
        _engine = engine;
        _catalog = engine.Catalog;
        _history = history;
        _request = request;
        _exclude = exclude is { Count: > 0 } ? exclude : null;
        _self = self;
        _plan = plan?.Block is { Count: > 0 } ? plan : null;
        _block = _plan is null ? null : engine.BlockBitmap(_plan);
        _flagged = engine.FlaggedBitmap();
        _otherRisk = engine.HasOtherRiskFilters;
        _needsItem = (request is not null && (request.Category is not null || request.Attributes is { Count: > 0 })) || _otherRisk;
    }

    /// <summary>The user's history the filter excludes consumed items of (null: none).</summary>
    public UserHistory? History => _history;

    public bool Passes(int dense) => Passes(dense, in _catalog.Hot(dense));

    /// <summary><see cref="Passes(int)"/> with the item's hot fields already read.</summary>
    public bool Passes(int dense, in HotItem hot) => PassesUnlessConsumed(dense, in hot) && _history?.Consumed(dense) != true;

    /// <summary>
    /// <see cref="Passes(int, in HotItem)"/> without asking <see cref="History"/>: for a caller that has excluded the
    /// consumed items itself (the merge marks them once per request, <see cref="UserHistory.CopyConsumed"/>).
    /// </summary>
    public bool PassesUnlessConsumed(int dense, in HotItem hot)
    {
        if (dense == _self || hot.Deleted || (_exclude is not null && _exclude.Contains(dense)))
        {
            return false;
        }

        if (_flagged is not null && (_flagged.Contains(dense) ?? _engine.Flagged.IsBlocked(_catalog[dense].Id)))
        {
            return false;
        }

        if (_block is not null && (_block.Contains(dense) ?? _plan!.Block!.Contains(_catalog[dense].Id)))
        {
            return false;
        }

        if (!_needsItem)
        {
            return true;
        }

        // The item object (another cache miss) only when a filter needs more than the hot fields.
        var item = _catalog[dense];
        if (_request is not null)
        {
            if (_request.Category is { } category && item.Category != category)
            {
                return false;
            }

            if (_request.Attributes is { Count: > 0 } filters)
            {
                foreach (var (key, value) in filters)
                {
                    if (item.Attributes is null || !item.Attributes.TryGetValue(key, out var actual) || actual != value)
                    {
                        return false;
                    }
                }
            }
        }

        return !_otherRisk || !_engine.IsBlockedByOtherFilters(item.Id);
    }
}

/// <summary>The nearest items to one item in the recall model's factor space (for similar-items).</summary>
internal sealed class ItemVectorChannel(LoadedRecallModel? model, string itemId, Project project) : IRecallChannel
{
    public string Name => ChannelNames.Vector;

    public void Recall(RecallContext context, int quota, RecallBuffer output)
    {
        if (model is null)
        {
            return;
        }

        var item = project.ItemIds.Find(itemId);
        if (item < 0 || item >= model.ItemIds.Length)
        {
            return;
        }

        var hits = new VectorHit[quota + 1];
        var n = model.Index.Search(model.Model.ItemVector(item), quota + 1, hits);
        for (var i = 0; i < n; i++)
        {
            if (hits[i].Id != item)
            {
                output.Add(model.ItemIds[hits[i].Id], 1 - hits[i].Distance);
            }
        }
    }
}

/// <summary>Per-request working memory, pooled: candidate arrays, channel buffers, small maps. Nothing here is shared while rented.</summary>
internal sealed class Scratch(ServingCatalog catalog)
{
    private Task[] _tasks = [];
    private bool[] _abandoned = [];

    public RecallContext Context { get; } = new();
    public RecallBuffer[] Buffers { get; private set; } = [];
    /// <summary>Per dense item id: the merge stamp it was last seen with and its candidate slot (-1: filtered out).</summary>
    public SlotEntry[] SlotMap { get; private set; } = new SlotEntry[1024];
    private int _slotStamp;
    public HashSet<int> Exclude { get; } = [];

    /// <summary>Per category ordinal: the request stamp when <see cref="CategoryWeights"/>/<see cref="CategoryCounts"/> were last set.</summary>
    public int[] CategoryStamps { get; private set; } = new int[64];
    public float[] CategoryWeights { get; private set; } = new float[64];
    public int[] CategoryCounts { get; private set; } = new int[64];
    private int _stamp;

    /// <summary>A fresh stamp for the per-category arrays (sized for <paramref name="categories"/> ordinals): entries with another stamp are unset.</summary>
    public int NextCategoryStamp(int categories)
    {
        if (CategoryStamps.Length < categories)
        {
            var size = Math.Max(categories, CategoryStamps.Length * 2);
            CategoryStamps = new int[size];
            CategoryWeights = new float[size];
            CategoryCounts = new int[size];
            _stamp = 0;
        }

        if (++_stamp == int.MaxValue)
        {
            Array.Clear(CategoryStamps);
            _stamp = 1;
        }

        return _stamp;
    }
    /// <summary>A fresh merge stamp, the slot map sized for <paramref name="items"/> dense ids: entries with another stamp are unseen.</summary>
    public int NextSlotStamp(int items)
    {
        if (SlotMap.Length < items)
        {
            GrowSlotMap(items);
        }

        if (++_slotStamp == int.MaxValue)
        {
            Array.Clear(SlotMap);
            _slotStamp = 1;
        }

        return _slotStamp;
    }

    /// <summary>Grows the slot map to at least <paramref name="items"/> entries (an item interned during the request), keeping the stamps.</summary>
    public SlotEntry[] GrowSlotMap(int items)
    {
        var grown = new SlotEntry[Math.Max(items + (items >> 3), SlotMap.Length * 2)];
        SlotMap.CopyTo(grown, 0);
        return SlotMap = grown;
    }

    /// <summary>The candidate slot of an item in the current merge, or -1 (not a candidate, or filtered out).</summary>
    public int SlotOf(int dense) => dense < SlotMap.Length && SlotMap[dense].Stamp == _slotStamp ? SlotMap[dense].Slot : -1;

    /// <summary>The user's consumed items, copied once per request (<see cref="UserHistory.CopyConsumed"/>).</summary>
    public int[] Consumed { get; private set; } = new int[64];

    /// <summary>The items of the user's exposures within the frequency-cap window (<see cref="UserHistory.ExposedSince"/>).</summary>
    public int[] Exposed { get; private set; } = new int[64];

    /// <summary><see cref="Exposed"/> counted by item.</summary>
    public ItemSums ExposureCounts { get; } = new();

    /// <summary><see cref="Consumed"/> and <see cref="Exposed"/> sized for <paramref name="history"/>'s capacities (grown once, never per request).</summary>
    public void EnsureHistory(UserHistory history)
    {
        if (Consumed.Length < history.ConsumedCapacity)
        {
            Consumed = new int[history.ConsumedCapacity];
        }

        if (Exposed.Length < history.ExposureCapacity)
        {
            Exposed = new int[history.ExposureCapacity];
        }
    }

    public List<int> Overflow { get; } = [];
    public List<(int Dense, float Score, int Mask)> Final { get; private set; } = [];
    public int[] Items { get; private set; } = new int[1024];
    public float[] Priors { get; private set; } = new float[1024];
    public float[] Scores { get; private set; } = new float[1024];
    public int[] Masks { get; private set; } = new int[1024];

    /// <summary>Category ordinal of each candidate, read with its hot fields at merge.</summary>
    public int[] Ordinals { get; private set; } = new int[1024];

    /// <summary>The item side of each candidate's ranking margin, gathered before the scores are computed.</summary>
    public double[] Margins { get; private set; } = new double[1024];

    /// <summary>Per-request integers (the candidate of each category's first appearance at rank).</summary>
    public int[] Temp { get; private set; } = new int[1024];

    /// <summary>Per-request integers (a feature index per category at rank).</summary>
    public int[] Order { get; private set; } = new int[1024];

    /// <summary>The request's user × category features (set by the engine on first use: it knows the hasher).</summary>
    public Zhongtai.Training.Ranking.FeatureHasher.Crosses? Crosses { get; set; }

    /// <summary>Packed (score, item) keys (<see cref="ScoreOrder"/>): per slot at the cut, a heap at rerank.</summary>
    public ulong[] Keys { get; private set; } = new ulong[1024];

    /// <summary>A second key array: the cut selects in it while <see cref="Keys"/> keeps each slot's key.</summary>
    public ulong[] Selection { get; private set; } = new ulong[1024];

    public void Ensure(int n)
    {
        if (n <= Items.Length)
        {
            return;
        }

        var size = Math.Max(n, Items.Length * 2);
        Items = Grow(Items, size);
        Priors = Grow(Priors, size);
        Scores = Grow(Scores, size);
        Masks = Grow(Masks, size);
        Ordinals = Grow(Ordinals, size);
        Margins = new double[size];
        Temp = new int[size];
        Order = new int[size];
        Keys = new ulong[size];
        Selection = new ulong[size];
    }

    public void EnsureBuffers(int channels, ServingCatalog c)
    {
        if (Buffers.Length < channels)
        {
            var buffers = new RecallBuffer[channels];
            Buffers.CopyTo(buffers, 0);
            for (var i = Buffers.Length; i < channels; i++)
            {
                buffers[i] = new RecallBuffer(c);
            }

            Buffers = buffers;
            _abandoned = new bool[channels];
        }

        Array.Clear(_abandoned);
    }

    public bool Abandoned(int channel) => channel < _abandoned.Length && _abandoned[channel];

    /// <summary>A channel timed out and may still write into its buffer: give this scratch a fresh one.</summary>
    public void Abandon(int channel, ServingCatalog c)
    {
        _abandoned[channel] = true;
        Buffers[channel] = new RecallBuffer(c);
    }

    public Task[] Tasks(int n)
    {
        if (_tasks.Length < n)
        {
            _tasks = new Task[n];
        }

        return _tasks;
    }

    /// <summary>The result list is handed to the caller's response: start a new one for the next request.</summary>
    public void DetachFinal() => Final = [];

    private static T[] Grow<T>(T[] array, int size)
    {
        var grown = new T[size];
        array.CopyTo(grown, 0);
        return grown;
    }

    public ServingCatalog Catalog => catalog;
}

/// <summary>One entry of <see cref="Scratch.SlotMap"/>: stamp and slot side by side, one cache line fetch per candidate.</summary>
internal struct SlotEntry
{
    public int Stamp;
    public int Slot;
}

/// <summary>
/// Per-request sums by item (i2i's neighbour weights, the frequency cap's exposure counts): open addressing
/// (multiplicative hash, linear probing) in a table at most half full and sized for the request, so it stays in the
/// L1/L2 cache, unlike a lookup by dense id; items in first-added order beside it.
/// </summary>
internal sealed class ItemSums
{
    private int[] _slots = new int[1024]; // index into the entries + 1; 0: empty
    private int[] _items = new int[512];
    private float[] _scores = new float[512];
    private ulong[] _keys = new ulong[512];
    private int _shift;

    /// <summary>Items added since <see cref="Reset"/>.</summary>
    public int Count { get; private set; }

    /// <summary>Empties the table, sized for up to <paramref name="capacity"/> distinct items.</summary>
    public void Reset(int capacity)
    {
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(64, capacity * 2));
        if (_slots.Length < size)
        {
            _slots = new int[size];
        }

        if (_items.Length < capacity)
        {
            _items = new int[capacity];
            _scores = new float[capacity];
        }

        _slots.AsSpan(0, size).Clear();
        _shift = 32 - BitOperations.Log2((uint)size);
        Count = 0;
    }

    /// <summary>Adds <paramref name="weight"/> to <paramref name="item"/>'s sum (at most the capacity of distinct items).</summary>
    public void Add(int item, float weight)
    {
        var mask = (1 << (32 - _shift)) - 1;
        for (var at = (int)(((uint)item * 0x9E3779B1u) >> _shift); ; at = (at + 1) & mask)
        {
            var entry = _slots[at];
            if (entry == 0)
            {
                _slots[at] = ++Count;
                _items[Count - 1] = item;
                _scores[Count - 1] = weight;
                return;
            }

            if (_items[entry - 1] == item)
            {
                _scores[entry - 1] += weight;
                return;
            }
        }
    }

    /// <summary><paramref name="item"/>'s sum (0 when never added).</summary>
    public float Get(int item)
    {
        var mask = (1 << (32 - _shift)) - 1;
        for (var at = (int)(((uint)item * 0x9E3779B1u) >> _shift); ; at = (at + 1) & mask)
        {
            var entry = _slots[at];
            if (entry == 0)
            {
                return 0;
            }

            if (_items[entry - 1] == item)
            {
                return _scores[entry - 1];
            }
        }
    }

    /// <summary>The items with their sums as <see cref="ScoreOrder"/> keys (in a buffer reused by the next call).</summary>
    public Span<ulong> Keys()
    {
        if (_keys.Length < Count)
        {
            _keys = new ulong[_items.Length];
        }

        var keys = _keys.AsSpan(0, Count);
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = ScoreOrder.Key(_scores[i], _items[i]);
        }

        return keys;
    }
}
