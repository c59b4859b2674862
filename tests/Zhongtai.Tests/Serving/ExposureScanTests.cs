using System.Text;
using System.Text.Json;
using Zhongtai.Events;
using Zhongtai.Events.Ingest;
using Zhongtai.Serving;

namespace Zhongtai.Tests.Serving;

public class ExposureScanTests
{
    [Fact]
    public void TheScan_ReadsWhatTheFullDecodeReads_OrDeclines()
    {
        var t = new DateTimeOffset(2026, 11, 22, 23, 0, 5, TimeSpan.FromHours(8));
        var encoded = new[]
        {
            new Event { Type = EventTypes.Exposure, UserId = "u1", ItemId = "i9", Scene = "home", Position = 3, RequestId = "r-1", Device = "ios", Timestamp = t,
                Properties = new Dictionary<string, JsonElement> { ["channel"] = JsonSerializer.SerializeToElement("i2i,graph", EventJsonContext.Default.String) } },
            new Event { Type = EventTypes.Exposure, UserId = "用户\"7", ItemId = "i/\\x", Timestamp = t.AddDays(-400) },
            new Event { Type = EventTypes.Click, UserId = "u1", ItemId = "i9", RequestId = "r-1", Timestamp = t },
            new Event { Type = EventTypes.Item, ItemId = "i9", Category = "exposure", Timestamp = t },
        };
        var binary = encoded.Select(e =>
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            EventBinary.Write(buffer, e);
            return buffer.WrittenSpan.ToArray();
        }).ToList();
        var json = encoded.Select(e => JsonSerializer.SerializeToUtf8Bytes(e, EventJsonContext.Default.Event)).ToList();
        var handWritten = new[]
        {
            """{"type":"exposure","userId":"u2","itemId":"i3","timestamp":"2026-11-22T10:00:00Z","properties":{"a":[1,{"b":null}]}}""",
            """{"timestamp":"2026-11-22T10:00:00.123+05:30","itemId":"i3","userId":"u2","type":"exposure"}""",
            """{"type":"exposure","userId":null,"itemId":"i3","timestamp":"2026-11-22T10:00:00Z"}""",
            """{"type":"expo\u0073ure","userId":"u2","itemId":"i3","timestamp":"2026-11-22T10:00:00Z"}""",
            """{"type":"exposure","user\u0049d":"u2","itemId":"i3","timestamp":"2026-11-22T10:00:00Z"}""",
            """{"type":"exposure","userId":"u2","itemId":"i3"}""",
            """{"type":"exposure","userId":"u2","userId":"u3","itemId":"i3","timestamp":"2026-11-22T10:00:00Z"}""",
            """{"type":"click","userId":"u2","itemId":"i3","timestamp":"2026-11-22T10:00:00Z"}""",
            """[1,2]""",
        }.Select(Encoding.UTF8.GetBytes);

        var scan = new ExposureScan();
        var scanned = 0;
        foreach (var payload in json.Concat(handWritten).Concat(binary))
        {
            if (!scan.TryRead(payload, out var user, out var item, out var seconds))
            {
                continue;
            }

            scanned++;
            var e = EventCodec.Decode(payload);
            Assert.Equal(EventTypes.Exposure, e.Type);
            Assert.Equal(e.UserId, user);
            Assert.Equal(e.ItemId, item);
            Assert.Equal(e.Timestamp.ToUnixTimeSeconds(), seconds);
        }

        foreach (var records in new[] { json, binary })
        {
            Assert.True(scan.TryRead(records[0], out _, out _, out _), "the codec's own exposures take the fast path");
            Assert.True(scan.TryRead(records[1], out var escapedUser, out var escapedItem, out _));
            Assert.Equal(("用户\"7", "i/\\x"), (escapedUser, escapedItem));
            Assert.False(scan.TryRead(records[2], out _, out _, out _)); // a click is decoded whole
            Assert.False(scan.TryRead(records[3], out _, out _, out _));
        }

        Assert.Equal(7, scanned); // 2 JSON + 2 binary exposures + first three hand-written; escaped names/values, no timestamp, duplicates, other types decline
    }
}
