using System.Globalization;
using System.Text;
using Zhongtai.Events;
using Zhongtai.Lake;

namespace Zhongtai.Samples;

/// <summary>What <see cref="SampleBuilder.BuildRanking"/> wrote.</summary>
/// <param name="Rows">Samples written.</param>
/// <param name="Positives">Samples with label 1.</param>
/// <param name="FromExposures">True when samples are exposures with attributed actions; false for a rating log (positives and sampled negatives).</param>
/// <param name="EventsRead">Behaviour events read after the quarantine was taken out.</param>
/// <param name="Quarantined">Behaviour events left out because the quarantine named them.</param>
public sealed record RankingSampleResult(long Rows, long Positives, bool FromExposures, long EventsRead, long Quarantined);

/// <summary>What <see cref="SampleBuilder.BuildRecall"/> wrote.</summary>
public sealed record RecallDataResult(long Users, long Interactions, long Sessions, long Negatives);

/// <summary>What <see cref="SampleBuilder.Split"/> wrote, and the cut points used.</summary>
public sealed record SplitResult(long Train, long Validation, long Test, DateTimeOffset TrainEnd, DateTimeOffset ValidationEnd);

/// <summary>
/// Builds ranking samples with point-in-time features, recall training data, and time splits from the lake's
/// <c>events</c> view — all as SQL run by DuckDB over Parquet (<see cref="SampleSql"/> holds the statements, which use
/// only window functions, ASOF joins and <c>hash()</c>, so they move to Spark SQL or Trino with small changes).
/// Nothing is loaded into .NET memory: DuckDB streams and spills under its memory limit.
/// </summary>
public sealed class SampleBuilder
{
    private readonly SampleOptions _options;

    public SampleBuilder(SampleOptions? options = null)
    {
        _options = options ?? new SampleOptions();
        _options.Validate();
    }

    /// <summary>Receives each statement's first line and its seconds (for benchmarks and slow-run diagnosis). Default none.</summary>
    public Action<string, double>? Trace { get; set; }

    /// <summary>
    /// Writes the ranking samples to <paramref name="outputFile"/> (Parquet, ordered by time). Exposures become samples
    /// labelled by the actions that follow them; a lake with no exposures (a rating log) gives each first
    /// user–item interaction as a positive plus <see cref="SampleOptions.NegativesPerPositive"/> sampled negatives.
    /// </summary>
    /// <param name="lake">The lake (its <c>events</c> view).</param>
    /// <param name="quarantineFile">Optional Parquet file with a column <c>offset BIGINT</c>: those events are left out.</param>
    /// <param name="outputFile">The Parquet file to write.</param>
    /// <param name="ct">Cancellation (checked between statements).</param>
    public RankingSampleResult BuildRanking(LakeQuery lake, string? quarantineFile, string outputFile, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(lake);
        var sql = new SampleSql(_options, quarantineFile);
        // The output is written with ORDER BY, so the intermediate tables need not keep insertion order (cheaper, less memory).
        bool preserveOrder = lake.Scalar<bool>("SELECT current_setting('preserve_insertion_order')");
        lake.Execute("SET preserve_insertion_order = false");
        try
        {
            Run(lake, sql.BaseEvents(), ct);
            long events = lake.Scalar<long>("SELECT count(*) FROM zt_ev");
            long quarantined = quarantineFile is null ? 0 : lake.Scalar<long>(sql.QuarantinedCount());
            bool exposures = lake.Scalar<long>("SELECT count(*) FROM zt_ev WHERE type = 'exposure'") > 0;
            Run(lake, exposures ? sql.ExposureSamples() : sql.RatingSamples(), ct);
            WriteTimeline(lake, sql, item: false, exposures, ct);
            WriteTimeline(lake, sql, item: true, exposures, ct);
            // User–category affinity: the user's earlier clicks on items of the sample item's category (zt_af.c_clicks_all).
            Timed("timeline features zt_af", () =>
            {
                lake.Execute(TimelineFeatures.CreateTable("zt_af", "c", [], TimelineFeatures.Extra.ClicksAll));
                TimelineFeatures.Write(lake.Connection, sql.CategoryTimeline(), "zt_af", [], TimelineFeatures.Extra.ClicksAll, ct);
            });
            Run(lake, sql.Features(), ct);
            Run(lake, sql.WriteSamples(outputFile), ct);
            var counts = lake.Rows($"SELECT count(*), count(*) FILTER (WHERE label = 1) FROM read_parquet({SampleSql.Literal(outputFile)})")[0];
            var (rows, positives) = (Convert.ToInt64(counts[0], CultureInfo.InvariantCulture), Convert.ToInt64(counts[1], CultureInfo.InvariantCulture));
            return new RankingSampleResult(rows, positives, exposures, events, quarantined);
        }
        finally
        {
            Run(lake, SampleSql.Cleanup(), CancellationToken.None);
            lake.Execute(preserveOrder ? "SET preserve_insertion_order = true" : "SET preserve_insertion_order = false");
        }
    }

