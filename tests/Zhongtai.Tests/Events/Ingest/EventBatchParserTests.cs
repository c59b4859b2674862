using System.Text;
using Zhongtai.Events;
using Zhongtai.Events.Ingest;

namespace Zhongtai.Tests.Events.Ingest;

public class EventBatchParserTests
{
    private static readonly IngestOptions Options = new();

    private static (List<Event> Events, List<EventError> Errors) Parse(string body, IngestOptions? options = null) => Parse(Encoding.UTF8.GetBytes(body), options);

    private static (List<Event> Events, List<EventError> Errors) Parse(byte[] body, IngestOptions? options = null)
    {
        var errors = new List<EventError>();
        var events = EventBatchParser.Parse(body, options ?? Options, errors);
        return (events, errors);
    }

    [Fact]
    public void JsonArray_ParsesEachEvent()
    {
        var (events, errors) = Parse("""[{"type":"click","userId":"u","itemId":"i","timestamp":"2026-11-22T10:00:00Z"}, {"type":"like","userId":"u","itemId":"j","timestamp":"2026-11-22T10:00:01Z"}]""");
        Assert.Empty(errors);
        Assert.Equal(["click", "like"], events.Select(e => e.Type));
    }

    [Fact]
    public void Ndjson_ParsesEachLine_AndSkipsBlankLines()
    {
        var (events, errors) = Parse("{\"type\":\"click\",\"userId\":\"u\",\"itemId\":\"i\",\"timestamp\":\"2026-11-22T10:00:00Z\"}\n\n{\"type\":\"dwell\",\"userId\":\"u\",\"itemId\":\"i\",\"value\":3.5,\"timestamp\":\"2026-11-22T10:00:00Z\"}\r\n");
        Assert.Empty(errors);
        Assert.Equal(2, events.Count);
        Assert.Equal(3.5, events[1].Value);
    }

    [Fact]
    public void MalformedJson_IsOneBodyError()
    {
        var (_, errors) = Parse("""[{"type":"click",""");
        var error = Assert.Single(errors);
        Assert.Equal(-1, error.Index);
        Assert.Equal("malformed_json", error.Code);
    }

    [Fact]
    public void InvalidUtf8_IsRejected()
    {
        var body = Encoding.UTF8.GetBytes("""[{"type":"click","userId":"X"}]""");
        body[Array.IndexOf(body, (byte)'X')] = 0xFF;
        Assert.Equal("invalid_utf8", Assert.Single(Parse(body).Errors).Code);
    }

    [Fact]
    public void WrongType_PointsAtTheEventAndField()
    {
        var (_, errors) = Parse("""[{"type":"click","userId":"u","itemId":"i","timestamp":"2026-11-22T10:00:00Z"},{"type":"click","position":"third"}]""");
        var error = Assert.Single(errors);
        Assert.Equal((1, "position", "invalid_value"), (error.Index, error.Field, error.Code));
    }

    [Fact]
    public void UnknownField_IsNamed()
    {
        var error = Assert.Single(Parse("""[{"type":"click","colour":"red"}]""").Errors);
        Assert.Equal(("colour", "unknown_field"), (error.Field, error.Code));
    }

    [Fact]
    public void OversizedEvent_IsTooLarge()
    {
        var big = new string('x', 70_000);
        var error = Assert.Single(Parse($$"""[{"type":"item","itemId":"i","title":"{{big}}"}]""").Errors);
        Assert.Equal((0, "too_large"), (error.Index, error.Code));
    }

    [Fact]
    public void TooManyEvents_IsRejected()
    {
        var body = "[" + string.Join(",", Enumerable.Repeat("""{"type":"click"}""", 4)) + "]";
        var (_, errors) = Parse(body, new IngestOptions { MaxEventsPerBatch = 3 });
        Assert.Contains(errors, e => e.Code == "too_many_events");
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n")]
    public void EmptyBody_IsRejected(string body) => Assert.Equal("empty_body", Assert.Single(Parse(body).Errors).Code);

    [Fact]
    public void NonObjectElement_IsInvalid() =>
        Assert.Equal((0, "invalid_value"), (Assert.Single(Parse("[42]").Errors).Index, Assert.Single(Parse("[42]").Errors).Code));
}
