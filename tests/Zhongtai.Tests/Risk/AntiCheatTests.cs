using Microsoft.Extensions.Configuration;
using Zhongtai.Demo;
using Zhongtai.Events;
using Zhongtai.Lake;
using Zhongtai.Risk;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Risk;

/// <summary>The anti-cheat end to end on small demo worlds: quality against the planted fraud, releases, atomic output, errors.</summary>
public sealed class AntiCheatTests
{
    private static readonly DemoWorldOptions SmallWorld = new() { Seed = 42, Scale = 0.2, Days = 2 };

    /// <summary>Exports a demo world to <c>DIR/lake</c> and writes its labels to <c>DIR/fraud.jsonl</c>.</summary>
    private static (string Lake, string Labels, GroundTruth Truth) Demo(TempDirectory dir, DemoWorldOptions options)
    {
        var world = DemoWorld.Generate(options);
        long offset = 0;
        var lake = dir.Combine("lake");
        new LakeExporter().Export(lake, world.Events().Select(e => (offset++, e)));
        var labels = dir.Combine("fraud.jsonl");
        world.Truth.WriteFraudLabels(labels);
        return (lake, labels, world.Truth);
    }

    [Theory]
    [InlineData(42, 0.3)]
    [InlineData(7, 0.2)]
    public void SmallDemoWorld_MeetsPrecisionRecallAndHonestTargets(long seed, double scale)
    {
        using var dir = new TempDirectory();
        var (lakeDir, labels, truth) = Demo(dir, new DemoWorldOptions { Seed = seed, Scale = scale, Days = 3 });
        var options = new AntiCheatOptions();
        var report = new AntiCheat(options).Run(lakeDir, RiskReleases.None, dir.Combine("out"));

        using var lake = LakeQuery.Open(lakeDir);
        var result = RiskEvaluation.Evaluate(lake, dir.Combine("out"), labels, options);
        Assert.Equal(truth.FraudEvents.Count, result.FraudEvents);
        Assert.Equal(report.EventsQuarantined, result.Quarantined);
        Assert.True(result.Precision >= 0.95, $"precision {result.Precision}");
        Assert.True(result.Recall >= 0.95, $"recall {result.Recall}");
        Assert.True(result.HonestQuarantinedShare < 0.01, $"honest {result.HonestQuarantinedShare}");
        Assert.All(result.Kinds, k => Assert.True(k.Recall >= 0.9, $"{k.Kind} recall {k.Recall}"));
        Assert.True(report.ItemsFlagged >= truth.ClickFarmTargets.Count);
    }

    [Fact]
    public void Release_IsRespectedByTheNextRun()
    {
        using var dir = new TempDirectory();
        var (lakeDir, _, truth) = Demo(dir, SmallWorld);
        var engine = new AntiCheat(new AntiCheatOptions());
        var before = engine.Run(lakeDir, RiskReleases.None, dir.Combine("before"));
        var quarantine = RiskScenario.ReadQuarantine(dir.Combine("before"));
        var farmer = truth.FraudUsers.First(u => u.Value == FraudKind.ClickFarm).Key;
        var item = truth.ClickFarmTargets[0];
        Assert.Contains(item, FlaggedItems(dir.Combine("before")));

        var releases = RiskReleases.Open(RiskReleases.PathFor(dir.Combine("project")));
        releases.Release(ReleaseKind.User, farmer, "verified by phone", "ops", TimeProvider.System);
        releases.Release(ReleaseKind.Item, item, "advertiser dispute settled", "ops", TimeProvider.System);

        // Durable: a fresh open sees both.
        var reopened = RiskReleases.Open(RiskReleases.PathFor(dir.Combine("project")));
        Assert.Equal([farmer], reopened.Users);
        Assert.Equal([item], reopened.Items);

        var after = engine.Run(lakeDir, reopened, dir.Combine("after"));
        var quarantineAfter = RiskScenario.ReadQuarantine(dir.Combine("after"));
        Assert.Equal(1, after.UsersReleased);
        Assert.Equal(1, after.ItemsReleased);
        Assert.Equal(before.UsersFlagged - 1, after.UsersFlagged);
        Assert.DoesNotContain(item, FlaggedItems(dir.Combine("after")));
        Assert.True(after.EventsQuarantined < before.EventsQuarantined);

        // The farmer's events left the quarantine, except those an event-level rule flags on its own.
        using var lake = LakeQuery.Open(lakeDir);
        var farmerIds = lake.Rows("SELECT id FROM events WHERE user_id = $1 AND type <> 'user'", farmer).Select(r => (string)r[0]!).ToList();
        Assert.All(farmerIds, id => Assert.True(quarantine.ContainsKey(id)));
        string[] accountRules = [.. AntiCheat.Rules.Where(r => r.Level == RuleLevel.Account).Select(r => r.Rule)];
        Assert.All(farmerIds, id => Assert.False(quarantineAfter.TryGetValue(id, out var rules) && rules.Intersect(accountRules).Any()));
    }

