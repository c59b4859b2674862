using System.Diagnostics;
using System.Globalization;
using Zhongtai.Demo;
using Zhongtai.Events;
using Zhongtai.Lake;

namespace Zhongtai.Bench.Lake;

/// <summary>
/// Exports a generated demo world (about 1M events by default) to a fresh lake and queries it with DuckDB.
/// Usage: <c>dotnet run -c Release --project bench/Zhongtai.Bench -- lake-export [--events N] [--scale S] [--days D] [--compression none|snappy|zstd|...] [--no-fsync] [--plain] [--dir PATH] [--keep]</c>.
/// </summary>
public static class LakeExportBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        long maxEvents = 1_000_000;
        double scale = 4.2;
        string dir = Path.Combine(Path.GetTempPath(), "zt-lake-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        bool keep = false;
        int days = 7;
        var exportOptions = new LakeExportOptions();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--events": maxEvents = long.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--scale": scale = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--dir": dir = args[++i]; break;
                case "--keep": keep = true; break;
                case "--compression": exportOptions.Compression = Enum.Parse<Parquet.CompressionMethod>(args[++i], ignoreCase: true); break;
                case "--no-fsync": exportOptions.FlushToDisk = false; break;
                case "--plain": exportOptions.ColumnEncodings = false; break;
                case "--days": days = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
            }
        }

        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        var options = new DemoWorldOptions { Seed = 42, Scale = scale, Days = days };
        Console.WriteLine($"demo world: seed 42, scale {scale}, {options.Days} days; first {maxEvents:N0} events; lake {dir}");

        int take = (int)Math.Min(maxEvents, int.MaxValue);
        var world = DemoWorld.Generate(options);

        // 0. The generator alone, streaming, to know its share of the peak memory.
        var sw = Stopwatch.StartNew();
        long counted = world.Events().Take(take).LongCount();
        double genStreamSeconds = sw.Elapsed.TotalSeconds;
        long generatorPeak;
        using (var p = Process.GetCurrentProcess())
        {
            generatorPeak = p.PeakWorkingSet64;
        }

        Console.WriteLine($"generate only (streaming, cold): {counted:N0} events in {genStreamSeconds:F2} s; peak working set {generatorPeak / 1e6:F0} MB");

        // 1. Generate and export, streaming: nothing holds the whole range. Peak memory is measured here.
        sw.Restart();
        var result = await new LakeExporter(exportOptions).ExportAsync(dir, Offsets(world.Events().Take(take))).ConfigureAwait(false);
        double streamSeconds = sw.Elapsed.TotalSeconds;
        long streamingPeak;
        using (var p = Process.GetCurrentProcess())
        {
            streamingPeak = p.PeakWorkingSet64;
        }

        long bytes = Directory.EnumerateFiles(dir, "*.parquet", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Console.WriteLine($"generate + export (streaming): {result.Rows:N0} rows, {result.Files} files, {result.Partitions} partitions, peak {result.PeakBufferedRows:N0} rows buffered, in {streamSeconds:F2} s ({result.Rows / streamSeconds:N0} rows/s); peak working set {streamingPeak / 1e6:F0} MB; GC heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1e6:F0} MB");
        Console.WriteLine($"parquet: {bytes / 1e6:F1} MB ({(double)bytes / result.Rows:F1} B/row, {exportOptions.Compression})");

        // 2. The exporter alone: events generated into memory first, then exported to a second lake.
        sw.Restart();
        var events = Offsets(world.Events().Take(take)).ToList();
        double genSeconds = sw.Elapsed.TotalSeconds;
        var dir2 = dir + "-2";
        GC.Collect();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        sw.Restart();
        var result2 = await new LakeExporter(exportOptions).ExportAsync(dir2, events).ConfigureAwait(false);
        double exportSeconds = sw.Elapsed.TotalSeconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Console.WriteLine($"generate only (warm, into a list): {events.Count:N0} events in {genSeconds:F2} s ({events.Count / genSeconds:N0} events/s)");
        Console.WriteLine($"export only: {result2.Rows:N0} rows in {exportSeconds:F2} s ({result2.Rows / exportSeconds:N0} rows/s); allocated {allocated / 1e9:F2} GB ({(double)allocated / result2.Rows:F0} B/row)");
        events.Clear();
        Directory.Delete(dir2, recursive: true);

        // 3. DuckDB over the lake.
        sw.Restart();
        using var lake = LakeQuery.Open(dir);
        long count = lake.Scalar<long>("SELECT count(*) FROM events");
        double countSeconds = sw.Elapsed.TotalSeconds;
        sw.Restart();
        var ctr = lake.Rows("""
            SELECT position, count(*) FILTER (type = 'click') / count(*) FILTER (type = 'exposure') AS ctr
            FROM events WHERE type IN ('click', 'exposure') AND position IS NOT NULL GROUP BY position ORDER BY position
            """);
        double ctrSeconds = sw.Elapsed.TotalSeconds;
        sw.Restart();
        long hours = lake.Scalar<long>("SELECT count(*) FROM (SELECT date, hour, count(*) FROM events GROUP BY ALL)");
        double hourSeconds = sw.Elapsed.TotalSeconds;
        Console.WriteLine($"duckdb: open + count(*) = {count:N0} in {countSeconds * 1000:F0} ms; CTR by position in {ctrSeconds * 1000:F0} ms; rows per hour ({hours} partitions) in {hourSeconds * 1000:F0} ms");
        Console.WriteLine("CTR by position: " + string.Join(" ", ctr.Select(r => Convert.ToDouble(r[1], CultureInfo.InvariantCulture).ToString("F3", CultureInfo.InvariantCulture))));

        if (count != result.Rows)
        {
            Console.Error.WriteLine($"MISMATCH: exported {result.Rows} rows, DuckDB counts {count}");
            return 1;
        }

        if (!keep)
        {
            lake.Dispose();
            Directory.Delete(dir, recursive: true);
        }

        return 0;
    }

    private static IEnumerable<(long Offset, Event Event)> Offsets(IEnumerable<Event> events)
    {
        long offset = 0;
        foreach (var e in events)
        {
            yield return (offset++, e);
        }
    }
}
