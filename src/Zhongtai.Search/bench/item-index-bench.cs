#:project ../Zhongtai.Search.csproj
// Item index throughput on a generated catalog (see docs/inverted-index.md):
//   dotnet run -c Release src/Zhongtai.Search/bench/item-index-bench.cs -- [items=100000] [queries=20000] [threads=2]
using System.Globalization;
using Zhongtai.Indexing.Inverted;

int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;
var dir = Path.Combine(Path.GetTempPath(), "zt-item-index-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
try
{
    var r = ItemIndexBenchmark.Run(dir, items: Arg(0, 100_000), queries: Arg(1, 20_000), threads: Arg(2, 2));
    Console.WriteLine(r);
}
finally
{
    if (Directory.Exists(dir))
    {
        Directory.Delete(dir, recursive: true);
    }
}
