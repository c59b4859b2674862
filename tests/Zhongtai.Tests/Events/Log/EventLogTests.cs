using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Zhongtai.Events.Log;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Events.Log;

public class EventLogTests
{
    private static EventLog Open(string dir, EventLogOptions? options = null, TimeProvider? time = null) =>
        EventLog.Open(dir, options ?? new EventLogOptions(), time ?? TimeProvider.System, NullLogger.Instance);

    private static ReadOnlyMemory<byte>[] Payloads(int start, int count) =>
        [.. Enumerable.Range(start, count).Select(i => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes($"record-{i}"))];

    private static string Text(LogRecord r) => Encoding.UTF8.GetString(r.Payload.Span);

    [Fact]
    public async Task Append_ThenRead_ReturnsRecordsWithDenseOffsets()
    {
        using var dir = new TempDirectory();
        await using var log = Open(dir.Path);
        var a = await log.AppendAsync(Payloads(0, 3));
        var b = await log.AppendAsync(Payloads(3, 2));
        Assert.Equal([0L, 1, 2], a.Offsets);
        Assert.Equal([3L, 4], b.Offsets);
        Assert.Equal(5, log.Count);
        var all = log.Read(0).ToList();
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"record-{i}"), all.Select(Text));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => (long)i), all.Select(r => r.Offset));
        Assert.Equal(["record-3"], log.Read(3, 4).Select(Text));
    }

    [Fact]
    public async Task ConcurrentAppends_GetDistinctOffsets_AndAllAreReadable()
    {
        using var dir = new TempDirectory();
        await using var log = Open(dir.Path);
        var tasks = Enumerable.Range(0, 16).Select(t => Task.Run(async () =>
        {
            var offsets = new List<long>();
            for (var i = 0; i < 50; i++)
            {
                offsets.AddRange((await log.AppendAsync(Payloads((t * 1000) + (i * 10), 10))).Offsets);
            }

            return offsets;
        })).ToArray();
        var offsets = (await Task.WhenAll(tasks)).SelectMany(o => o).ToList();
        Assert.Equal(8000, offsets.Distinct().Count());
        Assert.Equal(Enumerable.Range(0, 8000).Select(i => (long)i), offsets.Order());
        Assert.Equal(8000, log.Read(0).Count());
    }

    [Fact]
    public async Task Reopen_KeepsRecords_AndContinuesOffsets()
    {
        using var dir = new TempDirectory();
        await using (var log = Open(dir.Path))
        {
            await log.AppendAsync(Payloads(0, 10));
        }

        await using var reopened = Open(dir.Path);
        Assert.Equal(10, reopened.NextOffset);
        var appended = await reopened.AppendAsync(Payloads(10, 1));
        Assert.Equal([10L], appended.Offsets);
        Assert.Equal(11, reopened.Read(0).Count());
    }

    [Fact]
    public async Task SmallSegments_RollAndReadAcrossSegments()
    {
        using var dir = new TempDirectory();
        var options = new EventLogOptions { SegmentBytes = 2048 };
        await using (var log = Open(dir.Path, options))
        {
            for (var i = 0; i < 100; i++)
            {
                await log.AppendAsync(Payloads(i * 5, 5));
            }

            Assert.True(Directory.GetFiles(dir.Path, "*.log").Length > 5);
            Assert.Equal(["record-250", "record-251"], log.Read(250, 252).Select(Text));
        }

        await using var reopened = Open(dir.Path, options);
        Assert.Equal(500, reopened.Read(0).Count());
        Assert.Equal(Enumerable.Range(123, 300).Select(i => $"record-{i}"), reopened.Read(123, 423).Select(Text));
    }

    [Theory]
    [InlineData(1)]   // a torn header
    [InlineData(30)]  // a header without its payload
    [InlineData(45)]  // a frame cut inside its payload
    public async Task TornTail_IsTruncatedOnOpen_AndEarlierRecordsSurvive(int tornBytes)
    {
        using var dir = new TempDirectory();
        await using (var log = Open(dir.Path))
        {
            await log.AppendAsync(Payloads(0, 20));
            await log.AppendAsync([new byte[100]]);
        }

        var segment = Directory.GetFiles(dir.Path, "*.log").Single();
        var length = new FileInfo(segment).Length;
        using (var fs = new FileStream(segment, FileMode.Open))
        {
            fs.SetLength(length - 140 + tornBytes); // the last frame is 40 + 100 bytes
        }

        await using var reopened = Open(dir.Path);
        Assert.Equal(20, reopened.NextOffset);
        Assert.Equal(length - 140, new FileInfo(segment).Length);
        var appended = await reopened.AppendAsync(Payloads(20, 1));
        Assert.Equal([20L], appended.Offsets);
        Assert.Equal(21, reopened.Read(0).Count());
    }

    [Fact]
    public async Task GarbageAfterTail_IsTruncatedOnOpen()
    {
        using var dir = new TempDirectory();
        await using (var log = Open(dir.Path))
        {
            await log.AppendAsync(Payloads(0, 5));
        }

        var segment = Directory.GetFiles(dir.Path, "*.log").Single();
        await File.AppendAllTextAsync(segment, new string('x', 500));
        await using var reopened = Open(dir.Path);
        Assert.Equal(5, reopened.NextOffset);
        Assert.Equal(5, reopened.Read(0).Count());
    }

    [Fact]
    public async Task CorruptRecordInSealedSegment_IsNeverServed()
    {
        using var dir = new TempDirectory();
        var options = new EventLogOptions { SegmentBytes = 1024 };
        await using (var log = Open(dir.Path, options))
        {
            for (var i = 0; i < 60; i++)
            {
                await log.AppendAsync(Payloads(i, 1));
            }
        }

        var first = Directory.GetFiles(dir.Path, "*.log").Order(StringComparer.Ordinal).First();
        var bytes = await File.ReadAllBytesAsync(first);
        bytes[Segment.HeaderSize + 3] ^= 0xFF; // flip a payload byte of record 0
        await File.WriteAllBytesAsync(first, bytes);

        await using var reopened = Open(dir.Path, options);
        var ex = Assert.Throws<CorruptLogException>(() => reopened.Read(0).ToList());
        Assert.Contains("offset 0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keys_DeduplicateWithinWindow_AcrossRestart()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero));
        var options = new EventLogOptions { DedupWindowMinutes = 60 };
        UInt128[] keys = [11, 12];
        await using (var log = Open(dir.Path, options, time))
        {
            var first = await log.AppendAsync(Payloads(0, 2), keys);
            Assert.Equal(0, first.Duplicates);
            var again = await log.AppendAsync(Payloads(0, 2), keys);
            Assert.Equal(2, again.Duplicates);
            Assert.Equal(first.Offsets, again.Offsets);
        }

        await using (var reopened = Open(dir.Path, options, time))
        {
            var retry = await reopened.AppendAsync(Payloads(0, 3), [11, 12, 13]);
            Assert.Equal(2, retry.Duplicates);
            Assert.Equal([0L, 1, 2], retry.Offsets);
            Assert.Equal(3, reopened.Count);
        }

        time.Advance(TimeSpan.FromMinutes(61));
        await using var later = Open(dir.Path, options, time);
        Assert.Equal(0, (await later.AppendAsync(Payloads(0, 1), [11])).Duplicates);
    }

    [Fact]
    public async Task DuplicateKeysInsideOneBatch_AreWrittenOnce()
    {
        using var dir = new TempDirectory();
        await using var log = Open(dir.Path);
        var result = await log.AppendAsync(Payloads(0, 3), [5, 5, 6]);
        Assert.Equal(1, result.Duplicates);
        Assert.Equal([0L, 0, 1], result.Offsets);
        Assert.Equal(2, log.Count);
    }

    [Fact]
    public async Task Consumer_ResumesFromCommittedOffset()
    {
        using var dir = new TempDirectory();
        await using (var log = Open(dir.Path))
        {
            await log.AppendAsync(Payloads(0, 10));
            var consumer = log.Consumer("nearline");
            Assert.Equal(4, consumer.Poll(4).Count);
            consumer.Commit();
            Assert.Equal(3, consumer.Poll(3).Count); // read but not committed
        }

        await using var reopened = Open(dir.Path);
        var resumed = reopened.Consumer("nearline");
        Assert.Equal(4, resumed.Committed);
        Assert.Equal(["record-4", "record-5"], resumed.Poll(2).Select(Text));
        Assert.Equal(4, resumed.Lag);
    }

    [Fact]
    public async Task Consumer_PollAsync_WakesOnNewData()
    {
        using var dir = new TempDirectory();
        await using var log = Open(dir.Path);
        var consumer = log.Consumer("tail");
        var waiting = consumer.PollAsync(10, CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        await log.AppendAsync(Payloads(0, 2));
        var records = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, records.Count);
    }

    [Fact]
    public void Consumer_BadName_IsRejected()
    {
        using var dir = new TempDirectory();
        var log = Open(dir.Path);
        Assert.Throws<ArgumentException>(() => log.Consumer("../escape"));
    }

    [Fact]
    public async Task Retention_BySize_DeletesOldestSealedSegments()
    {
        using var dir = new TempDirectory();
        var options = new EventLogOptions { SegmentBytes = 1024, RetentionBytes = 4096 };
        await using var log = Open(dir.Path, options);
        for (var i = 0; i < 200; i++)
        {
            await log.AppendAsync(Payloads(i, 1));
        }

        Assert.True(log.StartOffset > 0);
        Assert.Equal(200, log.NextOffset);
        Assert.True(Directory.GetFiles(dir.Path, "*.log").Sum(f => new FileInfo(f).Length) <= 4096 + 1024);
        Assert.Equal(log.Count, log.Read(log.StartOffset).Count());
        Assert.Throws<ArgumentOutOfRangeException>(() => log.Read(0).ToList());
    }

    [Fact]
    public async Task OversizedRecord_IsRejected()
    {
        using var dir = new TempDirectory();
        await using var log = Open(dir.Path, new EventLogOptions { MaxRecordBytes = 100 });
        await Assert.ThrowsAsync<ArgumentException>(async () => await log.AppendAsync([new byte[101]]));
    }
}
