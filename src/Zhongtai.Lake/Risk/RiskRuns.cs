using System.Globalization;
using System.Text.Json;
using Zhongtai.Storage;

namespace Zhongtai.Risk;

/// <summary>
/// Where a project's anti-cheat runs live: <c>projects/P/risk/runs/&lt;run-id&gt;/</c>, and <c>projects/P/risk/latest</c>
/// naming the newest complete run (replaced atomically). Later stages (samples) read
/// <see cref="LatestQuarantine"/> and anti-join on its <c>offset</c> column.
/// </summary>
public static class RiskRuns
{
    /// <summary><c>projects/P/risk</c>.</summary>
    public static string RiskDirectory(string projectDirectory) => Path.Combine(projectDirectory, "risk");

    /// <summary><c>projects/P/risk/runs</c>.</summary>
    public static string RunsDirectory(string projectDirectory) => Path.Combine(RiskDirectory(projectDirectory), "runs");

    /// <summary>A fresh run id from the clock: <c>yyyyMMddTHHmmssfffZ</c>.</summary>
    public static string NewRunId(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return time.GetUtcNow().ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>Runs the anti-cheat into a new run directory and points <c>latest</c> at it.</summary>
    public static (string RunId, string RunDirectory, RiskReport Report) Run(
        string projectDirectory, string lakeDirectory, AntiCheatOptions options, TimeProvider time, CancellationToken ct = default)
    {
        var runId = NewRunId(time);
        var dir = Path.Combine(RunsDirectory(projectDirectory), runId);
        var releases = RiskReleases.Open(RiskReleases.PathFor(projectDirectory));
        var report = new AntiCheat(options, time).Run(lakeDirectory, releases, dir, ct);
        SetLatest(projectDirectory, runId);
        return (runId, dir, report);
    }

    /// <summary>
    /// Points <c>latest</c> at <paramref name="runId"/> and publishes the run's flagged items to
    /// <c>risk/flagged-items.txt</c>, which the online risk filter follows (each written to a temp file, fsynced, renamed).
    /// </summary>
    public static void SetLatest(string projectDirectory, string runId)
    {
        var riskDir = RiskDirectory(projectDirectory);
        Directory.CreateDirectory(riskDir);
        WriteAtomically(Path.Combine(riskDir, FlaggedItemsFile), FlaggedItems(Path.Combine(RunsDirectory(projectDirectory), runId, AntiCheat.EntitiesFile)));
        WriteAtomically(Path.Combine(riskDir, "latest"), runId + "\n");
        Durable.SyncDirectory(riskDir);
    }

    /// <summary>The file of flagged item ids (one a line) that serving keeps away from users.</summary>
    public const string FlaggedItemsFile = "flagged-items.txt";

    private static string FlaggedItems(string entitiesFile)
    {
        using var duck = new DuckDB.NET.Data.DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var command = duck.CreateCommand();
        command.CommandText = $"SELECT entity, rules FROM read_parquet('{entitiesFile.Replace("'", "''", StringComparison.Ordinal)}') WHERE kind = 'item' ORDER BY entity";
        using var reader = command.ExecuteReader();
        var text = new System.Text.StringBuilder("# Items flagged by anti-cheat (zt risk release --item ID lets one through on the next run).\n");
        while (reader.Read())
        {
            text.Append(reader.GetString(0)).Append("  # ").Append(reader.GetString(1)).Append('\n');
        }

        return text.ToString();
    }

    private static void WriteAtomically(string path, string content)
    {
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            stream.Write(System.Text.Encoding.UTF8.GetBytes(content));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The newest complete run's directory, or null when there is none.</summary>
    public static string? LatestRunDirectory(string projectDirectory)
    {
        var path = Path.Combine(RiskDirectory(projectDirectory), "latest");
        if (!File.Exists(path))
        {
            return null;
        }

        var id = File.ReadAllText(path).Trim();
        var dir = Path.Combine(RunsDirectory(projectDirectory), id);
        return id.Length > 0 && Directory.Exists(dir) ? dir : null;
    }

    /// <summary>The newest run's <c>quarantine.parquet</c>, or null.</summary>
    public static string? LatestQuarantine(string projectDirectory) =>
        LatestRunDirectory(projectDirectory) is { } dir ? Path.Combine(dir, AntiCheat.QuarantineFile) : null;

    /// <summary>Reads a run's <c>report.json</c>.</summary>
    public static RiskReport ReadReport(string runDirectory)
    {
        var path = Path.Combine(runDirectory, AntiCheat.ReportFile);
        return JsonSerializer.Deserialize<RiskReport>(File.ReadAllBytes(path), AntiCheat.ReportJson)
            ?? throw new InvalidDataException($"Empty risk report '{path}'.");
    }
}
