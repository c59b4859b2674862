using System.Runtime.InteropServices;

namespace Zhongtai.Training.Recall;

/// <summary>
/// Artifact formats of the closed-form recall models, which carry their sufficient statistics so a later run can warm
/// start: <c>zt-ease/1</c> (options, the weight matrix B, the Gram matrix, the item counts, the user histories) and
/// <c>zt-itemcf/1</c> (options, the neighbour lists, the co-occurrence rows, the item counts, the user histories).
/// Little-endian; integrity is the registry's SHA-256; sizes are checked here.
/// </summary>
public static class ClosedFormModelCodec
{
    public const string EaseFormat = "zt-ease/1";
    public const string ItemCfFormat = "zt-itemcf/1";
    private const uint EaseMagic = 0x4145545A; // "ZTEA"
    private const uint ItemCfMagic = 0x4349545A; // "ZTIC"

    public static byte[] Serialize(EaseModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms))
        {
            w.Write(EaseMagic);
            w.Write(1u);
            var o = model.Options;
            w.Write(o.Lambda);
            w.Write(o.DropoutRegularization);
            w.Write(o.UserWeightExponent);
            w.Write(o.PopularityExponent);
            w.Write(o.ZeroDiagonal);
            int n = model.ItemCount;
            w.Write(model.UserCount);
            w.Write(n);
            for (int i = 0; i < n; i++)
            {
                w.Write(MemoryMarshal.AsBytes(model.WeightMatrix.AsSpan((int)((long)i * model.LeadingDimension), n)));
            }

            var s = model.Statistics;
            w.Write(s.WeightSum);
            w.Write(MemoryMarshal.AsBytes(s.Gram.AsSpan()));
            w.Write(MemoryMarshal.AsBytes(s.ItemCounts.AsSpan()));
            WriteRows(w, s.Histories.Rows);
        }

        return ms.ToArray();
    }

    public static EaseModel DeserializeEase(byte[] bytes)
    {
        using var r = Open(bytes, EaseMagic, EaseFormat);
        var o = new EaseOptions
        {
            Lambda = r.ReadDouble(),
            DropoutRegularization = r.ReadDouble(),
            UserWeightExponent = r.ReadDouble(),
            PopularityExponent = r.ReadDouble(),
            ZeroDiagonal = r.ReadBoolean(),
        };
        int users = r.ReadInt32(), n = r.ReadInt32();
        Check(users >= 0 && n >= 1, EaseFormat);
        o.MaxItems = Math.Max(o.MaxItems, n);
        int ld = DenseSpdInverse.PaddedSize(n);
        var b = new float[(long)ld * ld];
        for (int i = 0; i < n; i++)
        {
            ReadExactly(r, MemoryMarshal.AsBytes(b.AsSpan((int)((long)i * ld), n)), EaseFormat);
        }

        double weightSum = r.ReadDouble();
        var gram = ReadArray<float>(r, (long)n * n, EaseFormat);
        var counts = ReadArray<int>(r, n, EaseFormat);
        var histories = ReadRows(r, users, n, EaseFormat);
        Check(r.BaseStream.Position == r.BaseStream.Length, EaseFormat);
        var statistics = new EaseStatistics(o.UserWeightExponent, n, gram, weightSum, counts, new UserHistories(histories));
        return new EaseModel(users, n, b, ld, statistics, o);
    }

    public static byte[] Serialize(ItemCfModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms))
        {
            w.Write(ItemCfMagic);
            w.Write(1u);
            var o = model.Options;
            w.Write((int)o.Similarity);
            w.Write(o.Alpha);
            w.Write(o.NeighborCount);
            w.Write(o.MinCoCount);
            w.Write(model.UserCount);
            w.Write(model.ItemCount);
            w.Write(MemoryMarshal.AsBytes(model.Neighbours.Pointers.AsSpan()));
            w.Write(MemoryMarshal.AsBytes(model.Neighbours.Neighbors.AsSpan()));
            w.Write(MemoryMarshal.AsBytes(model.Neighbours.Weights.AsSpan()));
            var s = model.Statistics;
            WriteRows(w, s.Ids);
            foreach (var row in s.Counts)
            {
                w.Write(MemoryMarshal.AsBytes(row.AsSpan()));
            }

            w.Write(MemoryMarshal.AsBytes(s.ItemCounts.AsSpan()));
            WriteRows(w, s.Histories.Rows);
        }

        return ms.ToArray();
    }

    public static ItemCfModel DeserializeItemCf(byte[] bytes)
    {
        using var r = Open(bytes, ItemCfMagic, ItemCfFormat);
        var o = new ItemCfOptions
        {
            Similarity = (ItemSimilarity)r.ReadInt32(),
            Alpha = r.ReadDouble(),
            NeighborCount = r.ReadInt32(),
            MinCoCount = r.ReadInt32(),
        };
        int users = r.ReadInt32(), n = r.ReadInt32();
        Check(users >= 0 && n >= 1 && Enum.IsDefined(o.Similarity), ItemCfFormat);
        var ptr = ReadArray<int>(r, n + 1, ItemCfFormat);
        Check(ptr[0] == 0 && ptr[n] >= 0, ItemCfFormat);
        var neighbors = ReadArray<int>(r, ptr[n], ItemCfFormat);
        var weights = ReadArray<float>(r, ptr[n], ItemCfFormat);
        var ids = ReadRows(r, n, n, ItemCfFormat);
        var counts = new int[n][];
        for (int i = 0; i < n; i++)
        {
            counts[i] = ReadArray<int>(r, ids[i].Length, ItemCfFormat);
        }

        var itemCounts = ReadArray<int>(r, n, ItemCfFormat);
        var histories = ReadRows(r, users, n, ItemCfFormat);
        Check(r.BaseStream.Position == r.BaseStream.Length, ItemCfFormat);
        return new ItemCfModel(users, n, new ItemNeighbours(ptr, neighbors, weights), new CooccurrenceStatistics(ids, counts, itemCounts, new UserHistories(histories)), o);
    }

    private static BinaryReader Open(byte[] bytes, uint magic, string format)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException($"{format} is read on little-endian machines only.");
        }

        var r = new BinaryReader(new MemoryStream(bytes, writable: false));
        if (bytes.Length < 8 || r.ReadUInt32() != magic || r.ReadUInt32() != 1)
        {
            r.Dispose();
            throw new InvalidDataException($"Not a {format} artifact.");
        }

        return r;
    }

    private static void WriteRows(BinaryWriter w, int[][] rows)
    {
        foreach (var row in rows)
        {
            w.Write(row.Length);
        }

        foreach (var row in rows)
        {
            w.Write(MemoryMarshal.AsBytes(row.AsSpan()));
        }
    }

    private static int[][] ReadRows(BinaryReader r, int count, int maxValue, string format)
    {
        var lengths = ReadArray<int>(r, count, format);
        var rows = new int[count][];
        for (int i = 0; i < count; i++)
        {
            Check(lengths[i] >= 0 && lengths[i] <= maxValue, format);
            rows[i] = ReadArray<int>(r, lengths[i], format);
            foreach (int v in rows[i])
            {
                Check((uint)v < (uint)maxValue, format);
            }
        }

        return rows;
    }

    private static T[] ReadArray<T>(BinaryReader r, long count, string format)
        where T : unmanaged
    {
        Check(count >= 0 && count * Marshal.SizeOf<T>() <= r.BaseStream.Length - r.BaseStream.Position, format);
        var a = new T[count];
        ReadExactly(r, MemoryMarshal.AsBytes(a.AsSpan()), format);
        return a;
    }

    private static void ReadExactly(BinaryReader r, Span<byte> destination, string format)
    {
        Check(destination.Length <= r.BaseStream.Length - r.BaseStream.Position, format);
        r.BaseStream.ReadExactly(destination);
    }

    private static void Check(bool condition, string format)
    {
        if (!condition)
        {
            throw new InvalidDataException($"The {format} artifact is truncated or malformed.");
        }
    }
}
