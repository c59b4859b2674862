using System.Globalization;
using Zhongtai.Events;
using Zhongtai.Lake;
using Zhongtai.Samples;

namespace Zhongtai.Pipeline;

/// <summary>
/// The offline feature tables the online feature store bulk-loads (dataset <c>features</c>, tables <c>items</c> and
/// <c>users</c>, column <c>key</c> plus one float column per feature): per entity, exposures and clicks over the last
/// 7 days and over all time, smoothed CTR, and (users) days since the last action — as of the newest event in the lake,
/// with the quarantine left out.
/// </summary>
public static class FeatureTables
{
    public static readonly IReadOnlyList<string> ItemFeatures = ["exposures_7d", "clicks_7d", "ctr_7d", "exposures_all", "clicks_all", "ctr_all"];

    public static readonly IReadOnlyList<string> UserFeatures = ["exposures_7d", "clicks_7d", "ctr_7d", "exposures_all", "clicks_all", "ctr_all", "days_since_last_action"];

    /// <summary>Writes both tables; returns their row counts.</summary>
    public static (long Items, long Users) Build(LakeQuery lake, string? quarantineFile, SampleOptions options, string itemsFile, string usersFile)
    {
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentNullException.ThrowIfNull(options);
        string Lit(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";
        string Num(double d) => d.ToString("R", CultureInfo.InvariantCulture);
        var clicks = "(" + string.Join(", ", options.ClickTypes.Select(Lit)) + ")";
        var anti = quarantineFile is null ? "" : $" AND NOT EXISTS (SELECT 1 FROM read_parquet({Lit(quarantineFile)}) q WHERE q.\"offset\" = e.\"offset\")";
        lake.Execute($"""
            CREATE OR REPLACE TEMP TABLE zt_fev AS
            SELECT e.user_id, e.item_id, (e.type = '{EventTypes.Exposure}') AS x, (e.type IN {clicks}) AS c, e.ts
            FROM events e WHERE e.user_id IS NOT NULL AND e.item_id IS NOT NULL{anti}
            """);
        string Stats(string key, bool user) => $"""
            COPY (
              WITH cut AS (SELECT max(ts) AS now FROM zt_fev),
              s AS (
                SELECT {key} AS key,
                  count(*) FILTER (WHERE x AND ts > now - INTERVAL 7 DAY) AS x7, count(*) FILTER (WHERE c AND ts > now - INTERVAL 7 DAY) AS c7,
                  count(*) FILTER (WHERE x) AS xa, count(*) FILTER (WHERE c) AS ca, max(ts) FILTER (WHERE NOT x) AS last_action, any_value(now) AS now
                FROM zt_fev, cut GROUP BY {key})
              SELECT key, x7::FLOAT AS exposures_7d, c7::FLOAT AS clicks_7d,
                ((c7 + {Num(options.CtrPrior * options.CtrPriorStrength)}) / (x7 + {Num(options.CtrPriorStrength)}))::FLOAT AS ctr_7d,
                xa::FLOAT AS exposures_all, ca::FLOAT AS clicks_all,
                ((ca + {Num(options.CtrPrior * options.CtrPriorStrength)}) / (xa + {Num(options.CtrPriorStrength)}))::FLOAT AS ctr_all
                {(user ? ", coalesce(epoch(now - last_action) / 86400.0, -1)::FLOAT AS days_since_last_action" : "")}
              FROM s ORDER BY key
            ) TO {Lit(user ? usersFile : itemsFile)} {SampleSql.ParquetFormat}
            """;
        lake.Execute(Stats("item_id", user: false));
        lake.Execute(Stats("user_id", user: true));
        lake.Execute("DROP TABLE zt_fev");
        return (lake.Scalar<long>($"SELECT count(*) FROM read_parquet({Lit(itemsFile)})"), lake.Scalar<long>($"SELECT count(*) FROM read_parquet({Lit(usersFile)})"));
    }
}
