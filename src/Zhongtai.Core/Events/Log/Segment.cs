using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Zhongtai.Events.Log;

/// <summary>
/// One segment file: a run of framed records starting at <see cref="BaseOffset"/>.
/// Frame (little-endian): u32 payload length, u32 CRC-32C of everything after it, i64 offset,
/// i64 ingest time (Unix ms), u128 idempotency key, payload.
/// </summary>
internal sealed class Segment : IDisposable
{
    public const int HeaderSize = 40;
    private const int IndexIntervalBytes = 64 * 1024;

    private readonly Lock _indexLock = new();
    private List<(long Offset, long Position)>? _index;
    private long _indexedUpTo; // position up to which the sparse index is complete
    private long _indexedNextOffset;
    private long _lastIndexedPosition = -IndexIntervalBytes;

    public Segment(string path, long baseOffset)
    {
        Path = path;
        BaseOffset = baseOffset;
        _indexedNextOffset = baseOffset;
    }

    public string Path { get; }
    public long BaseOffset { get; }

    /// <summary>Bytes of complete, durable records.</summary>
    public long Length { get; set; }

    /// <summary>The offset the next record in this segment would get.</summary>
    public long NextOffset { get; set; }

    public SafeFileHandle? WriteHandle { get; set; }

    public static string FileName(long baseOffset) => $"{baseOffset:D20}.log";

