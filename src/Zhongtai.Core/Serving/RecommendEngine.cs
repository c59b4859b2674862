using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Zhongtai.Events;
using Zhongtai.Events.Ingest;
using Zhongtai.Hosting;
using Zhongtai.Indexing.Graph;
using Zhongtai.Nearline;
using Zhongtai.Training.Ranking;

namespace Zhongtai.Serving;

/// <summary>
/// The recommendation engine of one project: multi-channel recall → merge (dedupe, filters) → rank (the realtime
/// FTRL click model) → rerank and control (scene rules) → risk filter → response, with every served list logged
/// back as exposures. <see cref="RunAsync"/> keeps its state current: it follows the event log (catalog, user
/// histories), refreshes the popular lists, hot-swaps recall model versions when registry aliases move, and
/// reloads the scenes and flagged-items files when they change.
/// </summary>
public sealed partial class RecommendEngine
{
    private const int RrfK = 60;
    private const int PinBit = 1 << 16; // above every channel's bit (ChannelNames.All)
    private readonly ServingOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly FeatureHasher _hasher;
    private readonly FtrlModel? _ftrl;
    private readonly double _popularityHalfLifeHours;
    private readonly ExposureLogger _exposures;
    private readonly GraphHolder _graph;
    private readonly ConcurrentDictionary<(string, string), RecallModelHolder> _models = new();
    private readonly Dictionary<string, IRecallChannel> _channels = new(StringComparer.Ordinal);
    private readonly ConditionalWeakTable<SceneConfig, CompiledPlan> _compiled = [];
    private readonly ConcurrentBag<Scratch> _scratch = [];
    private readonly ConcurrentDictionary<int, string[]> _channelSets = new();
    private readonly IRiskFilter[] _risk;
    private readonly Lock _followLock = new();
    private readonly ExposureScan _exposureScan = new();
    private volatile PopularLists _popular = PopularLists.Empty;
    private readonly Dictionary<string, TopPopular> _popularHeaps = new(StringComparer.Ordinal); // RefreshPopular's, reused
    private volatile ItemBitmap? _flaggedBits;
    private volatile RankWeights? _rankWeights;
    private double[]? _spareRankWeights; // the array the previous snapshot used: rebuilt into next time
    private volatile string?[] _categoryNames = new string?[64]; // by category ordinal (CategoryName)

    public RecommendEngine(Project project, RealtimeConsumer? realtime, RealtimeOptions realtimeOptions, ServingOptions options, TimeProvider time,
        ILoggerFactory loggers, IEnumerable<IRecallChannel>? channels = null, IEnumerable<IRiskFilter>? riskFilters = null)
    {
        ArgumentNullException.ThrowIfNull(realtimeOptions);
        ArgumentNullException.ThrowIfNull(loggers);
        Project = project;
        Realtime = realtime;
        _options = options;
        _time = time;
        _logger = loggers.CreateLogger<RecommendEngine>();
        _hasher = new FeatureHasher(realtimeOptions.FtrlBits, seed: 7); // the realtime model's feature space
        _ftrl = realtime?.Read(s => s.Ftrl);
        _popularityHalfLifeHours = realtimeOptions.PopularityHalfLifeHours;
        Catalog = new ServingCatalog(options, _hasher, realtimeOptions.RecentItemsPerUser);
        Scenes = new SceneStore(Path.Combine(project.Directory, "scenes.json"), _logger);
        Flagged = new FlaggedItemsFilter(Path.Combine(project.Directory, "risk", "flagged-items.txt"));
        Flagged.Reload();
        _risk = [Flagged, .. riskFilters ?? []];
        _exposures = new ExposureLogger(project.Events, options, _logger);
        _graph = new GraphHolder(project, options, time, _logger);
        foreach (var channel in (IRecallChannel[])[new BuiltInChannels.I2i(this), new BuiltInChannels.Vector(this), new BuiltInChannels.Popular(this),
                     new BuiltInChannels.Fresh(this), new BuiltInChannels.Graph(this), Content = new ContentChannel(this, options.Content), .. channels ?? []])
        {
            _channels[channel.Name] = channel;
        }
    }

    public Project Project { get; }

    /// <summary>The scenes in force (<c>scenes.json</c> or the built-in set).</summary>
    public SceneStore Scenes { get; }

    /// <summary>Flagged and quarantined items (anti-cheat output): <see cref="FlaggedItemsFilter.SetFlaggedItems"/>, or the file <c>risk/flagged-items.txt</c>.</summary>
    public FlaggedItemsFilter Flagged { get; }

    /// <summary>Experiment bucketing; default none.</summary>
    public IExperimentAssigner Experiments { get; set; } = NoExperiments.Instance;

    /// <summary>Merged candidates (after filters, before the cap) of the last request: what the ranker had to score.</summary>
    public int LastCandidateCount { get; private set; }

    /// <summary>True when the host added risk filters beyond the flagged items (asked by id string per candidate).</summary>
    internal bool HasOtherRiskFilters => _risk.Length > 1;

    /// <summary>Per-stage time accounting (benchmarks); null (default) takes no timestamps.</summary>
    internal StageProfile? Profile { get; set; }

    /// <summary>Exposure events logged so far.</summary>
    public long ExposuresLogged => _exposures.Logged;

    internal RealtimeConsumer? Realtime { get; }

    internal int VectorCacheUsers => _options.VectorCacheUsers;

    internal ServingCatalog Catalog { get; }

    /// <summary>The content channel (its index also personalises search).</summary>
    internal ContentChannel Content { get; }

    internal PopularLists PopularLists => _popular;

    internal KnowledgeGraph? Graph => _graph.Current;

    /// <summary>True once the graph channel has a graph.</summary>
    public bool GraphReady => _graph.Current is not null;

    /// <summary>Applies every log event serving has not seen yet; returns how many.</summary>
    public int CatchUp()
    {
        lock (_followLock)
        {
            var applied = 0;
            using var reader = Project.Events.OpenReader(Math.Max(Catalog.NextOffset, Project.Events.StartOffset));
            while (reader.TryRead(out var record))
            {
                // Exposures (one per served item, most of the log under traffic) are read for the three fields serving
                // keeps, without materialising the event and its properties; anything else is decoded whole.
                if (_exposureScan.TryRead(record.Payload, out var user, out var item, out var seconds))
                {
                    Catalog.ApplyExposure(record.Offset, user, item, seconds);
                }
                else
                {
                    Catalog.Apply(record.Offset, EventCodec.Decode(record.Payload));
                }

                applied++;
            }

            return applied;
        }
    }

