using System.Text.Json;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Pipeline;

public sealed class PipelineCliTests
{
    [Fact]
    public async Task PipelineRun_Json_PrintsCountsPerStage_AndDatasetsListShowsTheVersions()
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        var gen = await ZtProcess.RunAsync("demo", "generate", "--data", data, "--scale", "0.03", "--days", "2", "--json");
        Assert.True(gen.ExitCode == 0, gen.Stderr);

        var run = await ZtProcess.RunAsync("pipeline", "run", "--data", data, "--json");
        Assert.True(run.ExitCode == 0, run.Stderr);
        using var report = JsonDocument.Parse(run.Stdout);
        var stages = report.RootElement.GetProperty("stages").EnumerateArray().ToDictionary(s => s.GetProperty("stage").GetString()!);
        Assert.Equal(["export", "check", "anti-cheat", "samples", "recall", "splits", "features"], stages.Keys);
        var quarantined = stages["anti-cheat"].GetProperty("counts").GetProperty("quarantined").GetInt64();
        Assert.True(quarantined > 0, "the demo world's fraud is quarantined");
        Assert.Equal(quarantined, stages["samples"].GetProperty("counts").GetProperty("quarantined").GetInt64());
        Assert.True(stages["export"].GetProperty("counts").GetProperty("rows").GetInt64() > 0);
        Assert.True(stages["samples"].GetProperty("counts").GetProperty("samples").GetInt64() > 0);

        var list = await ZtProcess.RunAsync("datasets", "list", "--data", data, "--json");
        Assert.True(list.ExitCode == 0, list.Stderr);
        using var datasets = JsonDocument.Parse(list.Stdout);
        Assert.Equal(["features@1", "quarantine@1", "ranking-samples@1", "ranking-splits@1", "recall@1"], datasets.RootElement.EnumerateArray().Select(d => d.GetProperty("id").GetString()).Order(StringComparer.Ordinal));

        var show = await ZtProcess.RunAsync("datasets", "show", "ranking-splits@1", "--data", data, "--json");
        Assert.True(show.ExitCode == 0, show.Stderr);
        using var split = JsonDocument.Parse(show.Stdout);
        Assert.Equal("ranking-samples@1", split.RootElement.GetProperty("lineage").GetProperty("inputs")[0].GetString());
        var quarantine = await ZtProcess.RunAsync("datasets", "show", "quarantine@1", "--data", data, "--json");
        using var q = JsonDocument.Parse(quarantine.Stdout);
        Assert.Equal(["flagged_entities", "quarantine"], q.RootElement.GetProperty("tables").EnumerateArray().Select(t => t.GetProperty("name").GetString()));

        // The stage's run is also the project's latest risk run: zt risk eval scores it against the demo's labels.
        var eval = await ZtProcess.RunAsync("risk", "eval", "--data", data, "--json");
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        using var e = JsonDocument.Parse(eval.Stdout);
        Assert.True(e.RootElement.GetProperty("evaluation").GetProperty("precision").GetDouble() > 0.9);

        // ... and its flagged items are published for the online risk filter.
        var flagged = File.ReadAllLines(Path.Combine(data, "projects", "default", "risk", "flagged-items.txt")).Where(l => !l.StartsWith('#')).ToList();
        Assert.NotEmpty(flagged);
        Assert.All(flagged, l => Assert.Contains("  # ", l, StringComparison.Ordinal));

        var missing = await ZtProcess.RunAsync("datasets", "show", "nope@3", "--data", data);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("nope@3", missing.Stdout + missing.Stderr, StringComparison.Ordinal);
    }
}
