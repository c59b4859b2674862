using System.Buffers;
using System.IO.Hashing;
using System.Text;

namespace Zhongtai.Training.Ranking;

/// <summary>
/// Turns named features ("user=u1", "cat=shoes", "user=u1^item=i9") into indices in <c>[0, 2^bits)</c>.
/// The hash is XXH3-64 (System.IO.Hashing) over the UTF-8 bytes of the name with a 64-bit seed,
/// so an index is the same across processes, machines and .NET versions: a model trained today
/// can be served tomorrow by another process that hashes the same names with the same bits and seed.
/// Thread-safe and allocation-free: names up to 169 characters are encoded on the stack, longer ones in a pooled buffer.
/// </summary>
public sealed class FeatureHasher
{
    private const int StackLimit = 512;
    private readonly ulong _mask;

    /// <param name="bits">Size of the index space as a power of two, 1..30.</param>
    /// <param name="seed">Hash seed; changing it re-maps every feature (and invalidates models).</param>
    public FeatureHasher(int bits, ulong seed = 0)
    {
        if (bits is < 1 or > 30)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "Hash bits must be between 1 and 30.");
        }

        Bits = bits;
        Seed = seed;
        _mask = (1UL << bits) - 1;
    }

    public int Bits { get; }

    public ulong Seed { get; }

    /// <summary>The number of distinct indices, <c>2^Bits</c>.</summary>
    public int Size => 1 << Bits;

    /// <summary>Index of a whole feature name, e.g. <c>"scene=home"</c>.</summary>
    public int Index(ReadOnlySpan<char> name)
    {
        int max = Encoding.UTF8.GetMaxByteCount(name.Length);
        byte[]? rented = null;
        Span<byte> buffer = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            int written = Encoding.UTF8.GetBytes(name, buffer);
            return IndexOfUtf8(buffer[..written]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Index of <c>field + "=" + value</c>, without building the string.</summary>
    public int Index(ReadOnlySpan<char> field, ReadOnlySpan<char> value)
    {
        int max = Encoding.UTF8.GetMaxByteCount(field.Length + value.Length + 1);
        byte[]? rented = null;
        Span<byte> buffer = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            int n = Encoding.UTF8.GetBytes(field, buffer);
            buffer[n++] = (byte)'=';
            n += Encoding.UTF8.GetBytes(value, buffer[n..]);
            return IndexOfUtf8(buffer[..n]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Index of a crossed feature: <c>field + "=" + first + U+0001 + second</c> (e.g. user × category), without building the string.</summary>
    public int Index(ReadOnlySpan<char> field, string first, string second)
    {
        var length = first.Length + 1 + second.Length;
        if (length > 512)
        {
            return Index(field, first + "\u0001" + second);
        }

        Span<char> value = stackalloc char[length];
        first.AsSpan().CopyTo(value);
        value[first.Length] = '\u0001';
        second.AsSpan().CopyTo(value[(first.Length + 1)..]);
        return Index(field, value);
    }

    /// <summary>Index of a name already encoded as UTF-8.</summary>
    public int IndexOfUtf8(ReadOnlySpan<byte> utf8) => (int)(XxHash3.HashToUInt64(utf8, (long)Seed) & _mask);
}
