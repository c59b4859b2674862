using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Zhongtai.Cli.Bench;

/// <summary>One wrk run: requests/s, latency percentiles, non-2xx answers.</summary>
public sealed record WrkResult(string Target, double RequestsPerSecond, string P50, string P90, string P99, long Non2xx, int Connections, int Seconds);

/// <summary>The HTTP load generator of the benchmarks: Debian's wrk (<c>apt-get install -y wrk</c>), one thread, with latency percentiles.</summary>
internal static partial class Wrk
{
    public static bool Installed => File.Exists("/usr/bin/wrk");

    /// <summary>A free loopback port for the server under test.</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Runs <c>wrk -t1 -cN -dSs --latency ARGUMENTS</c> (the last argument is the URL) and parses its report.</summary>
    public static async Task<WrkResult> RunAsync(string target, string[] arguments, int connections, int seconds, CancellationToken ct)
    {
        var info = new ProcessStartInfo("wrk", ["-t1", $"-c{connections}", $"-d{seconds}s", "--latency", .. arguments]) { RedirectStandardOutput = true };
        using var wrk = Process.Start(info)!;
        var output = await wrk.StandardOutput.ReadToEndAsync(ct);
        await wrk.WaitForExitAsync(ct);
        string Percentile(string p) => Regex.Match(output, $@"\s{p}%\s+([\d.]+\w+)") is { Success: true } m ? m.Groups[1].Value : "?";
        return new WrkResult(target,
            double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture),
            Percentile("50"), Percentile("90"), Percentile("99"),
            NonSuccess().Match(output) is { Success: true } n ? long.Parse(n.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            connections, seconds);
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex NonSuccess();
}
