using System.Text.Json;
using Zhongtai.Events;

namespace Zhongtai.Tests.Events;

public class EventJsonTests
{
    [Fact]
    public void Deserialize_BehaviourEvent_ReadsCamelCaseFields()
    {
        const string json = """{"id":"e1","type":"click","userId":"u1","itemId":"i9","timestamp":"2026-11-22T10:00:00Z","scene":"home","position":3,"requestId":"r1"}""";
        var e = JsonSerializer.Deserialize(json, EventJsonContext.Default.Event)!;
        Assert.Equal("e1", e.Id);
        Assert.Equal(EventTypes.Click, e.Type);
        Assert.Equal(3, e.Position);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero), e.Timestamp);
    }
}
