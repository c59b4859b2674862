using System.Globalization;
using System.Text;
using DuckDB.NET.Data;

namespace Zhongtai.Samples;

/// <summary>One feature window: its column-name suffix (<c>1h</c>, <c>1d</c>, …) and its length in microseconds.</summary>
internal readonly record struct FeatureWindow(string Name, long Micros);

/// <summary>
/// The point-in-time window features of one entity (user or item), computed in one streaming pass over the entity's
/// timeline instead of one DuckDB RANGE window per window and counter (each of which cost DuckDB several CPU-seconds per
/// 10M events). DuckDB sorts the timeline by (entity, time) and streams it here; per entity the rows are buffered (a few
/// thousand at most), prefix counts of exposures and clicks are built, and for every probe row (a sample) at time
/// <c>t</c> a pointer per window finds the first row at or after <c>t − w</c>, so that
/// <c>count(t − w ≤ t' &lt; t) = prefix(first row at t) − prefix(first row at t − w)</c>: only events strictly before
/// <c>t</c> are counted (same-instant events are excluded), exactly as <c>RANGE BETWEEN w PRECEDING AND 1 PRECEDING</c>.
/// The results are appended to a table through a second connection while the first one streams.
/// </summary>
internal static class TimelineFeatures
{
    /// <summary>Row flag: an exposure (counted in <c>exp_*</c>).</summary>
    public const int Exposure = 1;

    /// <summary>Row flag: a click (counted in <c>click_*</c> and <c>clicks_all</c>).</summary>
    public const int Click = 2;

    /// <summary>Row flag: a non-exposure action (for <c>secs_since_last_action</c>).</summary>
    public const int Action = 4;

    /// <summary>Row flag: an event of the entity (behaviour or catalog; for <c>secs_since_first_seen</c>).</summary>
    public const int Event = 8;

    /// <summary>Row flag: a sample to compute features for.</summary>
    public const int Probe = 16;

    /// <summary>What the pass writes after the per-window counters.</summary>
    public enum Extra
    {
        /// <summary><c>{p}_clicks_all INTEGER, {p}_secs_since_last_action DOUBLE</c> (users).</summary>
        ClicksAllAndLastAction,

        /// <summary><c>{p}_secs_since_first_seen DOUBLE</c> (items).</summary>
        FirstSeen,

        /// <summary><c>{p}_clicks_all INTEGER</c> (user–category pairs).</summary>
        ClicksAll,
    }

    /// <summary>The CREATE TABLE statement of the output table.</summary>
    public static string CreateTable(string table, string prefix, IReadOnlyList<FeatureWindow> windows, Extra extra)
    {
        var sb = new StringBuilder($"CREATE OR REPLACE TABLE {table} (event_offset BIGINT, negative INTEGER");
        foreach (var w in windows)
        {
            sb.Append(CultureInfo.InvariantCulture, $", {prefix}_exp_{w.Name} INTEGER, {prefix}_click_{w.Name} INTEGER");
        }

        sb.Append(extra switch
        {
            Extra.ClicksAllAndLastAction => $", {prefix}_clicks_all INTEGER, {prefix}_secs_since_last_action DOUBLE)",
            Extra.ClicksAll => $", {prefix}_clicks_all INTEGER)",
            _ => $", {prefix}_secs_since_first_seen DOUBLE)",
        });
        return sb.ToString();
    }

    /// <summary>
    /// Streams <paramref name="timelineSql"/> (columns <c>k</c> any integer key, <c>t BIGINT</c> microseconds,
    /// <c>f INTEGER</c> flags, <c>event_offset BIGINT</c>, <c>negative INTEGER</c>; ordered by <c>k, t</c>) and appends
    /// one row per probe to <paramref name="table"/> (created by <see cref="CreateTable"/>). Returns the rows written.
    /// </summary>
    public static long Write(DuckDBConnection connection, string timelineSql, string table, IReadOnlyList<FeatureWindow> windows, Extra extra, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var writer = connection.Duplicate();
        if (writer.State != System.Data.ConnectionState.Open)
        {
            writer.Open();
        }

        using var appender = writer.CreateAppender(table);
        using var cmd = connection.CreateCommand();
        cmd.CommandText = timelineSql;
        cmd.UseStreamingMode = true;
        using var reader = cmd.ExecuteReader();

        var buffer = new Partition(windows.Count);
        long written = 0;
        bool any = false;
        ulong key = 0;
        while (reader.Read())
        {
            ulong k = reader.GetFieldValue<ulong>(0);
            if (any && k != key)
            {
                ct.ThrowIfCancellationRequested();
                written += buffer.Flush(appender, windows, extra);
            }

            any = true;
            key = k;
            buffer.Add(reader.GetInt64(1), reader.GetInt32(2), reader.IsDBNull(3) ? 0 : reader.GetInt64(3), reader.IsDBNull(4) ? 0 : reader.GetInt32(4));
        }

        written += buffer.Flush(appender, windows, extra);
        appender.Close();
        return written;
    }