    [Fact]
    public void Run_IsDeterministic_AndReplacesItsOutputAtomically()
    {
        using var dir = new TempDirectory();
        var (lakeDir, _, _) = Demo(dir, new DemoWorldOptions { Seed = 9, Scale = 0.1, Days = 2 });
        var engine = new AntiCheat(new AntiCheatOptions());
        var first = engine.Run(lakeDir, RiskReleases.None, dir.Combine("runs", "a"));
        var second = engine.Run(lakeDir, RiskReleases.None, dir.Combine("runs", "b"));
        engine.Run(lakeDir, RiskReleases.None, dir.Combine("runs", "a")); // over an existing output

        Assert.True(first.EventsQuarantined > 0);
        Assert.Equal(first.EventsQuarantined, second.EventsQuarantined);
        Assert.Equal(Rows(dir.Combine("runs", "a")), Rows(dir.Combine("runs", "b")));
        Assert.Equal(
            File.ReadAllBytes(dir.Combine("runs", "a", AntiCheat.EntitiesFile)),
            File.ReadAllBytes(dir.Combine("runs", "b", AntiCheat.EntitiesFile)));

        // Only the two outputs: no temp or old directories left behind.
        Assert.Equal(["a", "b"], Directory.GetDirectories(dir.Combine("runs")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(first.EventsQuarantined, RiskRuns.ReadReport(dir.Combine("runs", "a")).EventsQuarantined);
    }

    [Fact]
    public void CorruptParquetFile_FailsNamingTheFile_AndWritesNoOutput()
    {
        using var dir = new TempDirectory();
        var (lakeDir, _, _) = Demo(dir, new DemoWorldOptions { Seed = 9, Scale = 0.05, Days = 1 });
        var victim = Directory.EnumerateFiles(lakeDir, "*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Skip(3).First();
        var bytes = File.ReadAllBytes(victim);
        File.WriteAllBytes(victim, bytes.AsSpan(0, bytes.Length / 2).ToArray());

        var e = Assert.ThrowsAny<LakeCorruptFileException>(() => new AntiCheat(new AntiCheatOptions()).Run(lakeDir, RiskReleases.None, dir.Combine("runs", "x")));
        Assert.Equal(Path.GetFullPath(victim), e.FilePath);
        Assert.Contains(Path.GetFileName(victim), e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Combine("runs")));
    }

    [Fact]
    public void Releases_IgnoreATornLastLine()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("risk", "releases.jsonl");
        var releases = RiskReleases.Open(path);
        releases.Release(ReleaseKind.User, "u-1", "ok", "me", TimeProvider.System);
        File.AppendAllText(path, "{\"kind\":\"user\",\"id\":\"u-");
        var reopened = RiskReleases.Open(path);
        Assert.Equal(["u-1"], reopened.Users);
        reopened.Release(ReleaseKind.Item, "i-2", "ok", "me", TimeProvider.System);
        Assert.Equal(["i-2"], RiskReleases.Open(path).Items);
    }

    [Fact]
    public void Options_BindFromTheRiskSection_AndValidate()
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Risk:UserMaxActionsPerWindow"] = "45",
            ["Risk:BotUserAgentPatterns:0"] = "mybot",
        }).Build();
        var options = AntiCheatOptions.From(config);
        Assert.Equal(45, options.UserMaxActionsPerWindow);
        Assert.Contains("mybot", options.BotUserAgentPatterns);
        Assert.Equal(60, options.RateWindowSeconds);

        var bad = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Risk:CtrMinOutlier"] = "2" }).Build();
        Assert.Throws<System.ComponentModel.DataAnnotations.ValidationException>(() => AntiCheatOptions.From(bad));
    }

    [Fact]
    public void EmptyLake_QuarantinesNothing()
    {
        using var dir = new TempDirectory();
        new LakeExporter().Export(dir.Combine("lake"), Array.Empty<(long, Event)>());
        var report = new AntiCheat(new AntiCheatOptions()).Run(dir.Combine("lake"), RiskReleases.None, dir.Combine("out"));
        Assert.Equal(0, report.EventsScanned);
        Assert.Empty(RiskScenario.ReadQuarantine(dir.Combine("out")));
    }

    private static List<string> Rows(string output)
    {
        using var lake = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        lake.Open();
        using var cmd = lake.CreateCommand();
        cmd.CommandText = "SELECT \"offset\"::VARCHAR || '|' || id || '|' || type || '|' || user_id || '|' || coalesce(item_id, '') || '|' || ts::VARCHAR || '|' || rules FROM read_parquet($1)";
        cmd.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter(Path.Combine(output, AntiCheat.QuarantineFile)));
        using var reader = cmd.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private static List<string> FlaggedItems(string output)
    {
        using var lake = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        lake.Open();
        using var cmd = lake.CreateCommand();
        cmd.CommandText = "SELECT entity FROM read_parquet($1) WHERE kind = 'item'";
        cmd.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter(Path.Combine(output, AntiCheat.EntitiesFile)));
        using var reader = cmd.ExecuteReader();
        var items = new List<string>();
        while (reader.Read())
        {
            items.Add(reader.GetString(0));
        }

        return items;
    }
}
