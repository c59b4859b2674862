using System.CommandLine;
using Spectre.Console;
using Zhongtai.Cli.Bench;

namespace Zhongtai.Cli.Commands;

/// <summary><c>zt bench ...</c>: measurements that compare against a peer in the same run.</summary>
internal static class BenchCommands
{
    public static Command Build()
    {
        var bench = new Command("bench", "Benchmarks; each compares with a peer or a ceiling measured in the same run.");
        var seconds = new Option<int>("--seconds") { Description = "Seconds per measurement.", DefaultValueFactory = _ => 10 };
        var batch = new Option<int>("--batch") { Description = "Events per batch.", DefaultValueFactory = _ => 1000 };
        var connections = new Option<int>("--connections") { Description = "wrk connections.", DefaultValueFactory = _ => 16 };
        var dir = new Option<string>("--dir") { Description = "Scratch directory on the disk to measure (deleted after).", DefaultValueFactory = _ => Path.Combine(Path.GetTempPath(), "zt-bench-ingest") };
        var ingest = new Command("ingest", "Durable events/s and MB/s: into the log directly and over HTTP, next to the disk's fsync'd bandwidth.") { seconds, batch, connections, dir };
        ingest.SetAction(async (parse, ct) =>
        {
            var json = parse.GetValue(ZtCommand.Json);
            var report = await IngestBench.RunAsync(parse.GetValue(dir)!, parse.GetValue(seconds), parse.GetValue(batch), parse.GetValue(connections),
                line => { if (!json) { AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"); } }, ct);
            if (json)
            {
                ZtCommand.WriteJson(report);
                return;
            }

            var table = new Table().AddColumns("measurement", "events/s", "MB/s", "note");
            foreach (var m in report.Measurements)
            {
                table.AddRow(Markup.Escape(m.Name), m.EventsPerSecond > 0 ? $"{m.EventsPerSecond:N0}" : "-", $"{m.MegabytesPerSecond:N1}", Markup.Escape(m.Note));
            }

            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"Event size {report.EventBytes} B, batch {report.BatchSize}; best direct log / disk (same chunk) = [bold]{report.DirectToDiskRatio:P0}[/]; peak working set {report.PeakWorkingSetBytes / 1e6:N0} MB.");
        });
        bench.Subcommands.Add(ingest);

        var baseFile = new Option<string?>("--base") { Description = "Base vectors (.fvecs); generated clustered data when absent." };
        var queries = new Option<string?>("--queries") { Description = "Query vectors (.fvecs)." };
        var gt = new Option<string?>("--gt") { Description = "Ground truth (.ivecs); computed exactly when absent." };
        var k = new Option<int>("--k") { Description = "Neighbours per query.", DefaultValueFactory = _ => 10 };
        var count = new Option<int>("--count") { Description = "Generated base vectors.", DefaultValueFactory = _ => 100_000 };
        var dim = new Option<int>("--dim") { Description = "Generated dimension.", DefaultValueFactory = _ => 128 };
        var nq = new Option<int>("--nq") { Description = "Queries (generated, or picked from the embeddings).", DefaultValueFactory = _ => 1_000 };
        var threads = new Option<int>("--threads") { Description = "Build threads.", DefaultValueFactory = _ => 2 };
        var embeddings = new Option<string?>("--embeddings") { Description = "Index trained item embeddings instead: als (user queries, inner product) or item2vec (item queries, cosine)." };
        var ratings = new Option<string?>("--ratings") { Description = "Ratings file for --embeddings (ratings.csv or ml-100k u.data)." };
        var writeData = new Option<string?>("--write-data") { Description = "Write base.fvecs, query.fvecs and gt.ivecs here (for the hnswlib peer)." };
        var saveIndex = new Option<string?>("--save-index") { Description = "Save the built index to this file." };
        var indexFile = new Option<string?>("--index") { Description = "Search this saved index instead of building (with --queries and --gt)." };
        var open = new Option<string>("--open") { Description = "How --index is opened: heap (bulk read) or mmap.", DefaultValueFactory = _ => "heap" };
        var exact = new Option<bool>("--exact") { Description = "Also time exact (brute-force) search." };
        var m = new Option<int>("--m") { Description = "HNSW M.", DefaultValueFactory = _ => 16 };
        var efc = new Option<int>("--efc") { Description = "HNSW efConstruction.", DefaultValueFactory = _ => 200 };
        var efs = new Option<string?>("--efs") { Description = "Comma-separated search ef values to sweep (default 10,16,24,32,48,64,96,128,192,256,384,512)." };
        var vector = new Command("vector", "HNSW recall and queries/s per ef against exact search (peers: dotnet run --project bench/Zhongtai.Bench -- vector).")
        {
            baseFile, queries, gt, k, count, dim, nq, threads, embeddings, ratings, writeData, saveIndex, indexFile, open, exact, m, efc, efs,
        };
        vector.SetAction((parse, ct) =>
        {
            var options = new Zhongtai.Indexing.Vector.VectorBenchOptions
            {
                BaseFile = parse.GetValue(baseFile),
                QueryFile = parse.GetValue(queries),
                GroundTruthFile = parse.GetValue(gt),
                K = parse.GetValue(k),
                Count = parse.GetValue(count),
                Dimension = parse.GetValue(dim),
                QueryCount = parse.GetValue(nq),
                BuildThreads = parse.GetValue(threads),
                Embeddings = parse.GetValue(embeddings),
                RatingsFile = parse.GetValue(ratings),
                WriteDataDirectory = parse.GetValue(writeData),
                SaveIndexFile = parse.GetValue(saveIndex),
                IndexFile = parse.GetValue(indexFile),
                Open = parse.GetValue(open) switch
                {
                    "mmap" or "mapped" => Zhongtai.Indexing.Vector.VectorIndexOpen.Mapped,
                    "heap" => Zhongtai.Indexing.Vector.VectorIndexOpen.Heap,
                    var other => throw new ArgumentException($"--open is heap or mmap, got '{other}'."),
                },
                Exact = parse.GetValue(exact),
                M = parse.GetValue(m),
                EfConstruction = parse.GetValue(efc),
            };
            if (parse.GetValue(efs) is { } list)
            {
                options.EfValues = [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => int.Parse(v, System.Globalization.CultureInfo.InvariantCulture))];
            }
            bool json = parse.GetValue(ZtCommand.Json);
            var result = Zhongtai.Indexing.Vector.VectorBench.Run(options, json ? null : Console.Error, ct);
            Console.Out.WriteLine(json ? result.ToJson() : result.ToText());
            return Task.CompletedTask;
        });
        bench.Subcommands.Add(vector);

        var serveItems = new Option<int>("--items") { Description = "Catalog size.", DefaultValueFactory = _ => 100_000 };
        var serveUsers = new Option<int>("--users") { Description = "Users with history.", DefaultValueFactory = _ => 20_000 };
        var noExposures = new Option<bool>("--no-exposures") { Description = "Do not log served lists back (to see their cost)." };
        var parallel = new Option<bool>("--parallel") { Description = "Run the recall channels concurrently instead of one after another." };
        var warmup = new Option<int>("--warmup") { Description = "Seconds of traffic before the measurements, so that the per-user exposure rings and the realtime pending table reach the size a long-running server has.", DefaultValueFactory = _ => 60 };
        var minThreads = new Option<int>("--min-worker-threads") { Description = "Serving:MinWorkerThreads of the server.", DefaultValueFactory = _ => new Zhongtai.Serving.ServingOptions().MinWorkerThreads };
        var serve = new Command("serve", "POST /v1/recommend under wrk on a 100k-item shop (i2i + vector + popular, ~500 candidates ranked), next to GET /healthz.") { seconds, connections, serveItems, serveUsers, noExposures, parallel, warmup, minThreads };
        serve.SetAction(async (parse, ct) =>
        {
            var json = parse.GetValue(ZtCommand.Json);
            var dir = Path.Combine(Path.GetTempPath(), $"zt-bench-serve-{Environment.ProcessId}"); // two runs at once must not share it
            try
            {
                var r = await ServeBench.RunAsync(dir, parse.GetValue(serveItems), parse.GetValue(serveUsers), parse.GetValue(seconds), parse.GetValue(connections),
                    !parse.GetValue(noExposures), parse.GetValue(parallel), parse.GetValue(warmup), parse.GetValue(minThreads), line => { if (!json) { AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"); } }, ct);
                if (json)
                {
                    ZtCommand.WriteJson(r);
                    return;
                }

                var table = new Table().AddColumns("target", "req/s", "p50", "p90", "p99", "non-2xx", "connections");
                foreach (var w in r.Runs)
                {
                    table.AddRow(Markup.Escape(w.Target), $"{w.RequestsPerSecond:N0}", w.P50, w.P90, w.P99, $"{w.Non2xx}", $"{w.Connections}");
                }

                AnsiConsole.Write(table);
                AnsiConsole.MarkupLine(Markup.Escape($"{r.Items:N0} items, {r.Users:N0} users, {r.Events:N0} events (ingest {r.IngestSeconds:F1} s, ALS {r.TrainSeconds:F1} s, ready {r.ReadySeconds:F1} s); {r.CandidatesPerRequest} candidates ranked per request; serving state {r.HeapServingBytes / 1e6:N0} MB of heap (before the server: {r.HeapBeforeServingBytes / 1e6:N0} MB), working set {r.WorkingSetBytes / 1e6:N0} MB. {r.Note}"));
            }
            finally
            {
                if (Directory.Exists(dir))
                {
                    Directory.Delete(dir, recursive: true);
                }
            }
        });
        bench.Subcommands.Add(serve);

        var keys = new Option<int>("--keys") { Description = "Keys in the store.", DefaultValueFactory = _ => 200_000 };
        var features = new Command("features", "Batched feature lookups (500 keys × 50 features): p50/p99/p99.9 latency.") { keys };
        features.SetAction(parse =>
        {
            var r = FeatureBench.Run(parse.GetValue(keys), 50, 500, 20_000, Path.Combine(Path.GetTempPath(), "zt-bench-features-" + Guid.NewGuid().ToString("N")));
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(r);
            }
            else
            {
                AnsiConsole.MarkupLine($"{r.Keys:N0} keys × {r.Features} features ({r.ManagedBytes / 1e6:N0} MB, loaded in {r.LoadSeconds:F1} s); {r.Batches:N0} lookups of {r.Batch} keys: p50 {r.P50Micros:F0} µs, p99 {r.P99Micros:F0} µs, p99.9 {r.P999Micros:F0} µs; {r.KeysPerSecond / 1e6:F1}M keys/s on one thread.");
            }
        });
        bench.Subcommands.Add(features);

        var memoryUsers = new Option<int>("--users") { Description = "Users loaded.", DefaultValueFactory = _ => 1_000_000 };
        var memoryItems = new Option<int>("--items") { Description = "Catalog size.", DefaultValueFactory = _ => 100_000 };
        var memoryHistory = new Option<int>("--history") { Description = "Clicked items per user.", DefaultValueFactory = _ => 20 };
        var memoryExposures = new Option<int>("--exposures") { Description = "Exposures per user (of clicked items; two clicks join them).", DefaultValueFactory = _ => 5 };
        var memory = new Command("memory", "Managed heap per user of the serving catalog and the realtime state, next to a bare id map, for N users with a small history each.")
        {
            memoryUsers, memoryItems, memoryHistory, memoryExposures,
        };
        memory.SetAction((parse, ct) =>
        {
            var json = parse.GetValue(ZtCommand.Json);
            var r = MemoryBench.Run(parse.GetValue(memoryUsers), parse.GetValue(memoryItems), parse.GetValue(memoryHistory), parse.GetValue(memoryExposures),
                line => { if (!json) { AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"); } }, ct);
            if (json)
            {
                ZtCommand.WriteJson(r);
                return Task.CompletedTask;
            }

            var table = new Table().AddColumns("structure", "MB", "B/user", "marginal B/user", "load s", "note");
            foreach (var s in r.Structures)
            {
                table.AddRow(Markup.Escape(s.Name), $"{s.Bytes / 1e6:N1}", $"{s.BytesPerUser:N0}", $"{s.MarginalBytesPerUser:N0}", $"{s.Seconds:F1}", Markup.Escape(s.Note));
            }

            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine(Markup.Escape($"{r.Users:N0} users × ({r.History} clicks + {r.Exposures} exposures), {r.Items:N0} items; with the last two structures alive: heap {r.HeapBytes / 1e6:N0} MB, working set {r.WorkingSetBytes / 1e6:N0} MB (peak {r.PeakWorkingSetBytes / 1e6:N0} MB)."));
            return Task.CompletedTask;
        });
        bench.Subcommands.Add(memory);

        var contentItems = new Option<int>("--items") { Description = "Catalog size.", DefaultValueFactory = _ => 100_000 };
        var contentQueries = new Option<int>("--queries") { Description = "Queries (each the mean of 5 items of one category).", DefaultValueFactory = _ => 2_000 };
        var contentK = new Option<int>("--k") { Description = "Candidates per query (the channel's quota).", DefaultValueFactory = _ => 100 };
        var contentDim = new Option<int>("--dim") { Description = "Content vector dimension.", DefaultValueFactory = _ => 64 };
        var content = new Command("content", "The content channel's index: insert and update µs per item, memory, and search µs with HNSW against an exact SIMD scan, with recall.")
        {
            contentItems, contentQueries, contentK, contentDim,
        };
        content.SetAction((parse, ct) =>
        {
            var json = parse.GetValue(ZtCommand.Json);
            var r = ContentBench.Run(parse.GetValue(contentItems), parse.GetValue(contentQueries), parse.GetValue(contentK), parse.GetValue(contentDim),
                line => { if (!json) { AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"); } }, ct);
            if (json)
            {
                ZtCommand.WriteJson(r);
            }
            else
            {
                AnsiConsole.MarkupLine(Markup.Escape($"{r.Items:N0} items × {r.Dimension} dims: insert {r.InsertMicrosPerItem:F0} µs/item, update {r.UpdateMicrosPerItem:F0} µs/item, index {r.IndexBytes / 1e6:N0} MB ({r.HeapBytes / 1e6:N0} MB of heap); top {r.K} of {r.Queries:N0} queries: HNSW p50 {r.HnswP50Micros:F0} µs, p99 {r.HnswP99Micros:F0} µs, recall {r.RecallAtK:P1}; exact scan p50 {r.ExactP50Micros:F0} µs, p99 {r.ExactP99Micros:F0} µs."));
            }

            return Task.CompletedTask;
        });
        bench.Subcommands.Add(content);

        var items = new Option<int>("--items") { Description = "Generated catalog size.", DefaultValueFactory = _ => 100_000 };
        var searches = new Option<int>("--queries") { Description = "Queries to run.", DefaultValueFactory = _ => 20_000 };
        var search = new Command("search", "Inverted index: indexing items/s, then queries/s and latency on a generated catalog (15% Chinese titles).") { items, searches };
        search.SetAction((parse, ct) =>
        {
            var dir = Path.Combine(Path.GetTempPath(), "zt-bench-search-" + Guid.NewGuid().ToString("N"));
            try
            {
                var r = Zhongtai.Indexing.Inverted.ItemIndexBenchmark.Run(dir, parse.GetValue(items), parse.GetValue(searches), 2, 42, ct);
                if (parse.GetValue(ZtCommand.Json))
                {
                    ZtCommand.WriteJson(r);
                }
                else
                {
                    Console.WriteLine(r);
                }
            }
            finally
            {
                if (Directory.Exists(dir))
                {
                    Directory.Delete(dir, recursive: true);
                }
            }

            return Task.CompletedTask;
        });
        bench.Subcommands.Add(search);

        var scale = new Option<double>("--scale") { Description = "Demo world scale (1 = 2,000 items).", DefaultValueFactory = _ => 1 };
        var graph = new Command("graph", "Knowledge graph: build from the demo world, snapshot, multi-hop expansion and random-walk throughput.") { scale };
        graph.SetAction((parse, ct) =>
        {
            var r = Zhongtai.Indexing.Graph.KnowledgeGraphBench.Run(new Zhongtai.Indexing.Graph.KnowledgeGraphBenchOptions { Scale = parse.GetValue(scale) }, parse.GetValue(ZtCommand.Json) ? null : Console.Out, ct);
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(r);
            }

            return Task.CompletedTask;
        });
        bench.Subcommands.Add(graph);
        bench.Subcommands.Add(PipelineCommands.BuildBench());

        var dwRatings = new Option<string>("--ratings") { Description = "Ratings file (ml-100k u.data or ml-latest ratings.csv); genres are read from u.item / movies.csv beside it.", Required = true };
        var dwDim = new Option<int>("--dim") { Description = "Embedding dimension.", DefaultValueFactory = _ => 64 };
        var deepwalk = new Command("graph-deepwalk", "Next-item HitRate@10 of DeepWalk on knowledge-graph walks vs interaction DeepWalk and item2vec (leave-last-out).") { dwRatings, dwDim };
        deepwalk.SetAction((parse, ct) =>
        {
            var rows = Zhongtai.Indexing.Graph.GraphDeepWalkEval.Run(parse.GetValue(dwRatings)!, 10, parse.GetValue(dwDim), 2, 42, Console.Error, ct);
            if (parse.GetValue(ZtCommand.Json))
            {
                ZtCommand.WriteJson(rows);
            }
            else
            {
                Console.Out.Write(Zhongtai.Indexing.Graph.GraphDeepWalkEval.ToMarkdown(rows, 10));
            }

            return Task.CompletedTask;
        });
        bench.Subcommands.Add(deepwalk);
        return bench;
    }
}