    /// <summary>
    /// Recomputes the popular lists from the realtime models now: decayed popularity, best first, ties by id. Each list
    /// keeps its top <see cref="ServingOptions.PopularListSize"/> in a bounded heap while the items are scanned once, so
    /// a refresh neither sorts nor copies the whole catalog.
    /// </summary>
    public void RefreshPopular()
    {
        if (Realtime is null)
        {
            return;
        }

        lock (_popularHeaps)
        {
            var now = _time.GetUtcNow().ToUnixTimeSeconds();
            var halfLife = _popularityHalfLifeHours * 3600;
            var size = _options.PopularListSize;
            foreach (var heap in _popularHeaps.Values)
            {
                heap.Clear();
            }

            var overall = Heap("", size); // "" is no category name: categories are non-empty
            Realtime.Read(s =>
            {
                foreach (var (id, c) in s.Items)
                {
                    var category = c.Category is null ? null : Heap(c.Category, size);

                    // The decayed score never exceeds the popularity: an item that cannot enter either list is skipped
                    // before its decay is computed (most of the catalog, once the lists are full).
                    if (overall.Rejects(c.Popularity) && category?.Rejects(c.Popularity) != false)
                    {
                        continue;
                    }

                    var score = c.Popularity * Math.Pow(2, -Math.Max(0, now - c.LastSeconds) / halfLife);
                    var toOverall = overall.WouldTake(score, id);
                    var toCategory = category?.WouldTake(score, id) == true;
                    if (!(toOverall || toCategory) || Catalog.Find(id) is var dense && (dense < 0 || Catalog[dense].Deleted))
                    {
                        continue;
                    }

                    if (toOverall)
                    {
                        overall.Add(dense, id, score);
                    }

                    if (toCategory)
                    {
                        category!.Add(dense, id, score);
                    }
                }

                return 0;
            });

            _popular = new PopularLists(overall.BestFirst(), _popularHeaps.Where(kv => kv.Key.Length > 0 && kv.Value.Count > 0).ToFrozenDictionary(kv => kv.Key, kv => kv.Value.BestFirst(), StringComparer.Ordinal));
        }
    }

    /// <summary>The refresh's heap for a category ("" for overall), kept from one refresh to the next.</summary>
    private TopPopular Heap(string category, int size)
    {
        if (!_popularHeaps.TryGetValue(category, out var heap) || heap.Capacity != size)
        {
            _popularHeaps[category] = heap = new TopPopular(size);
        }

        return heap;
    }

    /// <summary>The best <c>k</c> (score, then id) seen so far, in a min-heap whose root is the worst kept.</summary>
    private sealed class TopPopular(int k)
    {
        private static readonly Comparer<(double Score, string Id)> WorstFirst = Comparer<(double Score, string Id)>.Create(
            static (a, b) => a.Score != b.Score ? a.Score.CompareTo(b.Score) : string.CompareOrdinal(b.Id, a.Id));

        private readonly PriorityQueue<int, (double Score, string Id)> _heap = new(k, WorstFirst);

        public int Count => _heap.Count;

        public int Capacity => k;

        /// <summary>Empties the heap for the next refresh (its lists were handed out by <see cref="BestFirst"/>).</summary>
        public void Clear() => _heap.Clear();

        /// <summary>True when no item scoring at most <paramref name="score"/> can enter: the heap is full of better ones.</summary>
        public bool Rejects(double score) => _heap.Count == k && _heap.TryPeek(out _, out var worst) && score < worst.Score;

        public bool WouldTake(double score, string id) =>
            _heap.Count < k || (_heap.TryPeek(out _, out var worst) && WorstFirst.Compare((score, id), worst) > 0);

        public void Add(int dense, string id, double score)
        {
            if (_heap.Count < k)
            {
                _heap.Enqueue(dense, (score, id));
            }
            else
            {
                _heap.EnqueueDequeue(dense, (score, id));
            }
        }

        public (int, float)[] BestFirst()
        {
            var list = new (int, float)[_heap.Count];
            for (var i = list.Length - 1; i >= 0; i--)
            {
                _heap.TryDequeue(out var dense, out var priority);
                list[i] = (dense, (float)priority.Score);
            }

            return list;
        }
    }

    /// <summary>
    /// Rebuilds the ranking's item-weight snapshot (<see cref="RankWeights"/>) when the FTRL model learned more or the
    /// catalog changed since the last one; returns true when it did. The follower calls it at most every
    /// <see cref="ServingOptions.RankWeightsRefreshMs"/>; until the first call every weight is read live. The array of
    /// the snapshot before the current one is reused: a request that outlived two refreshes could read a mix of two snapshots.
    /// </summary>
    internal bool RefreshRankWeights()
    {
        if (_ftrl is null || _options.RankWeightsRefreshMs <= 0)
        {
            return false;
        }

        var current = _rankWeights;
        if (current is not null && current.IsCurrent(_ftrl, Catalog))
        {
            return false;
        }

        var next = RankWeights.Build(_ftrl, Catalog, _spareRankWeights);
        _rankWeights = next;
        _spareRankWeights = current is not null && !ReferenceEquals(current.Items, next.Items) ? current.Items : null;
        return true;
    }

    /// <summary>Checks every recall model alias in use and starts loading versions that changed (returns at once).</summary>
    public void PollModels()
    {
        foreach (var holder in _models.Values)
        {
            holder.Poll();
        }
    }

    /// <summary>Polls a recall model alias and waits until the version it points at is loaded (start-up, tests).</summary>
    public Task LoadModelAsync(string name = "als", string alias = "production") => Holder(name, alias).PollAndWaitAsync();

    /// <summary>The loaded version of a recall model alias, or null.</summary>
    internal LoadedRecallModel? LoadedModel(string name = "als", string alias = "production") => Holder(name, alias).Current;

    /// <summary>The loaded version of a recall model alias, e.g. <c>als@v3</c>, or null.</summary>
    public string? ServingVersion(string name = "als", string alias = "production") => Holder(name, alias).Current?.Label;

