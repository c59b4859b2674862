using System.Buffers;
using System.Text;
using System.Text.Json;
using Zhongtai.Events;
using Zhongtai.Events.Ingest;

namespace Zhongtai.Tests.Events;

public sealed class EventBinaryTests
{
    private static string Json(Event e) => JsonSerializer.Serialize(e, EventJsonContext.Default.Event);

    private static byte[] Binary(Event e)
    {
        var buffer = new ArrayBufferWriter<byte>();
        EventBinary.Write(buffer, e);
        return buffer.WrittenSpan.ToArray();
    }

    private static Event Full() => new()
    {
        Id = "e-1",
        Type = EventTypes.Conversation,
        UserId = "用户-1",
        ItemId = "i\"1\\",
        Timestamp = new DateTimeOffset(2026, 11, 23, 9, 30, 15, TimeSpan.FromHours(8)).AddTicks(1234567),
        Scene = "home",
        Position = -3,
        RequestId = "r-1",
        Device = "ios",
        Ip = "10.0.0.1",
        UserAgent = "Mozilla/5.0",
        Value = 4.25,
        Properties = new() { ["channel"] = JsonSerializer.SerializeToElement("i2i,vector"), ["n"] = JsonSerializer.SerializeToElement(new[] { 1, 2 }) },
        Title = "标题 😀",
        Text = new string('x', 300),
        Category = "books",
        Tags = ["a", "标签", ""],
        Attributes = new() { ["price"] = JsonSerializer.SerializeToElement(9.99) },
        Deleted = false,
        SessionId = "s-1",
        Model = "m",
        Turns = [new ConversationTurn { Role = "user", Content = "hi" }],
        Feedback = "up",
    };

    [Fact]
    public void EveryField_RoundTrips_ToTheSameJson()
    {
        var e = Full();
        var bytes = Binary(e);
        Assert.True(EventBinary.IsBinary(bytes));
        var back = EventCodec.Decode(bytes);
        Assert.Equal(Json(e), Json(back));
        Assert.Equal(e.Timestamp.Offset, back.Timestamp.Offset);
        Assert.True(bytes.Length < Encoding.UTF8.GetByteCount(Json(e)), "binary should be smaller than JSON");
    }

