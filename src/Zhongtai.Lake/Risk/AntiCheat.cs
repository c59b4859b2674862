using System.Globalization;
using System.Text;
using System.Text.Json;
using Zhongtai.Lake;
using Zhongtai.Storage;

namespace Zhongtai.Risk;

/// <summary>
/// The anti-cheat stage of the offline pipeline: rules and statistical detectors run as SQL (DuckDB) over the lake's
/// <c>events</c>. Event-level rules flag single events; account-level rules flag users, whose behaviour events are
/// then all quarantined; items mainly promoted by flagged accounts are reported as flagged items (for the online risk
/// filter). Nothing is dropped: the output directory holds <c>quarantine.parquet</c> (every quarantined event with
/// the comma-separated names of the rules that flagged it), <c>flagged_entities.parquet</c> and <c>report.json</c>,
/// written into a temporary directory and renamed into place, so a crash never leaves a half-written output.
/// The same lake and options give the same rows in the same order.
/// </summary>
public sealed class AntiCheat
{
    /// <summary>The quarantine file; another stage anti-joins events on its <c>offset</c> (BIGINT) column.</summary>
    public const string QuarantineFile = "quarantine.parquet";

    /// <summary>Flagged users, items, devices and IPs: <c>kind, entity, rules, events</c>.</summary>
    public const string EntitiesFile = "flagged_entities.parquet";

    /// <summary>The <see cref="RiskReport"/> as JSON.</summary>
    public const string ReportFile = "report.json";

    /// <summary>The item-level rule: an item mainly promoted by flagged accounts.</summary>
    public const string ItemRule = "promoted_by_flagged_accounts";

    /// <summary>Every rule that can put an event in quarantine, in report order, with its level.</summary>
    public static readonly IReadOnlyList<(string Rule, RuleLevel Level)> Rules =
    [
        ("user_rate", RuleLevel.Account),
        ("device_rate", RuleLevel.Event),
        ("ip_rate", RuleLevel.Event),
        ("click_without_exposure", RuleLevel.Event),
        ("duplicate", RuleLevel.Event),
        ("ctr_outlier", RuleLevel.Account),
        ("inhuman_dwell", RuleLevel.Event),
        ("short_dwell_user", RuleLevel.Account),
        ("coordinated_device", RuleLevel.Account),
        ("coordinated_ip", RuleLevel.Account),
        ("bot_user_agent", RuleLevel.Event),
        ("bot_user_agent_account", RuleLevel.Account),
        ("promotes_flagged_items", RuleLevel.Account),
    ];

    internal static readonly JsonSerializerOptions ReportJson = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private readonly AntiCheatOptions _o;
    private readonly TimeProvider _time;

