using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Zhongtai.Training.Recall;

/// <summary>
/// The portable artifact format of factor models (ALS, BPR), <c>zt-factors/1</c>: little-endian
/// <c>"ZTFM" | u32 version | name (u16 length + UTF-8) | i32 users | i32 items | i32 factors | u8 has-bias |
/// user factors | item factors | [item biases]</c> as float32. Integrity is the registry's SHA-256; sizes are checked here.
/// </summary>
public static class FactorModelCodec
{
    public const string Format = "zt-factors/1";
    private const uint Magic = 0x4D46545A; // "ZTFM"

    public static byte[] Serialize(FactorModel model)
    {
        var name = Encoding.UTF8.GetBytes(model.Name);
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms))
        {
            w.Write(Magic);
            w.Write(1u);
            w.Write((ushort)name.Length);
            w.Write(name);
            w.Write(model.UserCount);
            w.Write(model.ItemCount);
            w.Write(model.Factors);
            w.Write(model.ItemBias is not null);
            w.Write(MemoryMarshal.AsBytes(model.UserFactors.AsSpan()));
            w.Write(MemoryMarshal.AsBytes(model.ItemFactors.AsSpan()));
            if (model.ItemBias is { } bias)
            {
                w.Write(MemoryMarshal.AsBytes(bias.AsSpan()));
            }
        }

        return ms.ToArray();
    }

    public static FactorModel Deserialize(ReadOnlySpan<byte> bytes)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("zt-factors/1 is read on little-endian machines only.");
        }

        if (bytes.Length < 10 || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic || BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]) != 1)
        {
            throw new InvalidDataException("Not a zt-factors/1 artifact.");
        }

        var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]);
        var p = 10 + nameLength;
        if (bytes.Length < p + 13)
        {
            throw new InvalidDataException("The zt-factors/1 artifact is truncated.");
        }

        var name = Encoding.UTF8.GetString(bytes.Slice(10, nameLength));
        int users = BinaryPrimitives.ReadInt32LittleEndian(bytes[p..]), items = BinaryPrimitives.ReadInt32LittleEndian(bytes[(p + 4)..]), factors = BinaryPrimitives.ReadInt32LittleEndian(bytes[(p + 8)..]);
        var hasBias = bytes[p + 12] != 0;
        p += 13;
        var expected = ((long)users * factors + (long)items * factors + (hasBias ? items : 0)) * sizeof(float);
        if (users < 0 || items < 0 || factors < 1 || bytes.Length - p != expected)
        {
            throw new InvalidDataException($"The zt-factors/1 artifact holds {bytes.Length - p} bytes of parameters; {users} users × {items} items × {factors} factors need {expected}.");
        }

        var u = MemoryMarshal.Cast<byte, float>(bytes.Slice(p, users * factors * 4)).ToArray();
        p += users * factors * 4;
        var i = MemoryMarshal.Cast<byte, float>(bytes.Slice(p, items * factors * 4)).ToArray();
        p += items * factors * 4;
        var b = hasBias ? MemoryMarshal.Cast<byte, float>(bytes.Slice(p, items * 4)).ToArray() : null;
        return new FactorModel(name, users, items, factors, u, i, b);
    }

    /// <summary>The same model over more users and items (ids it has never seen get zero vectors: they score 0).</summary>
    public static FactorModel Pad(FactorModel model, int users, int items)
    {
        if (users <= model.UserCount && items <= model.ItemCount)
        {
            return model;
        }

        users = Math.Max(users, model.UserCount);
        items = Math.Max(items, model.ItemCount);
        var u = new float[users * model.Factors];
        var i = new float[items * model.Factors];
        model.UserFactors.CopyTo(u, 0);
        model.ItemFactors.CopyTo(i, 0);
        float[]? b = null;
        if (model.ItemBias is { } bias)
        {
            b = new float[items];
            bias.CopyTo(b, 0);
        }

        return new FactorModel(model.Name, users, items, model.Factors, u, i, b);
    }

    /// <summary>How many parameters are NaN or infinite (the admission gate's sanity check).</summary>
    public static long NonFinite(FactorModel model)
    {
        long bad = 0;
        foreach (var v in model.UserFactors)
        {
            bad += float.IsFinite(v) ? 0 : 1;
        }

        foreach (var v in model.ItemFactors)
        {
            bad += float.IsFinite(v) ? 0 : 1;
        }

        return bad;
    }
}
