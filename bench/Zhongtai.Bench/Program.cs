using BenchmarkDotNet.Running;
using Zhongtai.Bench.Vector;

if (args.Length > 0 && args[0] == "vector")
{
    return VectorBenchCommand.Run(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
