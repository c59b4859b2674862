namespace Zhongtai.Risk;

/// <summary>Whether a rule judges single events or whole accounts (whose behaviour events are then all quarantined).</summary>
public enum RuleLevel
{
    Event,
    Account,
}

/// <summary>One rule's outcome in a run: events it flagged (among the quarantined) and entities (users, devices, IPs) it named.</summary>
public sealed record RuleHits(string Rule, RuleLevel Level, long Events, long Entities);

/// <summary>
/// The outcome of one anti-cheat run, also written as <c>report.json</c> beside the quarantine. Nothing is dropped:
/// every quarantined event is in <c>quarantine.parquet</c> with the rules that flagged it.
/// </summary>
public sealed record RiskReport
{
    /// <summary>The lake offset the run saw up to (inclusive; -1 for an empty lake).</summary>
    public required long LakeOffset { get; init; }

    /// <summary>Every event in the lake up to <see cref="LakeOffset"/>.</summary>
    public required long EventsScanned { get; init; }

    /// <summary>Behaviour events among them (what can be quarantined).</summary>
    public required long BehaviourEvents { get; init; }

    /// <summary>Events in <c>quarantine.parquet</c>.</summary>
    public required long EventsQuarantined { get; init; }

    /// <summary>Users flagged by account-level rules (after releases).</summary>
    public required long UsersFlagged { get; init; }

    /// <summary>Items mainly promoted by flagged accounts (after releases).</summary>
    public required long ItemsFlagged { get; init; }

    /// <summary>Devices flagged by the device rate or coordination rules.</summary>
    public required long DevicesFlagged { get; init; }

    /// <summary>IPs flagged by the IP rate or coordination rules.</summary>
    public required long IpsFlagged { get; init; }

    /// <summary>Flagged users whose release kept their events out of account-level quarantine.</summary>
    public required long UsersReleased { get; init; }

    /// <summary>Items that would have been flagged but are released.</summary>
    public required long ItemsReleased { get; init; }

    /// <summary>Per rule, in a fixed order.</summary>
    public required IReadOnlyList<RuleHits> Rules { get; init; }

    /// <summary>Wall time of the run, in milliseconds.</summary>
    public required double ElapsedMs { get; init; }

    /// <summary>Wall time per step (rule or phase), in milliseconds, for finding the slow one.</summary>
    public IReadOnlyDictionary<string, double> StepsMs { get; init; } = new Dictionary<string, double>(StringComparer.Ordinal);

    /// <summary>Share of behaviour events quarantined.</summary>
    public double QuarantinedShare => BehaviourEvents == 0 ? 0 : (double)EventsQuarantined / BehaviourEvents;
}
