using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;

namespace Zhongtai.Risk;

/// <summary>
/// Thresholds of the anti-cheat stage (<see cref="AntiCheat"/>), bound from the configuration section <c>Risk</c>
/// (e.g. <c>ZT__RISK__USERMAXACTIONSPERWINDOW=40</c>). Every default is documented; the defaults were chosen on
/// simulated worlds of several seeds and scales (see docs/anti-cheat.md), never on one.
/// </summary>
public sealed class AntiCheatOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Risk";

    /// <summary>Event types that are behaviour (a user did something to an item) and so can be quarantined. Default: exposure, click, like, share, purchase, dwell, rating, tag.</summary>
    public List<string> BehaviourTypes { get; set; } = ["exposure", "click", "like", "share", "purchase", "dwell", "rating", "tag"];

    /// <summary>Event types that are active actions (counted by the rate, coordination and item rules). Default: click, like, share, purchase.</summary>
    public List<string> ActionTypes { get; set; } = ["click", "like", "share", "purchase"];

    /// <summary>The exposure (impression) type. Default <c>exposure</c>.</summary>
    public string ExposureType { get; set; } = "exposure";

    /// <summary>The click type (CTR, click-without-exposure). Default <c>click</c>.</summary>
    public string ClickType { get; set; } = "click";

    /// <summary>The dwell type; its <c>value</c> is seconds. Default <c>dwell</c>.</summary>
    public string DwellType { get; set; } = "dwell";

    // ---------------------------------------------------------------- rate bursts

    /// <summary>Length of the tumbling windows the rate rules count actions in, in seconds. Default 60.</summary>
    [Range(1, 86_400)]
    public int RateWindowSeconds { get; set; } = 60;

    /// <summary>Rule <c>user_rate</c> (account level): a user with more actions than this in one window. Default 30 (a click every two seconds for a whole minute, dwell included, is not human).</summary>
    [Range(1, int.MaxValue)]
    public int UserMaxActionsPerWindow { get; set; } = 30;

    /// <summary>Rule <c>user_rate</c>: windows over the limit a user needs before the account is flagged. Default 1.</summary>
    [Range(1, int.MaxValue)]
    public int UserRateMinWindows { get; set; } = 1;

    /// <summary>Rule <c>device_rate</c> (event level): actions from one device in one window above this quarantine that window's actions. Default 60.</summary>
    [Range(1, int.MaxValue)]
    public int DeviceMaxActionsPerWindow { get; set; } = 60;

    /// <summary>Rule <c>ip_rate</c> (event level): actions from one IP in one window above this quarantine that window's actions. Default 300 (IPs are shared behind NATs).</summary>
    [Range(1, int.MaxValue)]
    public int IpMaxActionsPerWindow { get; set; } = 300;

    // ---------------------------------------------------------------- exposure and duplicates

    /// <summary>Rule <c>click_without_exposure</c> (event level) is on. Default true.</summary>
    public bool CheckClickExposure { get; set; } = true;

    /// <summary>How far an exposure may be stamped after its click (clock skew between server and client), in seconds. Default 2.</summary>
    [Range(0, 3_600)]
    public double ExposureClockSkewSeconds { get; set; } = 2;

    /// <summary>Whether a click with no request id counts as a click without exposure (false: such clicks cannot be judged and pass). Default false.</summary>
    public bool ClickWithoutRequestIsSuspect { get; set; }

    /// <summary>Rule <c>duplicate</c> (event level): an event identical to the previous one (user, item, type, request, value) within this many seconds is a copy. Default 2.</summary>
    [Range(0, 3_600)]
    public double DuplicateWindowSeconds { get; set; } = 2;

    // ---------------------------------------------------------------- CTR outliers

    /// <summary>Rule <c>ctr_outlier</c> (account level): only users with at least this many exposures are judged. Default 50.</summary>
    [Range(1, int.MaxValue)]
    public int CtrMinExposures { get; set; } = 50;

    /// <summary>Rule <c>ctr_outlier</c>: robust z-score, (ctr − median) / (1.4826 · MAD), above which a user's CTR is an outlier. Default 6.</summary>
    [Range(0.0, 1000.0)]
    public double CtrMaxRobustZ { get; set; } = 6;

    /// <summary>Rule <c>ctr_outlier</c>: and the CTR must be at least this (guards a degenerate MAD). Default 0.35.</summary>
    [Range(0.0, 1.0)]
    public double CtrMinOutlier { get; set; } = 0.35;

    // ---------------------------------------------------------------- dwell

    /// <summary>Rule <c>inhuman_dwell</c> (event level): a dwell shorter than this many seconds. Default 1.</summary>
    [Range(0.0, 3_600.0)]
    public double MinDwellSeconds { get; set; } = 1;

    /// <summary>Rule <c>inhuman_dwell</c>: a dwell longer than this many seconds (a tab left open is not attention). Default 14,400 (4 h).</summary>
    [Range(1.0, double.MaxValue)]
    public double MaxDwellSeconds { get; set; } = 14_400;

    /// <summary>Rule <c>short_dwell_user</c> (account level): a user whose median dwell is below this many seconds. Default 6.</summary>
    [Range(0.0, 3_600.0)]
    public double UserMedianDwellBelowSeconds { get; set; } = 6;

    /// <summary>Rule <c>short_dwell_user</c>: only users with at least this many dwell events are judged. Default 10.</summary>
    [Range(1, int.MaxValue)]
    public int UserDwellMinEvents { get; set; } = 10;

    // ---------------------------------------------------------------- coordination

    /// <summary>Rules <c>coordinated_device</c>/<c>coordinated_ip</c> (account level): accounts on one device or IP acting on the same item that make it a shared target. Default 3.</summary>
    [Range(2, int.MaxValue)]
    public int CoordinationMinAccounts { get; set; } = 3;

    /// <summary>Shared targets an account must act on to be part of a coordinated group. Default 3.</summary>
    [Range(1, int.MaxValue)]
    public int CoordinationMinSharedItems { get; set; } = 3;

    /// <summary>Share of an account's actions (on that device or IP) that must go to the shared targets: a household or an office NAT acts on many things, a ring on its targets. Default 0.5.</summary>
    [Range(0.0, 1.0)]
    public double CoordinationMinShare { get; set; } = 0.5;

    // ---------------------------------------------------------------- user agents

    /// <summary>Rule <c>bot_user_agent</c> (event level): case-insensitive substrings of scripted or crawler user agents.</summary>
    public List<string> BotUserAgentPatterns { get; set; } =
    [
        "python-requests", "python-urllib", "aiohttp", "curl/", "wget/", "go-http-client", "java/", "apache-httpclient",
        "libwww-perl", "node-fetch", "axios/", "scrapy", "headlesschrome", "phantomjs", "selenium", "puppeteer", "playwright",
        "bot/", "crawler", "spider",
    ];

    /// <summary>Rule <c>bot_user_agent_account</c> (account level): a user whose share of behaviour events with a bot user agent is at least this. Default 0.5.</summary>
    [Range(0.0, 1.0)]
    public double BotUserAgentAccountShare { get; set; } = 0.5;

    // ---------------------------------------------------------------- items

    /// <summary>An item is flagged when at least this share of its actions come from flagged accounts... Default 0.5.</summary>
    [Range(0.0, 1.0)]
    public double FlaggedItemMinShare { get; set; } = 0.5;

    /// <summary>...and at least this many. Default 10.</summary>
    [Range(1, int.MaxValue)]
    public int FlaggedItemMinActions { get; set; } = 10;

    /// <summary>Rule <c>promotes_flagged_items</c> (account level): an account with at least this many actions... Default 5.</summary>
    [Range(1, int.MaxValue)]
    public int PromoterMinActions { get; set; } = 5;

    /// <summary>...of which at least this share go to flagged items. Default 0.8.</summary>
    [Range(0.0, 1.0)]
    public double PromoterMinShare { get; set; } = 0.8;

    // ---------------------------------------------------------------- engine

    /// <summary>DuckDB memory limit for a run. Default <c>1GB</c>.</summary>
    public string MemoryLimit { get; set; } = "1GB";

    /// <summary>DuckDB threads; null uses every core. Default null.</summary>
    public int? Threads { get; set; }

    /// <summary>Binds the <c>Risk</c> section of <paramref name="configuration"/> over the defaults and validates.</summary>
    public static AntiCheatOptions From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new AntiCheatOptions();
        configuration.GetSection(SectionName).Bind(options);
        options.Validate();
        return options;
    }

    /// <summary>Throws <see cref="ValidationException"/> when an option is out of range.</summary>
    public void Validate()
    {
        Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);
        if (BehaviourTypes.Count == 0 || ActionTypes.Count == 0)
        {
            throw new ValidationException("Risk: BehaviourTypes and ActionTypes must not be empty.");
        }

        if (MinDwellSeconds >= MaxDwellSeconds)
        {
            throw new ValidationException("Risk: MinDwellSeconds must be below MaxDwellSeconds.");
        }
    }
}
