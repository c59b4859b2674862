namespace Zhongtai.Events.Log;

/// <summary>One record as a <see cref="LogReader"/> hands it out: the payload is valid until the reader's next call.</summary>
public readonly ref struct LogRecordView(long offset, long ingestTimeMs, UInt128 key, ReadOnlySpan<byte> payload)
{
    public long Offset { get; } = offset;
    public long IngestTimeMs { get; } = ingestTimeMs;
    public UInt128 Key { get; } = key;
    public ReadOnlySpan<byte> Payload { get; } = payload;
}

/// <summary>
/// Reads durable records in offset order from a view of the segments taken when it was opened
/// (<see cref="EventLog.OpenReader"/>), one pooled buffer at a time: no allocation per record.
/// </summary>
public sealed class LogReader : IDisposable
{
    private readonly (Segment Segment, long Length, long Next)[] _view;
    private readonly long _to;
    private readonly int _maxRecordBytes;
    private SegmentCursor? _cursor;
    private int _segment = -1;
    private long _next;

    internal LogReader((Segment Segment, long Length, long Next)[] view, long from, long to, int maxRecordBytes)
    {
        _view = view;
        _next = from;
        _to = to;
        _maxRecordBytes = maxRecordBytes;
    }

    /// <summary>The next record, or false when the view is read to its end.</summary>
    public bool TryRead(out LogRecordView record)
    {
        record = default;
        while (_next < _to)
        {
            if (_cursor is null && !OpenNextSegment())
            {
                return false;
            }

            while (_cursor!.TryNext(out var offset, out _, out _, out var ingestMs, out var key, out var payload))
            {
                if (offset >= _to)
                {
                    return false;
                }

                if (offset >= _next)
                {
                    _next = offset + 1;
                    record = new LogRecordView(offset, ingestMs, key, payload);
                    return true;
                }
            }

            _cursor.Dispose();
            _cursor = null;
        }

        return false;
    }

    /// <summary>The next record copied out of the reader's buffer, or null at the end.</summary>
    public LogRecord? NextCopy() =>
        TryRead(out var r) ? new LogRecord(r.Offset, r.IngestTimeMs, r.Key, r.Payload.ToArray()) : null;

    private bool OpenNextSegment()
    {
        while (++_segment < _view.Length)
        {
            var (segment, length, next) = _view[_segment];
            if (next <= _next || segment.BaseOffset >= _to)
            {
                continue;
            }

            var (offset, position) = segment.Seek(_next, _maxRecordBytes);
            _cursor = new SegmentCursor(segment, position, offset, length, _maxRecordBytes);
            return true;
        }

        return false;
    }

    public void Dispose()
    {
        _cursor?.Dispose();
        _cursor = null;
        _segment = _view.Length;
    }
}
