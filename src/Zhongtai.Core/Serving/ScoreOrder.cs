using System.Runtime.CompilerServices;

namespace Zhongtai.Serving;

/// <summary>
/// The engine's one total order on scored items: <b>score descending, then id ascending</b> (a dense item id; ids are
/// distinct within a list, so no two entries compare equal). An entry is packed into one <see cref="ulong"/> whose
/// unsigned ascending order is that order: the high 32 bits are the score's IEEE bits mapped so that a higher score is
/// a smaller number (−0 is read as +0; scores are never NaN), the low 32 bits the non-negative id. Selection and heaps
/// then compare plain integers: no comparer delegate, no float compare, no tie handling.
/// </summary>
internal static class ScoreOrder
{
    /// <summary>The packed key of (<paramref name="score"/>, <paramref name="id"/>): smaller key = earlier in the order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Key(float score, int id)
    {
        var bits = BitConverter.SingleToUInt32Bits(score + 0f); // -0 + 0 = +0
        var descending = (bits & 0x8000_0000u) != 0 ? bits : ~bits & 0x7FFF_FFFFu;
        return ((ulong)descending << 32) | (uint)id;
    }

    /// <summary>The id of a packed key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Id(ulong key) => (int)(uint)key;

    /// <summary>The score of a packed key (inverse of <see cref="Key"/>).</summary>
    public static float Score(ulong key)
    {
        var descending = (uint)(key >> 32);
        var bits = (descending & 0x8000_0000u) != 0 ? descending : ~descending & 0x7FFF_FFFFu;
        return BitConverter.UInt32BitsToSingle(bits);
    }

    /// <summary>
    /// Reorders <paramref name="keys"/> so that its first <paramref name="k"/> entries are its <paramref name="k"/> smallest
    /// (in no particular order) and every later entry is larger than all of them: introselect (median-of-three quickselect,
    /// a sort of the remaining range when the partitions stop shrinking), O(n) expected.
    /// </summary>
    public static void SelectSmallest(Span<ulong> keys, int k)
    {
        if (k <= 0 || k >= keys.Length)
        {
            return;
        }

        var lo = 0;
        var hi = keys.Length - 1; // inclusive
        var budget = 2 * (64 - ulong.LeadingZeroCount((ulong)keys.Length)); // 2·log2(n) partitions before falling back
        while (hi - lo > 16)
        {
            if (budget-- == 0)
            {
                keys[lo..(hi + 1)].Sort();
                return;
            }

            // Median of three to keys[lo], then a Hoare-style partition around it.
            var mid = lo + ((hi - lo) >> 1);
            if (keys[mid] < keys[lo])
            {
                (keys[mid], keys[lo]) = (keys[lo], keys[mid]);
            }

            if (keys[hi] < keys[lo])
            {
                (keys[hi], keys[lo]) = (keys[lo], keys[hi]);
            }

            if (keys[hi] < keys[mid])
            {
                (keys[hi], keys[mid]) = (keys[mid], keys[hi]);
            }

            (keys[mid], keys[lo]) = (keys[lo], keys[mid]); // the median is now keys[lo]; keys[hi] ≥ it (a sentinel)
            var pivot = keys[lo];
            var i = lo;
            var j = hi + 1;
            while (true)
            {
                while (keys[++i] < pivot)
                {
                }

                while (pivot < keys[--j])
                {
                }

                if (i >= j)
                {
                    break;
                }

                (keys[i], keys[j]) = (keys[j], keys[i]);
            }

            (keys[lo], keys[j]) = (keys[j], keys[lo]); // the pivot at its final position j
            if (j == k || j == k - 1)
            {
                return; // [0, j] are the j+1 smallest, keys[j] their largest: the first k are the k smallest
            }

            if (j > k)
            {
                hi = j - 1;
            }
            else
            {
                lo = j + 1;
            }
        }

        keys[lo..(hi + 1)].Sort();
    }

    /// <summary>Makes <paramref name="heap"/> a binary min-heap (Floyd's bottom-up construction, O(n)).</summary>
    public static void Heapify(Span<ulong> heap)
    {
        for (var i = (heap.Length >> 1) - 1; i >= 0; i--)
        {
            SiftDown(heap, i, heap[i]);
        }
    }

    /// <summary>Removes and returns the smallest key of the min-heap <c>heap[..count]</c>; <paramref name="count"/> must be positive.</summary>
    public static ulong Pop(Span<ulong> heap, ref int count)
    {
        var top = heap[0];
        var last = heap[--count];
        if (count > 0)
        {
            SiftDown(heap[..count], 0, last);
        }

        return top;
    }

    private static void SiftDown(Span<ulong> heap, int at, ulong value)
    {
        var n = heap.Length;
        while (true)
        {
            var child = (2 * at) + 1;
            if (child >= n)
            {
                break;
            }

            if (child + 1 < n && heap[child + 1] < heap[child])
            {
                child++;
            }

            if (heap[child] >= value)
            {
                break;
            }

            heap[at] = heap[child];
            at = child;
        }

        heap[at] = value;
    }
}
