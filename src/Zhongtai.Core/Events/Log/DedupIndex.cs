namespace Zhongtai.Events.Log;

/// <summary>Idempotency keys seen recently, forgotten oldest-first by age or by count. Used by the log's single writer only.</summary>
internal sealed class DedupIndex(int maxKeys)
{
    private readonly Dictionary<UInt128, long> _offsets = [];
    private readonly Queue<(UInt128 Key, long TimeMs)> _order = new();

    public int Count => _offsets.Count;

    public bool TryGet(UInt128 key, out long offset) => _offsets.TryGetValue(key, out offset);

    public void Add(UInt128 key, long offset, long timeMs)
    {
        if (maxKeys <= 0 || !_offsets.TryAdd(key, offset))
        {
            return;
        }

        _order.Enqueue((key, timeMs));
        while (_offsets.Count > maxKeys)
        {
            _offsets.Remove(_order.Dequeue().Key);
        }
    }

    public void Evict(long olderThanMs)
    {
        while (_order.TryPeek(out var head) && head.TimeMs < olderThanMs)
        {
            _offsets.Remove(_order.Dequeue().Key);
        }
    }
}
