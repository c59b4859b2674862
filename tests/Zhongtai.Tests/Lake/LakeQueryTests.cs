using System.Text.Json;
using Zhongtai.Events;
using Zhongtai.Lake;

namespace Zhongtai.Tests.Lake;

public sealed class LakeQueryTests
{
    [Fact]
    public void Open_MissingLake_ThrowsNamingTheDirectory()
    {
        var missing = Path.Combine(Path.GetTempPath(), "zt-no-such-lake-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<LakeException>(() => LakeQuery.Open(missing));
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_LakeWithoutFiles_HasEmptyTypedEventsView()
    {
        using var dir = new TempDir();
        using var lake = LakeQuery.Open(dir.Path);
        Assert.Equal(0L, lake.Scalar<long>("SELECT count(*) FROM events"));
        Assert.Equal("TIMESTAMP WITH TIME ZONE", lake.Scalar<string>("SELECT column_type FROM (DESCRIBE events) WHERE column_name = 'ts'"));
    }

    [Fact]
    public void Open_WithThreadsAndMemoryLimit_AppliesThem()
    {
        using var dir = new TempDir();
        using var lake = LakeQuery.Open(dir.Path, threads: 1, memoryLimit: "256MB");
        Assert.Equal(1L, lake.Scalar<long>("SELECT current_setting('threads')"));
        Assert.Contains("MiB", lake.Scalar<string>("SELECT current_setting('memory_limit')"), StringComparison.Ordinal);
        Assert.Throws<LakeException>(() => LakeQuery.Open(dir.Path, memoryLimit: "lots"));
    }

    [Fact]
    public void TimeFilter_UsesTheRowGroupStatistics_AndFindsTheRows()
    {
        // Regression: with micros timestamps Parquet.Net wrote min/max in millis and DuckDB pruned every row group.
        using var dir = new TempDir();
        var events = LakeTestData.Events(500, hours: 3).ToList();
        new LakeExporter().Export(dir.Path, events);
        using var lake = LakeQuery.Open(dir.Path);
        var cut = DateTimeOffset.FromUnixTimeMilliseconds(events[250].Event.Timestamp.ToUnixTimeMilliseconds());
        var expected = events.Count(e => e.Event.Timestamp.ToUnixTimeMilliseconds() >= cut.ToUnixTimeMilliseconds());
        Assert.Equal(expected, lake.Scalar<long>("SELECT count(*) FROM events WHERE ts >= $1", cut.UtcDateTime));
        Assert.Equal(expected, lake.Scalar<long>("SELECT count(*) FROM events WHERE epoch_ms(ts) >= $1", cut.ToUnixTimeMilliseconds()));
    }

    [Fact]
    public void Query_CorruptParquetFile_ErrorNamesTheFile()
    {
        using var dir = new TempDir();
        new LakeExporter().Export(dir.Path, LakeTestData.Events(500, hours: 3));
        var victim = Directory.GetFiles(dir.Path, "*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Last();
        var bytes = File.ReadAllBytes(victim);
        File.WriteAllBytes(victim, bytes.AsSpan(0, bytes.Length / 2).ToArray()); // truncated: no footer

        using var lake = LakeQuery.Open(dir.Path);
        var e = Assert.Throws<LakeCorruptFileException>(() => lake.Scalar<long>("SELECT count(*) FROM events"));

        Assert.Equal(victim, e.FilePath);
        Assert.Contains(victim, e.Message, StringComparison.Ordinal);
        Assert.Contains(victim, Assert.Single(lake.FindCorruptFiles()).Path, StringComparison.Ordinal);

        // A mistake in the SQL is still reported as such, not blamed on the file.
        var sqlError = Assert.Throws<LakeException>(() => lake.Rows("SELECT no_such_column FROM events"));
        Assert.IsNotType<LakeCorruptFileException>(sqlError);
        Assert.Contains("no_such_column", sqlError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Query_BadSql_ThrowsLakeExceptionWithDuckDbMessage()
    {
        using var dir = new TempDir();
        new LakeExporter().Export(dir.Path, LakeTestData.Events(10, hours: 1));
        using var lake = LakeQuery.Open(dir.Path);
        var e = Assert.Throws<LakeException>(() => lake.Rows("SELECT no_such_column FROM events"));
        Assert.IsNotType<LakeCorruptFileException>(e);
        Assert.Contains("no_such_column", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scalar_ConvertsDuckDbTypes()
    {
        using var dir = new TempDir();
        new LakeExporter().Export(dir.Path, LakeTestData.Events(100, hours: 1));
        using var lake = LakeQuery.Open(dir.Path);
        Assert.Equal(4_950L, lake.Scalar<long>("SELECT sum(\"offset\") FROM events")); // HUGEINT
        Assert.Equal(4_950.0, lake.Scalar<double>("SELECT sum(\"offset\") FROM events"));
        Assert.Equal(100, lake.Scalar<int>("SELECT count(*) FROM events"));
        Assert.Null(lake.Scalar<long?>("SELECT max(\"offset\") FROM events WHERE false"));
        Assert.Equal(49.5, lake.Scalar<double>("SELECT avg(\"offset\") FROM events"));
    }

    [Fact]
    public void Reader_StreamsRowsInOrder()
    {
        using var dir = new TempDir();
        new LakeExporter(new LakeExportOptions { RowGroupSize = 64 }).Export(dir.Path, LakeTestData.Events(3_000, hours: 2));
        using var lake = LakeQuery.Open(dir.Path);
        using var reader = lake.Reader("SELECT \"offset\" FROM events WHERE \"offset\" >= $1 ORDER BY 1", 100L);
        long expected = 100;
        while (lake.Read(reader))
        {
            Assert.Equal(expected++, reader.GetInt64(0));
        }

        Assert.Equal(3_000, expected);
    }

    [Fact]
    public void RoundTrip_EveryColumn_KeepsValuesNullsUnicodeAndJson()
    {
        using var dir = new TempDir();
        var t0 = new DateTimeOffset(2026, 3, 1, 10, 15, 30, TimeSpan.Zero).AddTicks(1_234_560); // micros survive
        var full = new Event
        {
            Id = "full-1", Type = EventTypes.Item, UserId = "用户-7", ItemId = "商品-42", Timestamp = t0,
            Scene = "首页", Position = 3, RequestId = "r-1", Device = "dev-1", Ip = "10.0.0.1",
            UserAgent = "Mozilla/5.0 (iPhone)", Value = 12.5,
            Properties = LakeTestData.Json("""{"a":1,"b":"x\"y","nested":{"k":[1,2,null]},"zh":"你好"}"""),
            Title = "红色连衣裙 Red dress 👗", Text = "line1\nline2\t'quoted'", Category = "服装",
            Tags = ["夏季", "sale", ""], Attributes = LakeTestData.Json("""{"price":199.9,"inStock":true}"""),
            Deleted = false, SessionId = "s-1", Model = "qwen", Feedback = "up",
            Turns = [new ConversationTurn { Role = "user", Content = "你好?" }, new ConversationTurn { Role = "assistant", Content = "Hi \"there\"" }],
        };
        var empty = new Event { Type = EventTypes.Click, Timestamp = t0.AddHours(1), Tags = [] };
        var nulls = new Event { Type = EventTypes.Click, Timestamp = t0.AddHours(2), Deleted = true, Value = 0, Position = 0 };
        new LakeExporter().Export(dir.Path, [(10L, full), (11L, empty), (12L, nulls)]);

        using var lake = LakeQuery.Open(dir.Path);
        var rows = lake.Rows("""
            SELECT "offset", id, type, user_id, item_id, epoch_us(ts), scene, position, request_id, device, ip, user_agent,
                   value, properties, title, text, category, tags, attributes, deleted, session_id, model, turns, feedback,
                   date, hour
            FROM events ORDER BY "offset"
            """);
        Assert.Equal(3, rows.Count);

        var r = rows[0];
        Assert.Equal(10L, r[0]);
        Assert.Equal(["full-1", "item", "用户-7", "商品-42"], r[1..5]);
        Assert.Equal(t0.ToUnixTimeMilliseconds() * 1000, (long)r[5]!); // the lake keeps milliseconds
        Assert.Equal("首页", r[6]);
        Assert.Equal(3, r[7]);
        Assert.Equal(["r-1", "dev-1", "10.0.0.1", "Mozilla/5.0 (iPhone)"], r[8..12]);
        Assert.Equal(12.5, r[12]);
        AssertJsonEqual(full.Properties, (string)r[13]!);
        Assert.Equal([full.Title, full.Text, full.Category], r[14..17]);
        Assert.Equal(full.Tags, ((System.Collections.IEnumerable)r[17]!).Cast<string>().ToArray());
        AssertJsonEqual(full.Attributes, (string)r[18]!);
        Assert.Equal(false, r[19]);
        Assert.Equal(["s-1", "qwen"], r[20..22]);
        using (var turns = JsonDocument.Parse((string)r[22]!))
        {
            Assert.Equal("你好?", turns.RootElement[0].GetProperty("content").GetString());
            Assert.Equal("assistant", turns.RootElement[1].GetProperty("role").GetString());
            Assert.Equal("Hi \"there\"", turns.RootElement[1].GetProperty("content").GetString());
        }

        Assert.Equal("up", r[23]);
        Assert.Equal(new DateOnly(2026, 3, 1), r[24]);
        Assert.Equal(10, r[25]);

        // Empty tags stay an empty list; absent fields are NULL.
        var e = rows[1];
        Assert.Empty(((System.Collections.IEnumerable)e[17]!).Cast<object>());
        Assert.All(new[] { 1, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23 }, i => Assert.Null(e[i]));

        var n = rows[2];
        Assert.Null(n[17]);
        Assert.Equal(true, n[19]);
        Assert.Equal(0.0, n[12]);
        Assert.Equal(0, n[7]);

        // JSON columns are queryable with DuckDB's JSON functions.
        Assert.Equal("你好", lake.Scalar<string>("SELECT properties->>'zh' FROM events WHERE id = 'full-1'"));
        Assert.Equal(1L, lake.Scalar<long>("SELECT count(*) FROM events WHERE list_contains(tags, '夏季')"));
    }

    private static void AssertJsonEqual(Dictionary<string, JsonElement>? expected, string actual)
    {
        var parsed = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(actual)!;
        Assert.Equal(expected!.Keys.Order(), parsed.Keys.Order());
        foreach (var (k, v) in expected)
        {
            Assert.True(JsonElement.DeepEquals(v, parsed[k]), $"{k}: {v} != {parsed[k]}");
        }
    }
}
