using Zhongtai.Cli.Commands;
using Zhongtai.Hosting;
using Zhongtai.Lake;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Cli;

public class DemoAndExportTests
{
    [Fact]
    public async Task DemoWorld_IngestsThroughValidation_ThenExportsExactlyOnceToTheLake()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var project = host.Project();
        var options = DemoCommands.Options(host, seed: 7, scale: 0.05, days: 2);
        var summary = await DemoCommands.IngestAsync(project, options, _ => { }, CancellationToken.None);
        Assert.True(summary.Events > 1_000);
        Assert.Equal(summary.Events, project.Events.Count);
        Assert.True(File.Exists(Path.Combine(project.Directory, "demo", "fraud.jsonl")));

        var again = await DemoCommands.IngestAsync(project, options, _ => { }, CancellationToken.None);
        Assert.Equal(0, again.Written);

        var first = await new LakeExporter(time: host.Time).ExportAsync(project, CancellationToken.None);
        Assert.Equal(project.Events.Count, first.Rows);
        Assert.Equal(0, (await new LakeExporter(time: host.Time).ExportAsync(project, CancellationToken.None)).Rows);

        using var lake = LakeQuery.Open(project.LakeDirectory);
        Assert.Equal(project.Events.Count, lake.Scalar<long>("SELECT count(*) FROM events"));
        Assert.Equal(summary.FraudEvents, File.ReadLines(Path.Combine(project.Directory, "demo", "fraud.jsonl")).Count());
    }
}
