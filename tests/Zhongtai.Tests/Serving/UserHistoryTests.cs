using Zhongtai.Serving;

namespace Zhongtai.Tests.Serving;

/// <summary>
/// <see cref="UserHistory"/> was shrunk from a list, a hash set, a preallocated exposure ring and a lock object per user
/// to three growing arrays: every answer must be what the old layout (kept here as <see cref="Reference"/>) gave.
/// </summary>
public class UserHistoryTests
{
    [Theory]
    [InlineData(5, 7, 4, 1)]
    [InlineData(1, 1, 1, 2)]
    [InlineData(50, 1000, 200, 3)] // the defaults
    [InlineData(3, 40, 9, 4)]
    public void EveryOperation_AnswersExactlyAsTheOldLayout(int recent, int consumed, int exposures, int seed)
    {
        var rng = new Random(seed);
        var actual = new UserHistory(recent, consumed, exposures);
        var expected = new Reference(recent, consumed, exposures);
        var items = rng.Next(2) == 0 ? 12 : 400; // few items: many repeats; many: caps reached by new items
        var window = new int[rng.Next(1, 30)];
        var expectedWindow = new int[window.Length];
        var seconds = 1_700_000_000L;
        for (var step = 0; step < 3000; step++)
        {
            var item = rng.Next(items);
            switch (rng.Next(5))
            {
                case 0:
                case 1:
                    var n = actual.Engaged(item, window);
                    Assert.Equal(expected.Engaged(item, expectedWindow), n);
                    Assert.Equal(expectedWindow[..n], window[..n]);
                    break;
                case 2:
                    seconds += rng.Next(0, 600);
                    actual.Exposed(item, seconds);
                    expected.Exposed(item, seconds);
                    break;
                case 3:
                    var since = seconds - rng.Next(0, 20_000);
                    var a = new Dictionary<int, int>();
                    var e = new Dictionary<int, int>();
                    actual.ExposureCounts(since, a);
                    expected.ExposureCounts(since, e);
                    Assert.Equal(e.OrderBy(kv => kv.Key), a.OrderBy(kv => kv.Key));
                    var exposed = new int[actual.ExposureCapacity];
                    var exposedItems = exposed.AsSpan(0, actual.ExposedSince(since, exposed)).ToArray();
                    Assert.Equal(e.SelectMany(kv => Enumerable.Repeat(kv.Key, kv.Value)).Order(), exposedItems.Order()); // one entry per exposure
                    break;
                case 4 when step % 3 == 0:
                    var all = new int[actual.ConsumedCapacity];
                    var copied = all.AsSpan(0, actual.CopyConsumed(all)).ToArray();
                    Assert.Equal(Enumerable.Range(0, items).Where(expected.Consumed), copied); // ascending, every one
                    var few = new int[rng.Next(0, 4)];
                    Assert.Equal(copied.Take(few.Length), few.AsSpan(0, actual.CopyConsumed(few)).ToArray());
                    break;
                default:
                    Assert.Equal(expected.Consumed(item), actual.Consumed(item));
                    var take = rng.Next(0, recent + 3);
                    var got = new int[take];
                    var want = new int[take];
                    var m = actual.Recent(got);
                    Assert.Equal(expected.Recent(want), m);
                    Assert.Equal(want[..m], got[..m]);
                    break;
            }
        }

        for (var item = 0; item < items; item++)
        {
            Assert.Equal(expected.Consumed(item), actual.Consumed(item));
        }
    }

    [Fact]
    public void ExposureSeconds_AreKeptExactlyWithinTheUnsignedRange_AndClampedOutsideIt()
    {
        var history = new UserHistory(5, 5, 3);
        history.Exposed(7, 4_000_000_000); // after 2038
        history.Exposed(8, -5);
        var counts = new Dictionary<int, int>();
        history.ExposureCounts(3_999_999_999, counts);
        Assert.Equal([7], counts.Keys);
        counts.Clear();
        history.ExposureCounts(0, counts);
        Assert.Equal([7, 8], counts.Keys.Order());
    }

    /// <summary>The layout before the shrink, verbatim in behaviour.</summary>
    private sealed class Reference(int recentCapacity, int consumedCapacity, int exposureCapacity)
    {
        private readonly List<int> _recent = [];
        private readonly HashSet<int> _consumed = [];
        private readonly (int Item, long Seconds)[] _exposures = new (int, long)[exposureCapacity];
        private int _exposureCount;
        private int _exposureNext;

        public int Engaged(int item, Span<int> window)
        {
            var w = 0;
            for (var i = _recent.Count - 1; i >= 0 && w < window.Length; i--)
            {
                if (_recent[i] != item)
                {
                    window[w++] = _recent[i];
                }
            }

            _recent.Remove(item);
            _recent.Add(item);
            if (_recent.Count > recentCapacity)
            {
                _recent.RemoveAt(0);
            }

            if (_consumed.Count < consumedCapacity)
            {
                _consumed.Add(item);
            }

            return w;
        }

        public void Exposed(int item, long seconds)
        {
            _exposures[_exposureNext] = (item, seconds);
            _exposureNext = (_exposureNext + 1) % _exposures.Length;
            _exposureCount = Math.Min(_exposureCount + 1, _exposures.Length);
        }

        public int Recent(Span<int> destination)
        {
            var n = Math.Min(destination.Length, _recent.Count);
            for (var i = 0; i < n; i++)
            {
                destination[i] = _recent[_recent.Count - 1 - i];
            }

            return n;
        }

        public bool Consumed(int item) => _consumed.Contains(item);

        public void ExposureCounts(long sinceSeconds, Dictionary<int, int> counts)
        {
            for (var i = 0; i < _exposureCount; i++)
            {
                var (item, seconds) = _exposures[i];
                if (seconds >= sinceSeconds)
                {
                    counts[item] = counts.GetValueOrDefault(item) + 1;
                }
            }
        }
    }
}
