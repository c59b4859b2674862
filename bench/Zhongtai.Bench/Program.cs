using BenchmarkDotNet.Running;
using Zhongtai.Bench.Recall;

if (RecallBenchCommands.TryRun(args, out int exitCode))
{
    return exitCode;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