    public static void WriteHeader(Span<byte> header, int length, long offset, long ingestMs, UInt128 key, ReadOnlySpan<byte> payload)
    {
        BinaryPrimitives.WriteInt32LittleEndian(header, length);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], offset);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], ingestMs);
        BinaryPrimitives.WriteUInt128LittleEndian(header[24..], key);
        var crc = Crc32C.Append(~0u, header[8..HeaderSize]);
        crc = ~Crc32C.Append(crc, payload);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], crc);
    }

    /// <summary>Checks one frame in <paramref name="buffer"/>; returns the frame size, 0 if the buffer holds too little, -1 if the frame is bad.</summary>
    public static int CheckFrame(ReadOnlySpan<byte> buffer, long expectedOffset, int maxRecordBytes, out long ingestMs, out UInt128 key)
    {
        ingestMs = 0;
        key = 0;
        if (buffer.Length < HeaderSize)
        {
            return 0;
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(buffer);
        if (length < 0 || length > maxRecordBytes)
        {
            return -1;
        }

        var offset = BinaryPrimitives.ReadInt64LittleEndian(buffer[8..]);
        if (offset != expectedOffset)
        {
            return -1;
        }

        if (buffer.Length < HeaderSize + length)
        {
            return 0;
        }

        var crc = ~Crc32C.Append(~0u, buffer[8..(HeaderSize + length)]);
        if (crc != BinaryPrimitives.ReadUInt32LittleEndian(buffer[4..]))
        {
            return -1;
        }

        ingestMs = BinaryPrimitives.ReadInt64LittleEndian(buffer[16..]);
        key = BinaryPrimitives.ReadUInt128LittleEndian(buffer[24..]);
        return HeaderSize + length;
    }

    /// <summary>Records that a frame for <paramref name="offset"/> starts at <paramref name="position"/> (appends and scans call this in order).</summary>
    public void NoteFrame(long offset, long position, long frameSize)
    {
        lock (_indexLock)
        {
            if (position < _indexedUpTo)
            {
                return;
            }

            _index ??= [];
            if (position - _lastIndexedPosition >= IndexIntervalBytes)
            {
                _index.Add((offset, position));
                _lastIndexedPosition = position;
            }

            _indexedUpTo = position + frameSize;
            _indexedNextOffset = offset + 1;
        }
    }

    /// <summary>The position of a frame at or before <paramref name="offset"/>, and that frame's offset.</summary>
    public (long Offset, long Position) Seek(long offset, int maxRecordBytes)
    {
        EnsureIndexed(maxRecordBytes);
        lock (_indexLock)
        {
            var index = _index!;
            int lo = 0, hi = index.Count - 1, best = -1;
            while (lo <= hi)
            {
                var mid = (lo + hi) >>> 1;
                if (index[mid].Offset <= offset)
                {
                    best = mid;
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }

            return best < 0 ? (BaseOffset, 0) : index[best];
        }
    }

    /// <summary>Builds the sparse index of a sealed segment by scanning its frames once.</summary>
    private void EnsureIndexed(int maxRecordBytes)
    {
        long position, next;
        lock (_indexLock)
        {
            _index ??= [];
            if (_indexedUpTo >= Length)
            {
                return;
            }

            position = _indexedUpTo;
            next = _indexedNextOffset;
        }

        foreach (var (offset, pos, size, _) in Scan(position, next, Length, maxRecordBytes, readPayload: false))
        {
            NoteFrame(offset, pos, size);
        }
    }

    /// <summary>Reads frames from <paramref name="position"/> (which holds <paramref name="offset"/>) up to <paramref name="end"/>; throws on a bad frame.</summary>
    public IEnumerable<(long Offset, long Position, int Size, LogRecord? Record)> Scan(long position, long offset, long end, int maxRecordBytes, bool readPayload)
    {
        using var stream = new FileStream(Path, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.ReadWrite | FileShare.Delete,
            BufferSize = 0,
            Options = FileOptions.SequentialScan,
        });
        var buffer = new byte[Math.Max(1 << 20, HeaderSize + maxRecordBytes)];
        int filled = 0, start = 0;
        var bufferPosition = position; // file position of buffer[0]
        stream.Position = position;
        while (position < end)
        {
            var frame = CheckFrame(buffer.AsSpan(start, filled - start), offset, maxRecordBytes, out var ingestMs, out var key);
            if (frame == 0)
            {
                // Need more bytes: compact and refill.
                Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
                bufferPosition += start;
                filled -= start;
                start = 0;
                var toRead = (int)Math.Min(buffer.Length - filled, end - (bufferPosition + filled));
                var read = toRead <= 0 ? 0 : stream.Read(buffer, filled, toRead);
                if (read == 0)
                {
                    throw new CorruptLogException($"Segment {Path} ends inside the record at offset {offset} (position {position}).");
                }

                filled += read;
                continue;
            }

            if (frame < 0)
            {
                throw new CorruptLogException($"Segment {Path} has a corrupt record at offset {offset} (position {position}): bad length, offset or CRC-32C.");
            }

            LogRecord? record = null;
            if (readPayload)
            {
                var payload = buffer.AsSpan(start + HeaderSize, frame - HeaderSize).ToArray();
                record = new LogRecord(offset, ingestMs, key, payload);
            }

            yield return (offset, position, frame, record);
            start += frame;
            position += frame;
            offset++;
        }
    }

    /// <summary>Scans a segment that may have a torn tail; returns the end of the last good frame and the next offset.</summary>
    public (long Length, long NextOffset, long LastIngestMs) Recover(int maxRecordBytes)
    {
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var buffer = new byte[Math.Max(1 << 20, HeaderSize + maxRecordBytes)];
        long position = 0, offset = BaseOffset, lastIngest = 0;
        int filled = 0, start = 0;
        var eof = false;
        while (true)
        {
            var frame = CheckFrame(buffer.AsSpan(start, filled - start), offset, maxRecordBytes, out var ingestMs, out _);
            if (frame > 0)
            {
                NoteFrame(offset, position, frame);
                start += frame;
                position += frame;
                offset++;
                lastIngest = ingestMs;
                continue;
            }

            if (frame < 0 || eof)
            {
                return (position, offset, lastIngest);
            }

            Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
            filled -= start;
            start = 0;
            var read = stream.Read(buffer, filled, buffer.Length - filled);
            eof = read == 0;
            filled += read;
        }
    }

    public void Dispose() => WriteHandle?.Dispose();
}
