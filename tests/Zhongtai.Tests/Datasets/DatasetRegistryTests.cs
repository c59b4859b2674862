using Microsoft.Extensions.Time.Testing;
using Zhongtai.Datasets;
using Zhongtai.Meta;
using Zhongtai.Tests.Samples;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Datasets;

public sealed class DatasetRegistryTests
{
    private static DatasetRegistry Registry(TempDirectory dir, TimeProvider? time = null) =>
        new(MetaStore.Open(dir.Combine("meta.db")), dir.Combine("projects", "p"), "p", time ?? new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 0, 0, 0, TimeSpan.Zero)));

    private static void WriteTable(string file, int rows) =>
        SampleWorld.Query($"COPY (SELECT range AS id, range % 7 AS k, CASE WHEN range % 5 = 0 THEN NULL ELSE 'x' || range END AS s FROM range({rows}) ORDER BY id) TO '{file}' (FORMAT parquet)");

    [Fact]
    public void Commit_RegistersAVersionWithSchemaStatsLineageAndChecksum()
    {
        using var dir = new TempDirectory();
        var registry = Registry(dir);
        using var draft = registry.Begin("toy", "test");
        WriteTable(draft.TablePath("main"), 100);
        var lineage = new DatasetLineage { FromOffset = 0, ToOffset = 99, Partitions = ["date=2026-05-01/hour=00"], Inputs = ["raw@3"] };
        var record = registry.Commit(draft, new { b = 2, a = 1 }, lineage);

        Assert.Equal("toy@1", record.Id);
        Assert.False(record.Reused);
        Assert.Equal(100, record.Rows);
        Assert.Equal(new DateTimeOffset(2026, 5, 1, 0, 0, 0, TimeSpan.Zero), record.CreatedAt);
        Assert.True(File.Exists(Path.Combine(dir.Path, "projects", "p", "datasets", "toy", "1", "main.parquet")));
        Assert.False(Directory.Exists(draft.Directory));
        var table = Assert.Single(record.Tables);
        Assert.Equal(["id", "k", "s"], table.Columns.Select(c => c.Name));
        var id = table.Columns[0];
        Assert.Equal(("0", "99", 0L), (id.Min, id.Max, id.Nulls));
        Assert.Equal(20, table.Columns[2].Nulls);
        Assert.InRange(table.Columns[1].DistinctApprox, 6, 8);
        Assert.Equal(64, record.Checksum.Length);
        Assert.Equal(DatasetRegistry.CodeVersion, record.CodeVersion);

        var found = registry.Get("toy@1");
        Assert.Equal(record.Checksum, found.Checksum);
        Assert.Equal(lineage.Inputs, found.Lineage.Inputs);
        Assert.Equal(lineage.Partitions, found.Lineage.Partitions);
        Assert.Equal("""{"a":1,"b":2}""", found.Config);
        Assert.Equal(record.ConfigHash, found.ConfigHash);
        Assert.Equal("toy@1", registry.Get("toy").Id);
    }

    [Fact]
    public void Commit_SameContentReusesTheVersion_NewContentGetsTheNext()
    {
        using var dir = new TempDirectory();
        var registry = Registry(dir);
        DatasetRecord Make(int rows)
        {
            using var draft = registry.Begin("toy", "test");
            WriteTable(draft.TablePath("main"), rows);
            return registry.Commit(draft, new { rows }, new DatasetLineage());
        }

        var first = Make(10);
        var again = Make(10);
        var other = Make(11);

        Assert.True(again.Reused);
        Assert.Equal(first.Id, again.Id);
        Assert.Equal(first.Checksum, again.Checksum);
        Assert.Equal("toy@2", other.Id);
        Assert.Equal(2, registry.List("toy").Count);
        Assert.Equal(["1", "2"], Directory.EnumerateDirectories(Path.Combine(registry.Root, "toy")).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Commit_UnreadableTable_NamesTheFileAndRegistersNothing()
    {
        using var dir = new TempDirectory();
        var registry = Registry(dir);
        using (var draft = registry.Begin("toy", "test"))
        {
            WriteTable(draft.TablePath("good"), 10);
            File.WriteAllText(draft.TablePath("bad"), "not parquet at all");
            var e = Assert.Throws<DatasetException>(() => registry.Commit(draft, new { }, new DatasetLineage()));
            Assert.Contains("bad.parquet", e.Message, StringComparison.Ordinal);
        }

        Assert.Empty(registry.List());
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(registry.Root, "toy")));
    }

    [Fact]
    public void Recover_RemovesStagingAndUnregisteredVersionDirectories()
    {
        using var dir = new TempDirectory();
        var registry = Registry(dir);
        using (var draft = registry.Begin("toy", "test"))
        {
            WriteTable(draft.TablePath("main"), 5);
            registry.Commit(draft, new { }, new DatasetLineage());
        }

        Directory.CreateDirectory(Path.Combine(registry.Root, "toy", ".staging-crashed"));
        Directory.CreateDirectory(Path.Combine(registry.Root, "toy", "7"));
        Assert.Equal(2, registry.Recover());
        Assert.Equal(["1"], Directory.EnumerateDirectories(Path.Combine(registry.Root, "toy")).Select(Path.GetFileName));
    }

    [Fact]
    public void CanonicalJson_IgnoresKeyOrderAndWhitespace()
    {
        var a = DatasetRegistry.CanonicalJson(System.Text.Json.Nodes.JsonNode.Parse("""{ "b": [1, {"y": 1, "x": 2}], "a": "s" }""")!);
        var b = DatasetRegistry.CanonicalJson(new { a = "s", b = new object[] { 1, new { x = 2, y = 1 } } });
        Assert.Equal("""{"a":"s","b":[1,{"x":2,"y":1}]}""", a);
        Assert.Equal(a, b);
    }
}
