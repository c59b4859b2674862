using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Zhongtai.Events;
using Zhongtai.Events.Ingest;
using Zhongtai.Events.Log;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Events.Ingest;

public class EventIngestorTests
{
    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));

    private static async Task<List<Event>> IngestAndReadBack(string body)
    {
        using var dir = new TempDirectory();
        await using var log = EventLog.Open(dir.Path, new EventLogOptions(), Time, NullLogger.Instance);
        var ingestor = new EventIngestor(log, new IngestOptions(), Time);
        await ingestor.IngestAsync(Encoding.UTF8.GetBytes(body), backfill: false, CancellationToken.None);
        return [.. log.ReadEvents(0).Select(e => e.Event)];
    }

    [Fact]
    public async Task ArrayBody_IsStoredAsReceived_AndDecodesToTheSameEvents()
    {
        var events = await IngestAndReadBack("""[ {"id":"a","type":"click","userId":"u1","itemId":"i1","timestamp":"2026-11-22T11:00:00+08:00"} ,{"type":"dwell","userId":"用户","itemId":"i2","value":12.5,"timestamp":"2026-11-22T11:59:00Z","properties":{"k":[1,2]}}]""");
        Assert.Equal(2, events.Count);
        Assert.Equal(("a", "click", new DateTimeOffset(2026, 11, 22, 3, 0, 0, TimeSpan.Zero)), (events[0].Id, events[0].Type, events[0].Timestamp.ToUniversalTime()));
        Assert.Null(events[1].Id);
        Assert.Equal(("用户", 12.5), (events[1].UserId, events[1].Value));
        Assert.Equal("[1,2]", events[1].Properties!["k"].GetRawText());
    }

    [Fact]
    public async Task NdjsonBody_EachLineIsStoredIntact()
    {
        var lines = Enumerable.Range(0, 5).Select(i => $$"""{"id":"n{{i}}","type":"like","userId":"u{{i}}","itemId":"i{{i}}","timestamp":"2026-11-22T11:00:0{{i}}Z"}""");
        var events = await IngestAndReadBack(string.Join("\r\n", lines) + "\n");
        Assert.Equal(["n0", "n1", "n2", "n3", "n4"], events.Select(e => e.Id));
        Assert.Equal(["u0", "u1", "u2", "u3", "u4"], events.Select(e => e.UserId));
    }

    [Fact]
    public async Task InProcessEvents_AreSerialized()
    {
        using var dir = new TempDirectory();
        await using var log = EventLog.Open(dir.Path, new EventLogOptions(), Time, NullLogger.Instance);
        var ingestor = new EventIngestor(log, new IngestOptions(), Time);
        var result = await ingestor.IngestAsync([new Event { Id = "x", Type = "item", ItemId = "i1", Title = "标题", Timestamp = Time.GetUtcNow() }], false, CancellationToken.None);
        Assert.Equal(1, result.Accepted);
        Assert.Equal("标题", log.ReadEvents(0).Single().Event.Title);
    }

    [Fact]
    public async Task InvalidBatch_WritesNothing()
    {
        using var dir = new TempDirectory();
        await using var log = EventLog.Open(dir.Path, new EventLogOptions(), Time, NullLogger.Instance);
        var ingestor = new EventIngestor(log, new IngestOptions(), Time);
        var body = """[{"type":"click","userId":"u","itemId":"i","timestamp":"2026-11-22T11:00:00Z"},{"type":"click"}]""";
        var ex = await Assert.ThrowsAsync<EventBatchException>(() => ingestor.IngestAsync(Encoding.UTF8.GetBytes(body), false, CancellationToken.None));
        Assert.All(ex.Errors, e => Assert.Equal(1, e.Index));
        Assert.Equal(0, log.Count);
    }
}
