using System.Buffers;
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

        using var cursor = new SegmentCursor(this, position, next, Length, maxRecordBytes);
        while (cursor.TryNext(out var offset, out var pos, out var size, out _, out _, out _))
        {
            NoteFrame(offset, pos, size);
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

/// <summary>
/// Reads the frames of one segment in order, from a frame boundary up to an end position, through a pooled buffer
/// that grows only to fit a frame: a payload is handed out as a span over that buffer, valid until the next call.
/// Throws <see cref="CorruptLogException"/> on a bad or torn frame.
/// </summary>
internal sealed class SegmentCursor : IDisposable
{
    private const int InitialBuffer = 128 * 1024;
    private readonly Segment _segment;
    private readonly FileStream _stream;
    private readonly long _end;
    private readonly int _maxRecordBytes;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialBuffer);
    private int _filled, _start;
    private long _bufferPosition, _position, _offset;

    public SegmentCursor(Segment segment, long position, long offset, long end, int maxRecordBytes)
    {
        _segment = segment;
        _position = _bufferPosition = position;
        _offset = offset;
        _end = end;
        _maxRecordBytes = maxRecordBytes;
        _stream = new FileStream(segment.Path, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.ReadWrite | FileShare.Delete,
            BufferSize = 0,
            Options = FileOptions.SequentialScan,
        });
        _stream.Position = position;
    }

    /// <summary>The next frame, or false at the end position.</summary>
    public bool TryNext(out long offset, out long position, out int size, out long ingestMs, out UInt128 key, out ReadOnlySpan<byte> payload)
    {
        offset = _offset;
        position = _position;
        payload = default;
        size = 0;
        ingestMs = 0;
        key = 0;
        if (_position >= _end)
        {
            return false;
        }

        while (true)
        {
            var frame = Segment.CheckFrame(_buffer.AsSpan(_start, _filled - _start), _offset, _maxRecordBytes, out ingestMs, out key);
            if (frame > 0)
            {
                size = frame;
                payload = _buffer.AsSpan(_start + Segment.HeaderSize, frame - Segment.HeaderSize);
                _start += frame;
                _position += frame;
                _offset++;
                return true;
            }

            if (frame < 0)
            {
                throw new CorruptLogException($"Segment {_segment.Path} has a corrupt record at offset {_offset} (position {_position}): bad length, offset or CRC-32C.");
            }

            Refill();
        }
    }

    private void Refill()
    {
        var left = _filled - _start;
        if (_start == 0 && _filled == _buffer.Length)
        {
            // One frame is larger than the buffer: grow it (a frame never exceeds the header plus MaxRecordBytes).
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(_buffer.Length * 2, Segment.HeaderSize + _maxRecordBytes));
            Buffer.BlockCopy(_buffer, 0, bigger, 0, left);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        else
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, left);
        }

        _bufferPosition += _start;
        _filled = left;
        _start = 0;
        var toRead = (int)Math.Min(_buffer.Length - _filled, _end - (_bufferPosition + _filled));
        var read = toRead <= 0 ? 0 : _stream.Read(_buffer, _filled, toRead);
        if (read == 0)
        {
            throw new CorruptLogException($"Segment {_segment.Path} ends inside the record at offset {_offset} (position {_position}).");
        }

        _filled += read;
    }

    public void Dispose()
    {
        _stream.Dispose();
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}