    /// <summary>
    /// Follows the log and keeps every derived state current until cancelled; then flushes the exposure queue. The
    /// follower runs on a thread of its own (<see cref="FollowerThread"/>); the exposure queue drains on the thread pool
    /// (it writes the log, it does not follow it).
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var exposures = Task.Run(() => _exposures.RunAsync(cancellationToken), CancellationToken.None);
        try
        {
            await FollowerThread.Start("zt serving", () => Follow(cancellationToken)).ConfigureAwait(false);
        }
        finally
        {
            await exposures.ConfigureAwait(false);
        }
    }

    private void Follow(CancellationToken cancellationToken)
    {
        long lastPopular = 0, lastModels = 0, lastConfig = 0, lastRankWeights = 0;
        var tick = TimeSpan.FromSeconds(Math.Min(_options.PopularRefreshSeconds, Math.Min(_options.ModelPollSeconds, _options.ConfigPollSeconds)));
        var rankWeightsEvery = TimeSpan.FromMilliseconds(_options.RankWeightsRefreshMs);
        if (_options.RankWeightsRefreshMs > 0 && rankWeightsEvery < tick)
        {
            tick = rankWeightsEvery;
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                CatchUp();
                if (lastModels == 0)
                {
                    Holder("als", "production"); // loaded once the catalog has caught up, so its precomputed vector results are complete
                }

                RefreshFlaggedBitmap();
                if (_options.RankWeightsRefreshMs > 0 && (lastRankWeights == 0 || _time.GetElapsedTime(lastRankWeights) >= rankWeightsEvery))
                {
                    RefreshRankWeights();
                    lastRankWeights = _time.GetTimestamp();
                }
                if (lastPopular == 0 || _time.GetElapsedTime(lastPopular) >= TimeSpan.FromSeconds(_options.PopularRefreshSeconds))
                {
                    RefreshPopular();
                    lastPopular = _time.GetTimestamp();
                }

                if (lastModels == 0 || _time.GetElapsedTime(lastModels) >= TimeSpan.FromSeconds(_options.ModelPollSeconds))
                {
                    PollModels();
                    _graph.Poll();
                    lastModels = _time.GetTimestamp();
                }

                if (lastConfig == 0 || _time.GetElapsedTime(lastConfig) >= TimeSpan.FromSeconds(_options.ConfigPollSeconds))
                {
                    Scenes.Reload();
                    Flagged.Reload();
                    lastConfig = _time.GetTimestamp();
                }
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException)
            {
                LogFollowFailed(_logger, ex, Project.Name);
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(tick);
            try
            {
                FollowerThread.Wait(Project.Events.WaitForAsync(Catalog.NextOffset, wait.Token));
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>Serves one request. Throws <see cref="RecommendException"/> for a request that cannot be served as asked.</summary>
    public async ValueTask<RecommendResult> RecommendAsync(RecommendRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var profile = Profile;
        var t = profile is null ? 0 : Stopwatch.GetTimestamp();
        var (scene, plan, assignment) = Plan(request);
        var count = request.Count ?? scene.DefaultCount;
        var scratch = Rent();
        try
        {
            var history = Catalog.User(request.UserId);
            var context = scratch.Context;
            context.Reset(Catalog, request.UserId, request.Scene, request.Query, request.Category, history, _options.SeedItems);
            context.Model = plan.NeedsModel ? Holder(plan.ModelName, plan.ModelAlias).Current : null;
            if (plan.Scene.Parallel && plan.Channels.Length > 1)
            {
                context.Prepare(plan.NeedsTerms); // channels on the pool only read the lazy lists; inline ones build what they use
            }
            var hasFactors = context.Model is { } m && Project.UserIds.Find(request.UserId) is var u && u >= 0 && u < m.Model.UserCount;
            var coldStart = context.RecentCount == 0 && !hasFactors;

            Lap(profile, StageProfile.Plan, ref t);
            var degraded = await RecallAsync(plan, scratch, cancellationToken).ConfigureAwait(false);
            Lap(profile, StageProfile.Recall, ref t);

            // Merge: dedupe (reciprocal-rank fusion of the channel orders; keep every channel), then filter once per item.
            scratch.Exclude.Clear();
            foreach (var id in request.Exclude ?? [])
            {
                if (Catalog.Find(id) is var d && d >= 0)
                {
                    scratch.Exclude.Add(d);
                }
            }

            var filter = new CandidateFilter(this, plan, history, request, scratch.Exclude, -1);
            var snapshot = plan.RankingModel == RankingModels.Ftrl && _ftrl is not null ? _rankWeights : null; // one for merge and rank
            var n = Merge(plan, scratch, in filter, snapshot);
            LastCandidateCount = n;
            if (n > plan.Scene.MaxCandidates)
            {
                n = KeepBest(scratch, n, plan.Scene.MaxCandidates);
            }

            Lap(profile, StageProfile.Merge, ref t);
            Rank(plan, scratch, n, request, snapshot);
            Lap(profile, StageProfile.Rank, ref t);
            var final = Rerank(plan, scratch, n, count, history, in filter);
            Lap(profile, StageProfile.Rerank, ref t);
            var models = new List<string>(2);
            if (context.Model is { } used && plan.UsesVector)
            {
                models.Add(used.Label);
            }

            if (plan.RankingModel == RankingModels.Ftrl && _ftrl is not null)
            {
                models.Add($"ftrl@{_ftrl.SamplesSeen}");
            }

            var bucket = assignment?.Label;
            var requestId = NewRequestId();
            var items = new RecommendedItem[final.Count];
            for (var i = 0; i < final.Count; i++)
            {
                var (dense, score, mask) = final[i];
                items[i] = new RecommendedItem(Catalog[dense].Id, score, ChannelSet(mask));
            }

            var result = new RecommendResult(requestId, request.Scene, models, bucket, coldStart, items, degraded);
            Lap(profile, StageProfile.Result, ref t);
            if (_options.LogExposures && items.Length > 0)
            {
                _exposures.Enqueue(result, request.UserId, request.Device, _time.GetUtcNow());
            }

            if (profile is not null)
            {
                Lap(profile, StageProfile.Exposures, ref t);
                profile.Request();
            }

            return result;
        }
        finally
        {
            Return(scratch);
        }
    }

    /// <summary>
    /// Logs a list served outside <see cref="RecommendAsync"/> (search results) back as exposures, exactly like a
    /// recommended list, so clicks carrying <paramref name="requestId"/> are attributed. <paramref name="userId"/> must be
    /// valid (1..256 characters, no control characters); nothing is logged when exposure logging is off.
    /// </summary>
    public void LogServed(string userId, string scene, string requestId, IReadOnlyList<string> models, IReadOnlyList<RecommendedItem> items, int firstPosition)
    {
        if (_options.LogExposures && items.Count > 0)
        {
            _exposures.Enqueue(userId, scene, requestId, models, null, items, firstPosition, null, _time.GetUtcNow());
        }
    }

    /// <summary>
    /// Items like <paramref name="itemId"/>: realtime co-engagement, the nearest items in the recall model's factor
    /// space, and knowledge-graph neighbours (item → tag → item), fused by rank. Null when serving has never seen the item.
    /// </summary>
    public RecommendResult? Similar(string itemId, int count, string scene = "detail")
    {
        var dense = Catalog.Find(itemId);
        if (dense < 0)
        {
            return null;
        }

        var sceneConfig = Scenes.Current.Scenes.GetValueOrDefault(scene);
        var modelName = sceneConfig?.RecallModel ?? "als";
        var alias = sceneConfig?.RecallModelAlias ?? "production";
        var scratch = Rent();
        try
        {
            var context = scratch.Context;
            context.Reset(Catalog, "", scene, null, null, null, _options.SeedItems);
            context.SetRecent(dense);
            context.Prepare(false);
            var model = Holder(modelName, alias).Current;
            var quota = Math.Min(1000, count * 3);
            var degraded = new List<string>();
            var plan = new ChannelPlan[3];
            plan[0] = new ChannelPlan(_channels[ChannelNames.I2i], quota, 1000, Bit(ChannelNames.I2i));
            plan[1] = new ChannelPlan(new ItemVectorChannel(model, itemId, Project), quota, 1000, Bit(ChannelNames.Vector));
            plan[2] = new ChannelPlan(_channels[ChannelNames.Graph], quota, 1000, Bit(ChannelNames.Graph));
            scratch.EnsureBuffers(plan.Length, Catalog);
            for (var c = 0; c < plan.Length; c++)
            {
                scratch.Buffers[c].Clear();
                plan[c].Channel.Recall(context, plan[c].Quota, scratch.Buffers[c]);
            }

            var filter = new CandidateFilter(this, null, null, null, null, dense);
            var compiled = new CompiledPlan(sceneConfig ?? new SceneConfig(), plan, modelName, alias, RankingModels.None, new RerankRules { FrequencyCap = null }, null, null);
            var n = Merge(compiled, scratch, in filter, null);
            for (var i = 0; i < n; i++)
            {
                scratch.Scores[i] = scratch.Priors[i];
            }

            var heap = scratch.Keys.AsSpan(0, n);
            for (var i = 0; i < n; i++)
            {
                heap[i] = ScoreOrder.Key(scratch.Scores[i], scratch.Items[i]);
            }

            ScoreOrder.Heapify(heap);
            var left = n;
            var items = new List<RecommendedItem>(Math.Min(count, n));
            while (left > 0 && items.Count < count)
            {
                var slot = scratch.SlotOf(ScoreOrder.Id(ScoreOrder.Pop(heap, ref left)));
                items.Add(new RecommendedItem(Catalog[scratch.Items[slot]].Id, scratch.Scores[slot], ChannelSet(scratch.Masks[slot])));
            }

            return new RecommendResult("r-" + Guid.CreateVersion7().ToString("N"), scene, model is null ? [] : [model.Label], null, false, items, degraded);
        }
        finally
        {
            Return(scratch);
        }
    }

    private (SceneConfig Scene, CompiledPlan Plan, ExperimentAssignment? Assignment) Plan(RecommendRequest request)
    {
        List<(string, string)>? errors = null; // allocated only for a bad request
        if (string.IsNullOrWhiteSpace(request.UserId) || request.UserId.Length > 256 || request.UserId.AsSpan().ContainsAnyInRange('\0', '\u001f'))
        {
            (errors ??= []).Add(("userId", "userId is required (1..256 characters, no control characters)."));
        }

        if (request.Device is { } device && (device.Length > 256 || device.AsSpan().ContainsAnyInRange('\0', '\u001f')))
        {
            (errors ??= []).Add(("context.device", "context.device is at most 256 characters, without control characters."));
        }

        if (!Scenes.Current.Scenes.TryGetValue(request.Scene ?? "", out var scene))
        {
            throw new RecommendException("unknown_scene", [("scene", $"Unknown scene '{request.Scene}'; this project has: {string.Join(", ", Scenes.Current.Scenes.Keys.Order(StringComparer.Ordinal))}.")]);
        }

        if (request.Count is { } count && (count < 1 || count > scene.MaxCount))
        {
            (errors ??= []).Add(("count", $"count must be 1..{scene.MaxCount} in scene '{request.Scene}'."));
        }

        if (request.Category is { Length: 0 })
        {
            (errors ??= []).Add(("category", "category must not be empty."));
        }

        if (request.Exclude is { Count: > 1000 })
        {
            (errors ??= []).Add(("exclude", "exclude holds at most 1000 items."));
        }

        if (request.Query is { Length: > 1000 })
        {
            (errors ??= []).Add(("query", "query is at most 1000 characters."));
        }

        foreach (var (key, value) in request.Attributes ?? FrozenDictionary<string, string>.Empty)
        {
            if (string.IsNullOrEmpty(key) || value is null)
            {
                (errors ??= []).Add(("attributes", "attribute filters need a name and a value."));
            }
        }

        if (errors is not null)
        {
            throw new RecommendException("invalid_argument", errors);
        }

        var compiled = _compiled.TryGetValue(scene, out var known) ? known : _compiled.GetValue(scene, Compile); // no delegate per request
        var assignment = Experiments.Assign(request.UserId, request.Scene!);
        if (assignment?.Overrides is { } o)
        {
            compiled = Override(scene, compiled, o);
        }

        return (scene, compiled, assignment);
    }

    private CompiledPlan Compile(SceneConfig scene) => Compile(scene, scene.Channels.Select(c => (c.Name, c.Quota, c.TimeoutMs)), scene.RecallModelAlias, scene.RankingModel, scene.Rules);

    private CompiledPlan Override(SceneConfig scene, CompiledPlan compiled, SceneOverride o) =>
        Compile(scene,
            scene.Channels.Select(c => (c.Name, o.ChannelQuotas?.GetValueOrDefault(c.Name, c.Quota) ?? c.Quota, c.TimeoutMs)).Where(c => c.Item2 > 0),
            o.RecallModelAlias ?? compiled.ModelAlias, o.RankingModel ?? compiled.RankingModel, o.Rules ?? compiled.Rules);

    private CompiledPlan Compile(SceneConfig scene, IEnumerable<(string Name, int Quota, int TimeoutMs)> channels, string alias, string ranking, RerankRules rules)
    {
        var plan = channels.Where(c => _channels.ContainsKey(c.Name)).Select(c => new ChannelPlan(_channels[c.Name], c.Quota, c.TimeoutMs, Bit(c.Name))).ToArray();
        var block = rules.Block is { Count: > 0 } b ? b.ToFrozenSet(StringComparer.Ordinal) : null;
        var boost = rules.Boost is { Count: > 0 } bo ? bo.ToFrozenDictionary(StringComparer.Ordinal) : null;
        return new CompiledPlan(scene, plan, scene.RecallModel, alias, ranking, rules, block, boost);
    }

    private static int Bit(string channel) => 1 << ((IList<string>)ChannelNames.All).IndexOf(channel);

    private ValueTask<string[]> RecallAsync(CompiledPlan plan, Scratch scratch, CancellationToken cancellationToken)
    {
        var channels = plan.Channels;
        scratch.EnsureBuffers(channels.Length, Catalog);
        for (var c = 0; c < channels.Length; c++)
        {
            scratch.Buffers[c].Clear();
        }

        return !plan.Scene.Parallel || channels.Length == 1 ? ValueTask.FromResult(RecallInline(channels, scratch)) : RecallParallelAsync(channels, scratch, cancellationToken);
    }

    /// <summary>The channels one after another on the request's thread (no task, no closure).</summary>
    private string[] RecallInline(ChannelPlan[] channels, Scratch scratch)
    {
        List<string>? degraded = null;
        var started = _time.GetTimestamp();
        for (var c = 0; c < channels.Length; c++)
        {
            if (_time.GetElapsedTime(started).TotalMilliseconds > channels[c].TimeoutMs)
            {
                (degraded ??= []).Add(channels[c].Channel.Name);
                continue;
            }

            try
            {
                channels[c].Channel.Recall(scratch.Context, channels[c].Quota, scratch.Buffers[c]);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogChannelFailed(_logger, ex, channels[c].Channel.Name);
                scratch.Buffers[c].Clear();
                (degraded ??= []).Add(channels[c].Channel.Name);
            }
        }

        return degraded?.ToArray() ?? [];
    }

    /// <summary>Each channel on the thread pool, waited for up to its timeout.</summary>
    private async ValueTask<string[]> RecallParallelAsync(ChannelPlan[] channels, Scratch scratch, CancellationToken cancellationToken)
    {
        List<string>? degraded = null;
        var tasks = scratch.Tasks(channels.Length);
        var context = scratch.Context;
        for (var c = 0; c < channels.Length; c++)
        {
            var (channel, quota, _, _) = channels[c];
            var buffer = scratch.Buffers[c];
            tasks[c] = Task.Run(() => channel.Recall(context, quota, buffer), cancellationToken);
        }

        var start = _time.GetTimestamp();
        for (var c = 0; c < channels.Length; c++)
        {
            try
            {
                var left = TimeSpan.FromMilliseconds(channels[c].TimeoutMs) - _time.GetElapsedTime(start);
                if (!tasks[c].IsCompleted)
                {
                    await tasks[c].WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, _time, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await tasks[c].ConfigureAwait(false);
                }
            }
            catch (TimeoutException)
            {
                (degraded ??= []).Add(channels[c].Channel.Name);
                scratch.Abandon(c, Catalog); // the channel still writes into its buffer: never reuse it
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogChannelFailed(_logger, ex, channels[c].Channel.Name);
                scratch.Buffers[c].Clear();
                (degraded ??= []).Add(channels[c].Channel.Name);
            }
        }

        return degraded?.ToArray() ?? [];
    }

    /// <summary>1/(RrfK + r) per recall rank r, as the float division computes it: one load instead of a division per entry.</summary>
    private static readonly float[] RrfWeights = [.. Enumerable.Range(0, 4096).Select(static r => 1f / (RrfK + r))];

    private const int PrefetchAhead = 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch<T>(ref T location)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
        {
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref location)); // a hint: never faults, even on a moved array
        }
    }

    /// <param name="snapshot">The ranking's item weights: each candidate's item margin is read here, next to its hot
    /// fields and prefetched with them (<c>scratch.Margins</c>; NaN: not covered, read live at rank). Null: not ranked by FTRL.</param>
    private int Merge(CompiledPlan plan, Scratch scratch, in CandidateFilter filter, RankWeights? snapshot)
    {
        // Dedupe through a stamped slot array indexed by dense id (no hashing); the filter runs once per distinct item,
        // with the hot fields read once for it and the ranker (category ordinal, item margin).
        var total = 0;
        for (var c = 0; c < plan.Channels.Length; c++)
        {
            total += scratch.Abandoned(c) ? 0 : scratch.Buffers[c].Count;
        }

        scratch.Ensure(total);
        var stamp = scratch.NextSlotStamp(Catalog.Count);
        var map = scratch.SlotMap;

        // The user's consumed items are marked filtered out (slot -1) up front, copied under one lock: the filter then
        // skips its per-candidate lock and binary search.
        if (filter.History is { } history)
        {
            scratch.EnsureHistory(history);
            var consumed = scratch.Consumed.AsSpan(0, history.CopyConsumed(scratch.Consumed));
            if (consumed.Length > 0 && consumed[^1] >= map.Length)
            {
                map = scratch.GrowSlotMap(consumed[^1] + 1); // ascending: the last is the largest
            }

            foreach (var dense in consumed)
            {
                ref var entry = ref map[dense];
                entry.Stamp = stamp;
                entry.Slot = -1;
            }
        }

        var candidates = scratch.Items;
        var priors = scratch.Priors;
        var masks = scratch.Masks;
        var ordinals = scratch.Ordinals;
        var margins = scratch.Margins;
        var weights = snapshot?.Items ?? [];
        var covered = Math.Min(snapshot?.Count ?? 0, weights.Length);
        var rrf = RrfWeights;
        var n = 0;
        for (var c = 0; c < plan.Channels.Length; c++)
        {
            var buffer = scratch.Buffers[c];
            if (scratch.Abandoned(c))
            {
                continue;
            }

            var bit = plan.Channels[c].Bit;
            var items = buffer.Items;
            for (var r = 0; r < items.Length; r++)
            {
                // The slot map entry and the hot fields of an item a few ranks ahead: two cache misses each (both arrays
                // are indexed by dense id, larger than the L2) that the loop would otherwise wait for one by one.
                if (r + PrefetchAhead < items.Length && items[r + PrefetchAhead] is var ahead && (uint)ahead < (uint)map.Length)
                {
                    Prefetch(ref map[ahead]);
                    Prefetch(ref Unsafe.AsRef(in Catalog.Hot(ahead)));
                    if (ahead < covered)
                    {
                        Prefetch(ref weights[ahead]);
                    }
                }

                var dense = items[r];
                if (dense >= map.Length)
                {
                    map = scratch.GrowSlotMap(dense + 1); // interned after the request started
                }

                ref var entry = ref map[dense];
                int slot;
                if (entry.Stamp != stamp)
                {
                    entry.Stamp = stamp;
                    ref readonly var hot = ref Catalog.Hot(dense);
                    if (!filter.PassesUnlessConsumed(dense, in hot))
                    {
                        entry.Slot = -1;
                        continue;
                    }

                    entry.Slot = slot = n++;
                    candidates[slot] = dense;
                    priors[slot] = 0;
                    masks[slot] = 0;
                    ordinals[slot] = hot.CategoryOrdinal;
                    margins[slot] = (uint)dense < (uint)covered ? weights[dense] : double.NaN;
                }
                else if ((slot = entry.Slot) < 0)
                {
                    continue;
                }

                priors[slot] += (uint)r < (uint)rrf.Length ? rrf[r] : 1f / (RrfK + r);
                masks[slot] |= bit;
            }
        }

        return n;
    }

    /// <summary>
    /// Keeps the best <paramref name="keep"/> of the <paramref name="n"/> merged candidates by prior (then dense id: the
    /// <see cref="ScoreOrder"/>), in their merge order: a selection on packed keys finds the cut, one pass compacts.
    /// </summary>
    private static int KeepBest(Scratch scratch, int n, int keep)
    {
        var keys = scratch.Keys.AsSpan(0, n);
        var items = scratch.Items;
        var priors = scratch.Priors;
        for (var i = 0; i < n; i++)
        {
            keys[i] = ScoreOrder.Key(priors[i], items[i]);
        }

        var selection = scratch.Selection.AsSpan(0, n);
        keys.CopyTo(selection);
        ScoreOrder.SelectSmallest(selection, keep);
        var cut = selection[0];
        foreach (var key in selection[..keep])
        {
            cut = Math.Max(cut, key); // the worst kept
        }

        var map = scratch.SlotMap;
        var masks = scratch.Masks;
        var ordinals = scratch.Ordinals;
        var margins = scratch.Margins;
        var w = 0;
        for (var i = 0; i < n; i++)
        {
            var dense = items[i];
            if (keys[i] > cut)
            {
                map[dense].Slot = -1; // cut: no longer a candidate (a pin of it starts afresh)
                continue;
            }

            items[w] = dense;
            priors[w] = priors[i];
            masks[w] = masks[i];
            ordinals[w] = ordinals[i];
            margins[w] = margins[i];
            map[dense].Slot = w++;
        }

        return w;
    }

    private void Rank(CompiledPlan plan, Scratch scratch, int n, RecommendRequest request, RankWeights? snapshot)
    {
        var maxPrior = 0f;
        for (var i = 0; i < n; i++)
        {
            maxPrior = Math.Max(maxPrior, scratch.Priors[i]);
        }

        var priorScale = maxPrior > 0 ? 1f / maxPrior : 0;
        if (plan.RankingModel != RankingModels.Ftrl || _ftrl is null)
        {
            for (var i = 0; i < n; i++)
            {
                scratch.Scores[i] = scratch.Priors[i] * priorScale;
            }

            return;
        }

        // The realtime model's features (RealtimeState): u, i, s, p, d, c, uc (all of value 1); position unknown
        // before serving. The weights that do not depend on the item are read once per request and uc once per category.
        var ftrl = _ftrl;
        double bias = ftrl.Bias;
        double wu = ftrl.Weight(_hasher.Index("u", request.UserId));
        double ws = ftrl.Weight(_hasher.Index("s", request.Scene));
        double wp = ftrl.Weight(_hasher.Index("p", ""));
        double wd = ftrl.Weight(_hasher.Index("d", request.Device ?? ""));
        var stamp = scratch.NextCategoryStamp(Catalog.CategoryCount);
        var stamps = scratch.CategoryStamps;
        var ucWeights = scratch.CategoryWeights;
        if (snapshot is null)
        {
            // No snapshot (the follower has not run): FtrlModel.PredictMargin's sum in its order (bias, then u, i, s, p,
            // d, c, uc, in double), every weight read live.
            for (var i = 0; i < n; i++)
            {
                var dense = scratch.Items[i];
                var item = Catalog.Hot(dense);
                var wuc = UserCategoryWeight(ftrl, request.UserId, dense, item.CategoryOrdinal, stamp, stamps, ucWeights);
                var margin = bias + wu;
                margin += ftrl.Weight(item.ItemFeature);
                margin += ws;
                margin += wp;
                margin += wd;
                margin += ftrl.Weight(item.CategoryFeature);
                margin += wuc;
                scratch.Scores[i] = (float)(1 / (1 + Math.Exp(-margin))) + (1e-3f * scratch.Priors[i] * priorScale); // recall order breaks ties
            }

            return;
        }

        // With the snapshot: margin = (bias + u + s + p + d) + snapshot(i + c) + uc, each part summed in double; the
        // item part is as of the snapshot (at most RankWeightsRefreshMs old), items newer than it read live. The item and
        // user×category parts are gathered first, then each candidate is scored.
        var requestMargin = bias + wu + ws + wp + wd;
        ReadUncoveredItemMargins(scratch, n, ftrl);
        ReadUserCategoryWeights(scratch, n, request.UserId, stamp, ftrl);
        var items = scratch.Items.AsSpan(0, n);
        var ordinals = scratch.Ordinals.AsSpan(0, n);
        var margins = scratch.Margins.AsSpan(0, n);
        var scores = scratch.Scores.AsSpan(0, n);
        var priors = scratch.Priors.AsSpan(0, n);
        for (var i = 0; i < margins.Length; i++)
        {
            var ordinal = ordinals[i];
            double wuc = ordinal < stamps.Length ? ucWeights[ordinal] : UserCategoryWeight(ftrl, request.UserId, items[i], ordinal, stamp, stamps, ucWeights);
            var margin = requestMargin + margins[i] + wuc;
            scores[i] = (float)(1 / (1 + Math.Exp(-margin))) + (1e-3f * priors[i] * priorScale); // recall order breaks ties
        }
    }

    /// <summary>The item part of the margin, read live, of candidates the snapshot does not cover (NaN at merge: interned since).</summary>
    private void ReadUncoveredItemMargins(Scratch scratch, int n, FtrlModel ftrl)
    {
        var items = scratch.Items.AsSpan(0, n);
        var margins = scratch.Margins.AsSpan(0, n);
        for (var i = 0; i < margins.Length; i++)
        {
            if (double.IsNaN(margins[i]))
            {
                ref readonly var hot = ref Catalog.Hot(items[i]);
                margins[i] = (double)ftrl.Weight(hot.ItemFeature) + ftrl.Weight(hot.CategoryFeature);
            }
        }
    }

    /// <summary>
    /// The user×category weight of every category among the candidates into <c>scratch.CategoryWeights</c> (stamped
    /// <paramref name="stamp"/>), read once each: the categories are found first, so the weight reads (a cache miss each
    /// into the model) follow one another. The features are hashed with the user's prefix encoded once per request
    /// (<see cref="FeatureHasher.Crosses"/>) and the category names from a per-ordinal cache (no item object read).
    /// </summary>
    private void ReadUserCategoryWeights(Scratch scratch, int n, string user, int stamp, FtrlModel ftrl)
    {
        var stamps = scratch.CategoryStamps;
        var ucWeights = scratch.CategoryWeights;
        var items = scratch.Items.AsSpan(0, n);
        var ordinals = scratch.Ordinals.AsSpan(0, n);
        var categories = 0;
        var firsts = scratch.Temp;
        for (var i = 0; i < ordinals.Length; i++)
        {
            var ordinal = ordinals[i];
            if (ordinal < stamps.Length && stamps[ordinal] != stamp)
            {
                stamps[ordinal] = stamp;
                firsts[categories++] = i;
            }
        }

        if (categories == 0)
        {
            return;
        }

        var indices = scratch.Order;
        var crosses = scratch.Crosses ??= _hasher.NewCrosses();
        crosses.Start("uc", user);
        for (var k = 0; k < categories; k++)
        {
            indices[k] = crosses.Index(CategoryName(ordinals[firsts[k]], items[firsts[k]]));
        }

        for (var k = 0; k < categories; k++)
        {
            ucWeights[ordinals[firsts[k]]] = ftrl.Weight(indices[k]);
        }
    }

    /// <summary>
    /// The name of category <paramref name="ordinal"/> ("" for none), which <paramref name="dense"/> carried at merge:
    /// cached by ordinal (an ordinal names one category for the catalog's life), read from the item object once.
    /// </summary>
    private string CategoryName(int ordinal, int dense)
    {
        var names = _categoryNames;
        if (ordinal < names.Length && names[ordinal] is { } cached)
        {
            return cached;
        }

        var item = Catalog[dense]; // immutable: its category and ordinal agree, whatever a concurrent update did
        var name = item.Category ?? "";
        if (item.CategoryOrdinal >= names.Length)
        {
            var grown = new string?[Math.Max(Catalog.CategoryCount, item.CategoryOrdinal + 1) + 16];
            names.CopyTo(grown, 0);
            _categoryNames = names = grown; // a racing grower may drop an entry: it is read again next time
        }

        names[item.CategoryOrdinal] = name;
        return name; // recategorised since the merge: its category now, as a live read gives
    }

    /// <summary>The user×category weight of the item's category, read once per category per request.</summary>
    private double UserCategoryWeight(FtrlModel ftrl, string user, int dense, int ordinal, int stamp, int[] stamps, float[] weights)
    {
        if (ordinal >= stamps.Length)
        {
            return ftrl.Weight(_hasher.Index("uc", user, Catalog[dense].Category ?? "")); // a category newer than the request
        }

        if (stamps[ordinal] != stamp)
        {
            stamps[ordinal] = stamp;
            weights[ordinal] = ftrl.Weight(_hasher.Index("uc", user, Catalog[dense].Category ?? ""));
        }

        return weights[ordinal];
    }

    private List<(int Dense, float Score, int Mask)> Rerank(CompiledPlan plan, Scratch scratch, int n, int count, UserHistory? history, in CandidateFilter filter)
    {
        var rules = plan.Rules;
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        if (plan.Boost is not null || rules.Freshness is not null)
        {
            for (var i = 0; i < n; i++)
            {
                var item = Catalog[scratch.Items[i]];
                if (plan.Boost?.TryGetValue(item.Id, out var boost) == true)
                {
                    scratch.Scores[i] *= (float)boost;
                }

                if (rules.Freshness is { } f && item.CreatedSeconds > 0)
                {
                    scratch.Scores[i] += (float)(f.Bonus * Math.Pow(2, -Math.Max(0, now - item.CreatedSeconds) / (f.HalfLifeHours * 3600)));
                }
            }
        }

        // The user's exposures in the cap window, counted by item in a small table: a count is looked up only for the
        // candidates the rules pop (a few dozen), never through the slot map for exposed items that are no candidates.
        ItemSums? exposed = null;
        if (rules.FrequencyCap is { } cap && history is not null)
        {
            scratch.EnsureHistory(history);
            var items = scratch.Exposed.AsSpan(0, history.ExposedSince(now - (long)(cap.WindowHours * 3600), scratch.Exposed));
            if (items.Length > 0)
            {
                exposed = scratch.ExposureCounts;
                exposed.Reset(items.Length);
                foreach (var item in items)
                {
                    exposed.Add(item, 1);
                }
            }
        }

        // The candidates best first (ScoreOrder: score, then dense id), popped lazily from a heap: the rules look at about
        // as many as they serve, so the rest is never ordered.
        var heap = scratch.Keys.AsSpan(0, n);
        for (var i = 0; i < n; i++)
        {
            heap[i] = ScoreOrder.Key(scratch.Scores[i], scratch.Items[i]);
        }

        ScoreOrder.Heapify(heap);
        var final = scratch.Final;
        final.Clear();
        var pinned = rules.Pin is { Count: > 0 } ? rules.Pin : null;
        var maxCap = rules.FrequencyCap?.MaxExposures ?? int.MaxValue;
        var eligible = new EligibleQueue(this, scratch, heap, exposed, maxCap, pinned);
        switch (rules.Diversity)
        {
            case { Method: DiversityMethods.CategoryCap } d:
                CategoryCap(scratch, ref eligible, count, d.MaxPerCategory, final);
                break;
            case { Method: DiversityMethods.Mmr } d:
                Mmr(scratch, ref eligible, count, d.Lambda, final);
                break;
            default:
                while (final.Count < count && eligible.Next() is var slot and >= 0)
                {
                    final.Add((scratch.Items[slot], scratch.Scores[slot], scratch.Masks[slot]));
                }

                break;
        }

        if (pinned is not null)
        {
            foreach (var (id, position) in pinned.OrderBy(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal))
            {
                var dense = Catalog.Find(id);
                if (dense < 0 || !filter.Passes(dense) || (exposed is not null && exposed.Get(dense) >= maxCap))
                {
                    continue;
                }

                var mask = PinBit;
                var score = final.Count > 0 ? final[0].Score : 0f;
                if (scratch.SlotOf(dense) is var slot and >= 0 && slot < n)
                {
                    mask |= scratch.Masks[slot];
                    score = scratch.Scores[slot];
                }

                final.Insert(Math.Min(position, final.Count), (dense, score, mask));
            }

            if (final.Count > count)
            {
                final.RemoveRange(count, final.Count - count);
            }
        }

        // The last gate: nothing blocked or flagged leaves, whatever a rule placed.
        for (var i = final.Count - 1; i >= 0; i--)
        {
            if (IsRiskBlocked(plan, Catalog[final[i].Dense].Id))
            {
                final.RemoveAt(i);
            }
        }

        return final;
    }

    /// <summary>
    /// The eligible candidates (under the frequency cap, not pinned) best first, one at a time: pops the rerank heap,
    /// skipping the others. <see cref="Next"/> returns a slot, or -1 when none is left.
    /// </summary>
    private ref struct EligibleQueue(RecommendEngine engine, Scratch scratch, Span<ulong> heap, ItemSums? exposed, int maxCap, IReadOnlyDictionary<string, int>? pinned)
    {
        private readonly Span<ulong> _heap = heap;
        private int _count = heap.Length;

        public int Next()
        {
            while (_count > 0)
            {
                var dense = ScoreOrder.Id(ScoreOrder.Pop(_heap, ref _count));
                if (exposed is not null && exposed.Get(dense) >= maxCap)
                {
                    continue;
                }

                var slot = scratch.SlotOf(dense);
                if (pinned is not null && pinned.ContainsKey(engine.Catalog[scratch.Items[slot]].Id))
                {
                    continue; // placed below
                }

                return slot;
            }

            return -1;
        }
    }

    private void CategoryCap(Scratch scratch, ref EligibleQueue eligible, int count, int maxPerCategory, List<(int, float, int)> final)
    {
        // Counted per category ordinal (0: none or empty, never capped) as read at merge: every one is below the
        // catalog's category count now.
        var stamp = scratch.NextCategoryStamp(Catalog.CategoryCount);
        var ordinals = scratch.Ordinals;
        var stamps = scratch.CategoryStamps;
        var perCategory = scratch.CategoryCounts;
        var overflow = scratch.Overflow;
        overflow.Clear();
        while (final.Count < count && eligible.Next() is var slot and >= 0)
        {
            var ordinal = ordinals[slot];
            if (stamps[ordinal] != stamp)
            {
                stamps[ordinal] = stamp;
                perCategory[ordinal] = 0;
            }

            if (ordinal > 0 && perCategory[ordinal] >= maxPerCategory)
            {
                overflow.Add(slot);
                continue;
            }

            perCategory[ordinal]++;
            final.Add((scratch.Items[slot], scratch.Scores[slot], scratch.Masks[slot]));
        }

        for (var k = 0; k < overflow.Count && final.Count < count; k++)
        {
            var slot = overflow[k];
            final.Add((scratch.Items[slot], scratch.Scores[slot], scratch.Masks[slot]));
        }
    }

    /// <summary>Maximal marginal relevance: similarity 1 for the same category, plus tag overlap (Jaccard), capped at 1.</summary>
    private void Mmr(Scratch scratch, ref EligibleQueue eligible, int count, double lambda, List<(int, float, int)> final)
    {
        // The pool: the best count·10 eligible; the first popped has the highest score of all eligible.
        var pool = scratch.Overflow;
        pool.Clear();
        while (pool.Count < count * 10 && eligible.Next() is var next and >= 0)
        {
            pool.Add(next);
        }

        var max = pool.Count > 0 ? Math.Max(0f, scratch.Scores[pool[0]]) : 0f;
        var scale = max > 0 ? 1 / max : 1;
        while (final.Count < count && pool.Count > 0)
        {
            var best = -1;
            var bestValue = double.NegativeInfinity;
            for (var k = 0; k < pool.Count; k++)
            {
                var item = Catalog[scratch.Items[pool[k]]];
                var similarity = 0.0;
                foreach (var (chosen, _, _) in final)
                {
                    similarity = Math.Max(similarity, Similarity(item, Catalog[chosen]));
                    if (similarity >= 1)
                    {
                        break;
                    }
                }

                var value = (lambda * scratch.Scores[pool[k]] * scale) - ((1 - lambda) * similarity);
                if (value > bestValue)
                {
                    bestValue = value;
                    best = k;
                }
            }

            var slot = pool[best];
            pool.RemoveAt(best);
            final.Add((scratch.Items[slot], scratch.Scores[slot], scratch.Masks[slot]));
        }
    }

    private static double Similarity(ServingItem a, ServingItem b)
    {
        var s = a.Category is not null && a.Category == b.Category ? 1.0 : 0.0;
        if (s < 1 && a.Tags.Length > 0 && b.Tags.Length > 0)
        {
            var shared = a.Tags.Count(t => Array.IndexOf(b.Tags, t) >= 0);
            s = Math.Min(1, s + ((double)shared / (a.Tags.Length + b.Tags.Length - shared)));
        }

        return s;
    }

    /// <summary>The flagged items as a bitmap over dense ids (null: nothing is flagged); rebuilt here when the flagged set was replaced.</summary>
    internal ItemBitmap? FlaggedBitmap()
    {
        var set = Flagged.Current;
        if (set.Count == 0)
        {
            return null;
        }

        var bits = _flaggedBits;
        if (bits is null || !ReferenceEquals(bits.Source, set))
        {
            _flaggedBits = bits = ItemBitmap.Build(Catalog, set, set);
        }

        return bits;
    }

    /// <summary>Rebuilds the flagged bitmap when the catalog grew past it (items newer than a bitmap are checked by id string meanwhile).</summary>
    internal void RefreshFlaggedBitmap()
    {
        var set = Flagged.Current;
        if (set.Count > 0 && (_flaggedBits is not { } bits || !ReferenceEquals(bits.Source, set) || bits.Covered < Catalog.Count - 1))
        {
            _flaggedBits = ItemBitmap.Build(Catalog, set, set);
        }
    }

    /// <summary>The scene's block list as a bitmap over dense ids, kept on the compiled plan and rebuilt when the catalog grew.</summary>
    internal ItemBitmap? BlockBitmap(CompiledPlan plan)
    {
        if (plan.Block is not { Count: > 0 } block)
        {
            return null;
        }

        var bits = plan.BlockBits;
        if (bits is null || bits.Covered < Catalog.Count - 1)
        {
            plan.BlockBits = bits = ItemBitmap.Build(Catalog, block, block);
        }

        return bits;
    }

    /// <summary>True when a host-added risk filter (beyond the flagged items) blocks the item.</summary>
    internal bool IsBlockedByOtherFilters(string itemId)
    {
        for (var i = 1; i < _risk.Length; i++)
        {
            if (_risk[i].IsBlocked(itemId))
            {
                return true;
            }
        }

        return false;
    }

    internal bool IsRiskBlocked(CompiledPlan? plan, string itemId)
    {
        if (plan?.Block?.Contains(itemId) == true)
        {
            return true;
        }

        foreach (var risk in _risk)
        {
            if (risk.IsBlocked(itemId))
            {
                return true;
            }
        }

        return false;
    }

    private string[] ChannelSet(int mask) => _channelSets.GetOrAdd(mask, m =>
    {
        var names = new List<string>();
        for (var i = 0; i < ChannelNames.All.Count; i++)
        {
            if ((m & (1 << i)) != 0)
            {
                names.Add(ChannelNames.All[i]);
            }
        }

        if ((m & PinBit) != 0)
        {
            names.Add(ChannelNames.Pin);
        }

        return [.. names];
    });

    /// <summary><c>r-</c> and a version-7 GUID in 32 hex digits, built in one string.</summary>
    private static string NewRequestId() => string.Create(34, Guid.CreateVersion7(), static (chars, guid) =>
    {
        chars[0] = 'r';
        chars[1] = '-';
        guid.TryFormat(chars[2..], out _, "N");
    });

    private static void Lap(StageProfile? profile, int stage, ref long t)
    {
        if (profile is not null)
        {
            var now = Stopwatch.GetTimestamp();
            profile.Add(stage, now - t);
            t = now;
        }
    }

    /// <summary>The largest vector-channel quota of the scenes in force (what a precomputed vector result must cover); 0 when no scene uses the channel.</summary>
    private int MaxVectorQuota()
    {
        var quota = 0;
        foreach (var scene in Scenes.Current.Scenes.Values)
        {
            foreach (var channel in scene.Channels)
            {
                if (channel.Name == ChannelNames.Vector)
                {
                    quota = Math.Max(quota, channel.Quota);
                }
            }
        }

        return quota;
    }

    private RecallModelHolder Holder(string name, string alias) =>
        _models.GetOrAdd((name, alias), k =>
        {
            var holder = new RecallModelHolder(Project, k.Item1, k.Item2, _options, Catalog, MaxVectorQuota, _logger);
            holder.Poll();
            return holder;
        });

    private Scratch Rent() => _scratch.TryTake(out var s) ? s : new Scratch(Catalog);

    private void Return(Scratch scratch)
    {
        if (_scratch.Count < 64)
        {
            _scratch.Add(scratch);
        }
    }

    [LoggerMessage(EventId = 6040, Level = LogLevel.Error, Message = "Recall channel {Channel} failed; the request is served without it")]
    private static partial void LogChannelFailed(ILogger logger, Exception exception, string channel);

    [LoggerMessage(EventId = 6041, Level = LogLevel.Error, Message = "Serving could not follow the log of {Project}")]
    private static partial void LogFollowFailed(ILogger logger, Exception exception, string project);
}
