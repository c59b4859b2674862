using Zhongtai.Demo;
using Zhongtai.Events;
using Zhongtai.Lake;

namespace Zhongtai.Tests.Lake;

/// <summary>The demo world through the lake: what DuckDB sees is what the generator planted.</summary>
public sealed class DemoLakeTests
{
    [Fact]
    public void DemoWorld_ExportedToLake_SqlSeesTheSameEventsAndFraud()
    {
        using var dir = new TempDir();
        var world = DemoWorld.Generate(new DemoWorldOptions { Seed = 5, Scale = 0.05, Days = 3 });
        var byType = new Dictionary<string, long>(StringComparer.Ordinal);
        long offset = 0;

        IEnumerable<(long, Event)> Log()
        {
            foreach (var e in world.Events())
            {
                byType[e.Type] = byType.GetValueOrDefault(e.Type) + 1;
                yield return (offset++, e);
            }
        }

        var result = new LakeExporter().Export(dir.Path, Log());

        Assert.Equal(world.Truth.TotalEvents, result.Rows);
        using var lake = LakeQuery.Open(dir.Path);
        var counts = lake.Rows("SELECT type, count(*) FROM events GROUP BY type")
            .ToDictionary(r => (string)r[0]!, r => (long)r[1]!);
        Assert.Equal(byType.OrderBy(x => x.Key), counts.OrderBy(x => x.Key));

        // The planted bots are the fastest clickers by SQL too.
        var fastest = lake.Rows("""
            SELECT user_id FROM (
              SELECT user_id, epoch(ts) - epoch(lag(ts) OVER (PARTITION BY user_id ORDER BY ts)) AS gap
              FROM events WHERE type = 'click')
            GROUP BY user_id HAVING count(*) > 50 ORDER BY median(gap), user_id LIMIT 1
            """);
        Assert.Equal(FraudKind.Bot, world.Truth.FraudUsers.GetValueOrDefault((string)Assert.Single(fastest)[0]!));

        // Every fraud id the truth names is in the lake.
        var fraudIds = world.Truth.FraudEvents.Keys.ToList();
        Assert.Equal(fraudIds.Count, lake.Scalar<long>("SELECT count(*) FROM events WHERE list_contains($1, id)", new object[] { fraudIds }));
    }
}