    /// <summary>
    /// Writes the recall training data: per-user histories (newest <see cref="SampleOptions.MaxHistoryLength"/> items,
    /// in time order), sessions (split at gaps longer than <see cref="SampleOptions.SessionGapSeconds"/>) and
    /// popularity-sampled negatives per user.
    /// </summary>
    public RecallDataResult BuildRecall(LakeQuery lake, string? quarantineFile, string historiesFile, string sessionsFile, string negativesFile, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(lake);
        var sql = new SampleSql(_options, quarantineFile);
        try
        {
            Run(lake, sql.BaseEvents(narrow: false), ct);
            Run(lake, sql.Recall(historiesFile, sessionsFile, negativesFile), ct);
            return new RecallDataResult(
                lake.Scalar<long>("SELECT count(*) FROM zt_hist"),
                lake.Scalar<long>("SELECT count(*) FROM zt_pos"),
                lake.Scalar<long>("SELECT count(*) FROM zt_sess"),
                lake.Scalar<long>("SELECT count(*) FROM zt_rneg"));
        }
        finally
        {
            Run(lake, SampleSql.Cleanup(), CancellationToken.None);
        }
    }

    /// <summary>
    /// Splits a samples file by time into train / validation / test files: at <see cref="SampleOptions.TrainEnd"/> and
    /// <see cref="SampleOptions.ValidationEnd"/> when set, otherwise at the configured ratios of its time range.
    /// Each sample falls in exactly one split (<c>ts &lt; TrainEnd</c>, <c>&lt; ValidationEnd</c>, the rest).
    /// </summary>
    public SplitResult Split(LakeQuery lake, string samplesFile, string trainFile, string validationFile, string testFile, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(lake);
        var src = SampleSql.Literal(samplesFile);
        var range = lake.Rows($"SELECT min(epoch_us(ts)), max(epoch_us(ts)) FROM read_parquet({src})")[0];
        long min = range[0] is null ? 0 : Convert.ToInt64(range[0], CultureInfo.InvariantCulture);
        long max = range[1] is null ? 0 : Convert.ToInt64(range[1], CultureInfo.InvariantCulture);
        long span = max - min;
        long trainEnd = _options.TrainEnd is { } te ? Micros(te) : min + (long)Math.Ceiling(span * _options.TrainRatio);
        long validationEnd = _options.ValidationEnd is { } ve ? Micros(ve) : min + (long)Math.Ceiling(span * (_options.TrainRatio + _options.ValidationRatio));
        validationEnd = Math.Max(validationEnd, trainEnd);
        if (_options.TrainEnd is null && _options.TrainRatio + _options.ValidationRatio >= 1)
        {
            validationEnd = long.MaxValue;
        }

        string Where(string cond) => string.Create(CultureInfo.InvariantCulture, $"SELECT * FROM read_parquet({src}) WHERE {cond}");
        var parts = new[]
        {
            (trainFile, Where($"epoch_us(ts) < {trainEnd}")),
            (validationFile, Where($"epoch_us(ts) >= {trainEnd} AND epoch_us(ts) < {validationEnd}")),
            (testFile, Where($"epoch_us(ts) >= {validationEnd}")),
        };
        var counts = new long[3];
        for (int i = 0; i < parts.Length; i++)
        {
            ct.ThrowIfCancellationRequested();
            lake.Execute($"COPY ({parts[i].Item2}) TO {SampleSql.Literal(parts[i].Item1)} {SampleSql.ParquetFormat}");
            counts[i] = lake.Scalar<long>($"SELECT count(*) FROM read_parquet({SampleSql.Literal(parts[i].Item1)})");
        }

        return new SplitResult(counts[0], counts[1], counts[2], FromMicros(trainEnd), FromMicros(Math.Min(validationEnd, max + 1)));
    }

