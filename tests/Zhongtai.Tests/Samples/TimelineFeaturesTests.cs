using System.Globalization;
using DuckDB.NET.Data;
using Zhongtai.Samples;

namespace Zhongtai.Tests.Samples;

/// <summary>
/// The streaming timeline pass must give exactly what DuckDB's RANGE window frames give ("strictly before t", frames
/// <c>[t − w, t − 1]</c> in microseconds), on random timelines with many same-instant ties and events exactly at the
/// window edges.
/// </summary>
public sealed class TimelineFeaturesTests
{
    private static readonly FeatureWindow[] Windows = [new("1h", 3_600_000_000), new("1d", 86_400_000_000)];

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, false)]
    public void StreamingPass_EqualsRangeWindowFrames(int seed, bool users)
    {
        var extra = users ? TimelineFeatures.Extra.ClicksAllAndLastAction : TimelineFeatures.Extra.FirstSeen;
        using var con = new DuckDBConnection("Data Source=:memory:");
        con.Open();
        Exec(con, "CREATE TABLE tl (k UBIGINT, t BIGINT, f INTEGER, event_offset BIGINT, negative INTEGER)");
        var rng = new Random(seed);
        using (var app = con.CreateAppender("tl"))
        {
            for (int i = 0; i < 6000; i++)
            {
                // Times on a coarse grid (many ties), some exactly one window apart.
                long t = rng.Next(0, 200) * 1_800_000_000L + (rng.Next(4) == 0 ? 3_600_000_000L : 0);
                int kind = rng.Next(4);
                int f = kind switch
                {
                    0 => TimelineFeatures.Exposure | TimelineFeatures.Event | TimelineFeatures.Probe,
                    1 => TimelineFeatures.Click | TimelineFeatures.Action | TimelineFeatures.Event,
                    2 => TimelineFeatures.Action | TimelineFeatures.Event,
                    _ => rng.Next(2) == 0 ? TimelineFeatures.Event : TimelineFeatures.Probe,   // catalog row or a pure probe (rating mode)
                };
                app.CreateRow().AppendValue((ulong)rng.Next(7)).AppendValue(t).AppendValue(f).AppendValue((long)i).AppendValue(i % 3).EndRow();
            }
        }

        Exec(con, TimelineFeatures.CreateTable("got", "p", Windows, extra));
        long written = TimelineFeatures.Write(con, "SELECT * FROM tl ORDER BY k, t", "got", Windows, extra, CancellationToken.None);

        string Frame(string w) => $"PARTITION BY k ORDER BY t RANGE BETWEEN {w} PRECEDING AND 1 PRECEDING";
        var expectedSql = $"""
            SELECT event_offset, negative,
              coalesce(sum(f & 1) OVER ({Frame("3600000000")}), 0) AS e1, coalesce(sum((f >> 1) & 1) OVER ({Frame("3600000000")}), 0) AS c1,
              coalesce(sum(f & 1) OVER ({Frame("86400000000")}), 0) AS e2, coalesce(sum((f >> 1) & 1) OVER ({Frame("86400000000")}), 0) AS c2,
              coalesce(sum((f >> 1) & 1) OVER ({Frame("UNBOUNDED")}), 0) AS all_clicks,
              (t - max(CASE WHEN f & 4 <> 0 THEN t END) OVER ({Frame("UNBOUNDED")})) / 1e6 AS last_action,
              (t - min(CASE WHEN f & 8 <> 0 THEN t END) OVER ({Frame("UNBOUNDED")})) / 1e6 AS first_seen,
              f
            FROM tl QUALIFY f & 16 <> 0
            """;
        var extraCols = extra == TimelineFeatures.Extra.ClicksAllAndLastAction
            ? "x.all_clicks = g.p_clicks_all AND x.last_action IS NOT DISTINCT FROM g.p_secs_since_last_action"
            : "x.first_seen IS NOT DISTINCT FROM g.p_secs_since_first_seen";
        long expected = Scalar(con, $"SELECT count(*) FROM ({expectedSql})");
        long matching = Scalar(con, $"""
            SELECT count(*) FROM ({expectedSql}) x JOIN got g USING (event_offset, negative)
            WHERE x.e1 = g.p_exp_1h AND x.c1 = g.p_click_1h AND x.e2 = g.p_exp_1d AND x.c2 = g.p_click_1d AND {extraCols}
            """);

        Assert.True(expected > 1000, "the random timeline has probes");
        Assert.Equal(expected, written);
        Assert.Equal(expected, Scalar(con, "SELECT count(*) FROM got"));
        Assert.Equal(expected, matching);
        // Not vacuous: some counts are non-zero and some recency values are null (nothing before).
        Assert.True(Scalar(con, "SELECT count(*) FROM got WHERE p_exp_1d > 0 AND p_click_1h > 0") > 0);
    }

    private static void Exec(DuckDBConnection con, string sql)
    {
        using var cmd = con.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static long Scalar(DuckDBConnection con, string sql)
    {
        using var cmd = con.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}