    public AntiCheat(AntiCheatOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _o = options;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Opens the lake with the options' memory limit and threads, and runs.</summary>
    public RiskReport Run(string lakeDir, RiskReleases releases, string outputDir, CancellationToken ct = default)
    {
        using var lake = LakeQuery.Open(lakeDir, _o.Threads, _o.MemoryLimit);
        return Run(lake, releases, outputDir, ct);
    }

    /// <summary>
    /// Runs every rule over <paramref name="lake"/>'s events and writes the quarantine, the flagged entities and the
    /// report into <paramref name="outputDir"/> (replacing it atomically if it exists). Throws
    /// <see cref="LakeCorruptFileException"/> naming the file when a Parquet part of the lake cannot be read.
    /// </summary>
    public RiskReport Run(LakeQuery lake, RiskReleases releases, string outputDir, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentNullException.ThrowIfNull(releases);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputDir);
        long started = _time.GetTimestamp();
        var target = Path.GetFullPath(outputDir);
        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, "." + Path.GetFileName(target) + ".tmp-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        try
        {
            var report = Detect(lake, releases, temp, started, ct);
            Publish(temp, target);
            return report;
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        finally
        {
            Cleanup(lake);
        }
    }

    private RiskReport Detect(LakeQuery lake, RiskReleases releases, string dir, long started, CancellationToken ct)
    {
        string behaviour = List(_o.BehaviourTypes), actions = List(_o.ActionTypes);
        string exposure = Lit(_o.ExposureType), click = Lit(_o.ClickType), dwell = Lit(_o.DwellType);
        var steps = new Dictionary<string, double>(StringComparer.Ordinal);
        string current = "setup";
        long mark = _time.GetTimestamp();
        void Step(string next)
        {
            ct.ThrowIfCancellationRequested();
            long now = _time.GetTimestamp();
            steps[current] = steps.GetValueOrDefault(current) + _time.GetElapsedTime(mark, now).TotalMilliseconds;
            (current, mark) = (next, now);
        }

        // Every result below is ordered explicitly; letting DuckDB drop insertion order saves memory and time.
        lake.Execute("SET preserve_insertion_order = false");
        lake.Execute($"""
            CREATE OR REPLACE TEMP VIEW risk_beh AS
            SELECT "offset", id, type, user_id, item_id, ts, request_id, device, ip, user_agent, value
            FROM events WHERE type IN ({behaviour}) AND user_id IS NOT NULL
            """);
        lake.Execute("""CREATE OR REPLACE TEMP TABLE risk_event_hits ("offset" BIGINT, rule VARCHAR)""");
        lake.Execute("CREATE OR REPLACE TEMP TABLE risk_account_hits (user_id VARCHAR, rule VARCHAR)");
        lake.Execute("CREATE OR REPLACE TEMP TABLE risk_entity_hits (kind VARCHAR, entity VARCHAR, rule VARCHAR)");
        lake.Execute("CREATE OR REPLACE TEMP TABLE risk_released_users AS SELECT unnest($1::VARCHAR[]) AS user_id", releases.Users.Order(StringComparer.Ordinal).ToList());
        lake.Execute("CREATE OR REPLACE TEMP TABLE risk_released_items AS SELECT unnest($1::VARCHAR[]) AS item_id", releases.Items.Order(StringComparer.Ordinal).ToList());

        // One scan keeps the actions (a minority of events) with their window; the rate, coordination and item rules
        // work on that table. Another keeps per-user counts for the CTR and dwell rules.
        Step("scan_actions");
        lake.Execute($"""
            CREATE OR REPLACE TEMP TABLE risk_act AS
            SELECT "offset", user_id, item_id, device, ip, floor(epoch(ts) / {Num(_o.RateWindowSeconds)})::BIGINT AS w
            FROM risk_beh WHERE type IN ({actions})
            """);
        Step("scan_users");
        lake.Execute($"""
            CREATE OR REPLACE TEMP TABLE risk_users AS
            SELECT user_id, count(*) AS n, count(*) FILTER (WHERE type = {exposure}) AS ex, count(*) FILTER (WHERE type = {click}) AS cl,
                   count(value) FILTER (WHERE type = {dwell}) AS dwells, median(value) FILTER (WHERE type = {dwell}) AS dwell_median
            FROM risk_beh GROUP BY user_id
            """);

        // Rate bursts: actions per tumbling window, per user (the account), per device and per IP (the window's actions).
        Step("user_rate");
        lake.Execute($"""
            INSERT INTO risk_account_hits SELECT user_id, 'user_rate' FROM (
              SELECT user_id, w FROM risk_act GROUP BY user_id, w HAVING count(*) > {Num(_o.UserMaxActionsPerWindow)})
            GROUP BY user_id HAVING count(*) >= {Num(_o.UserRateMinWindows)}
            """);
        foreach (var (column, max) in new[] { ("device", _o.DeviceMaxActionsPerWindow), ("ip", _o.IpMaxActionsPerWindow) })
        {
            Step(column + "_rate");
            var rule = Lit(column + "_rate");
            lake.Execute($"""
                CREATE OR REPLACE TEMP TABLE risk_hot AS
                SELECT {column} AS k, w FROM risk_act WHERE {column} IS NOT NULL GROUP BY k, w HAVING count(*) > {Num(max)}
                """);
            lake.Execute($"""
                INSERT INTO risk_event_hits SELECT a."offset", {rule} FROM risk_act a JOIN risk_hot h ON a.{column} = h.k AND a.w = h.w
                """);
            lake.Execute($"INSERT INTO risk_entity_hits SELECT DISTINCT {Lit(column)}, k, {rule} FROM risk_hot");
        }

        // A click its request never exposed (same user, request and item; the exposure no later than the click, give
        // or take clock skew). Keys are 64-bit hashes of (user, request, item); exposures are first cut to the clicked keys.
        if (_o.CheckClickExposure)
        {
            Step("click_without_exposure");
            long skewUs = (long)(_o.ExposureClockSkewSeconds * 1e6);
            lake.Execute($"""
                INSERT INTO risk_event_hits
                WITH c AS MATERIALIZED (
                       SELECT "offset", hash(user_id, request_id, item_id) AS k, epoch_us(ts) AS t, request_id IS NULL AS no_request
                       FROM risk_beh WHERE type = {click}),
                     e AS (SELECT k, min(t) AS t FROM (
                             SELECT hash(user_id, request_id, item_id) AS k, epoch_us(ts) AS t FROM risk_beh
                             WHERE type = {exposure} AND request_id IS NOT NULL) x
                           WHERE k IN (SELECT k FROM c) GROUP BY k)
                SELECT c."offset", 'click_without_exposure' FROM c LEFT JOIN e ON c.k = e.k
                WHERE CASE WHEN c.no_request THEN {(_o.ClickWithoutRequestIsSuspect ? "true" : "false")}
                           ELSE e.k IS NULL OR e.t > c.t + {Num(skewUs)} END
                """);
        }

        // Copies: the same user, item, type, request and value (a 64-bit hash of them) as the previous such event, within
        // seconds. Only keys seen more than once are ordered in time.
        Step("duplicate");
        lake.Execute("""
            CREATE OR REPLACE TEMP TABLE risk_dk AS
            SELECT "offset", hash(user_id, item_id, type, request_id, value) AS k, epoch_us(ts) AS t FROM risk_beh
            """);
        lake.Execute($"""
            INSERT INTO risk_event_hits SELECT "offset", 'duplicate' FROM (
              SELECT "offset", t - lag(t) OVER (PARTITION BY k ORDER BY t, "offset") AS gap
              FROM risk_dk WHERE k IN (SELECT k FROM risk_dk GROUP BY k HAVING count(*) > 1))
            WHERE gap IS NOT NULL AND gap <= {Num((long)(_o.DuplicateWindowSeconds * 1e6))}
            """);
        lake.Execute("DROP TABLE risk_dk");

        // CTR far above the population: robust z-score with the median and the MAD, over users with enough exposures.
        Step("ctr_outlier");
        lake.Execute($"""
            INSERT INTO risk_account_hits
            WITH q AS (SELECT user_id, cl / ex AS ctr FROM risk_users WHERE ex >= {Num(_o.CtrMinExposures)}),
                 s AS (SELECT median(ctr) AS med FROM q),
                 m AS (SELECT median(abs(q.ctr - s.med)) AS mad FROM q, s)
            SELECT q.user_id, 'ctr_outlier' FROM q, s, m
            WHERE q.ctr >= {Num(_o.CtrMinOutlier)} AND q.ctr - s.med > {Num(_o.CtrMaxRobustZ)} * greatest(1.4826 * m.mad, 1e-9)
            """);

        // Dwell: single inhuman values, and accounts whose typical dwell is too short to have read anything.
        Step("dwell");
        lake.Execute($"""
            INSERT INTO risk_event_hits SELECT "offset", 'inhuman_dwell' FROM risk_beh
            WHERE type = {dwell} AND value IS NOT NULL AND (value < {Num(_o.MinDwellSeconds)} OR value > {Num(_o.MaxDwellSeconds)})
            """);
        lake.Execute($"""
            INSERT INTO risk_account_hits SELECT user_id, 'short_dwell_user' FROM risk_users
            WHERE dwells >= {Num(_o.UserDwellMinEvents)} AND dwell_median < {Num(_o.UserMedianDwellBelowSeconds)}
            """);

        // Coordinated groups: several accounts on one device (or IP) acting on the same items, and mostly on those.
        foreach (var column in new[] { "device", "ip" })
        {
            Step("coordinated_" + column);
            string minAccounts = Num(_o.CoordinationMinAccounts);
            var rule = Lit("coordinated_" + column);
            lake.Execute($"""
                CREATE OR REPLACE TEMP TABLE risk_coord AS
                WITH a AS (SELECT {column} AS k, user_id, item_id, count(*) AS n FROM risk_act
                           WHERE {column} IS NOT NULL AND item_id IS NOT NULL GROUP BY k, user_id, item_id),
                     ku AS (SELECT k FROM a GROUP BY k HAVING count(DISTINCT user_id) >= {minAccounts}),
                     ak AS (SELECT a.* FROM a SEMI JOIN ku ON a.k = ku.k),
                     ki AS (SELECT k, item_id FROM ak GROUP BY k, item_id HAVING count(*) >= {minAccounts}),
                     uk AS (SELECT ak.k, ak.user_id, count(ki.item_id) AS shared,
                                   coalesce(sum(ak.n) FILTER (WHERE ki.item_id IS NOT NULL), 0) AS on_targets, sum(ak.n) AS total
                            FROM ak LEFT JOIN ki ON ak.k = ki.k AND ak.item_id = ki.item_id GROUP BY ak.k, ak.user_id),
                     g AS (SELECT k, user_id FROM uk WHERE shared >= {Num(_o.CoordinationMinSharedItems)} AND on_targets >= {Num(_o.CoordinationMinShare)} * total),
                     gk AS (SELECT k FROM g GROUP BY k HAVING count(*) >= {minAccounts})
                SELECT g.k, g.user_id FROM g SEMI JOIN gk ON g.k = gk.k
                """);
            lake.Execute($"INSERT INTO risk_account_hits SELECT DISTINCT user_id, {rule} FROM risk_coord");
            lake.Execute($"INSERT INTO risk_entity_hits SELECT DISTINCT {Lit(column)}, k, {rule} FROM risk_coord");
        }

        // Scripted or crawler user agents: counted per (user, agent), matched once per distinct agent; the events
        // themselves are flagged in the quarantine scan below.
        Step("bot_user_agent");
        lake.Execute("CREATE OR REPLACE TEMP TABLE risk_user_ua AS SELECT user_id, user_agent, count(*) AS n FROM risk_beh GROUP BY user_id, user_agent");
        var patterns = _o.BotUserAgentPatterns.Where(p => !string.IsNullOrWhiteSpace(p)).ToList();
        lake.Execute(patterns.Count == 0
            ? "CREATE OR REPLACE TEMP TABLE risk_bot_ua (ua VARCHAR)"
            : $"""
              CREATE OR REPLACE TEMP TABLE risk_bot_ua AS SELECT ua FROM (
                SELECT DISTINCT user_agent AS ua FROM risk_user_ua WHERE user_agent IS NOT NULL)
              WHERE regexp_matches(lower(ua), {Lit(AlternationOf(patterns))})
              """);
        lake.Execute($"""
            INSERT INTO risk_account_hits SELECT user_id, 'bot_user_agent_account' FROM (
              SELECT x.user_id, sum(x.n) AS n, coalesce(sum(x.n) FILTER (WHERE u.ua IS NOT NULL), 0) AS bot
              FROM risk_user_ua x LEFT JOIN risk_bot_ua u ON x.user_agent = u.ua GROUP BY x.user_id)
            WHERE bot > 0 AND bot >= {Num(_o.BotUserAgentAccountShare)} * n
            """);

        // Items mainly promoted by the accounts flagged so far; then accounts that mostly promote those items.
        Step("items");
        FlagItems(lake);
        lake.Execute($"""
            INSERT INTO risk_account_hits SELECT a.user_id, 'promotes_flagged_items' FROM risk_act a
            LEFT JOIN risk_items i ON a.item_id = i.item_id GROUP BY a.user_id
            HAVING count(*) >= {Num(_o.PromoterMinActions)} AND count(i.item_id) >= {Num(_o.PromoterMinShare)} * count(*)
            """);
        FlagItems(lake);

        // The quarantine: one scan joining each behaviour event with its account's rules, its own event rules and
        // whether its user agent is a bot's.
        Step("quarantine");
        lake.Execute("CREATE OR REPLACE TEMP TABLE risk_acc_rules AS SELECT user_id, list(rule) AS rules FROM risk_accounts GROUP BY user_id");
        lake.Execute("""CREATE OR REPLACE TEMP TABLE risk_ev_rules AS SELECT "offset", list(DISTINCT rule) AS rules FROM risk_event_hits GROUP BY "offset" """);
        lake.Execute("""
            CREATE OR REPLACE TEMP TABLE risk_qt AS
            SELECT b."offset", b.id, b.type, b.user_id, b.item_id, b.ts, b.device, b.ip,
                   array_to_string(list_sort(list_distinct(
                     coalesce(a.rules, []::VARCHAR[]) || coalesce(e.rules, []::VARCHAR[])
                     || CASE WHEN u.ua IS NULL THEN []::VARCHAR[] ELSE ['bot_user_agent'] END)), ',') AS rules
            FROM risk_beh b
            LEFT JOIN risk_acc_rules a ON b.user_id = a.user_id
            LEFT JOIN risk_ev_rules e ON b."offset" = e."offset"
            LEFT JOIN risk_bot_ua u ON b.user_agent = u.ua
            WHERE a.user_id IS NOT NULL OR e."offset" IS NOT NULL OR u.ua IS NOT NULL
            """);
        var quarantinePath = Path.Combine(dir, QuarantineFile);
        lake.Execute($"""
            COPY (SELECT "offset", id, type, user_id, item_id, ts, rules FROM risk_qt ORDER BY "offset")
            TO {Lit(quarantinePath)} (FORMAT parquet, COMPRESSION zstd)
            """);

        Step("entities");
        var entitiesPath = Path.Combine(dir, EntitiesFile);
        lake.Execute($"""
            COPY (
              WITH users AS (SELECT 'user' AS kind, a.user_id AS entity, array_to_string(list_sort(list_distinct(list(a.rule))), ',') AS rules
                             FROM risk_accounts a GROUP BY a.user_id),
                   user_events AS (SELECT user_id, count(*) AS n FROM risk_qt GROUP BY user_id),
                   nets AS (SELECT kind, entity, array_to_string(list_sort(list_distinct(list(rule))), ',') AS rules FROM risk_entity_hits GROUP BY kind, entity),
                   device_events AS (SELECT 'device' AS kind, device AS entity, count(*) AS n FROM risk_qt WHERE device IS NOT NULL GROUP BY device),
                   ip_events AS (SELECT 'ip' AS kind, ip AS entity, count(*) AS n FROM risk_qt WHERE ip IS NOT NULL GROUP BY ip)
              SELECT kind, entity, rules, coalesce(n, 0)::BIGINT AS events FROM users LEFT JOIN user_events ue ON ue.user_id = users.entity
              UNION ALL
              SELECT 'item', item_id, {Lit(ItemRule)}, flagged::BIGINT FROM risk_items
              UNION ALL
              SELECT nets.kind, nets.entity, nets.rules, coalesce(c.n, 0)::BIGINT FROM nets
              LEFT JOIN (SELECT * FROM device_events UNION ALL SELECT * FROM ip_events) c ON c.kind = nets.kind AND c.entity = nets.entity
              ORDER BY 1, 2
            ) TO {Lit(entitiesPath)} (FORMAT parquet, COMPRESSION zstd)
            """);

        // The report.
        Step("report");
        var ruleEvents = lake.Rows("SELECT rule, count(*) FROM (SELECT unnest(string_split(rules, ',')) AS rule FROM risk_qt) GROUP BY rule")
            .ToDictionary(r => (string)r[0]!, r => Convert.ToInt64(r[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
        var accountEntities = lake.Rows("SELECT rule, count(*) FROM risk_accounts GROUP BY rule")
            .ToDictionary(r => (string)r[0]!, r => Convert.ToInt64(r[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
        var netEntities = lake.Rows("SELECT rule, count(DISTINCT entity) FROM risk_entity_hits WHERE rule LIKE '%_rate' GROUP BY rule")
            .ToDictionary(r => (string)r[0]!, r => Convert.ToInt64(r[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
        var kinds = lake.Rows("SELECT kind, count(DISTINCT entity) FROM risk_entity_hits GROUP BY kind")
            .ToDictionary(r => (string)r[0]!, r => Convert.ToInt64(r[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
        long botAgents = lake.Scalar<long>("SELECT count(*) FROM risk_bot_ua");
        var report = new RiskReport
        {
            LakeOffset = lake.Checkpoint.LastOffset,
            EventsScanned = lake.Scalar<long>("SELECT count(*) FROM events"),
            BehaviourEvents = lake.Scalar<long>("SELECT coalesce(sum(n), 0)::BIGINT FROM risk_users"),
            EventsQuarantined = lake.Scalar<long>("SELECT count(*) FROM risk_qt"),
            UsersFlagged = lake.Scalar<long>("SELECT count(DISTINCT user_id) FROM risk_accounts"),
            ItemsFlagged = lake.Scalar<long>("SELECT count(*) FROM risk_items"),
            DevicesFlagged = kinds.GetValueOrDefault("device"),
            IpsFlagged = kinds.GetValueOrDefault("ip"),
            UsersReleased = lake.Scalar<long>("SELECT count(DISTINCT user_id) FROM risk_account_hits SEMI JOIN risk_released_users USING (user_id)"),
            ItemsReleased = lake.Scalar<long>("SELECT count(*) FROM risk_items_all SEMI JOIN risk_released_items USING (item_id)"),
            Rules = [.. Rules.Select(r => new RuleHits(r.Rule, r.Level, ruleEvents.GetValueOrDefault(r.Rule),
                r.Level == RuleLevel.Account ? accountEntities.GetValueOrDefault(r.Rule)
                : r.Rule == "bot_user_agent" ? botAgents : netEntities.GetValueOrDefault(r.Rule)))],
            ElapsedMs = 0,
        };
        Step("done");
        report = report with { ElapsedMs = _time.GetElapsedTime(started).TotalMilliseconds, StepsMs = steps };
        File.WriteAllBytes(Path.Combine(dir, ReportFile), JsonSerializer.SerializeToUtf8Bytes(report, ReportJson));
        return report;
    }

    /// <summary>(Re)computes the flagged accounts (account hits less releases) and the items they mainly promote (less releases).</summary>
    private void FlagItems(LakeQuery lake)
    {
        lake.Execute("""
            CREATE OR REPLACE TEMP TABLE risk_accounts AS
            SELECT DISTINCT user_id, rule FROM risk_account_hits ANTI JOIN risk_released_users USING (user_id)
            """);
        lake.Execute($"""
            CREATE OR REPLACE TEMP TABLE risk_items_all AS
            SELECT a.item_id, count(f.user_id) AS flagged, count(*) AS total FROM risk_act a
            LEFT JOIN (SELECT DISTINCT user_id FROM risk_accounts) f ON a.user_id = f.user_id
            WHERE a.item_id IS NOT NULL GROUP BY a.item_id
            HAVING count(f.user_id) >= {Num(_o.FlaggedItemMinActions)} AND count(f.user_id) >= {Num(_o.FlaggedItemMinShare)} * count(*)
            """);
        lake.Execute("CREATE OR REPLACE TEMP TABLE risk_items AS SELECT * FROM risk_items_all ANTI JOIN risk_released_items USING (item_id)");
    }

    private static void Cleanup(LakeQuery lake)
    {
        foreach (var table in new[] { "risk_event_hits", "risk_account_hits", "risk_entity_hits", "risk_released_users", "risk_released_items", "risk_act", "risk_users",
            "risk_hot", "risk_dk", "risk_coord", "risk_user_ua", "risk_bot_ua", "risk_accounts", "risk_items_all", "risk_items", "risk_acc_rules", "risk_ev_rules", "risk_qt" })
        {
            try
            {
                lake.Execute("DROP TABLE IF EXISTS " + table);
            }
            catch (LakeException)
            {
                // Best effort: the connection may be broken by the error being reported.
            }
        }

        try
        {
            lake.Execute("DROP VIEW IF EXISTS risk_beh");
            lake.Execute("RESET preserve_insertion_order");
        }
        catch (LakeException)
        {
        }
    }

    /// <summary>fsyncs the files of <paramref name="temp"/>, then renames it to <paramref name="target"/> (replacing an old output).</summary>
    private static void Publish(string temp, string target)
    {
        foreach (var file in Directory.EnumerateFiles(temp))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
            stream.Flush(flushToDisk: true);
        }

        Durable.SyncDirectory(temp);
        var parent = Path.GetDirectoryName(target)!;
        string? old = null;
        if (Directory.Exists(target))
        {
            old = Path.Combine(parent, "." + Path.GetFileName(target) + ".old-" + Guid.NewGuid().ToString("N"));
            Directory.Move(target, old);
        }

        Directory.Move(temp, target);
        Durable.SyncDirectory(parent);
        if (old is not null)
        {
            TryDelete(old);
        }
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>An RE2 alternation matching any of the (lower-cased, escaped) substrings.</summary>
    internal static string AlternationOf(IEnumerable<string> patterns)
    {
        var sb = new StringBuilder();
        foreach (var p in patterns)
        {
            if (sb.Length > 0)
            {
                sb.Append('|');
            }

            foreach (var ch in p.ToLowerInvariant())
            {
                if (@"\.+*?()|[]{}^$".Contains(ch, StringComparison.Ordinal))
                {
                    sb.Append('\\');
                }

                sb.Append(ch);
            }
        }

        return sb.ToString();
    }

    private static string Lit(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string List(IEnumerable<string> values) => string.Join(", ", values.Select(Lit));

    private static string Num(double x) => x.ToString("R", CultureInfo.InvariantCulture);

    private static string Num(long x) => x.ToString(CultureInfo.InvariantCulture);
}
