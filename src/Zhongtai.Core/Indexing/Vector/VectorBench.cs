using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Zhongtai.Indexing.Vector;

/// <summary>Options of <see cref="VectorBench.Run(VectorBenchOptions, TextWriter?, CancellationToken)"/>.</summary>
public sealed class VectorBenchOptions
{
    /// <summary>Base vectors (.fvecs). Null: generate <see cref="Count"/> clustered vectors. Default null.</summary>
    public string? BaseFile { get; set; }

    /// <summary>Query vectors (.fvecs). Null: generate <see cref="QueryCount"/> queries from the same clusters. Default null.</summary>
    public string? QueryFile { get; set; }

    /// <summary>Ground truth (.ivecs, row indexes of the base file, at least k per query). Null: computed exactly. Default null.</summary>
    public string? GroundTruthFile { get; set; }

    /// <summary>When set, the (generated or loaded) base, queries and ground truth are written here as base.fvecs, query.fvecs and gt.ivecs so that other tools can read the same data. Default null.</summary>
    public string? WriteDataDirectory { get; set; }

    /// <summary>Neighbours per query. Default 10.</summary>
    public int K { get; set; } = 10;

    /// <summary>Generated base vectors. Default 100,000.</summary>
    public int Count { get; set; } = 100_000;

    /// <summary>Generated dimension. Default 128.</summary>
    public int Dimension { get; set; } = 128;

    /// <summary>Generated queries. Default 1,000.</summary>
    public int QueryCount { get; set; } = 1_000;

    /// <summary>Seed of the generated data. Default 1.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Distance metric. Default L2.</summary>
    public VectorMetric Metric { get; set; } = VectorMetric.L2;

    /// <summary>HNSW M. Default 16.</summary>
    public int M { get; set; } = 16;

    /// <summary>HNSW efConstruction. Default 200.</summary>
    public int EfConstruction { get; set; } = 200;

    /// <summary>Build threads. Default 2.</summary>
    public int BuildThreads { get; set; } = 2;

    /// <summary>Search ef values swept (each at least k). Default 10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512.</summary>
    public IReadOnlyList<int> EfValues { get; set; } = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512];

    /// <summary>Minimum timed passes over the queries per ef; the fastest pass counts (robust to noise from other processes). Default 3.</summary>
    public int Passes { get; set; } = 3;

    /// <summary>Keep timing further passes (up to 50) until this many seconds were spent on one ef. Default 0.5.</summary>
    public double MinSeconds { get; set; } = 0.5;

    /// <summary>
    /// Item embeddings as the data instead of generated vectors: <c>als</c> or <c>item2vec</c>, trained on <see cref="RatingsFile"/>
    /// (see <see cref="EmbeddingVectors"/>; the metric is the model's, <see cref="Metric"/> is ignored). Default null.
    /// </summary>
    public string? Embeddings { get; set; }

    /// <summary>The ratings file the embeddings are trained on (ml-latest <c>ratings.csv</c> or ml-100k <c>u.data</c>). Default null.</summary>
    public string? RatingsFile { get; set; }

    /// <summary>Search a saved snapshot instead of building: the queries and ground truth still come from the options (the base vectors are not loaded when <see cref="GroundTruthFile"/> is given). Default null.</summary>
    public string? IndexFile { get; set; }

    /// <summary>How <see cref="IndexFile"/> is opened: bulk read into the heap, or memory-mapped. Default heap.</summary>
    public VectorIndexOpen Open { get; set; } = VectorIndexOpen.Heap;

    /// <summary>After building, save the index here (for a later <see cref="IndexFile"/> run). Default null.</summary>
    public string? SaveIndexFile { get; set; }

    /// <summary>Also time exact search (<see cref="BruteForceIndex"/>, one thread) over the same queries. Default false.</summary>
    public bool Exact { get; set; }
}

/// <summary>How a benchmark opens a saved index.</summary>
public enum VectorIndexOpen
{
    /// <summary><see cref="VectorIndexFile.Load"/>: bulk read, CRC and link checks, heap arrays.</summary>
    Heap,

    /// <summary><see cref="VectorIndexFile.OpenMapped"/>: memory-mapped, read in place, no checksum pass.</summary>
    Mapped,
}

/// <summary>One point of the ef sweep.</summary>
public sealed record VectorBenchPoint(int Ef, double Recall, double Qps);

