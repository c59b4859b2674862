using System.Globalization;
using DuckDB.NET.Data;
using Zhongtai.Events;
using Zhongtai.Lake;

namespace Zhongtai.Tests.Samples;

/// <summary>Hand-written event lists exported to a temp lake, and helpers to read the Parquet files a stage wrote.</summary>
internal sealed class SampleWorld
{
    public static readonly DateTimeOffset T0 = new(2026, 3, 2, 12, 0, 0, TimeSpan.Zero);

    public List<(long Offset, Event Event)> Events { get; } = [];

    public long Add(string type, string? user, string item, DateTimeOffset ts, string? request = "r1", double? value = null, string? category = null)
    {
        long offset = Events.Count == 0 ? 0 : Events[^1].Offset + 1;
        Events.Add((offset, new Event
        {
            Id = "e" + offset.ToString(CultureInfo.InvariantCulture),
            Type = type,
            UserId = user,
            ItemId = item,
            Timestamp = ts,
            Scene = type == EventTypes.Item ? null : "home_feed",
            Position = type == EventTypes.Item ? null : 1,
            RequestId = type == EventTypes.Item ? null : request,
            Device = type == EventTypes.Item ? null : "ios",
            Value = value,
            Category = category,
            Tags = type == EventTypes.Item ? ["t-" + category] : null,
        }));
        return offset;
    }

    public void Item(string item, string category, DateTimeOffset ts) => Add(EventTypes.Item, null, item, ts, null, null, category);

    public static void Export(string lakeDir, IEnumerable<(long Offset, Event Event)> events) =>
        new LakeExporter(new LakeExportOptions { FlushToDisk = false }).Export(lakeDir, events);

    public void Export(string lakeDir) => Export(lakeDir, Events);

    /// <summary>Rows of a query over Parquet files, as dictionaries by column name.</summary>
    public static List<Dictionary<string, object?>> Query(string sql)
    {
        using var duck = new DuckDBConnection("Data Source=:memory:");
        duck.Open();
        using var cmd = duck.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        var rows = new List<Dictionary<string, object?>>();
        while (r.Read())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (int i = 0; i < r.FieldCount; i++)
            {
                row[r.GetName(i)] = r.IsDBNull(i) ? null : r.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    public static List<Dictionary<string, object?>> Read(string file, string where = "true") =>
        Query($"SELECT * FROM read_parquet('{file}') WHERE {where} ORDER BY ts, event_offset, negative");

    public static double D(object? v) => Convert.ToDouble(v, CultureInfo.InvariantCulture);

    public static long L(object? v) => Convert.ToInt64(v, CultureInfo.InvariantCulture);
}
