using System.Globalization;

namespace Zhongtai.Lake;

/// <summary>
/// Paths of the lake: <c>&lt;lakeDir&gt;/events/date=YYYY-MM-DD/hour=HH/part-&lt;firstOffset&gt;-&lt;lastOffset&gt;.parquet</c>
/// (Hive layout, UTC, partitioned by the event timestamp) and the export checkpoint <c>events/_export.json</c>.
/// </summary>
public static class LakeLayout
{
    /// <summary>The folder of the events table under a lake directory.</summary>
    public static string EventsDir(string lakeDir) => Path.Combine(lakeDir, "events");

    /// <summary>The export checkpoint file.</summary>
    public static string CheckpointPath(string lakeDir) => Path.Combine(EventsDir(lakeDir), "_export.json");

    /// <summary>The lock file held while an export runs.</summary>
    internal static string LockPath(string lakeDir) => Path.Combine(EventsDir(lakeDir), "_export.lock");

    /// <summary>Hours since the Unix epoch of a UTC instant: the partition key.</summary>
    internal static long HourKey(DateTimeOffset ts)
    {
        long ticks = ts.UtcTicks - DateTime.UnixEpoch.Ticks;
        long hour = ticks / TimeSpan.TicksPerHour;
        return ticks < 0 && hour * TimeSpan.TicksPerHour != ticks ? hour - 1 : hour;
    }

    /// <summary>The partition folder (relative to the events folder) of an hour key.</summary>
    public static string PartitionPath(long hourKey)
    {
        var start = DateTime.UnixEpoch.AddHours(hourKey);
        return Path.Combine(
            "date=" + start.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            "hour=" + start.ToString("HH", CultureInfo.InvariantCulture));
    }

    /// <summary>The final name of a part file.</summary>
    public static string PartFileName(long firstOffset, long lastOffset) =>
        string.Create(CultureInfo.InvariantCulture, $"part-{firstOffset}-{lastOffset}.parquet");

    /// <summary>Parses <c>part-&lt;first&gt;-&lt;last&gt;.parquet</c>; false for any other name.</summary>
    public static bool TryParsePartFileName(string fileName, out long firstOffset, out long lastOffset)
    {
        firstOffset = lastOffset = 0;
        const string prefix = "part-";
        const string suffix = ".parquet";
        if (!fileName.StartsWith(prefix, StringComparison.Ordinal) || !fileName.EndsWith(suffix, StringComparison.Ordinal))
        {
            return false;
        }

        var middle = fileName.AsSpan(prefix.Length, fileName.Length - prefix.Length - suffix.Length);
        int dash = middle.IndexOf('-');
        return dash > 0
            && long.TryParse(middle[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out firstOffset)
            && long.TryParse(middle[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out lastOffset);
    }
}