    /// <summary>One entity's rows in time order, and the scratch of the pass over them (reused across entities).</summary>
    private sealed class Partition(int windowCount)
    {
        private long[] _t = new long[1024];
        private int[] _f = new int[1024];
        private long[] _offset = new long[1024];
        private int[] _negative = new int[1024];
        private int[] _exp = new int[1025];
        private int[] _click = new int[1025];
        private readonly int[] _lo = new int[windowCount];
        private int _n;

        public void Add(long t, int flags, long offset, int negative)
        {
            if (_n == _t.Length)
            {
                Array.Resize(ref _t, _n * 2);
                Array.Resize(ref _f, _n * 2);
                Array.Resize(ref _offset, _n * 2);
                Array.Resize(ref _negative, _n * 2);
                Array.Resize(ref _exp, _n * 2 + 1);
                Array.Resize(ref _click, _n * 2 + 1);
            }

            _t[_n] = t;
            _f[_n] = flags;
            _offset[_n] = offset;
            _negative[_n] = negative;
            _n++;
        }

        public long Flush(DuckDBAppender appender, IReadOnlyList<FeatureWindow> windows, Extra extra)
        {
            int n = _n;
            _n = 0;
            if (n == 0)
            {
                return 0;
            }

            // Prefix counts: _exp[i] = exposures among rows [0, i).
            _exp[0] = 0;
            _click[0] = 0;
            for (int i = 0; i < n; i++)
            {
                _exp[i + 1] = _exp[i] + (_f[i] & Exposure);
                _click[i + 1] = _click[i] + ((_f[i] & Click) >> 1);
            }

            Array.Clear(_lo);
            long written = 0;
            long lastAction = long.MinValue;
            long firstSeen = long.MinValue;
            int g = 0;
            while (g < n)
            {
                long t = _t[g];
                int end = g + 1;
                while (end < n && _t[end] == t)
                {
                    end++;
                }

                // Rows [0, g) are exactly those strictly before t.
                for (int i = g; i < end; i++)
                {
                    if ((_f[i] & Probe) == 0)
                    {
                        continue;
                    }

                    var row = appender.CreateRow().AppendValue(_offset[i]).AppendValue(_negative[i]);
                    for (int w = 0; w < windows.Count; w++)
                    {
                        long from = t - windows[w].Micros;
                        int lo = _lo[w];
                        while (lo < g && _t[lo] < from)
                        {
                            lo++;
                        }

                        _lo[w] = lo;
                        row.AppendValue(_exp[g] - _exp[lo]).AppendValue(_click[g] - _click[lo]);
                    }

                    if (extra == Extra.ClicksAll)
                    {
                        row.AppendValue(_click[g]);
                    }
                    else if (extra == Extra.ClicksAllAndLastAction)
                    {
                        row.AppendValue(_click[g]);
                        if (lastAction == long.MinValue)
                        {
                            row.AppendNullValue();
                        }
                        else
                        {
                            row.AppendValue((t - lastAction) / 1e6);
                        }
                    }
                    else if (firstSeen == long.MinValue)
                    {
                        row.AppendNullValue();
                    }
                    else
                    {
                        row.AppendValue((t - firstSeen) / 1e6);
                    }

                    row.EndRow();
                    written++;
                }

                for (int i = g; i < end; i++)
                {
                    if ((_f[i] & Action) != 0)
                    {
                        lastAction = t;
                    }

                    if ((_f[i] & Event) != 0 && firstSeen == long.MinValue)
                    {
                        firstSeen = t;
                    }
                }

                g = end;
            }

            return written;
        }
    }
}
