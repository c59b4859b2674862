using System.Collections.Frozen;
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
}

/// <summary>Which merged candidates may be served: not deleted, consumed, excluded, filtered out, blocked or flagged.</summary>
internal readonly struct CandidateFilter(RecommendEngine engine, RerankRules? rules, UserHistory? history, RecommendRequest? request, HashSet<int>? exclude, int self)
{
    public bool Passes(int dense)
    {
        if (dense == self)
        {
            return false;
        }

        if (engine.Catalog.Hot(dense).Deleted || (exclude is { Count: > 0 } && exclude.Contains(dense)) || history?.Consumed(dense) == true)
        {
            return false;
        }

        // The item object (another cache miss) only when a filter needs more than the hot fields.
        var needsItem = (request is not null && (request.Category is not null || request.Attributes is { Count: > 0 }))
            || rules?.Block is { Count: > 0 } || engine.RiskFiltersMayBlock;
        if (!needsItem)
        {
            return true;
        }

        var item = engine.Catalog[dense];
        if (request is not null)
        {
            if (request.Category is { } category && item.Category != category)
            {
                return false;
            }

            if (request.Attributes is { Count: > 0 } filters)
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

        if (rules?.Block is { Count: > 0 } block && block.Contains(item.Id))
        {
            return false;
        }

        return !engine.IsRiskBlocked(null, item.Id);
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
    public Dictionary<int, int> Slots { get; } = new(1024);
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
    public Dictionary<int, int> Capped { get; } = [];
    public List<int> Eligible { get; } = [];
    public List<int> Overflow { get; } = [];
    public List<(int Dense, float Score, int Mask)> Final { get; private set; } = [];
    public int[] Items { get; private set; } = new int[1024];
    public float[] Priors { get; private set; } = new float[1024];
    public float[] Scores { get; private set; } = new float[1024];
    public int[] Masks { get; private set; } = new int[1024];
    public float[] Keys { get; private set; } = new float[1024];
    public int[] Order { get; private set; } = new int[1024];
    public int[] Temp { get; private set; } = new int[1024];
    public int[] TempMasks { get; private set; } = new int[1024];

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
        Keys = new float[size];
        Order = new int[size];
        Temp = new int[size];
        TempMasks = new int[size];
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
