using System.Buffers.Binary;
using System.IO.Hashing;

namespace Zhongtai.Training.Ranking;

/// <summary>
/// The frame shared by the ranking models' binary files:
/// <c>magic (8 bytes ASCII) | format version (int32 LE) | payload length (int64 LE) | payload | XXH64 of everything before it (8 bytes LE)</c>.
/// A file whose magic, version, length or checksum does not match is refused with <see cref="InvalidDataException"/>.
/// </summary>
internal static class ModelFile
{
    private const int HeaderSize = 8 + 4 + 8;

    public static void Write(Stream stream, ReadOnlySpan<byte> magic, int version, ReadOnlySpan<byte> payload)
    {
        if (magic.Length != 8)
        {
            throw new ArgumentException("Magic must be 8 bytes.", nameof(magic));
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], version);
        BinaryPrimitives.WriteInt64LittleEndian(header[12..], payload.Length);
        var hash = new XxHash64();
        hash.Append(header);
        hash.Append(payload);
        Span<byte> checksum = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(checksum, hash.GetCurrentHashAsUInt64());
        stream.Write(header);
        stream.Write(payload);
        stream.Write(checksum);
    }

    /// <summary>Reads and verifies one frame; returns the payload.</summary>
    public static byte[] Read(Stream stream, ReadOnlySpan<byte> magic, int version, string what)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        if (stream.ReadAtLeast(header, HeaderSize, throwOnEndOfStream: false) != HeaderSize)
        {
            throw new InvalidDataException($"Not a {what} file: shorter than its header.");
        }

        if (!header[..8].SequenceEqual(magic))
        {
            throw new InvalidDataException($"Not a {what} file: wrong magic bytes.");
        }

        int fileVersion = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        if (fileVersion != version)
        {
            throw new InvalidDataException($"{what} file has format version {fileVersion}; this build reads version {version}.");
        }

        long length = BinaryPrimitives.ReadInt64LittleEndian(header[12..]);
        if (length < 0 || length > Array.MaxLength)
        {
            throw new InvalidDataException($"{what} file is corrupt: payload length {length}.");
        }

        var payload = new byte[length];
        Span<byte> checksum = stackalloc byte[8];
        if (stream.ReadAtLeast(payload, payload.Length, throwOnEndOfStream: false) != payload.Length
            || stream.ReadAtLeast(checksum, 8, throwOnEndOfStream: false) != 8)
        {
            throw new InvalidDataException($"{what} file is truncated.");
        }

        var hash = new XxHash64();
        hash.Append(header);
        hash.Append(payload);
        if (hash.GetCurrentHashAsUInt64() != BinaryPrimitives.ReadUInt64LittleEndian(checksum))
        {
            throw new InvalidDataException($"{what} file is corrupt: checksum mismatch.");
        }

        return payload;
    }
}

/// <summary>Little-endian writer over a growable buffer, for model payloads.</summary>
internal sealed class PayloadWriter
{
    private byte[] _buffer;
    private int _length;

    public PayloadWriter(int capacity) => _buffer = new byte[Math.Max(64, capacity)];

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public void Int32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Grow(4), value);

    public void Int64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Grow(8), value);

    public void UInt64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Grow(8), value);

    public void Single(float value) => BinaryPrimitives.WriteSingleLittleEndian(Grow(4), value);

    public void Double(double value) => BinaryPrimitives.WriteDoubleLittleEndian(Grow(8), value);

    public void Singles(ReadOnlySpan<float> values)
    {
        Span<byte> target = Grow(values.Length * 4);
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(target[(i * 4)..], values[i]);
        }
    }

    private Span<byte> Grow(int size)
    {
        if (_length + size > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_length + size, _buffer.Length * 2));
        }

        Span<byte> span = _buffer.AsSpan(_length, size);
        _length += size;
        return span;
    }
}

/// <summary>Little-endian reader over a payload; running past the end is reported as a corrupt file.</summary>
internal ref struct PayloadReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _what;
    private int _position;

    public PayloadReader(ReadOnlySpan<byte> data, string what)
    {
        _data = data;
        _what = what;
        _position = 0;
    }

    public readonly bool AtEnd => _position == _data.Length;

    public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public ulong UInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public float Single() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public double Double() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    public void Singles(Span<float> target)
    {
        ReadOnlySpan<byte> source = Take(checked(target.Length * 4));
        for (int i = 0; i < target.Length; i++)
        {
            target[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(i * 4)..]);
        }
    }

    private ReadOnlySpan<byte> Take(int size)
    {
        if (size < 0 || _position + size > _data.Length)
        {
            throw new InvalidDataException($"{_what} file is corrupt: payload ends early.");
        }

        ReadOnlySpan<byte> span = _data.Slice(_position, size);
        _position += size;
        return span;
    }
}
