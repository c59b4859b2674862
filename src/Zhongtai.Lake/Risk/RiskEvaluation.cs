using System.Globalization;
using Zhongtai.Lake;

namespace Zhongtai.Risk;

/// <summary>Recall of one planted fraud kind.</summary>
public sealed record KindRecall(string Kind, long Events, long Quarantined, double Recall);

/// <summary>Precision of one rule: of the quarantined events it flagged, the share that is labelled fraud.</summary>
public sealed record RulePrecision(string Rule, long Events, long Fraud, double Precision);

/// <summary>An anti-cheat run scored against fraud labels (behaviour events only: catalog events are never quarantined).</summary>
public sealed record RiskEvaluationResult
{
    public required long BehaviourEvents { get; init; }
    public required long FraudEvents { get; init; }
    public required long Quarantined { get; init; }
    public required long TruePositives { get; init; }

    /// <summary>Quarantined fraud / quarantined.</summary>
    public required double Precision { get; init; }

    /// <summary>Quarantined fraud / fraud.</summary>
    public required double Recall { get; init; }

    /// <summary>Quarantined honest events / honest behaviour events.</summary>
    public required double HonestQuarantinedShare { get; init; }

    public required IReadOnlyList<KindRecall> Kinds { get; init; }
    public required IReadOnlyList<RulePrecision> RulesPrecision { get; init; }
}

/// <summary>Scores a run's <c>quarantine.parquet</c> against labels in JSON lines (<c>{"id":"d-17","kind":"ClickFarm"}</c>).</summary>
public static class RiskEvaluation
{
    /// <summary>Joins the lake's behaviour events with the labels and the quarantine of <paramref name="runDir"/>.</summary>
    public static RiskEvaluationResult Evaluate(LakeQuery lake, string runDir, string labelsPath, AntiCheatOptions options)
    {
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentNullException.ThrowIfNull(options);
        var quarantine = Path.Combine(Path.GetFullPath(runDir), AntiCheat.QuarantineFile);
        if (!File.Exists(quarantine))
        {
            throw new FileNotFoundException($"No quarantine at '{quarantine}'; run the anti-cheat first.", quarantine);
        }

        if (!File.Exists(labelsPath))
        {
            throw new FileNotFoundException($"No fraud labels at '{Path.GetFullPath(labelsPath)}' (zt demo generate writes them).", labelsPath);
        }

        string behaviour = string.Join(", ", options.BehaviourTypes.Select(t => "'" + t.Replace("'", "''", StringComparison.Ordinal) + "'"));
        string q = "'" + quarantine.Replace("'", "''", StringComparison.Ordinal) + "'";
        string labels = "'" + Path.GetFullPath(labelsPath).Replace("'", "''", StringComparison.Ordinal) + "'";
        try
        {
            lake.Execute($"""
                CREATE OR REPLACE TEMP TABLE risk_eval AS
                SELECT e.id, l.kind, r.rules
                FROM (SELECT "offset", id FROM events WHERE type IN ({behaviour}) AND user_id IS NOT NULL) e
                LEFT JOIN read_json({labels}, format = 'newline_delimited', columns = {"{"}id: 'VARCHAR', kind: 'VARCHAR'{"}"}) l ON l.id = e.id
                LEFT JOIN read_parquet({q}) r ON r."offset" = e."offset"
                """);
            var totals = lake.Rows("""
                SELECT count(*), count(kind), count(rules), count(*) FILTER (WHERE kind IS NOT NULL AND rules IS NOT NULL),
                       count(*) FILTER (WHERE kind IS NULL AND rules IS NOT NULL)
                FROM risk_eval
                """)[0];
            long all = L(totals[0]), fraud = L(totals[1]), quarantined = L(totals[2]), tp = L(totals[3]), honestQ = L(totals[4]);
            var kinds = lake.Rows("SELECT kind, count(*), count(rules) FROM risk_eval WHERE kind IS NOT NULL GROUP BY kind ORDER BY kind")
                .Select(r => new KindRecall((string)r[0]!, L(r[1]), L(r[2]), Ratio(L(r[2]), L(r[1]))))
                .ToList();
            var rules = lake.Rows("""
                SELECT rule, count(*), count(kind) FROM (SELECT unnest(string_split(rules, ',')) AS rule, kind FROM risk_eval WHERE rules IS NOT NULL)
                GROUP BY rule ORDER BY rule
                """)
                .Select(r => new RulePrecision((string)r[0]!, L(r[1]), L(r[2]), Ratio(L(r[2]), L(r[1]))))
                .ToList();
            return new RiskEvaluationResult
            {
                BehaviourEvents = all,
                FraudEvents = fraud,
                Quarantined = quarantined,
                TruePositives = tp,
                Precision = Ratio(tp, quarantined),
                Recall = Ratio(tp, fraud),
                HonestQuarantinedShare = Ratio(honestQ, all - fraud),
                Kinds = kinds,
                RulesPrecision = rules,
            };
        }
        finally
        {
            lake.Execute("DROP TABLE IF EXISTS risk_eval");
        }
    }

    private static long L(object? x) => Convert.ToInt64(x, CultureInfo.InvariantCulture);

    private static double Ratio(long a, long b) => b == 0 ? 0 : (double)a / b;
}
