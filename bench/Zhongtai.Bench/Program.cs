using BenchmarkDotNet.Running;

if (args.Length > 0 && args[0] == "ranking")
{
    return Zhongtai.Bench.Ranking.RankingBench.Run(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