    /// <summary>zt_uf (users) or zt_if (items): the window counters, CTRs and recency of every sample, from one pass over the timeline.</summary>
    private void WriteTimeline(LakeQuery lake, SampleSql sql, bool item, bool exposures, CancellationToken ct)
    {
        var (table, prefix, extra) = item
            ? ("zt_if", "i", TimelineFeatures.Extra.FirstSeen)
            : ("zt_uf", "u", TimelineFeatures.Extra.ClicksAllAndLastAction);
        ct.ThrowIfCancellationRequested();
        Timed($"timeline features {table}", () =>
        {
            lake.Execute(TimelineFeatures.CreateTable(table, prefix, sql.Windows, extra));
            TimelineFeatures.Write(lake.Connection, sql.Timeline(item, exposures), table, sql.Windows, extra, ct);
        });
    }

    private static long Micros(DateTimeOffset t) => (t.UtcTicks - DateTime.UnixEpoch.Ticks) / 10;

    private static DateTimeOffset FromMicros(long us) => new(DateTime.UnixEpoch.Ticks + us * 10, TimeSpan.Zero);

    private void Run(LakeQuery lake, IEnumerable<string> statements, CancellationToken ct)
    {
        foreach (var statement in statements)
        {
            ct.ThrowIfCancellationRequested();
            var line = statement.AsSpan().TrimStart();
            int nl = line.IndexOf('\n');
            Timed((nl < 0 ? line : line[..nl]).ToString(), () => lake.Execute(statement));
        }
    }

    /// <summary>Runs <paramref name="action"/> and reports its wall seconds to <see cref="Trace"/>, with the process's CPU seconds (DuckDB's threads included) in the text.</summary>
    private void Timed(string what, Action action)
    {
        if (Trace is not { } trace)
        {
            action();
            return;
        }

        var cpu = Environment.CpuUsage.TotalTime;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        action();
        double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        trace(string.Create(CultureInfo.InvariantCulture, $"[cpu {(Environment.CpuUsage.TotalTime - cpu).TotalSeconds,6:F2} s] {what}"), seconds);
    }
}

/// <summary>
/// The SQL of the sample stages, generated from <see cref="SampleOptions"/> (numbers and type names inlined as
/// literals). Temp objects are prefixed <c>zt_</c>; times are microseconds since the epoch (<c>t</c>) so that window
/// frames can say "strictly before": <c>RANGE BETWEEN w PRECEDING AND 1 PRECEDING</c>. Users, items and requests are
/// partitioned and joined on 64-bit hashes of their ids (<c>uk</c>, <c>ik</c>, <c>rk</c>): sorting and hashing integers
/// is several times cheaper than strings; a collision needs ~4·10⁹ distinct ids to become likely.
/// </summary>
internal sealed class SampleSql(SampleOptions o, string? quarantineFile)
{
    public const string ParquetFormat = "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)";
    private const long MicrosPerHour = 3_600_000_000;

