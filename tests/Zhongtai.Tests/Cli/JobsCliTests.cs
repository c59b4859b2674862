using System.Text.Json;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Cli;

public sealed class JobsCliTests
{
    [Fact]
    public async Task JobsRun_RunsAJobByHand_AndAnUnknownKindFailsClearly()
    {
        using var dir = new TempDirectory();
        var data = dir.Combine("data");
        var gen = await ZtProcess.RunAsync("demo", "generate", "--data", data, "--scale", "0.03", "--days", "2", "--json");
        Assert.True(gen.ExitCode == 0, gen.Stderr);

        var graph = await ZtProcess.RunAsync("jobs", "run", "graph-build", "--data", data, "--json");
        Assert.True(graph.ExitCode == 0, graph.Stderr);
        using var job = JsonDocument.Parse(graph.Stdout);
        Assert.Equal("succeeded", job.RootElement.GetProperty("status").GetString());
        Assert.True(File.Exists(Path.Combine(data, "projects", "default", "index", "graph", "CURRENT")));

        var unknown = await ZtProcess.RunAsync("jobs", "run", "no-such-kind", "--data", data);
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("no-such-kind", unknown.Stdout + unknown.Stderr, StringComparison.Ordinal);
    }
}
