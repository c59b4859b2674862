using Zhongtai.Datasets;
using Zhongtai.Demo;
using Zhongtai.Lake;
using Zhongtai.Meta;
using Zhongtai.Pipeline;
using Zhongtai.Tests.Samples;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Pipeline;

public sealed class PipelineRunnerTests
{
    private static readonly DateTimeOffset Start = new(2026, 2, 1, 0, 0, 0, TimeSpan.Zero);

    private static string DemoLake(TempDirectory dir)
    {
        var world = DemoWorld.Generate(new DemoWorldOptions { Scale = 0.04, Days = 3, Start = Start, Seed = 3 });
        var lake = dir.Combine("lake");
        SampleWorld.Export(lake, world.Events().Select((e, i) => ((long)i, e)));
        return lake;
    }

    private static DatasetRegistry Registry(TempDirectory dir) => new(MetaStore.Open(dir.Combine("meta.db")), dir.Combine("project"), "default", TimeProvider.System);

    private static PipelineOptions Options() => new() { DuckDbThreads = 2, DuckDbMemoryLimit = "1GB" };

    /// <summary>A stand-in anti-cheat engine: quarantines every behaviour event of the most active user, with a reason.</summary>
    private sealed class QuarantineTopUser : IAntiCheatStage
    {
        public string Name => "anti-cheat";

        public string User { get; private set; } = "";

        public Task<AntiCheatResult> RunAsync(AntiCheatInput input, CancellationToken ct)
        {
            using var lake = input.OpenLake();
            User = lake.Scalar<string>("SELECT user_id FROM events WHERE type = 'exposure' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")!;
            lake.Execute($"COPY (SELECT \"offset\", 'test' AS reason FROM events WHERE user_id = '{User}' AND item_id IS NOT NULL ORDER BY \"offset\") TO '{input.OutputFile}' (FORMAT parquet)");
            long n = lake.Scalar<long>($"SELECT count(*) FROM read_parquet('{input.OutputFile}')");
            return Task.FromResult(new AntiCheatResult(n, new { rule = "top-user" }));
        }
    }

    [Fact]
    public async Task Run_RegistersSamplesRecallAndSplitsWithLineage_AndARerunReusesThem()
    {
        using var dir = new TempDirectory();
        var lake = DemoLake(dir);
        var registry = Registry(dir);
        var antiCheat = new QuarantineTopUser();
        var runner = new PipelineRunner(registry, Options(), antiCheat: antiCheat);

        var first = await runner.RunAsync(lake, null);
        var stage = first.Stages.ToDictionary(s => s.Stage);
        Assert.Equal(["check", "anti-cheat", "samples", "recall", "splits", "features"], first.Stages.Select(s => s.Stage));
        Assert.True(stage["anti-cheat"].Counts["quarantined"] > 0);
        Assert.Equal(stage["anti-cheat"].Counts["quarantined"], stage["samples"].Counts["quarantined"]);
        Assert.True(stage["samples"].Counts["samples"] > 1000);
        Assert.Equal(1, stage["samples"].Counts["fromExposures"]);
        Assert.Equal(stage["samples"].Counts["samples"], stage["splits"].Counts["train"] + stage["splits"].Counts["validation"] + stage["splits"].Counts["test"]);
        Assert.True(stage["splits"].Counts["validation"] > 0 && stage["splits"].Counts["test"] > 0);

        var samples = registry.Get("ranking-samples");
        Assert.Equal(["quarantine@1"], samples.Lineage.Inputs);
        Assert.Equal(LakeExporter.ReadCheckpoint(lake).LastOffset, samples.Lineage.ToOffset);
        Assert.Equal(0, samples.Lineage.FromOffset);
        Assert.NotEmpty(samples.Lineage.Partitions);
        Assert.Equal(0L, SampleWorld.L(SampleWorld.Query($"SELECT count(*) AS n FROM read_parquet('{samples.TablePath("samples")}') WHERE user_id = '{antiCheat.User}'")[0]["n"]));
        Assert.Equal([samples.Id], registry.Get("ranking-splits").Lineage.Inputs);
        Assert.Equal(["histories", "negatives", "sessions"], registry.Get("recall").Tables.Select(t => t.Name));

        // Splits are disjoint in time and ordered.
        var splits = registry.Get("ranking-splits");
        var trainMax = SampleWorld.Query($"SELECT max(ts) AS m FROM read_parquet('{splits.TablePath("train")}')")[0]["m"];
        var validationMin = SampleWorld.Query($"SELECT min(ts) AS m FROM read_parquet('{splits.TablePath("validation")}')")[0]["m"];
        Assert.True(Comparer<object>.Default.Compare(trainMax!, validationMin!) < 0);

        var second = await runner.RunAsync(lake, null);
        Assert.All(second.Stages.Where(s => s.Datasets.Count > 0), s => Assert.True(s.Reused, s.Stage + " was not reused"));
        Assert.Equal(first.Stages.SelectMany(s => s.Datasets), second.Stages.SelectMany(s => s.Datasets));
        Assert.Equal(5, registry.List().Count); // quarantine, samples, recall, splits, features
        Assert.Equal(samples.Checksum, registry.Get("ranking-samples").Checksum);
    }