    public static string Literal(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string Ident(string s) => "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string Num(double d) => d.ToString("R", CultureInfo.InvariantCulture);

    private static string InList(IEnumerable<string> values) => "(" + string.Join(", ", values.Select(Literal)) + ")";

    private IEnumerable<string> ActionTypes => o.ActionWeights.Keys.Order(StringComparer.Ordinal);

    /// <summary>A behaviour event is a positive interaction: an action type, a long enough dwell, a high enough rating.</summary>
    private string IsPositive(string alias) => string.Create(CultureInfo.InvariantCulture,
        $"({alias}.type IN {InList(ActionTypes.Where(t => o.ActionWeights[t] > 0))} AND ({alias}.type <> 'dwell' OR coalesce({alias}.value, 0) >= {Num(o.MinDwellSeconds)}) AND ({alias}.type <> 'rating' OR coalesce({alias}.value, 0) >= {Num(o.MinRating)}))");

    public string QuarantinedCount() =>
        $"SELECT count(*) FROM events e WHERE e.user_id IS NOT NULL AND e.item_id IS NOT NULL AND e.type IN {InList(ActionTypes.Append(EventTypes.Exposure))} AND EXISTS (SELECT 1 FROM read_parquet({Literal(quarantineFile!)}) q WHERE q.\"offset\" = e.\"offset\")";

    /// <summary>
    /// zt_src: behaviour events (exposures and action types) minus the quarantine, a view over the lake; zt_ev: the same
    /// events narrowed to numbers (offset, type, hashed ids, time, value) and materialized once — about 60 bytes a row;
    /// zt_cat: the item catalog over time.
    /// </summary>
    public IEnumerable<string> BaseEvents(bool narrow = true)
    {
        var anti = quarantineFile is null ? "" : $" AND NOT EXISTS (SELECT 1 FROM read_parquet({Literal(quarantineFile)}) q WHERE q.\"offset\" = e.\"offset\")";
        yield return $"""
            CREATE OR REPLACE TEMP VIEW zt_src AS
            SELECT e."offset", e.type, e.user_id, e.item_id, e.ts, epoch_us(e.ts) AS t, e.scene, e.position, e.request_id, e.device, e.value,
              hash(e.user_id) AS uk, hash(e.item_id) AS ik
            FROM events e
            WHERE e.user_id IS NOT NULL AND e.item_id IS NOT NULL AND e.type IN {InList(ActionTypes.Append(EventTypes.Exposure))}{anti}
            """;
        if (narrow)
        {
            yield return """
            CREATE OR REPLACE TEMP TABLE zt_ev AS
            SELECT "offset", type, uk, ik, hash(request_id) AS rk, request_id IS NULL AS no_request, t, value FROM zt_src
            """;
        }

        yield return """
            CREATE OR REPLACE TEMP TABLE zt_cat AS
            SELECT item_id, hash(item_id) AS ik, epoch_us(ts) AS t, category, tags FROM events WHERE type = 'item' AND item_id IS NOT NULL
            """;
    }

    /// <summary>zt_samples from exposures: each action is attributed to the latest exposure of the same user and item (and request, when the action has one) at or before it, within the window.</summary>
    public IEnumerable<string> ExposureSamples()
    {
        long window = o.AttributionWindowSeconds * 1_000_000L;
        var types = ActionTypes.ToList();
        yield return $"""
            CREATE OR REPLACE TEMP TABLE zt_attr AS
            WITH exp AS (SELECT "offset", uk, ik, rk, t FROM zt_ev WHERE type = 'exposure'),
            act AS (SELECT type, uk, ik, rk, no_request, t, value FROM zt_ev WHERE type <> 'exposure')
            SELECT e."offset" AS exp_offset, a.type, a.value
            FROM (SELECT * FROM act WHERE NOT no_request) a ASOF JOIN exp e
              ON a.uk = e.uk AND a.ik = e.ik AND a.rk = e.rk AND a.t >= e.t
            WHERE a.t - e.t <= {window}
            UNION ALL
            SELECT e."offset" AS exp_offset, a.type, a.value
            FROM (SELECT * FROM act WHERE no_request) a ASOF JOIN exp e
              ON a.uk = e.uk AND a.ik = e.ik AND a.t >= e.t
            WHERE a.t - e.t <= {window}
            """;

        var flags = string.Join(",\n  ", types.Select(t => t == EventTypes.Dwell
            ? $"max((type = 'dwell')::INTEGER) AS has_dwell, coalesce(sum(CASE WHEN type = 'dwell' THEN value END), 0) AS dwell_seconds"
            : $"max((type = {Literal(t)})::INTEGER) AS {Ident("act_" + t)}"));
        yield return $"CREATE OR REPLACE TEMP TABLE zt_lbl AS SELECT exp_offset,\n  {flags}\nFROM zt_attr GROUP BY exp_offset";

        var actCols = types.Select(t => t == EventTypes.Dwell
            ? $"coalesce((l.dwell_seconds >= {Num(o.MinDwellSeconds)})::INTEGER, 0) AS act_dwell, coalesce(l.dwell_seconds, 0) AS dwell_seconds"
            : $"coalesce(l.{Ident("act_" + t)}, 0) AS {Ident("act_" + t)}");
        var weight = string.Join(" + ", types.Select(t => t == EventTypes.Dwell
            ? $"{Num(o.ActionWeights[t])} * coalesce((l.dwell_seconds >= {Num(o.MinDwellSeconds)})::INTEGER, 0)"
            : $"{Num(o.ActionWeights[t])} * coalesce(l.{Ident("act_" + t)}, 0)"));
        yield return $"""
            CREATE OR REPLACE TEMP TABLE zt_samples AS
            {WithCatalog($"""
            SELECT e."offset" AS event_offset, 0 AS negative, e.user_id, e.item_id, e.ts, e.t, e.scene, e.position, e.request_id, e.device, e.uk, e.ik,
              {string.Join(", ", actCols)},
              ({weight})::DOUBLE AS weight
            FROM zt_src e LEFT JOIN zt_lbl l ON l.exp_offset = e."offset"
            WHERE e.type = 'exposure'
            """)}
            """;
        yield return "DROP TABLE zt_attr";
        yield return "DROP TABLE zt_lbl";
    }

    /// <summary>zt_samples of a rating log: each user's first positive interaction with an item, plus popularity-sampled negatives at the same instant.</summary>
    public IEnumerable<string> RatingSamples()
    {
        var weights = "CASE p.type " + string.Join(" ", ActionTypes.Select(t => $"WHEN {Literal(t)} THEN {Num(o.ActionWeights[t])}")) + " ELSE 0 END";
        yield return $"""
            CREATE OR REPLACE TEMP TABLE zt_pos AS
            SELECT p."offset", p.type, p.user_id, p.item_id, p.ts, p.t, p.scene, p.position, p.request_id, p.device, p.uk, p.ik, ({weights})::DOUBLE AS weight
            FROM zt_src p WHERE {IsPositive("p")}
            QUALIFY row_number() OVER (PARTITION BY p.uk, p.ik ORDER BY p.t, p."offset") = 1
            """;
        foreach (var s in PopularityCdf("zt_pos"))
        {
            yield return s;
        }

        var actCols = string.Join(", ", ActionTypes.Select(t => t == EventTypes.Dwell
            ? "0 AS act_dwell, 0.0 AS dwell_seconds"
            : $"0 AS {Ident("act_" + t)}"));
        var posCols = string.Join(", ", ActionTypes.Select(t => t == EventTypes.Dwell
            ? "(p.type = 'dwell')::INTEGER AS act_dwell, 0.0 AS dwell_seconds"
            : $"(p.type = {Literal(t)})::INTEGER AS {Ident("act_" + t)}"));
        yield return $"""
            CREATE OR REPLACE TEMP TABLE zt_samples AS
            {WithCatalog($"""
            SELECT p."offset" AS event_offset, 0 AS negative, p.user_id, p.item_id, p.ts, p.t, p.scene, p.position, p.request_id, p.device, p.uk, p.ik,
              {posCols}, p.weight
            FROM zt_pos p
            UNION ALL
            SELECT d."offset", d.k, d.user_id, c.item_id, d.ts, d.t, d.scene, d.position, d.request_id, d.device, d.uk, c.ik, {actCols}, 0.0
            FROM (SELECT p.*, r.k, (hash({o.Seed}, p."offset", r.k) % 4294967296)::DOUBLE / 4294967296.0 AS u
                  FROM zt_pos p, range(1, {o.NegativesPerPositive + 1}) r(k)) d
            ASOF JOIN zt_cdf c ON d.u < c.cum
            WHERE NOT EXISTS (SELECT 1 FROM zt_pos x WHERE x.uk = d.uk AND x.ik = c.ik)
            """)}
            """;
        yield return "DROP TABLE zt_pos";
        yield return "DROP TABLE zt_cdf";
    }

    /// <summary>The samples of <paramref name="select"/> with the item's catalog entry (category, tags) as of the sample: the latest item event strictly before it.</summary>
    private static string WithCatalog(string select) => $"""
        SELECT s.*, c.category, c.tags FROM (
        {select}
        ) s ASOF LEFT JOIN (SELECT ik, t, category, tags FROM zt_cat) c ON s.ik = c.ik AND s.t > c.t
        """;

    /// <summary>
    /// The user–category timeline for <see cref="TimelineFeatures"/>: the user's clicks keyed by (user, the clicked item's
    /// category as of the click) and the samples keyed by (user, the sample item's category), so that a sample's clicks
    /// before it are the user's earlier clicks on items of its category.
    /// </summary>
    public string CategoryTimeline() => string.Create(CultureInfo.InvariantCulture, $"""
        SELECT hash(k.uk, coalesce(c.category, '')) AS k, k.t, {TimelineFeatures.Click} AS f, NULL::BIGINT AS event_offset, NULL::INTEGER AS negative
        FROM (SELECT uk, ik, t FROM zt_ev WHERE type IN {InList(o.ClickTypes)}) k ASOF LEFT JOIN zt_cat c ON k.ik = c.ik AND k.t >= c.t
        UNION ALL SELECT hash(uk, coalesce(category, '')), t, {TimelineFeatures.Probe}, event_offset, negative::INTEGER FROM zt_samples
        ORDER BY k, t
        """);

    /// <summary>zt_cdf(item_id, cum): the cumulative distribution of popularity^exponent over items, in item id order.</summary>
    private IEnumerable<string> PopularityCdf(string positives)
    {
        yield return $"""
            CREATE OR REPLACE TEMP TABLE zt_cdf AS
            WITH pop AS (SELECT item_id, pow(count(*), {Num(o.NegativePopularityExponent)}) AS w FROM {positives} GROUP BY item_id)
            SELECT item_id, hash(item_id) AS ik, sum(w) OVER (ORDER BY item_id ROWS UNBOUNDED PRECEDING) / sum(w) OVER () AS cum FROM pop
            """;
    }

    /// <summary>The feature windows, shortest first, with their column suffixes (<c>1h</c>, <c>1d</c>, <c>7d</c>).</summary>
    public IReadOnlyList<FeatureWindow> Windows => o.FeatureWindowsHours.Order()
        .Select(h => new FeatureWindow(h % 24 == 0 ? (h / 24).ToString(CultureInfo.InvariantCulture) + "d" : h.ToString(CultureInfo.InvariantCulture) + "h", h * MicrosPerHour))
        .ToList();

    /// <summary>
    /// The user (<paramref name="item"/> false) or item timeline for <see cref="TimelineFeatures"/>: every behaviour
    /// event with its flags (exposure, click, action, event), the item's catalog events (items), and the samples as probe
    /// rows — in exposure mode the exposures are themselves the probes — ordered by entity and time.
    /// </summary>
    public string Timeline(bool item, bool exposures)
    {
        var key = item ? "ik" : "uk";
        var probe = exposures ? $" + CASE WHEN type = 'exposure' THEN {TimelineFeatures.Probe} ELSE 0 END" : "";
        var sb = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"""
            SELECT {key} AS k, t, (CASE WHEN type = 'exposure' THEN {TimelineFeatures.Exposure} ELSE {TimelineFeatures.Action} END
                + CASE WHEN type IN {InList(o.ClickTypes)} THEN {TimelineFeatures.Click} ELSE 0 END + {TimelineFeatures.Event}{probe})::INTEGER AS f,
              "offset" AS event_offset, 0 AS negative
            FROM zt_ev
            """));
        if (item)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\nUNION ALL SELECT ik, t, {TimelineFeatures.Event}, NULL, NULL FROM zt_cat");
        }

        if (!exposures)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\nUNION ALL SELECT {key}, t, {TimelineFeatures.Probe}, event_offset, negative::INTEGER FROM zt_samples");
        }

        return sb.Append("\nORDER BY k, t").ToString();
    }

    /// <summary>
    /// zt_out (a view, written once by <see cref="WriteSamples"/>): zt_samples with point-in-time features, each computed only from events strictly before the sample's
    /// time: user and item exposures/clicks/CTR per window (zt_uf, zt_if, written by <see cref="TimelineFeatures"/> before these
    /// statements run), user–category affinity, recency, context, item attributes.
    /// </summary>
    public IEnumerable<string> Features()
    {
        var clickTypes = InList(o.ClickTypes);
        var windows = Windows.Select(w => w.Name).ToList();

        yield return "DROP TABLE zt_ev";

        var actCols = string.Join(", ", ActionTypes.Select(t => t == EventTypes.Dwell ? "s.act_dwell, s.dwell_seconds" : "s." + Ident("act_" + t)));
        // Counts are stored as INTEGER (narrower join build sides); the CTRs are derived here.
        string Cols(string alias, string p) => string.Join(", ", windows.Select(h =>
            $"{alias}.{p}_exp_{h}::BIGINT AS {p}_exp_{h}, {alias}.{p}_click_{h}::BIGINT AS {p}_click_{h}, " +
            $"({alias}.{p}_click_{h} + {Num(o.CtrPrior * o.CtrPriorStrength)}) / ({alias}.{p}_exp_{h} + {Num(o.CtrPriorStrength)}) AS {p}_ctr_{h}"));
        var uCols = Cols("uf", "u");
        var iCols = Cols("f", "i");
        yield return $"""
            CREATE OR REPLACE TEMP VIEW zt_out AS
            SELECT s.event_offset, s.negative, s.user_id, s.item_id, s.ts,
              (s.weight > 0)::INTEGER AS label, s.weight, {actCols},
              s.scene, s.position, s.device, ((s.t // {MicrosPerHour}) % 24)::INTEGER AS hour_of_day,
              s.category, s.tags,
              {uCols}, uf.u_clicks_all::BIGINT AS u_clicks_all, uf.u_secs_since_last_action,
              {iCols}, f.i_secs_since_first_seen,
              CASE WHEN uf.u_clicks_all > 0 THEN af.c_clicks_all / uf.u_clicks_all ELSE 0 END AS u_category_affinity
            FROM zt_samples s
            JOIN zt_uf uf USING (event_offset, negative)
            JOIN zt_if f USING (event_offset, negative)
            JOIN zt_af af USING (event_offset, negative)
            """;
    }

    public IEnumerable<string> WriteSamples(string file)
    {
        yield return $"COPY (SELECT * FROM zt_out ORDER BY ts, event_offset, negative) TO {Literal(file)} {ParquetFormat}";
    }

    /// <summary>Recall data: zt_pos (interactions), zt_hist (histories), zt_sess (sessions), zt_rneg (negatives), each written to its file.</summary>
    public IEnumerable<string> Recall(string historiesFile, string sessionsFile, string negativesFile)
    {
        // Positive interactions, with consecutive repeats of the same item (click, dwell, like on one item) collapsed.
        yield return $"""
            CREATE OR REPLACE TEMP TABLE zt_pos AS
            SELECT "offset", user_id, item_id, ts, t FROM (
              SELECT p."offset", p.user_id, p.item_id, p.ts, p.t,
                lag(p.item_id) OVER (PARTITION BY p.user_id ORDER BY p.t, p."offset") AS prev
              FROM zt_src p WHERE {IsPositive("p")})
            WHERE prev IS NULL OR prev <> item_id
            """;
        yield return $"""
            CREATE OR REPLACE TEMP TABLE zt_hist AS
            SELECT user_id, list(item_id ORDER BY t, "offset") AS items, list(ts ORDER BY t, "offset") AS timestamps, count(*) AS length
            FROM (SELECT * FROM zt_pos QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY t DESC, "offset" DESC) <= {o.MaxHistoryLength})
            GROUP BY user_id
            """;
        long gap = o.SessionGapSeconds * 1_000_000L;
        yield return $"""
            CREATE OR REPLACE TEMP TABLE zt_sess AS
            WITH g AS (SELECT *, CASE WHEN t - lag(t) OVER (PARTITION BY user_id ORDER BY t, "offset") <= {gap} THEN 0 ELSE 1 END AS starts FROM zt_pos),
            s AS (SELECT *, sum(starts) OVER (PARTITION BY user_id ORDER BY t, "offset" ROWS UNBOUNDED PRECEDING) AS session FROM g)
            SELECT user_id, session::INTEGER AS session, min(ts) AS start_ts, max(ts) AS end_ts,
              list(item_id ORDER BY t, "offset") AS items, count(*) AS length
            FROM s GROUP BY user_id, session
            """;
        foreach (var s in PopularityCdf("zt_pos"))
        {
            yield return s;
        }

        yield return $"""
            CREATE OR REPLACE TEMP TABLE zt_rneg AS
            SELECT DISTINCT h.user_id, c.item_id
            FROM (SELECT h.user_id, r.k, (hash({o.Seed}, h.user_id, r.k) % 4294967296)::DOUBLE / 4294967296.0 AS u
                  FROM zt_hist h, range(1, {o.RecallNegativesPerUser + 1}) r(k)) h
            ASOF JOIN zt_cdf c ON h.u < c.cum
            WHERE NOT EXISTS (SELECT 1 FROM zt_pos x WHERE x.user_id = h.user_id AND x.item_id = c.item_id)
            """;
        yield return $"COPY (SELECT * FROM zt_hist ORDER BY user_id) TO {Literal(historiesFile)} {ParquetFormat}";
        yield return $"COPY (SELECT * FROM zt_sess ORDER BY user_id, session) TO {Literal(sessionsFile)} {ParquetFormat}";
        yield return $"COPY (SELECT * FROM zt_rneg ORDER BY user_id, item_id) TO {Literal(negativesFile)} {ParquetFormat}";
    }

    public static IEnumerable<string> Cleanup()
    {
        foreach (var t in new[] { "zt_attr", "zt_lbl", "zt_samples", "zt_pos", "zt_cdf", "zt_uf", "zt_if", "zt_af", "zt_hist", "zt_sess", "zt_rneg" })
        {
            yield return "DROP TABLE IF EXISTS " + t;
        }

        yield return "DROP VIEW IF EXISTS zt_out";
        yield return "DROP TABLE IF EXISTS zt_ev";
        yield return "DROP TABLE IF EXISTS zt_cat";
        yield return "DROP VIEW IF EXISTS zt_src";
    }
}