    [Fact]
    public void RandomEvents_RoundTrip_AndMatchTheJsonPath()
    {
        var rng = new Random(17);
        string? Maybe(string s) => rng.Next(3) == 0 ? null : s + rng.Next(1000) + (rng.Next(4) == 0 ? "中文" : "");
        var types = new[] { EventTypes.Exposure, EventTypes.Click, EventTypes.Item, EventTypes.User, "custom_type", EventTypes.Rating };
        for (var i = 0; i < 500; i++)
        {
            var e = new Event
            {
                Type = types[rng.Next(types.Length)],
                Id = Maybe("id"),
                UserId = Maybe("u"),
                ItemId = Maybe("i"),
                Scene = Maybe("s"),
                RequestId = Maybe("r"),
                Device = Maybe("d"),
                Category = Maybe("c"),
                Title = Maybe("t"),
                Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + rng.NextInt64(1_000_000_000)).ToOffset(TimeSpan.FromMinutes(rng.Next(-12, 13) * 30)),
                Position = rng.Next(2) == 0 ? null : rng.Next(-5, 500),
                Value = rng.Next(2) == 0 ? null : rng.NextDouble() * 100,
                Deleted = rng.Next(3) switch { 0 => null, 1 => true, _ => false },
                Tags = rng.Next(2) == 0 ? null : [.. Enumerable.Range(0, rng.Next(4)).Select(t => "t" + t)],
                Properties = rng.Next(2) == 0 ? null : new() { ["k"] = JsonSerializer.SerializeToElement(rng.Next()) },
            };
            var bytes = Binary(e);
            Assert.Equal(Json(e), Json(EventCodec.Decode(bytes)));
            Assert.Equal(Json(e), Json(EventCodec.Decode(Encoding.UTF8.GetBytes(Json(e)))));
        }
    }

    [Fact]
    public void WriteExposure_IsTheRecordOfTheSameEvent()
    {
        var time = new DateTimeOffset(2026, 11, 23, 1, 2, 3, TimeSpan.Zero);
        var properties = """{"channel":"i2i","models":"als@v1"}"""u8;
        var buffer = new ArrayBufferWriter<byte>();
        EventBinary.WriteExposure(buffer, "u1", "i9", "home", 4, "r-1", null, time, properties);
        var e = new Event
        {
            Type = EventTypes.Exposure, UserId = "u1", ItemId = "i9", Scene = "home", Position = 4, RequestId = "r-1", Timestamp = time,
            Properties = JsonSerializer.Deserialize(properties, EventJsonContext.Default.DictionaryStringJsonElement),
        };
        Assert.Equal(Binary(e), buffer.WrittenSpan.ToArray());
    }

    [Fact]
    public void TruncatedOrPaddedRecords_AreRefused()
    {
        var bytes = Binary(Full());
        for (var n = 1; n < bytes.Length; n++)
        {
            Assert.ThrowsAny<JsonException>(() => EventCodec.Decode(bytes.AsSpan(0, n)));
        }

        Assert.ThrowsAny<JsonException>(() => EventCodec.Decode([.. bytes, 0]));
        var badType = (byte[])bytes.Clone();
        badType[1] = 200;
        Assert.ThrowsAny<JsonException>(() => EventCodec.Decode(badType));
    }

    [Fact]
    public void ReadInto_WithACache_ReusesStrings_AndCanSkipStructuredFields()
    {
        var bytes = Binary(Full());
        var cache = new Utf8StringCache();
        var a = new Event();
        var b = new Event();
        EventBinary.ReadInto(bytes, a, cache, structured: false);
        EventBinary.ReadInto(bytes, b, cache, structured: false);
        Assert.Same(a.UserId, b.UserId);
        Assert.Same(a.ItemId, b.ItemId);
        Assert.Equal("用户-1", a.UserId);
        Assert.Null(a.Properties);
        Assert.Null(a.Turns);
        Assert.Equal("hi", EventCodec.Decode(bytes).Turns![0].Content);
    }

    [Fact]
    public void ReadInto_AReusedEvent_KeepsARequestIdThatRepeats_AndReplacesOneThatChanges()
    {
        var time = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        byte[] Exposure(string item, string request) =>
            Binary(new Event { Type = EventTypes.Exposure, UserId = "u", ItemId = item, RequestId = request, Position = 0, Timestamp = time });
        var e = new Event();
        EventBinary.ReadInto(Exposure("i1", "请求-1"), e, null, structured: false);
        var first = e.RequestId;
        EventBinary.ReadInto(Exposure("i2", "请求-1"), e, null, structured: false);
        Assert.Same(first, e.RequestId); // one string per served list, not one per item
        EventBinary.ReadInto(Exposure("i3", "请求-2"), e, null, structured: false);
        Assert.Equal("请求-2", e.RequestId);
        EventBinary.ReadInto(Exposure("i4", "请求"), e, null, structured: false); // a prefix is not the same text
        Assert.Equal("请求", e.RequestId);
        Assert.Equal("i4", e.ItemId);
    }

    [Theory]
    [InlineData("""{"type":"click","itemId":"i"}""", "item", false)]
    [InlineData("""{"itemId":"i","type":"item"}""", "item", true)]
    [InlineData("""{"properties":{"type":"item"},"type":"click"}""", "item", false)]
    [InlineData("""{"type":"click","type":"item"}""", "item", true)]
    [InlineData("""{"type":"\u0069tem"}""", "item", true)]
    [InlineData("""{"itemId":"i"}""", "item", true)]
    [InlineData("""not json""", "item", true)]
    public void MayBeType_OnJson_SaysNoOnlyWhenCertain(string json, string type, bool expected) =>
        Assert.Equal(expected, EventCodec.MayBeType(Encoding.UTF8.GetBytes(json), Encoding.UTF8.GetBytes(type)));

    [Fact]
    public void MayBeType_OnBinary_ReadsTheTypeCode()
    {
        var click = Binary(new Event { Type = EventTypes.Click, UserId = "u", ItemId = "i" });
        var custom = Binary(new Event { Type = "custom", UserId = "u" });
        Assert.False(EventCodec.MayBeType(click, "item"u8));
        Assert.True(EventCodec.MayBeType(click, "click"u8));
        Assert.True(EventCodec.MayBeType(custom, "item"u8)); // named types are decoded to be sure
    }

    [Fact]
    public void StringCache_GivesEqualStrings_AlwaysAndTheSameInstance_WhileASetHoldsThem()
    {
        var cache = new Utf8StringCache(16);
        var ids = Enumerable.Range(0, 200).Select(i => i % 3 == 0 ? $"用户-{i}" : $"u{i}").ToArray();
        var rng = new Random(4);
        for (var n = 0; n < 5000; n++)
        {
            var id = ids[rng.Next(ids.Length)];
            Assert.Equal(id, cache.Get(Encoding.UTF8.GetBytes(id)));
        }

        var big = new Utf8StringCache(); // a shop's worth of ids fits
        var first = ids.Select(id => big.Get(Encoding.UTF8.GetBytes(id))).ToArray();
        Assert.All(ids.Select((id, i) => (id, i)), x => Assert.Same(first[x.i], big.Get(Encoding.UTF8.GetBytes(x.id))));
        Assert.Equal(new string('x', 300), big.Get(Encoding.UTF8.GetBytes(new string('x', 300)))); // too long to cache, still right
    }
}

