namespace Zhongtai.Events.Log;

/// <summary>One durable record of the log.</summary>
/// <param name="Offset">Its position in the log: dense, starting at 0, never reused.</param>
/// <param name="IngestTimeMs">When the log accepted it (Unix milliseconds).</param>
/// <param name="Key">Its idempotency key, or zero.</param>
/// <param name="Payload">The bytes appended (a UTF-8 JSON event for the event log).</param>
public sealed record LogRecord(long Offset, long IngestTimeMs, UInt128 Key, ReadOnlyMemory<byte> Payload);

/// <summary>What an append did.</summary>
/// <param name="Offsets">The offset of each appended record, in order; a duplicate gets the offset of its first copy.</param>
/// <param name="Duplicates">How many records were already in the log (same idempotency key within the window).</param>
public sealed record AppendResult(long[] Offsets, int Duplicates)
{
    /// <summary>How many records this append wrote.</summary>
    public int Written => Offsets.Length - Duplicates;
}

/// <summary>A record failed its checksum or framing: the log never serves it.</summary>
public sealed class CorruptLogException(string message) : IOException(message);

/// <summary>The log hit an I/O error it cannot recover from in-process (a failed fsync); restart to recover.</summary>
public sealed class LogFaultedException(string message, Exception? inner) : IOException(message, inner);
