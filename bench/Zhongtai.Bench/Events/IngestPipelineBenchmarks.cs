using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Zhongtai.Events;
using Zhongtai.Events.Ingest;
using Zhongtai.Events.Log;

namespace Zhongtai.Bench.Events;

/// <summary>CPU cost of one batch of 1,000 events through parse → validate → encode → append (OsBuffer: no fsync), and of CRC-32C.</summary>
[MemoryDiagnoser]
public class IngestPipelineBenchmarks
{
    private byte[] _body = [];
    private byte[] _frame = [];
    private EventIngestor _ingestor = null!;
    private EventLog _log = null!;
    private string _dir = "";

    [GlobalSetup]
    public void Setup()
    {
        var now = TimeProvider.System.GetUtcNow();
        var random = new Random(42);
        var events = Enumerable.Range(0, 1000).Select(i => new Event
        {
            Type = i % 3 == 0 ? "click" : "exposure",
            UserId = "u" + random.Next(1_000_000),
            ItemId = "i" + random.Next(100_000),
            Timestamp = now.AddSeconds(-random.Next(600)),
            Scene = "home",
            Position = random.Next(20),
            RequestId = "r" + random.Next(),
            Device = "ios",
        });
        _body = Encoding.UTF8.GetBytes("[" + string.Join(",", events.Select(e => JsonSerializer.Serialize(e, EventJsonContext.Default.Event))) + "]");
        _frame = new byte[200_000];
        random.NextBytes(_frame);
        _dir = Path.Combine(Path.GetTempPath(), "zt-bench-pipeline-" + Guid.NewGuid().ToString("N"));
        _log = EventLog.Open(_dir, new EventLogOptions { Durability = Durability.OsBuffer, SegmentBytes = 64 << 20, RetentionBytes = 256L << 20 }, TimeProvider.System, NullLogger.Instance);
        _ingestor = new EventIngestor(_log, new IngestOptions(), TimeProvider.System);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _log.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = 1000, Description = "parse only, per event")]
    public int Parse()
    {
        var errors = new List<EventError>();
        return EventBatchParser.Parse(_body, _ingestor.Options, errors).Count;
    }

    [Benchmark(OperationsPerInvoke = 1000, Description = "parse+validate+encode+append, per event")]
    public Task<IngestResult> Ingest() => _ingestor.IngestAsync(_body, backfill: false, CancellationToken.None);

    [Benchmark(Description = "CRC-32C of 200 KB")]
    public uint Crc() => Crc32C.Compute(_frame);
}