/// <summary>The first swept ef whose recall reaches <paramref name="TargetRecall"/> (null fields when none did).</summary>
public sealed record VectorBenchTarget(double TargetRecall, int? Ef, double? Recall, double? Qps);

/// <summary>Result of one benchmark run of <see cref="HnswIndex"/>.</summary>
public sealed record VectorBenchResult(
    string Engine,
    int Count,
    int Dimension,
    int Queries,
    int K,
    int M,
    int EfConstruction,
    int BuildThreads,
    double BuildSeconds,
    long IndexBytes,
    long HeapDeltaBytes,
    IReadOnlyList<VectorBenchPoint> Sweep,
    IReadOnlyList<VectorBenchTarget> Targets)
{
    /// <summary>Where the data came from (generated, files, or trained embeddings).</summary>
    public string? Source { get; init; }

    /// <summary>Distance metric of the run.</summary>
    public VectorMetric Metric { get; init; }

    /// <summary>How the index was obtained: <c>built</c>, <c>heap</c> (loaded) or <c>mapped</c>.</summary>
    public string Open { get; init; } = "built";

    /// <summary>Seconds to open the saved index (null when built in-process).</summary>
    public double? OpenSeconds { get; init; }

    /// <summary>Resident set size of the process right after the index was built or opened (Linux VmRSS; 0 elsewhere).</summary>
    public long RssAfterOpenBytes { get; init; }

    /// <summary>Resident set size after the ef sweep (every page the searches touched).</summary>
    public long RssAfterSearchBytes { get; init; }

    /// <summary>Single-thread exact-search queries per second (recall 1 by definition), when measured.</summary>
    public double? ExactQps { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public string ToText()
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(ci, $"{Engine}: {Count} x {Dimension}, {Queries} queries, k={K}, M={M}, efConstruction={EfConstruction}");
        if (Source is not null)
        {
            sb.AppendLine(ci, $"data: {Source}");
        }
        sb.AppendLine(OpenSeconds is { } open
            ? string.Create(ci, $"opened ({Open}) in {open * 1000:F1} ms, index {IndexBytes / 1048576.0:F1} MiB")
            : string.Create(ci, $"build {BuildSeconds:F2} s on {BuildThreads} threads, index {IndexBytes / 1048576.0:F1} MiB (heap delta {HeapDeltaBytes / 1048576.0:F1} MiB)"));
        sb.AppendLine(ci, $"RSS after open/build {RssAfterOpenBytes / 1048576.0:F1} MiB, after searches {RssAfterSearchBytes / 1048576.0:F1} MiB");
        if (ExactQps is { } exact)
        {
            sb.AppendLine(ci, $"exact search (brute force, 1 thread): {exact:F0} qps");
        }
        sb.AppendLine("   ef   recall@k        qps (1 thread)");
        foreach (var p in Sweep)
        {
            sb.AppendLine(ci, $"{p.Ef,5}   {p.Recall,8:F4}   {p.Qps,12:F0}");
        }
        foreach (var t in Targets)
        {
            sb.AppendLine(t.Ef is null
                ? string.Create(ci, $"recall >= {t.TargetRecall:F2}: not reached")
                : string.Create(ci, $"recall >= {t.TargetRecall:F2}: ef={t.Ef} recall={t.Recall:F4} qps={t.Qps:F0}"));
        }
        return sb.ToString();
    }
}

/// <summary>
/// Reusable HNSW benchmark: loads (.fvecs) or generates seeded clustered data, computes exact ground truth, builds an
/// <see cref="HnswIndex"/>, and sweeps ef reporting recall@k and single-thread queries per second.
/// </summary>
public static class VectorBench
{
    /// <summary>Recall levels reported in <see cref="VectorBenchResult.Targets"/>.</summary>
    public static readonly IReadOnlyList<double> TargetRecalls = [0.90, 0.95, 0.99];

    /// <summary>Runs the benchmark and writes a table (or JSON) to <paramref name="output"/>.</summary>
    public static VectorBenchResult Run(string? baseFile, string? queryFile, int k, bool json, TextWriter output, CancellationToken cancellationToken = default)
    {
        var result = Run(new VectorBenchOptions { BaseFile = baseFile, QueryFile = queryFile, K = k }, json ? null : output, cancellationToken);
        output.WriteLine(json ? result.ToJson() : result.ToText());
        return result;
    }

