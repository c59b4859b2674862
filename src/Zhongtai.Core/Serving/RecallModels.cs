using Microsoft.Extensions.Logging;
using Zhongtai.Events.Ingest;
using Zhongtai.Hosting;
using Zhongtai.Indexing.Graph;
using Zhongtai.Indexing.Vector;
using Zhongtai.Registry;
using Zhongtai.Training.Recall;

namespace Zhongtai.Serving;

/// <summary>One loaded version of a factor recall model with an HNSW index over its item factors (inner product).</summary>
internal sealed class LoadedRecallModel(string name, int version, FactorModel model, HnswIndex index, string[] itemIds)
{
    public string Name => name;
    public int Version => version;
    public FactorModel Model => model;
    public HnswIndex Index => index;

    /// <summary>External id of each model item.</summary>
    public string[] ItemIds => itemIds;

    /// <summary><c>als@v3</c>.</summary>
    public string Label { get; } = $"{name}@v{version}";

    /// <summary>
    /// Vector recall results by user (dense serving ids, scores): a user's factors only change with the version, so
    /// the nearest items are computed once per user and version. Dies with this version on a swap.
    /// </summary>
    public System.Collections.Concurrent.ConcurrentDictionary<int, VectorResult> UserResults { get; } = new();

    /// <summary>The nearest items to a user's factors (a search of <paramref name="quota"/>), as dense serving ids; <paramref name="hits"/> is working space of at least quota.</summary>
    public VectorResult Nearest(int user, int quota, Span<VectorHit> hits, ServingCatalog catalog)
    {
        var n = index.Search(model.UserVector(user), quota, hits);
        var items = new int[n];
        var scores = new float[n];
        var k = 0;
        for (var i = 0; i < n; i++)
        {
            var dense = catalog.Find(itemIds[hits[i].Id]);
            if (dense >= 0)
            {
                items[k] = dense;
                scores[k++] = 1 - hits[i].Distance;
            }
        }

        return new VectorResult(quota, k == n ? items : items[..k], k == n ? scores : scores[..k], k == n);
    }
}

/// <summary>
/// One user's vector recall: the nearest items for a search of <see cref="Quota"/> (dense serving ids, best first; model
/// items serving does not know are left out). Only a <see cref="Complete"/> result — every item known — is cached: one
/// computed while the catalog was still catching up (a version loading at start-up) would otherwise stay short for the
/// whole version.
/// </summary>
internal sealed record VectorResult(int Quota, int[] Items, float[] Scores, bool Complete);

/// <summary>
/// Keeps the version an alias of a registry model points at loaded: <see cref="Poll"/> resolves the alias and, when it
/// moved (promote, rollback), loads the new version and builds its index in the background, then swaps it in with one
/// reference write. Requests read <see cref="Current"/> once and keep using that version; they never wait for a load.
/// Before the swap the new version's vector results are computed for <see cref="ServingOptions.VectorPrecomputeUsers"/>
/// users (those the outgoing version had cached first), so neither a promote nor a user's first request waits for an index search.
/// </summary>
internal sealed partial class RecallModelHolder(Project project, string name, string alias, ServingOptions options, ServingCatalog catalog, Func<int> vectorQuota, ILogger logger)
{
    private volatile LoadedRecallModel? _current;
    private Task? _loading;
    private int? _loadingVersion;
    private int? _failedVersion;

    public string Name => name;
    public string Alias => alias;
    public LoadedRecallModel? Current => _current;

    /// <summary>Set when a request asked for this alias: holders nobody uses are not polled.</summary>
    public long LastUsedTicks { get; set; }

    /// <summary>Checks the alias and starts a background load when it points at another version. Never blocks on a load.</summary>
    public void Poll()
    {
        if (_loading is { IsCompleted: false })
        {
            return;
        }

        ModelVersion? target;
        try
        {
            target = project.Models.Resolve(name, alias);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or Microsoft.Data.Sqlite.SqliteException)
        {
            LogLoadFailed(logger, ex, name, alias, -1);
            return;
        }

        if (target is null)
        {
            _current = null;
            return;
        }

        if (target.Version == _current?.Version || target.Version == _failedVersion || target.Format != FactorModelCodec.Format)
        {
            return;
        }

        _loadingVersion = target.Version;
        _loading = Task.Run(() => Load(target));
    }

    /// <summary>Polls, then waits for a load in flight (tests and start-up).</summary>
    public async Task PollAndWaitAsync()
    {
        Poll();
        if (_loading is { } loading)
        {
            await loading.ConfigureAwait(false);
        }
    }

