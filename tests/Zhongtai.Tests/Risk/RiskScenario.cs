using System.Globalization;
using Zhongtai.Demo;
using Zhongtai.Events;
using Zhongtai.Lake;
using Zhongtai.Risk;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Risk;

/// <summary>
/// Honest traffic from a small fraud-free demo world, plus planted events (ids <c>x-…</c>) written by a test, exported
/// to a lake in a temp directory; <see cref="Run"/> runs the anti-cheat and returns the quarantine as id → rules.
/// </summary>
internal sealed class RiskScenario : IDisposable
{
    public static readonly DemoWorldOptions HonestWorld = new()
    {
        Seed = 3,
        Scale = 0.1,
        Days = 1,
        SessionsPerUserPerDay = 3,
        InjectFraud = false,
        ClickWithoutExposureRate = 0,
        DuplicateBurstRate = 0,
    };

    private readonly TempDirectory _dir = new();
    private readonly List<Event> _planted = [];
    private int _next;

    /// <summary>Noon of the world's day: planted behaviour goes around here.</summary>
    public DateTimeOffset Noon { get; } = HonestWorld.Start.AddHours(12);

    public string Root => _dir.Path;

    public string LakeDir => _dir.Combine("lake");

    public IReadOnlyList<Event> Planted => _planted;

    /// <summary>Plants a behaviour event; returns it (its id starts with <c>x-</c>).</summary>
    public Event Add(string type, string user, string item, DateTimeOffset ts, string? request = null, string? device = null,
        string? ip = null, string? userAgent = null, double? value = null)
    {
        var e = new Event
        {
            Id = "x-" + (++_next).ToString(CultureInfo.InvariantCulture),
            Type = type,
            UserId = user,
            ItemId = item,
            Timestamp = ts,
            Scene = "home_feed",
            Position = 0,
            RequestId = request,
            Device = device ?? "dev-" + user,
            Ip = ip ?? "10.9." + (_next % 250).ToString(CultureInfo.InvariantCulture) + "." + (_next / 250 % 250).ToString(CultureInfo.InvariantCulture),
            UserAgent = userAgent ?? "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36",
            Value = value,
        };
        _planted.Add(e);
        return e;
    }

    /// <summary>An exposure then a click (and a human dwell) of <paramref name="item"/> under a fresh request.</summary>
    public Event ExposedClick(string user, string item, DateTimeOffset ts, string? device = null, string? ip = null, string? userAgent = null, double dwell = 25)
    {
        var request = "xr-" + (_next + 1).ToString(CultureInfo.InvariantCulture);
        Add(EventTypes.Exposure, user, item, ts, request, device, ip, userAgent);
        var click = Add(EventTypes.Click, user, item, ts.AddSeconds(1), request, device, ip, userAgent);
        Add(EventTypes.Dwell, user, item, ts.AddSeconds(1 + dwell), request, device, ip, userAgent, dwell);
        return click;
    }

    /// <summary>Exports honest + planted events (planted merged in time order) to the lake.</summary>
    public void Export()
    {
        var honest = DemoWorld.Generate(HonestWorld).Events().ToList();
        var all = honest.Concat(_planted).OrderBy(e => e.Timestamp).ToList();
        long offset = 0;
        new LakeExporter().Export(LakeDir, all.Select(e => (offset++, e)));
    }

    /// <summary>Runs the anti-cheat into <paramref name="outputName"/> under the root; returns id → rules of the quarantine.</summary>
    public (RiskReport Report, Dictionary<string, string[]> Quarantine) Run(AntiCheatOptions? options = null, RiskReleases? releases = null, string outputName = "out")
    {
        var output = _dir.Combine(outputName);
        var report = new AntiCheat(options ?? new AntiCheatOptions()).Run(LakeDir, releases ?? RiskReleases.None, output);
        return (report, ReadQuarantine(output));
    }

    public static Dictionary<string, string[]> ReadQuarantine(string outputDir)
    {
        using var db = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT id, rules FROM read_parquet($1) ORDER BY \"offset\"";
        cmd.Parameters.Add(new DuckDB.NET.Data.DuckDBParameter(Path.Combine(outputDir, AntiCheat.QuarantineFile)));
        using var reader = cmd.ExecuteReader();
        var result = new Dictionary<string, string[]>(StringComparer.Ordinal);
        while (reader.Read())
        {
            result[reader.GetString(0)] = reader.GetString(1).Split(',');
        }

        return result;
    }

    public void Dispose() => _dir.Dispose();
}