    /// <summary>Loaded or generated benchmark data.</summary>
    public sealed record Data(float[] Base, float[] Queries, int Dimension, int[] GroundTruth, int GroundTruthK);

    /// <summary>Loads or generates the data of <paramref name="options"/> and its ground truth; writes it out when asked.</summary>
    public static Data Prepare(VectorBenchOptions options, TextWriter? log)
    {
        float[] baseVectors;
        float[] queries = [];
        int dim;
        if (options.Embeddings is not null)
        {
            if (options.RatingsFile is null)
            {
                throw new ArgumentException("Embeddings need a ratings file (--ratings).", nameof(options));
            }
            var sw0 = Stopwatch.StartNew();
            (baseVectors, queries, dim, var metric, var description) = EmbeddingVectors.Train(options.Embeddings, options.RatingsFile, options.QueryCount, options.Seed);
            options.Metric = metric;
            log?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{description}; trained in {sw0.Elapsed.TotalSeconds:F1} s"));
            options.BaseFile = null;
            options.QueryFile = null;
        }
        else if (options.IndexFile is not null && options.GroundTruthFile is not null && options.QueryFile is not null)
        {
            // Searching a saved index against saved ground truth: the base vectors are not needed (and would inflate the RSS).
            (queries, _, dim) = Fvecs.ReadFvecs(options.QueryFile);
            baseVectors = [];
            var (gt0, _, gtK0) = Fvecs.ReadIvecs(options.GroundTruthFile);
            return new Data(baseVectors, queries, dim, gt0, gtK0);
        }
        else if (options.BaseFile is not null)
        {
            (baseVectors, _, dim) = Fvecs.ReadFvecs(options.BaseFile);
        }
        else
        {
            dim = options.Dimension;
            baseVectors = new ClusteredVectors(dim, seed: options.Seed).Sample(options.Count, options.Seed + 1);
        }
        if (options.QueryFile is not null)
        {
            int qdim;
            (queries, _, qdim) = Fvecs.ReadFvecs(options.QueryFile);
            if (qdim != dim)
            {
                throw new ArgumentException($"Queries have dimension {qdim} but the base vectors have {dim}.", nameof(options));
            }
        }
        else if (options.Embeddings is null)
        {
            queries = new ClusteredVectors(dim, seed: options.Seed).Sample(options.QueryCount, options.Seed + 2);
        }
        int[] gt;
        int gtK;
        if (options.GroundTruthFile is not null)
        {
            (gt, _, gtK) = Fvecs.ReadIvecs(options.GroundTruthFile);
            if (gtK < options.K)
            {
                throw new ArgumentException($"Ground truth has {gtK} neighbours per query, fewer than k={options.K}.", nameof(options));
            }
        }
        else
        {
            var sw = Stopwatch.StartNew();
            gtK = options.K;
            gt = BruteForceIndex.ExactKnn(baseVectors, queries, dim, gtK, options.Metric, Environment.ProcessorCount);
            log?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exact ground truth for {queries.Length / dim} queries in {sw.Elapsed.TotalSeconds:F1} s"));
        }
        if (options.WriteDataDirectory is { } dir)
        {
            Directory.CreateDirectory(dir);
            Fvecs.WriteFvecs(Path.Combine(dir, "base.fvecs"), baseVectors, dim);
            Fvecs.WriteFvecs(Path.Combine(dir, "query.fvecs"), queries, dim);
            Fvecs.WriteIvecs(Path.Combine(dir, "gt.ivecs"), gt, gtK);
        }
        return new Data(baseVectors, queries, dim, gt, gtK);
    }

    public static VectorBenchResult Run(VectorBenchOptions options, TextWriter? log, CancellationToken cancellationToken = default)
    {
        if (options.K <= 0)
        {
            throw new ArgumentException($"k must be positive, got {options.K}.", nameof(options));
        }
        var data = Prepare(options, log);
        return Run(options, data, log, cancellationToken);
    }

