using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Zhongtai.Indexing.Vector;

namespace Zhongtai.Bench.Vector;

/// <summary>
/// <c>dotnet run -c Release --project bench/Zhongtai.Bench -- vector [options]</c>: generates (or reads) one data set, writes it as
/// fvecs, builds the C# HNSW, hnswlib and FAISS HNSW on it (the peers in <c>bench/peers/hnsw_peer.py --serve</c>), then sweeps ef
/// with the timed passes of the three engines interleaved (C#, hnswlib, faiss, C#, ...) so that load from other processes hits
/// them alike; the fastest pass of each engine counts. Prints one table with ratios.
/// Options: --base F --queries F --gt F --n 100000 --nq 1000 --dim 128 --k 10 --m 16 --efc 200 --threads 2 --passes 3
/// --min-seconds 0.5 --builds 2 --data-dir DIR (default: a temp folder) --no-peers --json FILE (write all results as JSON)
/// --metric l2|ip|cosine (ip/cosine: python peers only) --efs 10,16,... (the swept ef values).
/// </summary>
internal static class VectorBenchCommand
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        string? Arg(string name)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        int IntArg(string name, int def) => Arg(name) is { } s ? int.Parse(s, Ci) : def;

        string dataDir = Arg("--data-dir") ?? Path.Combine(Path.GetTempPath(), "zt-vector-bench");
        var options = new VectorBenchOptions
        {
            BaseFile = Arg("--base"),
            QueryFile = Arg("--queries"),
            GroundTruthFile = Arg("--gt"),
            WriteDataDirectory = dataDir,
            Count = IntArg("--n", 100_000),
            QueryCount = IntArg("--nq", 1_000),
            Dimension = IntArg("--dim", 128),
            K = IntArg("--k", 10),
            M = IntArg("--m", 16),
            EfConstruction = IntArg("--efc", 200),
            BuildThreads = IntArg("--threads", 2),
            Passes = IntArg("--passes", 3),
            MinSeconds = Arg("--min-seconds") is { } ms ? double.Parse(ms, Ci) : 0.5,
            Metric = Arg("--metric") switch
            {
                null or "l2" => VectorMetric.L2,
                "ip" => VectorMetric.InnerProduct,
                "cosine" => VectorMetric.Cosine,
                var other => throw new ArgumentException($"--metric is l2, ip or cosine; got '{other}'."),
            },
        };
        if (Arg("--efs") is { } efList)
        {
            options.EfValues = [.. efList.Split(',').Select(v => int.Parse(v, Ci))];
        }
        Console.Error.WriteLine($"data: {options.BaseFile ?? "generated clustered"} -> {dataDir}");
        var data = VectorBench.Prepare(options, Console.Error);
        int nq = data.Queries.Length / data.Dimension;
        int k = options.K;

        bool peers = !args.Contains("--no-peers");
        using var python = peers ? PeerProcess.StartPython(options, dataDir) : null;
        // The native peer is built for L2 only.
        using var native = peers && options.Metric == VectorMetric.L2 ? PeerProcess.StartNative(options, dataDir) : null;
        // The peers whose builds are repeated and interleaved with ours (hnswlib twice: SSE-only Debian build and native).
        var rebuilt = new List<(string Key, PeerProcess Process)>();
        if (python is not null)
        {
            rebuilt.Add(("hnswlib", python));
        }
        if (native is not null)
        {
            rebuilt.Add(("hnswlib-native", native));
        }
        var engines = new List<Engine>();

        // Builds are interleaved too: C#, hnswlib, hnswlib native, C#, ... (--builds rounds, fastest counts), then faiss once.
        int builds = Math.Max(1, IntArg("--builds", 2));
        HnswIndex index = null!;
        double buildSeconds = double.MaxValue;
        long heapDelta = 0;
        var peerBuild = new Dictionary<string, (JsonNode Info, double Seconds)>();
        for (int round = 0; round < builds; round++)
        {
            index = null!;
            var (built, seconds, delta) = VectorBench.Build(options, data);
            index = built;
            heapDelta = round == 0 ? delta : heapDelta;
            buildSeconds = Math.Min(buildSeconds, seconds);
            Console.Error.WriteLine(string.Create(Ci, $"zhongtai-hnsw build {round + 1}: {seconds:F2} s, heap +{delta / 1048576.0:F0} MiB"));
            foreach (var (key, process) in rebuilt)
            {
                var info = process.Call(new JsonObject { ["cmd"] = "build", ["engine"] = "hnswlib" });
                double s = info["buildSeconds"]!.GetValue<double>();
                peerBuild[key] = peerBuild.TryGetValue(key, out var prev) ? (prev.Info, Math.Min(prev.Seconds, s)) : (info, s);
                Console.Error.WriteLine(string.Create(Ci, $"{key} build {round + 1}: {s:F2} s, rss +{info["memoryBytes"]!.GetValue<long>() / 1048576.0:F0} MiB"));
            }
        }
        var (saveSeconds, loadSeconds, fileBytes) = TimeSnapshot(index, data, Path.Combine(dataDir, "hnsw.ztv"));
        Console.Error.WriteLine(string.Create(Ci, $"zhongtai-hnsw snapshot: {fileBytes / 1048576.0:F1} MiB, save {saveSeconds:F2} s, load {loadSeconds:F2} s"));
        var found = new int[nq * k];
        engines.Add(new Engine("zhongtai-hnsw", buildSeconds, heapDelta, ef =>
        {
            double s = VectorBench.TimePass(index, data, k, ef, found);
            return (s, VectorBench.Recall(found, data.GroundTruth, data.GroundTruthK, nq, k));
        }));
        var peerEngines = new List<(string Key, PeerProcess Process)>(rebuilt);
        if (python is not null)
        {
            peerEngines.Add(("faiss", python));
        }
        foreach (var (key, process) in peerEngines)
        {
            string engine = key == "faiss" ? "faiss" : "hnswlib";
            var (info, build) = peerBuild.TryGetValue(key, out var known)
                ? known
                : (process.Call(new JsonObject { ["cmd"] = "build", ["engine"] = engine }), 0.0);
            if (build == 0.0)
            {
                build = info["buildSeconds"]!.GetValue<double>();
            }
            string label = info["engine"]!.GetValue<string>().Trim();
            Console.Error.WriteLine(string.Create(Ci, $"{label} build: {build:F2} s, rss +{info["memoryBytes"]!.GetValue<long>() / 1048576.0:F0} MiB"));
            engines.Add(new Engine(label, build, info["memoryBytes"]!.GetValue<long>(), ef =>
            {
                var r = process.Call(new JsonObject { ["cmd"] = "search", ["engine"] = engine, ["ef"] = ef });
                return (r["seconds"]!.GetValue<double>(), r["recall"]!.GetValue<double>());
            }));
        }

        foreach (int ef in options.EfValues.Where(e => e >= k))
        {
            var best = new double[engines.Count];
            var spent = new double[engines.Count];
            var recall = new double[engines.Count];
            Array.Fill(best, double.MaxValue);
            for (int pass = 0; pass < 30 && (pass < options.Passes || spent.Min() < options.MinSeconds); pass++)
            {
                for (int e = 0; e < engines.Count; e++)
                {
                    var (seconds, r) = engines[e].Pass(ef);
                    best[e] = Math.Min(best[e], seconds);
                    spent[e] += seconds;
                    recall[e] = r;
                }
            }
            for (int e = 0; e < engines.Count; e++)
            {
                engines[e].Sweep.Add(new VectorBenchPoint(ef, recall[e], nq / best[e]));
            }
            Console.Error.WriteLine($"ef={ef,4} " + string.Join("  ", engines.Select((e, i) => string.Create(Ci, $"{e.Name}: recall {recall[i]:F4} qps {nq / best[i]:F0}"))));
        }
        python?.Quit();
        native?.Quit();

        var results = engines.Select((e, i) => VectorBench.Summarize(e.Name, options, data, e.BuildSeconds, i == 0 ? index.MemoryBytes : e.MemoryBytes, e.MemoryBytes, e.Sweep)).ToList();
        PrintTable(results);
        Console.WriteLine(string.Create(Ci, $"\nzhongtai-hnsw snapshot: {fileBytes / 1048576.0:F1} MiB, save (fsync + rename) {saveSeconds:F2} s, load (read + CRC + checks) {loadSeconds:F2} s"));
        if (Arg("--json") is { } jsonPath)
        {
            File.WriteAllText(jsonPath, "[\n" + string.Join(",\n", results.Select(r => r.ToJson())) + "\n]\n");
        }
        return 0;
    }

    /// <summary>Saves and reloads the index, checks the copy answers like the original, and returns the timings.</summary>
    private static (double Save, double Load, long Bytes) TimeSnapshot(HnswIndex index, VectorBench.Data data, string path)
    {
        var sw = Stopwatch.StartNew();
        index.Save(path);
        double save = sw.Elapsed.TotalSeconds;
        sw.Restart();
        using var loaded = VectorIndexFile.Load(path);
        double load = sw.Elapsed.TotalSeconds;
        for (int q = 0; q < 20; q++)
        {
            var query = data.Queries.AsSpan(q * data.Dimension, data.Dimension);
            if (!index.Search(query, 10, ef: 64).SequenceEqual(loaded.Search(query, 10, ef: 64)))
            {
                throw new InvalidOperationException("The reloaded index answers differently from the original.");
            }
        }
        long bytes = new FileInfo(path).Length;
        File.Delete(path);
        return (save, load, bytes);
    }

    private sealed record Engine(string Name, double BuildSeconds, long MemoryBytes, Func<int, (double Seconds, double Recall)> Pass)
    {
        public List<VectorBenchPoint> Sweep { get; } = [];
    }

    private static void PrintTable(List<VectorBenchResult> results)
    {
        var ours = results[0];
        Console.WriteLine(string.Create(Ci, $"\n{ours.Count} x {ours.Dimension} ({ours.Metric}), {ours.Queries} queries, k={ours.K}, M={ours.M}, efConstruction={ours.EfConstruction}, build threads={ours.BuildThreads}, search 1 thread, passes interleaved"));
        Console.WriteLine("\nSweep (recall@k / queries per second):");
        Console.WriteLine("| ef |" + string.Concat(results.Select(r => $" {r.Engine} |")));
        Console.WriteLine("|---|" + string.Concat(results.Select(_ => "---|")));
        for (int i = 0; i < ours.Sweep.Count; i++)
        {
            Console.WriteLine(string.Create(Ci, $"| {ours.Sweep[i].Ef} |") + string.Concat(results.Select(r => string.Create(Ci, $" {r.Sweep[i].Recall:F4} / {r.Sweep[i].Qps:F0} |"))));
        }
        Console.WriteLine("\nAt the first ef reaching each recall:");
        Console.WriteLine("| engine | build s | memory MiB |" + string.Concat(VectorBench.TargetRecalls.Select(r => string.Create(Ci, $" qps@{r:F2} (ef, recall) |"))));
        Console.WriteLine("|" + string.Concat(Enumerable.Repeat("---|", 3 + VectorBench.TargetRecalls.Count)));
        foreach (var r in results)
        {
            var cells = r.Targets.Select(t => t.Qps is null ? " not reached |" : string.Create(Ci, $" {t.Qps:F0} ({t.Ef}, {t.Recall:F3}) |"));
            Console.WriteLine(string.Create(Ci, $"| {r.Engine} | {r.BuildSeconds:F1} | {r.HeapDeltaBytes / 1048576.0:F0} |") + string.Concat(cells));
        }
        foreach (var peer in results.Skip(1))
        {
            var ratios = ours.Targets.Zip(peer.Targets).Select(p => p.First.Qps is { } a && p.Second.Qps is { } b ? string.Create(Ci, $" {a / b:F2}x |") : " n/a |");
            Console.WriteLine(string.Create(Ci, $"| zhongtai / {peer.Engine} | {ours.BuildSeconds / peer.BuildSeconds:F2}x | {ours.HeapDeltaBytes / (double)Math.Max(1, peer.HeapDeltaBytes):F2}x |") + string.Concat(ratios));
        }
    }

    /// <summary>The python peer in serve mode: one JSON command per line on stdin, one JSON reply per line on stdout.</summary>
    private sealed class PeerProcess : IDisposable
    {
        private readonly Process _process;

        private PeerProcess(Process process) => _process = process;

        public static PeerProcess? StartPython(VectorBenchOptions options, string dataDir)
        {
            string? script = FindPeerFile("hnsw_peer.py");
            if (script is null || !File.Exists("/usr/bin/python3"))
            {
                Console.Error.WriteLine("python peers skipped: bench/peers/hnsw_peer.py or /usr/bin/python3 not found");
                return null;
            }
            return Start("/usr/bin/python3",
            [
                script, "--serve",
                "--base", Path.Combine(dataDir, "base.fvecs"),
                "--queries", Path.Combine(dataDir, "query.fvecs"),
                "--gt", Path.Combine(dataDir, "gt.ivecs"),
                "--k", options.K.ToString(Ci),
                "--m", options.M.ToString(Ci),
                "--efc", options.EfConstruction.ToString(Ci),
                "--threads", options.BuildThreads.ToString(Ci),
                "--metric", options.Metric switch { VectorMetric.InnerProduct => "ip", VectorMetric.Cosine => "cosine", _ => "l2" },
                "--efs", string.Join(',', options.EfValues),
            ]);
        }

        /// <summary>Compiles bench/peers/hnswlib_native.cpp with -O3 -march=native against the Debian hnswlib headers, and starts it.</summary>
        public static PeerProcess? StartNative(VectorBenchOptions options, string dataDir)
        {
            string? source = FindPeerFile("hnswlib_native.cpp");
            if (source is null || !File.Exists("/usr/bin/g++") || !File.Exists("/usr/include/hnswlib/hnswlib.h"))
            {
                Console.Error.WriteLine("native hnswlib skipped: needs g++ and libhnswlib-dev (apt-get install libhnswlib-dev)");
                return null;
            }
            string binary = Path.Combine(dataDir, "hnswlib_native");
            using (var gcc = Process.Start("/usr/bin/g++", ["-O3", "-march=native", "-std=c++17", "-pthread", source, "-o", binary]))
            {
                gcc.WaitForExit();
                if (gcc.ExitCode != 0)
                {
                    Console.Error.WriteLine("native hnswlib skipped: compilation failed");
                    return null;
                }
            }
            return Start(binary,
            [
                Path.Combine(dataDir, "base.fvecs"), Path.Combine(dataDir, "query.fvecs"), Path.Combine(dataDir, "gt.ivecs"),
                options.K.ToString(Ci), options.M.ToString(Ci), options.EfConstruction.ToString(Ci), options.BuildThreads.ToString(Ci),
            ]);
        }

        private static PeerProcess Start(string fileName, string[] arguments)
        {
            var psi = new ProcessStartInfo(fileName)
            {
                RedirectStandardOutput = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            foreach (var a in arguments)
            {
                psi.ArgumentList.Add(a);
            }
            return new PeerProcess(Process.Start(psi)!);
        }

        public JsonNode Call(JsonObject request)
        {
            _process.StandardInput.WriteLine(request.ToJsonString());
            _process.StandardInput.Flush();
            string? line = _process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("A peer process exited unexpectedly.");
            var reply = JsonNode.Parse(line)!;
            if (reply["error"] is { } error)
            {
                throw new InvalidOperationException("Peer: " + error.GetValue<string>());
            }
            return reply;
        }

        public void Quit()
        {
            _process.StandardInput.WriteLine("{\"cmd\": \"quit\"}");
            _process.StandardInput.Close();
            _process.WaitForExit();
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }
            _process.Dispose();
        }

        private static string? FindPeerFile(string name)
        {
            foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            {
                for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                {
                    string candidate = Path.Combine(dir.FullName, "bench", "peers", name);
                    if (File.Exists(candidate))
                    {
                        return candidate;
                    }
                }
            }
            return null;
        }
    }
}