    private void Load(ModelVersion version)
    {
        try
        {
            var model = FactorModelCodec.Deserialize(project.Models.ReadArtifact(version));
            var ids = project.ItemIds.ToArray();
            var count = Math.Min(ids.Length, model.ItemCount);
            var index = new HnswIndex(model.Factors, VectorMetric.InnerProduct, new HnswOptions
            {
                M = options.HnswM,
                EfConstruction = options.HnswEfConstruction,
                InitialCapacity = Math.Max(16, count),
            });
            var dense = new int[count];
            for (var i = 0; i < count; i++)
            {
                dense[i] = i;
            }

            if (count > 0)
            {
                index.AddRange(dense, model.ItemFactors.AsSpan(0, count * model.Factors));
            }

            var loaded = new LoadedRecallModel(name, version.Version, model, index, ids.Length == count ? ids : ids[..count]);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var warmed = Warm(loaded, _current);
            _current = loaded;
            LogLoaded(logger, name, alias, version.Version, count, warmed, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or ArgumentException or RegistryException)
        {
            _failedVersion = version.Version;
            LogLoadFailed(logger, ex, name, alias, version.Version);
        }
        finally
        {
            _loadingVersion = null;
        }
    }

    /// <summary>Fills the new version's vector cache: the outgoing version's cached users (at their quota), then the model's users from the newest id down (at the scenes' largest vector quota); returns how many.</summary>
    private int Warm(LoadedRecallModel next, LoadedRecallModel? previous)
    {
        var limit = Math.Min(options.VectorPrecomputeUsers, options.VectorCacheUsers);
        if (limit == 0 || next.ItemIds.Length == 0)
        {
            return 0;
        }

        var work = new List<(int User, int Quota)>(Math.Min(limit, next.Model.UserCount));
        var taken = new HashSet<int>();
        foreach (var (user, result) in previous?.UserResults ?? [])
        {
            if (work.Count < limit && user < next.Model.UserCount && taken.Add(user))
            {
                work.Add((user, result.Quota));
            }
        }

        var quota = vectorQuota();
        for (var user = next.Model.UserCount - 1; user >= 0 && work.Count < limit && quota > 0; user--)
        {
            if (taken.Add(user))
            {
                work.Add((user, quota));
            }
        }

        Parallel.For(0, work.Count, () => Array.Empty<VectorHit>(), (i, _, hits) =>
        {
            var (user, q) = work[i];
            if (hits.Length < q)
            {
                hits = new VectorHit[Math.Max(q, 256)];
            }

            if (next.Nearest(user, q, hits, catalog) is { Complete: true } result)
            {
                next.UserResults[user] = result;
            }

            return hits;
        }, static _ => { });
        return work.Count;
    }

    [LoggerMessage(EventId = 6020, Level = LogLevel.Information, Message = "Serving {Name}@{Alias} = v{Version} ({Items} items indexed; vector results of {Warmed} users computed in {WarmMs:F0} ms)")]
    private static partial void LogLoaded(ILogger logger, string name, string alias, int version, int items, int warmed, double warmMs);

    [LoggerMessage(EventId = 6021, Level = LogLevel.Error, Message = "Could not load {Name}@{Alias} v{Version}; the previous version keeps serving")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception, string name, string alias, int version);
}

/// <summary>
/// The knowledge graph of the graph channel: the newest snapshot the <c>graph-build</c> job published
/// (<c>index/graph/CURRENT</c>), loaded as soon as it appears; else, and between jobs, built from the project's log
/// in the background every <see cref="ServingOptions.GraphRebuildSeconds"/>.
/// </summary>
internal sealed partial class GraphHolder(Project project, ServingOptions options, TimeProvider time, ILogger logger)
{
    private volatile KnowledgeGraph? _current;
    private Task? _building;
    private long _lastBuild;
    private long _builtAtOffset = -1;
    private string? _loadedSnapshot;

    public KnowledgeGraph? Current => _current;

    private string? LatestSnapshot => KnowledgeGraphSnapshots.LatestPath(KnowledgeGraphSnapshots.DirectoryOf(project.Directory));

    public void Poll()
    {
        if (_building is { IsCompleted: false })
        {
            return;
        }

        var snapshot = LatestSnapshot;
        var newSnapshot = snapshot is not null && snapshot != _loadedSnapshot;
        var due = newSnapshot || _current is null || (options.GraphRebuildSeconds > 0 && time.GetElapsedTime(_lastBuild) >= TimeSpan.FromSeconds(options.GraphRebuildSeconds));
        if (!due || (!newSnapshot && _current is not null && _builtAtOffset == project.Events.NextOffset))
        {
            return;
        }

        if (!newSnapshot && _current is null && options.GraphRebuildSeconds <= 0)
        {
            return;
        }

        _lastBuild = time.GetTimestamp();
        _building = Task.Run(Build);
    }

    private void Build()
    {
        try
        {
            if (LatestSnapshot is { } snapshot && snapshot != _loadedSnapshot)
            {
                var until = project.Events.NextOffset;
                _current = KnowledgeGraph.Load(snapshot);
                (_loadedSnapshot, _builtAtOffset) = (snapshot, until);
                return;
            }

            var end = project.Events.NextOffset;
            var graph = KnowledgeGraphBuilder.Build(project.Events.ReadEvents(project.Events.StartOffset, end).Select(x => x.Event));
            _current = graph;
            _builtAtOffset = end;
            LogBuilt(logger, project.Name, graph.NodeCount);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or InvalidOperationException or ArgumentException)
        {
            LogFailed(logger, ex, project.Name);
        }
    }

    [LoggerMessage(EventId = 6030, Level = LogLevel.Information, Message = "Knowledge graph of {Project} ready for serving: {Nodes} nodes")]
    private static partial void LogBuilt(ILogger logger, string project, int nodes);

    [LoggerMessage(EventId = 6031, Level = LogLevel.Error, Message = "Knowledge graph of {Project} could not be built or loaded")]
    private static partial void LogFailed(ILogger logger, Exception exception, string project);
}
