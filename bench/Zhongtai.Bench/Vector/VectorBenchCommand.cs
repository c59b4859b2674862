using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Zhongtai.Indexing.Vector;

namespace Zhongtai.Bench.Vector;

/// <summary>
/// <c>dotnet run -c Release --project bench/Zhongtai.Bench -- vector [options]</c>: generates (or reads) one data set, writes it as
/// fvecs, runs the C# HNSW, then hnswlib and FAISS on the same files via <c>bench/peers/hnsw_peer.py</c>, and prints one table.
/// Options: --base F --queries F --gt F --n 100000 --nq 1000 --dim 128 --k 10 --m 16 --efc 200 --threads 2
/// --data-dir DIR (default: a temp folder) --no-peers --json FILE (write all results as JSON).
/// </summary>
internal static class VectorBenchCommand
{
    public static int Run(string[] args)
    {
        var ci = CultureInfo.InvariantCulture;
        string? Arg(string name)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        int IntArg(string name, int def) => Arg(name) is { } s ? int.Parse(s, ci) : def;

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
        };
        Console.Error.WriteLine($"data: {(options.BaseFile ?? "generated clustered")} -> {dataDir}");
        var data = VectorBench.Prepare(options, Console.Error);
        var ours = VectorBench.Run(options, data, Console.Error);
        Console.Error.WriteLine(ours.ToText());

        var rows = new List<EngineRow> { new(ours.Engine, ours.BuildSeconds, ours.HeapDeltaBytes, ours.Targets.Select(t => (t.Ef, t.Recall, t.Qps)).ToList()) };
        JsonDocument? peers = null;
        if (!args.Contains("--no-peers"))
        {
            peers = RunPeers(options, dataDir);
            if (peers is not null)
            {
                foreach (var r in peers.RootElement.GetProperty("results").EnumerateArray())
                {
                    var targets = r.GetProperty("targets").EnumerateArray().Select(t => (
                        t.GetProperty("ef").ValueKind == JsonValueKind.Number ? t.GetProperty("ef").GetInt32() : (int?)null,
                        t.GetProperty("recall").ValueKind == JsonValueKind.Number ? t.GetProperty("recall").GetDouble() : (double?)null,
                        t.GetProperty("qps").ValueKind == JsonValueKind.Number ? t.GetProperty("qps").GetDouble() : (double?)null)).ToList();
                    rows.Add(new EngineRow(r.GetProperty("engine").GetString()!, r.GetProperty("buildSeconds").GetDouble(), r.GetProperty("memoryBytes").GetInt64(), targets));
                }
            }
        }

        PrintTable(ours, rows);
        if (Arg("--json") is { } jsonPath)
        {
            using var fs = File.Create(jsonPath);
            using var w = new Utf8JsonWriter(fs, new JsonWriterOptions { Indented = true });
            w.WriteStartObject();
            w.WritePropertyName("zhongtai");
            JsonDocument.Parse(ours.ToJson()).WriteTo(w);
            if (peers is not null)
            {
                w.WritePropertyName("peers");
                peers.RootElement.WriteTo(w);
            }
            w.WriteEndObject();
        }
        return 0;
    }

    private sealed record EngineRow(string Engine, double BuildSeconds, long MemoryBytes, List<(int? Ef, double? Recall, double? Qps)> Targets);

    private static void PrintTable(VectorBenchResult ours, List<EngineRow> rows)
    {
        var ci = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(ci, $"\n{ours.Count} x {ours.Dimension} (L2), {ours.Queries} queries, k={ours.K}, M={ours.M}, efConstruction={ours.EfConstruction}, build threads={ours.BuildThreads}, search 1 thread"));
        string header = "| engine | build s | memory MiB |" + string.Join("", VectorBench.TargetRecalls.Select(r => string.Create(ci, $" qps@{r:F2} (ef, recall) |")));
        Console.WriteLine(header);
        Console.WriteLine("|" + string.Concat(Enumerable.Repeat("---|", 3 + VectorBench.TargetRecalls.Count)));
        foreach (var r in rows)
        {
            var cells = r.Targets.Select(t => t.Qps is null ? " not reached |" : string.Create(ci, $" {t.Qps:F0} ({t.Ef}, {t.Recall:F3}) |"));
            Console.WriteLine(string.Create(ci, $"| {r.Engine} | {r.BuildSeconds:F1} | {r.MemoryBytes / 1048576.0:F0} |") + string.Concat(cells));
        }
        var ourRow = rows[0];
        foreach (var peer in rows.Skip(1))
        {
            var ratios = ourRow.Targets.Zip(peer.Targets).Select(p => p.First.Qps is { } a && p.Second.Qps is { } b ? string.Create(ci, $" {a / b:F2}x |") : " n/a |");
            Console.WriteLine(string.Create(ci, $"| ratio zhongtai/{peer.Engine} | {ourRow.BuildSeconds / peer.BuildSeconds:F2}x | {ourRow.MemoryBytes / (double)Math.Max(1, peer.MemoryBytes):F2}x |") + string.Concat(ratios));
        }
    }

    private static JsonDocument? RunPeers(VectorBenchOptions options, string dataDir)
    {
        string? script = FindScript();
        if (script is null || !File.Exists("/usr/bin/python3"))
        {
            Console.Error.WriteLine("peers skipped: bench/peers/hnsw_peer.py or /usr/bin/python3 not found");
            return null;
        }
        var psi = new ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            script,
            "--base", Path.Combine(dataDir, "base.fvecs"),
            "--queries", Path.Combine(dataDir, "query.fvecs"),
            "--gt", Path.Combine(dataDir, "gt.ivecs"),
            "--k", options.K.ToString(CultureInfo.InvariantCulture),
            "--m", options.M.ToString(CultureInfo.InvariantCulture),
            "--efc", options.EfConstruction.ToString(CultureInfo.InvariantCulture),
            "--threads", options.BuildThreads.ToString(CultureInfo.InvariantCulture),
            "--passes", options.Passes.ToString(CultureInfo.InvariantCulture),
            "--min-seconds", options.MinSeconds.ToString(CultureInfo.InvariantCulture),
            "--efs", string.Join(',', options.EfValues),
        })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            Console.Error.WriteLine($"peers failed with exit code {p.ExitCode}");
            return null;
        }
        return JsonDocument.Parse(stdout);
    }

    private static string? FindScript()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "bench", "peers", "hnsw_peer.py");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "bench", "peers", "hnsw_peer.py");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
