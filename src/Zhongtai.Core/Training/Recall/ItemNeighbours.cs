namespace Zhongtai.Training.Recall;

/// <summary>
/// Each item's top weighted neighbours in CSR form (<see cref="Pointers"/> into <see cref="Neighbors"/> and
/// <see cref="Weights"/>, best first), and what item-to-item models do with them: a user's score for j is the sum of the
/// weights i→j over the items i in her history. Shared by item-CF and RP3beta, which differ only in the weights.
/// </summary>
internal sealed class ItemNeighbours(int[] pointers, int[] neighbors, float[] weights)
{
    public int[] Pointers { get; } = pointers;
    public int[] Neighbors { get; } = neighbors;
    public float[] Weights { get; } = weights;

    /// <summary>Packs per-item rows (as a parallel selection fills them) into one CSR.</summary>
    public static ItemNeighbours FromRows(int[][] ids, float[][] weights)
    {
        int n = ids.Length;
        var ptr = new int[n + 1];
        for (int i = 0; i < n; i++)
        {
            ptr[i + 1] = ptr[i] + ids[i].Length;
        }

        var allIds = new int[ptr[n]];
        var allW = new float[ptr[n]];
        for (int i = 0; i < n; i++)
        {
            ids[i].CopyTo(allIds, ptr[i]);
            weights[i].CopyTo(allW, ptr[i]);
        }

        return new ItemNeighbours(ptr, allIds, allW);
    }

    public ReadOnlySpan<int> NeighborsOf(int item) => Neighbors.AsSpan(Pointers[item], Pointers[item + 1] - Pointers[item]);

    public ReadOnlySpan<float> WeightsOf(int item) => Weights.AsSpan(Pointers[item], Pointers[item + 1] - Pointers[item]);

    /// <summary>Sum of neighbour weights over the history; items outside the model are skipped.</summary>
    public void Score(ReadOnlySpan<int> history, Span<float> scores)
    {
        scores.Clear();
        int itemCount = Pointers.Length - 1;
        foreach (int i in history)
        {
            if ((uint)i >= (uint)itemCount)
            {
                continue;
            }

            var ids = NeighborsOf(i);
            var ws = WeightsOf(i);
            for (int t = 0; t < ids.Length; t++)
            {
                scores[ids[t]] += ws[t];
            }
        }
    }

    /// <summary>The item's first <paramref name="k"/> neighbours with their weights.</summary>
    public IReadOnlyList<(int Item, float Score)> Similar(int item, int k)
    {
        var ids = NeighborsOf(item);
        var ws = WeightsOf(item);
        var list = new (int, float)[Math.Min(k, ids.Length)];
        for (int t = 0; t < list.Length; t++)
        {
            list[t] = (ids[t], ws[t]);
        }

        return list;
    }
}
