using BenchmarkDotNet.Running;
using Zhongtai.Bench.Recall;
using Zhongtai.Bench.Vector;

// System benchmarks with peers (each prints a table and where to record it); anything else goes to BenchmarkDotNet.
if (RecallBenchCommands.TryRun(args, out int exitCode))
{
    return exitCode;
}

switch (args.FirstOrDefault())
{
    case "lake-export":
        return await Zhongtai.Bench.Lake.LakeExportBench.RunAsync(args[1..]);
    case "ranking":
        return Zhongtai.Bench.Ranking.RankingBench.Run(args[1..]);
    case "vector":
        return VectorBenchCommand.Run(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
