using System.Globalization;
using BenchmarkDotNet.Attributes;
using Zhongtai.Experiments;

namespace Zhongtai.Bench.Experiments;

/// <summary>
/// <see cref="ExperimentAssigner.Assign"/> per request: 1,024 distinct user ids per invocation (ns/op is per Assign).
/// Run: <c>dotnet run -c Release --project bench/Zhongtai.Bench -- --filter '*AssignBenchmarks*' --job short</c>.
/// </summary>
[MemoryDiagnoser]
public class AssignBenchmarks
{
    private const int Users = 1_024;

    private readonly string[] _users = Enumerable.Range(0, Users).Select(i => "user-" + (i * 7919).ToString(CultureInfo.InvariantCulture)).ToArray();
    private ExperimentAssigner _none = null!;
    private ExperimentAssigner _one = null!;
    private ExperimentAssigner _layers = null!;

    [GlobalSetup]
    public void Setup()
    {
        _none = new ExperimentAssigner(ExperimentSet.Empty);
        _one = new ExperimentAssigner(ExperimentSet.Parse("""
            { "experiments": [ { "id": "rank-v2", "scenes": ["home"], "buckets": [
              { "name": "control", "weight": 0.5 }, { "name": "a", "weight": 0.3, "modelAlias": "candidate" }, { "name": "b", "weight": 0.2 } ] } ] }
            """));
        _layers = new ExperimentAssigner(ExperimentSet.Parse("""
            { "experiments": [
              { "id": "recall-mix", "layer": "recall", "scenes": ["home"], "traffic": 0.5, "buckets": [ { "name": "control", "weight": 0.5 }, { "name": "t", "weight": 0.5 } ] },
              { "id": "recall-new", "layer": "recall", "scenes": ["home"], "traffic": 0.5, "buckets": [ { "name": "control", "weight": 0.5 }, { "name": "t", "weight": 0.5 } ] },
              { "id": "rank-v2", "layer": "rank", "scenes": ["home", "detail"], "buckets": [ { "name": "control", "weight": 0.5 }, { "name": "t", "weight": 0.5 } ] },
              { "id": "rerank", "layer": "rerank", "scenes": ["*"], "buckets": [ { "name": "control", "weight": 0.9 }, { "name": "t", "weight": 0.1 } ] } ] }
            """));
    }

    /// <summary>No experiments configured: the cost serving pays when experiments are off.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Users)]
    public int NoExperiments() => Run(_none, "home", anonymous: false);

    /// <summary>One experiment, three buckets: two hashes.</summary>
    [Benchmark(OperationsPerInvoke = Users)]
    public int OneExperiment() => Run(_one, "home", anonymous: false);

    /// <summary>Three layers (one holding two exclusive experiments) in the scene: six hashes and a cache lookup.</summary>
    [Benchmark(OperationsPerInvoke = Users)]
    public int ThreeLayers() => Run(_layers, "home", anonymous: false);

    /// <summary>Three layers, bucketing on the anonymous id.</summary>
    [Benchmark(OperationsPerInvoke = Users)]
    public int ThreeLayersAnonymous() => Run(_layers, "home", anonymous: true);

    /// <summary>A scene with no experiment of its own (only the "*" one).</summary>
    [Benchmark(OperationsPerInvoke = Users)]
    public int OtherScene() => Run(_layers, "search", anonymous: false);

    private int Run(ExperimentAssigner assigner, string scene, bool anonymous)
    {
        int total = 0;
        foreach (var u in _users)
        {
            total += (anonymous ? assigner.Assign(null, scene, u) : assigner.Assign(u, scene)).Count;
        }

        return total;
    }
}
