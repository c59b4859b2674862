using System.Globalization;

namespace Zhongtai.Experiments;

/// <summary>What the logs say about one bucket (the rows of <see cref="ExperimentReport.Sql"/>).</summary>
/// <param name="Exposures">Distinct (request_id, item_id) exposures logged with this bucket.</param>
/// <param name="Users">Distinct users (user_id, else device) among them.</param>
/// <param name="ClickedExposures">Exposures with at least one click of the same request_id and item_id.</param>
/// <param name="ClickEvents">All such clicks (a double click counts twice here, once above).</param>
/// <param name="PurchasedExposures">Exposures with at least one purchase of the same request_id and item_id.</param>
/// <param name="ConvertedUsers">Users with at least one such purchase.</param>
public sealed record BucketCounts(string Bucket, long Exposures, long Users, long ClickedExposures, long ClickEvents, long PurchasedExposures, long ConvertedUsers);

/// <summary>One bucket of the report: counts, CTR per exposure and conversion per user, each against control.</summary>
public sealed record BucketReport(
    string Bucket,
    bool IsControl,
    BucketCounts Counts,
    RateEstimate Ctr,
    RateEstimate Conversion,
    RateComparison? CtrVsControl,
    RateComparison? ConversionVsControl);

/// <summary>
/// The report of one experiment. CTR = clicked exposures / exposures (a click counts when its request_id and item_id
/// match an exposure of the bucket). Conversion = users with an attributed purchase / exposed users (per user: the
/// user is the randomization unit). Intervals are 95% Wilson; comparisons are against <see cref="Control"/>.
/// </summary>
public sealed record ExperimentReport(string ExperimentId, string? Control, DateTimeOffset? Since, IReadOnlyList<BucketReport> Buckets)
{
    /// <summary>
    /// DuckDB SQL over the lake's <c>events</c> view. <c>$1</c>: the experiment id. Exposures carry
    /// <c>properties.bucket</c> = <c>exp:bucket[,exp2:bucket2...]</c>; clicks and purchases are attributed by
    /// (request_id, item_id), so an action on another bucket's request never counts here. Columns in the order of
    /// <see cref="BucketCounts"/>. <c>{since}</c> is empty, or <see cref="SinceClause"/>.
    /// </summary>
    public const string Sql = """
        WITH tagged AS (
          SELECT request_id, item_id, coalesce(user_id, device) AS unit, ',' || (properties->>'bucket') || ',' AS labels
          FROM events
          WHERE type = 'exposure' AND request_id IS NOT NULL AND item_id IS NOT NULL AND properties IS NOT NULL{since}
        ),
        found AS (
          SELECT request_id, item_id, unit, substr(labels, strpos(labels, ',' || $1 || ':') + length($1) + 2) AS rest
          FROM tagged
          WHERE strpos(labels, ',' || $1 || ':') > 0
        ),
        impressions AS (
          SELECT substr(rest, 1, strpos(rest, ',') - 1) AS bucket, request_id, item_id, min(unit) AS unit
          FROM found
          GROUP BY 1, 2, 3
        ),
        actions AS (
          SELECT request_id, item_id,
                 count(*) FILTER (WHERE type = 'click') AS clicks,
                 count(*) FILTER (WHERE type = 'purchase') AS purchases
          FROM events
          WHERE type IN ('click', 'purchase') AND request_id IS NOT NULL AND item_id IS NOT NULL
          GROUP BY 1, 2
        )
        SELECT i.bucket,
               count(*) AS exposures,
               count(DISTINCT i.unit) AS users,
               count(*) FILTER (WHERE a.clicks > 0) AS clicked,
               coalesce(sum(a.clicks), 0)::BIGINT AS click_events,
               count(*) FILTER (WHERE a.purchases > 0) AS purchased,
               count(DISTINCT i.unit) FILTER (WHERE a.purchases > 0) AS converted_users
        FROM impressions i
        LEFT JOIN actions a ON a.request_id = i.request_id AND a.item_id = i.item_id
        GROUP BY i.bucket
        ORDER BY i.bucket
        """;

    /// <summary>
    /// Restricts exposures to <c>ts &gt;= $2</c> (ISO 8601 text), pruning partitions before <c>$3</c> (the UTC date).
    /// Written as a difference on purpose: the lake's Parquet files carry <c>ts</c> min/max statistics in
    /// milliseconds while the values are microseconds, so DuckDB prunes every row group on a plain
    /// <c>ts &gt;= x</c> (or <c>epoch_us(ts) &gt;= x</c>); an interval comparison is not pushed into the scan.
    /// </summary>
    public const string SinceClause = " AND (ts - CAST($2 AS TIMESTAMPTZ)) >= INTERVAL 0 SECONDS AND date >= CAST($3 AS DATE)";

    /// <summary>The SQL and its parameters for <paramref name="experimentId"/>, exposures from <paramref name="since"/> on.</summary>
    public static (string Sql, object?[] Parameters) Query(string experimentId, DateTimeOffset? since)
    {
        if (since is not { } s)
        {
            return (Sql.Replace("{since}", "", StringComparison.Ordinal), [experimentId]);
        }

        var utc = s.ToUniversalTime();
        return (Sql.Replace("{since}", SinceClause, StringComparison.Ordinal),
            [experimentId, utc.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'", CultureInfo.InvariantCulture), utc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)]);
    }

    /// <summary>
    /// Builds the report from the counts; <paramref name="experiment"/> (when still configured) names the control and
    /// the buckets that must appear even without exposures. Without it the control is the bucket named
    /// <c>control</c>, else the first by name.
    /// </summary>
    public static ExperimentReport Build(string experimentId, ExperimentConfig? experiment, IEnumerable<BucketCounts> counts, DateTimeOffset? since)
    {
        var byName = counts.ToDictionary(c => c.Bucket, StringComparer.Ordinal);
        var names = experiment is not null
            ? experiment.Buckets.Select(b => b.Name).Concat(byName.Keys.Where(k => !experiment.Buckets.Exists(b => b.Name == k)).Order(StringComparer.Ordinal)).ToList()
            : [.. byName.Keys.Order(StringComparer.Ordinal)];
        var control = experiment?.EffectiveControl ?? (names.Contains("control") ? "control" : names.FirstOrDefault());

        var rows = names.Select(n => byName.TryGetValue(n, out var c) ? c : new BucketCounts(n, 0, 0, 0, 0, 0, 0)).ToList();
        var controlRow = rows.FirstOrDefault(r => r.Bucket == control);
        var controlCtr = controlRow is null ? null : ExperimentStatistics.Wilson(controlRow.ClickedExposures, controlRow.Exposures);
        var controlConversion = controlRow is null ? null : ExperimentStatistics.Wilson(controlRow.ConvertedUsers, controlRow.Users);

        var buckets = rows.Select(r =>
        {
            var ctr = ExperimentStatistics.Wilson(r.ClickedExposures, r.Exposures);
            var conversion = ExperimentStatistics.Wilson(r.ConvertedUsers, r.Users);
            bool isControl = r.Bucket == control;
            return new BucketReport(
                r.Bucket,
                isControl,
                r,
                ctr,
                conversion,
                isControl || controlCtr is null ? null : ExperimentStatistics.Compare(ctr, controlCtr),
                isControl || controlConversion is null ? null : ExperimentStatistics.Compare(conversion, controlConversion));
        }).ToList();

        return new ExperimentReport(experimentId, control, since, buckets);
    }
}
