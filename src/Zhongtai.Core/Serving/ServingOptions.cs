using System.ComponentModel.DataAnnotations;

namespace Zhongtai.Serving;

/// <summary>Options of the recommendation engine (configuration section <c>Serving</c>).</summary>
public sealed class ServingOptions
{
    /// <summary>Recent engaged items kept per user (the i2i and graph channels start from the newest). Default 50.</summary>
    [Range(1, 10_000)]
    public int RecentItemsPerUser { get; set; } = 50;

    /// <summary>Consumed items remembered per user (never recommended again). Default 1000.</summary>
    [Range(1, 1_000_000)]
    public int ConsumedItemsPerUser { get; set; } = 1000;

    /// <summary>Recent exposures remembered per user, for the frequency cap. Default 200.</summary>
    [Range(1, 100_000)]
    public int ExposuresPerUser { get; set; } = 200;

    /// <summary>The i2i and graph channels expand from this many of the user's newest items. Default 5.</summary>
    [Range(1, 100)]
    public int SeedItems { get; set; } = 5;

    /// <summary>Newest catalog items kept for the fresh channel. Default 500.</summary>
    [Range(1, 100_000)]
    public int FreshItems { get; set; } = 500;

    /// <summary>
    /// The server raises the thread pool's minimum worker threads to at least this (never lowers it; 0 keeps the
    /// runtime's minimum, one per core). The log followers run on threads of their own
    /// (<see cref="Zhongtai.Hosting.FollowerThread"/>), so requests do not wait behind them for a pool thread; more
    /// threads than cores then only time-slice the requests: on 2 cores a minimum of 16 served 8,170–8,587 req/s at
    /// p99 6.9–8.0 ms (16 connections) where the default served 10,356 at 4.6 ms (docs/serving.md). Default 0.
    /// </summary>
    [Range(0, 1024)]
    public int MinWorkerThreads { get; set; }

    /// <summary>Popular lists (overall and per category) are recomputed from the realtime models this often. Default 1 s.</summary>
    [Range(0.01, 3600)]
    public double PopularRefreshSeconds { get; set; } = 1;

    /// <summary>Items kept in each popular list. Default 500.</summary>
    [Range(1, 100_000)]
    public int PopularListSize { get; set; } = 500;

    /// <summary>The registry is polled for alias changes (promote, rollback) this often. Default 2 s.</summary>
    [Range(0.01, 3600)]
    public double ModelPollSeconds { get; set; } = 2;

    /// <summary>The scenes file and the flagged-items file are checked for changes this often. Default 2 s.</summary>
    [Range(0.01, 3600)]
    public double ConfigPollSeconds { get; set; } = 2;

    /// <summary>The knowledge graph is rebuilt from the log this often (0: never; the graph-build job's newest snapshot, <c>index/graph/CURRENT</c>, is loaded whenever one appears). Default 600 s.</summary>
    [Range(0, 86_400)]
    public double GraphRebuildSeconds { get; set; } = 600;

    /// <summary>HNSW graph degree of the vector channel's index. Default 16.</summary>
    [Range(4, 64)]
    public int HnswM { get; set; } = 16;

    /// <summary>HNSW construction breadth of the vector channel's index. Default 100.</summary>
    [Range(10, 1000)]
    public int HnswEfConstruction { get; set; } = 100;

    /// <summary>Users whose vector-channel results are kept per loaded model version (a user's factors only change with the version); 0 turns the cache off. Default 20000 (about 1.6 KB each at quota 200).</summary>
    [Range(0, 10_000_000)]
    public int VectorCacheUsers { get; set; } = 20_000;

    /// <summary>The <c>content</c> recall channel (hashed content vectors of every item, searched with HNSW).</summary>
    public ContentChannelOptions Content { get; set; } = new();

    /// <summary>
    /// When a recall model version loads, the vector results of this many users are computed before it goes live (in
    /// parallel, in the background, while the previous version keeps serving): the users the outgoing version had
    /// cached first, then the model's users from the newest id down, at the largest vector quota of the scenes. A user's
    /// factors only change with the version, so these requests never search the index. At most
    /// <see cref="VectorCacheUsers"/>; 0: only on demand. Default 20000.
    /// </summary>
    [Range(0, 10_000_000)]
    public int VectorPrecomputeUsers { get; set; } = 20_000;

    /// <summary>
    /// The ranking stage reads each candidate's item-side FTRL weight (item plus category) from a per-item snapshot,
    /// rebuilt by the follower when the model has learned more or the catalog changed, at most this often; user-side
    /// and request-side weights are read live on every request. 0: no snapshot, every weight read live. Default 1000 ms.
    /// </summary>
    [Range(0, 3_600_000)]
    public int RankWeightsRefreshMs { get; set; } = 1000;

    /// <summary>Log every served list back as exposure events. Default true.</summary>
    public bool LogExposures { get; set; } = true;

    /// <summary>Exposure events are appended in batches of at most this many. Default 5000.</summary>
    [Range(1, 100_000)]
    public int ExposureBatchSize { get; set; } = 5000;

    /// <summary>Served lists waiting to be logged; beyond this the oldest waiting list is dropped (and counted). Default 100000.</summary>
    [Range(1, 10_000_000)]
    public int ExposureQueueCapacity { get; set; } = 100_000;
}