    public static VectorBenchResult Run(VectorBenchOptions options, Data data, TextWriter? log, CancellationToken cancellationToken = default)
    {
        int dim = data.Dimension;
        int n = data.Base.Length / dim;
        int nq = data.Queries.Length / dim;
        int k = options.K;

        HnswIndex index;
        double buildSeconds = 0;
        long heapDelta = 0;
        double? openSeconds = null;
        if (options.IndexFile is { } file)
        {
            var sw = Stopwatch.StartNew();
            index = options.Open == VectorIndexOpen.Mapped
                ? VectorIndexFile.OpenMapped(file)
                : (HnswIndex)VectorIndexFile.Load(file);
            openSeconds = sw.Elapsed.TotalSeconds;
            options.M = index.Options.M;
            options.EfConstruction = index.Options.EfConstruction;
            log?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"zhongtai-hnsw opened ({options.Open}) in {openSeconds * 1000:F1} ms, RSS {ResidentBytes() / 1048576.0:F1} MiB"));
            n = index.Count;
        }
        else
        {
            (index, buildSeconds, heapDelta) = Build(options, data);
            log?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"zhongtai-hnsw build: {buildSeconds:F2} s"));
            if (options.SaveIndexFile is { } save)
            {
                index.Save(save);
            }
        }
        long rssOpen = ResidentBytes();
        if (options.IndexFile is not null)
        {
            Warm(index, data, k);
        }
        var found = new int[nq * k];
        var sweep = new List<VectorBenchPoint>();
        foreach (int ef in options.EfValues)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (ef < k)
            {
                continue;
            }
            double best = double.MaxValue;
            double spent = 0;
            for (int pass = 0; pass < 50 && (pass < Math.Max(1, options.Passes) || spent < options.MinSeconds); pass++)
            {
                double seconds = TimePass(index, data, k, ef, pass == 0 ? found : null);
                best = Math.Min(best, seconds);
                spent += seconds;
            }
            double recall = Recall(found, data.GroundTruth, data.GroundTruthK, nq, k);
            sweep.Add(new VectorBenchPoint(ef, recall, nq / best));
            log?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ef={ef,4} recall={recall:F4} qps={nq / best:F0}"));
        }
        long rssSearch = ResidentBytes();
        log?.WriteLine($"memory after searches: {MemoryBreakdown()}");
        double? exactQps = null;
        if (options.Exact && data.Base.Length > 0)
        {
            using var exact = new BruteForceIndex(dim, options.Metric);
            var ids = new int[n];
            for (int i = 0; i < n; i++)
            {
                ids[i] = i;
            }
            exact.AddRange(ids, data.Base);
            var hits = new VectorHit[k];
            double best = double.MaxValue;
            for (int pass = 0; pass < Math.Max(1, options.Passes); pass++)
            {
                var t = Stopwatch.StartNew();
                for (int q = 0; q < nq; q++)
                {
                    exact.Search(data.Queries.AsSpan(q * dim, dim), k, hits);
                }
                best = Math.Min(best, t.Elapsed.TotalSeconds);
            }
            exactQps = nq / best;
        }
        var result = Summarize("zhongtai-hnsw", options, data, buildSeconds, index.MemoryBytes, heapDelta, sweep, n) with
        {
            Source = options.Embeddings is not null ? $"{options.Embeddings} embeddings of {options.RatingsFile}" : options.BaseFile ?? options.IndexFile ?? "generated clustered",
            Metric = options.Metric,
            Open = options.IndexFile is null ? "built" : options.Open == VectorIndexOpen.Mapped ? "mapped" : "heap",
            OpenSeconds = openSeconds,
            RssAfterOpenBytes = rssOpen,
            RssAfterSearchBytes = rssSearch,
            ExactQps = exactQps,
        };
        index.Dispose();
        return result;
    }

    /// <summary>The process's resident set size from <c>/proc/self/status</c> (VmRSS), or the working set where that file does not exist.</summary>
    public static long ResidentBytes()
    {
        const string Status = "/proc/self/status";
        if (File.Exists(Status))
        {
            foreach (var line in File.ReadLines(Status))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        using var p = Process.GetCurrentProcess();
        return p.WorkingSet64;
    }

    /// <summary>VmRSS, RssAnon (private heap) and RssFile (mapped file pages, shared through the page cache) from <c>/proc/self/status</c>.</summary>
    public static string MemoryBreakdown()
    {
        const string Status = "/proc/self/status";
        return File.Exists(Status)
            ? string.Join(", ", File.ReadLines(Status).Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal) || l.StartsWith("RssAnon:", StringComparison.Ordinal) || l.StartsWith("RssFile:", StringComparison.Ordinal)).Select(l => string.Join(' ', l.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))))
            : "n/a";
    }

    private static void Warm(HnswIndex index, Data data, int k)
    {
        var hits = new VectorHit[k];
        int dim = data.Dimension;
        int nq = data.Queries.Length / dim;
        for (int q = 0; q < Math.Min(nq, 200); q++)
        {
            index.Search(data.Queries.AsSpan(q * dim, dim), k, hits, null, 64);
        }
    }

    /// <summary>Builds the HNSW index over the base vectors (ids = row numbers) and warms it up.</summary>
    public static (HnswIndex Index, double BuildSeconds, long HeapDeltaBytes) Build(VectorBenchOptions options, Data data)
    {
        int dim = data.Dimension;
        int n = data.Base.Length / dim;
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var sw = Stopwatch.StartNew();
        var index = new HnswIndex(dim, options.Metric, new HnswOptions
        {
            M = options.M,
            EfConstruction = options.EfConstruction,
            BuildThreads = options.BuildThreads,
            InitialCapacity = n,
        });
        var ids = new int[n];
        for (int i = 0; i < n; i++)
        {
            ids[i] = i;
        }
        index.AddRange(ids, data.Base);
        double buildSeconds = sw.Elapsed.TotalSeconds;
        long heapDelta = GC.GetTotalMemory(forceFullCollection: true) - before;
        // Warm up the JIT and caches.
        var hits = new VectorHit[options.K];
        int nq = data.Queries.Length / dim;
        for (int q = 0; q < Math.Min(nq, 200); q++)
        {
            index.Search(data.Queries.AsSpan(q * dim, dim), options.K, hits, null, 64);
        }
        return (index, buildSeconds, heapDelta);
    }

    /// <summary>Runs every query once on the calling thread; returns the seconds taken and fills <paramref name="found"/> (queries x k ids) when given.</summary>
    public static double TimePass(HnswIndex index, Data data, int k, int ef, int[]? found)
    {
        int dim = data.Dimension;
        int nq = data.Queries.Length / dim;
        Span<VectorHit> hits = stackalloc VectorHit[k];
        var t = Stopwatch.StartNew();
        for (int q = 0; q < nq; q++)
        {
            int c = index.Search(data.Queries.AsSpan(q * dim, dim), k, hits, null, ef);
            if (found is not null)
            {
                for (int j = 0; j < k; j++)
                {
                    found[(q * k) + j] = j < c ? hits[j].Id : -1;
                }
            }
        }
        return t.Elapsed.TotalSeconds;
    }

    /// <summary>Assembles a result, picking the first swept ef that reaches each of <see cref="TargetRecalls"/>.</summary>
    public static VectorBenchResult Summarize(string engine, VectorBenchOptions options, Data data, double buildSeconds, long indexBytes, long heapDeltaBytes, IReadOnlyList<VectorBenchPoint> sweep, int? count = null)
    {
        var targets = TargetRecalls.Select(r => sweep.FirstOrDefault(p => p.Recall >= r) is { } p
            ? new VectorBenchTarget(r, p.Ef, p.Recall, p.Qps)
            : new VectorBenchTarget(r, null, null, null)).ToList();
        return new VectorBenchResult(engine, count ?? (data.Base.Length / data.Dimension), data.Dimension, data.Queries.Length / data.Dimension,
            options.K, options.M, options.EfConstruction, options.BuildThreads, buildSeconds, indexBytes, heapDeltaBytes, sweep, targets)
        {
            Metric = options.Metric,
        };
    }

    /// <summary>Mean fraction of the true k nearest (first k of each ground-truth row) found in each result row.</summary>
    public static double Recall(int[] found, int[] groundTruth, int groundTruthK, int queries, int k)
    {
        long hitsTotal = 0;
        for (int q = 0; q < queries; q++)
        {
            var truth = groundTruth.AsSpan(q * groundTruthK, k);
            var got = found.AsSpan(q * k, k);
            foreach (int id in got)
            {
                if (id >= 0 && truth.Contains(id))
                {
                    hitsTotal++;
                }
            }
        }
        return hitsTotal / (double)(queries * k);
    }
}
