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

    /// <summary>A <see cref="Crosses"/> over this hasher (one per thread: it owns its buffer).</summary>
    public Crosses NewCrosses() => new(this);

    /// <summary>
    /// Indices of crossed features that share their field and first value (a user × each category of a request): the
    /// prefix <c>field + "=" + first + U+0001</c> is encoded once by <see cref="Start"/>, then each second value is
    /// appended to it. Every index equals <see cref="FeatureHasher.Index(ReadOnlySpan{char}, string, string)"/> of the same values.
    /// Not thread-safe.
    /// </summary>
    public sealed class Crosses(FeatureHasher hasher)
    {
        private byte[] _key = new byte[256];
        private int _prefix;

        public void Start(ReadOnlySpan<char> field, string first)
        {
            Ensure(Encoding.UTF8.GetMaxByteCount(field.Length + first.Length + 2));
            var n = Encoding.UTF8.GetBytes(field, _key);
            _key[n++] = (byte)'=';
            n += Encoding.UTF8.GetBytes(first, _key.AsSpan(n));
            _key[n++] = 1;
            _prefix = n;
        }

        public int Index(string second)
        {
            Ensure(_prefix + Encoding.UTF8.GetMaxByteCount(second.Length));
            return hasher.IndexOfUtf8(_key.AsSpan(0, _prefix + Encoding.UTF8.GetBytes(second, _key.AsSpan(_prefix))));
        }

        private void Ensure(int length)
        {
            if (_key.Length < length)
            {
                Array.Resize(ref _key, Math.Max(length, _key.Length * 2)); // keeps the prefix
            }
        }
    }

    /// <summary>Index of a name already encoded as UTF-8.</summary>
    public int IndexOfUtf8(ReadOnlySpan<byte> utf8) => (int)(XxHash3.HashToUInt64(utf8, (long)Seed) & _mask);
}
