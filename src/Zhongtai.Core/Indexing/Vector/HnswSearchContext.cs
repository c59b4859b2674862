using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Zhongtai.Indexing.Vector;

/// <summary>A (distance, node) pair inside the search heaps.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct HeapEntry
{
    public float Distance;
    public int Node;
}

/// <summary>
/// Per-search scratch state, pooled so that a search allocates nothing: a visited set keyed by a generation
/// counter (cleared once every 65,535 searches), a min-heap of candidates, a max-heap of results, and scratch
/// buffers for neighbour selection.
/// </summary>
internal sealed class HnswSearchContext
{
    public ushort[] Visited = [];
    public ushort Generation;

    public HeapEntry[] Candidates = new HeapEntry[256];
    public int CandidateCount;

    public HeapEntry[] Results = new HeapEntry[256];
    public int ResultCount;

    /// <summary>Scratch for sorted candidate lists (construction) and the selected neighbours.</summary>
    public float[] SortedDistances = new float[256];
    public int[] SortedNodes = new int[256];
    public int[] Selected = new int[256];
    public float[] SelectedDistances = new float[256];

    /// <summary>Scratch for pruning one neighbour's list (at most 2M + 1 entries).</summary>
    public float[] PruneDistances = new float[520];
    public int[] PruneNodes = new int[520];
    public int[] PruneSelected = new int[520];

    /// <summary>Normalized copy of a cosine query (pinned so a pointer can be taken).</summary>
    public float[] Query = [];

    public void Begin(int capacity, int dimension)
    {
        if (Visited.Length < capacity)
        {
            Visited = new ushort[capacity];
            Generation = 0;
        }
        if (Query.Length < dimension)
        {
            Query = GC.AllocateUninitializedArray<float>(dimension, pinned: true);
        }
    }

    /// <summary>Starts a fresh visited set and empties both heaps.</summary>
    public void NewVisit()
    {
        if (++Generation == 0)
        {
            Array.Clear(Visited);
            Generation = 1;
        }
        CandidateCount = 0;
        ResultCount = 0;
    }

    public void EnsureScratch(int n)
    {
        if (SortedNodes.Length < n)
        {
            int size = Math.Max(n, SortedNodes.Length * 2);
            SortedDistances = new float[size];
            SortedNodes = new int[size];
            Selected = new int[size];
            SelectedDistances = new float[size];
        }
    }

    // ---- candidate min-heap ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PushCandidate(float distance, int node)
    {
        if (CandidateCount == Candidates.Length)
        {
            Array.Resize(ref Candidates, Candidates.Length * 2);
        }
        ref HeapEntry h = ref MemoryMarshal.GetArrayDataReference(Candidates);
        int i = CandidateCount++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            ref HeapEntry p = ref Unsafe.Add(ref h, parent);
            if (p.Distance <= distance)
            {
                break;
            }
            Unsafe.Add(ref h, i) = p;
            i = parent;
        }
        ref HeapEntry slot = ref Unsafe.Add(ref h, i);
        slot.Distance = distance;
        slot.Node = node;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public HeapEntry PopCandidate()
    {
        ref HeapEntry h = ref MemoryMarshal.GetArrayDataReference(Candidates);
        HeapEntry top = h;
        int n = --CandidateCount;
        if (n > 0)
        {
            HeapEntry last = Unsafe.Add(ref h, n);
            int i = 0;
            while (true)
            {
                int child = (2 * i) + 1;
                if (child >= n)
                {
                    break;
                }
                if (child + 1 < n && Unsafe.Add(ref h, child + 1).Distance < Unsafe.Add(ref h, child).Distance)
                {
                    child++;
                }
                if (Unsafe.Add(ref h, child).Distance >= last.Distance)
                {
                    break;
                }
                Unsafe.Add(ref h, i) = Unsafe.Add(ref h, child);
                i = child;
            }
            Unsafe.Add(ref h, i) = last;
        }
        return top;
    }

    // ---- result max-heap ----

    public float WorstResult
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => MemoryMarshal.GetArrayDataReference(Results).Distance;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void PushResult(float distance, int node)
    {
        if (ResultCount == Results.Length)
        {
            Array.Resize(ref Results, Results.Length * 2);
        }
        ref HeapEntry h = ref MemoryMarshal.GetArrayDataReference(Results);
        int i = ResultCount++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            ref HeapEntry p = ref Unsafe.Add(ref h, parent);
            if (p.Distance >= distance)
            {
                break;
            }
            Unsafe.Add(ref h, i) = p;
            i = parent;
        }
        ref HeapEntry slot = ref Unsafe.Add(ref h, i);
        slot.Distance = distance;
        slot.Node = node;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public HeapEntry PopResult()
    {
        ref HeapEntry h = ref MemoryMarshal.GetArrayDataReference(Results);
        HeapEntry top = h;
        int n = --ResultCount;
        if (n > 0)
        {
            HeapEntry last = Unsafe.Add(ref h, n);
            int i = 0;
            while (true)
            {
                int child = (2 * i) + 1;
                if (child >= n)
                {
                    break;
                }
                if (child + 1 < n && Unsafe.Add(ref h, child + 1).Distance > Unsafe.Add(ref h, child).Distance)
                {
                    child++;
                }
                if (Unsafe.Add(ref h, child).Distance <= last.Distance)
                {
                    break;
                }
                Unsafe.Add(ref h, i) = Unsafe.Add(ref h, child);
                i = child;
            }
            Unsafe.Add(ref h, i) = last;
        }
        return top;
    }
}

/// <summary>A tiny lock-free pool of search contexts (no allocation on rent/return once warm).</summary>
internal sealed class HnswContextPool
{
    private readonly HnswSearchContext?[] _slots = new HnswSearchContext?[Math.Max(4, Environment.ProcessorCount * 2)];

    public HnswSearchContext Rent()
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            var c = Interlocked.Exchange(ref _slots[i], null);
            if (c is not null)
            {
                return c;
            }
        }
        return new HnswSearchContext();
    }

    public void Return(HnswSearchContext context)
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            if (Interlocked.CompareExchange(ref _slots[i], context, null) is null)
            {
                return;
            }
        }
    }
}
