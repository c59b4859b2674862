using System.Text.Json;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Risk;

/// <summary><c>zt risk run|eval|release|releases</c> through the real CLI on a small demo world.</summary>
public sealed class RiskCliTests
{
    [Fact]
    public async Task RiskCommands_RunEvalReleaseAndRerun()
    {
        using var dir = new TempDirectory();
        var generate = await ZtProcess.RunAsync("demo", "generate", "--data", dir.Path, "--seed", "5", "--scale", "0.15", "--days", "2", "--json");
        Assert.True(generate.ExitCode == 0, generate.Stderr);

        var run = await ZtProcess.RunAsync("risk", "run", "--data", dir.Path, "--json");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var first = JsonDocument.Parse(run.Stdout).RootElement;
        var runDir = first.GetProperty("directory").GetString()!;
        Assert.True(File.Exists(Path.Combine(runDir, "quarantine.parquet")));
        Assert.True(first.GetProperty("report").GetProperty("eventsQuarantined").GetInt64() > 0);
        var projectDir = Path.Combine(dir.Path, "projects", "default");
        Assert.Equal(first.GetProperty("runId").GetString(), File.ReadAllText(Path.Combine(projectDir, "risk", "latest")).Trim());

        var eval = await ZtProcess.RunAsync("risk", "eval", "--data", dir.Path, "--json");
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        var evaluation = JsonDocument.Parse(eval.Stdout).RootElement.GetProperty("evaluation");
        Assert.True(evaluation.GetProperty("precision").GetDouble() >= 0.95);
        Assert.True(evaluation.GetProperty("recall").GetDouble() >= 0.95);
        Assert.True(evaluation.GetProperty("honestQuarantinedShare").GetDouble() < 0.01);

        var truth = JsonDocument.Parse(File.ReadAllText(Path.Combine(projectDir, "demo", "truth.json"))).RootElement;
        var bot = truth.GetProperty("fraudUsers").EnumerateObject().First(p => p.Value.GetString() == "Bot").Name;
        Assert.Equal(2, (await ZtProcess.RunAsync("risk", "release", "--data", dir.Path, "--reason", "x")).ExitCode);
        var release = await ZtProcess.RunAsync("risk", "release", "--data", dir.Path, "--user", bot, "--reason", "load test account", "--by", "qa");
        Assert.True(release.ExitCode == 0, release.Stderr);
        var list = JsonDocument.Parse((await ZtProcess.RunAsync("risk", "releases", "--data", dir.Path, "--json")).Stdout).RootElement;
        Assert.Equal(bot, Assert.Single(list.EnumerateArray()).GetProperty("id").GetString());

        var rerun = JsonDocument.Parse((await ZtProcess.RunAsync("risk", "run", "--data", dir.Path, "--json")).Stdout).RootElement.GetProperty("report");
        Assert.Equal(1, rerun.GetProperty("usersReleased").GetInt64());
        Assert.True(rerun.GetProperty("eventsQuarantined").GetInt64() < first.GetProperty("report").GetProperty("eventsQuarantined").GetInt64());
    }
}
