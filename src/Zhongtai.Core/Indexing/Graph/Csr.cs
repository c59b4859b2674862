namespace Zhongtai.Indexing.Graph;

/// <summary>
/// Compressed sparse rows of one relation over all nodes: the edges of node <c>u</c> are
/// <c>Targets[Offsets[u]..Offsets[u + 1]]</c> with <c>Weights</c> alongside, strongest first (ties: lower target first).
/// Immutable once built.
/// </summary>
internal sealed class Csr
{
    public Csr(int[] offsets, int[] targets, float[] weights)
    {
        Offsets = offsets;
        Targets = targets;
        Weights = weights;
        Cumulative = new float[weights.Length];
        RowSums = new float[offsets.Length - 1];
        for (var u = 0; u < RowSums.Length; u++)
        {
            var sum = 0f;
            for (var e = offsets[u]; e < offsets[u + 1]; e++)
            {
                sum += weights[e];
                Cumulative[e] = sum;
            }
            RowSums[u] = sum;
        }
    }

    public int[] Offsets { get; }
    public int[] Targets { get; }
    public float[] Weights { get; }

    /// <summary>Running sum of weights within each row (for weighted sampling by binary search).</summary>
    public float[] Cumulative { get; }

    /// <summary>Total edge weight of each row (the weighted out-degree).</summary>
    public float[] RowSums { get; }

    public int EdgeCount => Targets.Length;

    public static Csr FromEdges(int nodeCount, List<(int From, int To, float Weight)> edges, int topPerNode)
    {
        edges.Sort(static (a, b) =>
            a.From != b.From ? a.From.CompareTo(b.From)
            : a.Weight != b.Weight ? b.Weight.CompareTo(a.Weight)
            : a.To.CompareTo(b.To));
        var offsets = new int[nodeCount + 1];
        var kept = new List<(int From, int To, float Weight)>(edges.Count);
        var previous = -1;
        var inRow = 0;
        foreach (var edge in edges)
        {
            if (edge.From != previous)
            {
                previous = edge.From;
                inRow = 0;
            }
            if (inRow++ < topPerNode)
            {
                kept.Add(edge);
                offsets[edge.From + 1]++;
            }
        }
        for (var u = 0; u < nodeCount; u++)
        {
            offsets[u + 1] += offsets[u];
        }
        var targets = new int[kept.Count];
        var weights = new float[kept.Count];
        for (var e = 0; e < kept.Count; e++)
        {
            targets[e] = kept[e].To;
            weights[e] = kept[e].Weight;
        }
        return new Csr(offsets, targets, weights);
    }

    /// <summary>Index of the edge of row <paramref name="u"/> whose cumulative weight first exceeds <paramref name="x"/>.</summary>
    public int Sample(int u, float x)
    {
        int lo = Offsets[u], hi = Offsets[u + 1] - 1;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (Cumulative[mid] > x)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }
        return lo;
    }
}
