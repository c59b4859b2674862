using BenchmarkDotNet.Running;
using Zhongtai.Bench.Recall;

if (RecallBenchCommands.TryRun(args, out int exitCode))
{
    return exitCode;
}

if (args.Length > 0 && args[0] == "lake-export")
{
    return await Zhongtai.Bench.Lake.LakeExportBench.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "ranking")
{
    return Zhongtai.Bench.Ranking.RankingBench.Run(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
