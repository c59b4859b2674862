using System.ComponentModel.DataAnnotations;

namespace Zhongtai.Events.Log;

/// <summary>When an append is acknowledged.</summary>
public enum Durability
{
    /// <summary>Acknowledge after fsync. Concurrent batches that arrive while a write is in flight share the next fsync. Default.</summary>
    Fsync,

    /// <summary>Like <see cref="Fsync"/>, but the writer waits <see cref="EventLogOptions.GroupCommitWindowMs"/> to gather more batches into one fsync.</summary>
    GroupCommit,

    /// <summary>Acknowledge once the OS has the bytes (no fsync): survives a process crash, not a power loss.</summary>
    OsBuffer,
}

/// <summary>Options of the embedded event log (configuration section <c>Events:Log</c>).</summary>
public sealed class EventLogOptions
{
    /// <summary>A segment is rolled once it holds this many bytes. Default 128 MiB.</summary>
    [Range(1024, long.MaxValue)]
    public long SegmentBytes { get; set; } = 128L << 20;

    /// <summary>When appends are acknowledged. Default <see cref="Durability.Fsync"/>: an acknowledged event is on disk.</summary>
    public Durability Durability { get; set; } = Durability.Fsync;

    /// <summary>With <see cref="Durability.GroupCommit"/>: how long the writer gathers batches before one fsync. Default 2 ms.</summary>
    [Range(0, 1000)]
    public int GroupCommitWindowMs { get; set; } = 2;

    /// <summary>Largest payload of one record. Default 1 MiB.</summary>
    [Range(16, 64 << 20)]
    public int MaxRecordBytes { get; set; } = 1 << 20;

    /// <summary>Sealed segments older than this many hours are deleted; 0 keeps them forever. Default 0.</summary>
    [Range(0, int.MaxValue)]
    public int RetentionHours { get; set; }

    /// <summary>Oldest sealed segments are deleted while the log is larger than this; 0 means no limit. Default 0.</summary>
    [Range(0, long.MaxValue)]
    public long RetentionBytes { get; set; }

    /// <summary>How long an idempotency key (a client-supplied event id) is remembered. Default 24 hours.</summary>
    [Range(0, int.MaxValue)]
    public int DedupWindowMinutes { get; set; } = 24 * 60;

    /// <summary>At most this many keys are remembered; the oldest are forgotten first. Default 20 million (about 1 GB).</summary>
    [Range(0, int.MaxValue)]
    public int DedupMaxKeys { get; set; } = 20_000_000;
}