    [Fact]
    public async Task Run_CorruptPartFile_FailsNamingTheFile_AndRegistersNothing()
    {
        using var dir = new TempDirectory();
        var lake = DemoLake(dir);
        var victim = Directory.EnumerateFiles(LakeLayout.EventsDir(lake), "part-*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Skip(3).First();
        var bytes = File.ReadAllBytes(victim);
        Array.Fill(bytes, (byte)0x5A, bytes.Length - 64, 60);
        File.WriteAllBytes(victim, bytes);
        var registry = Registry(dir);

        var e = await Assert.ThrowsAsync<LakeCorruptFileException>(() => new PipelineRunner(registry, Options()).RunAsync(lake, null));
        Assert.Equal(Path.GetFullPath(victim), e.FilePath);
        Assert.Contains(Path.GetFileName(victim), e.Message, StringComparison.Ordinal);
        Assert.Empty(registry.List());
        Assert.False(Directory.Exists(registry.Root)
            && Directory.EnumerateDirectories(registry.Root, "*", SearchOption.AllDirectories).Any(d => Path.GetFileName(d) is var n && (n.StartsWith(".staging", StringComparison.Ordinal) || int.TryParse(n, out _))));
    }

    [Fact]
    public async Task Run_MissingPartition_FailsWithTheMissingOffsets_AndRegistersNothing()
    {
        using var dir = new TempDirectory();
        var lake = DemoLake(dir);
        var hour = Directory.EnumerateDirectories(Path.Combine(LakeLayout.EventsDir(lake), "date=2026-02-02")).Order(StringComparer.Ordinal).Skip(10).First();
        Directory.Delete(hour, recursive: true);
        var registry = Registry(dir);

        var e = await Assert.ThrowsAsync<LakeException>(() => new PipelineRunner(registry, Options()).RunAsync(lake, null));
        Assert.Contains("missing part files", e.Message, StringComparison.Ordinal);
        Assert.Contains("missing offsets", e.Message, StringComparison.Ordinal);
        Assert.Empty(registry.List());
    }

    [Fact]
    public async Task Run_QuarantineFileWithoutOffsetColumn_IsRejected()
    {
        using var dir = new TempDirectory();
        var lake = DemoLake(dir);
        var q = dir.Combine("q.parquet");
        SampleWorld.Query($"COPY (SELECT 1 AS id) TO '{q}' (FORMAT parquet)");
        var options = Options();
        options.QuarantineFile = q;

        var e = await Assert.ThrowsAsync<DatasetException>(() => new PipelineRunner(Registry(dir), options).RunAsync(lake, null));
        Assert.Contains("offset", e.Message, StringComparison.Ordinal);
    }
}
