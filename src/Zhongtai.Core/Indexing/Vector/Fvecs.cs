using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Zhongtai.Indexing.Vector;

/// <summary>
/// The TEXMEX <c>.fvecs</c> / <c>.ivecs</c> formats used by ANN benchmarks: each row is a little-endian int32 dimension followed
/// by that many float32 (or int32) values.
/// </summary>
public static class Fvecs
{
    /// <summary>Reads a whole <c>.fvecs</c> file into one row-major array. At most <paramref name="maxRows"/> rows when positive.</summary>
    public static (float[] Data, int Rows, int Dimension) ReadFvecs(string path, int maxRows = 0)
    {
        var (raw, rows, dim) = ReadRows(path, maxRows);
        return (MemoryMarshal.Cast<int, float>(raw).ToArray(), rows, dim);
    }

    /// <summary>Reads a whole <c>.ivecs</c> file into one row-major array.</summary>
    public static (int[] Data, int Rows, int Dimension) ReadIvecs(string path, int maxRows = 0) => ReadRows(path, maxRows);

    public static void WriteFvecs(string path, ReadOnlySpan<float> data, int dimension) =>
        WriteRows(path, MemoryMarshal.Cast<float, int>(data), dimension);

    public static void WriteIvecs(string path, ReadOnlySpan<int> data, int dimension) => WriteRows(path, data, dimension);

    private static (int[] Data, int Rows, int Dimension) ReadRows(string path, int maxRows)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 4)
        {
            throw new InvalidDataException($"'{path}' is empty or not a vecs file.");
        }
        int dim = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        if (dim <= 0 || dim > 1 << 20)
        {
            throw new InvalidDataException($"'{path}' starts with an invalid dimension {dim}.");
        }
        long rowBytes = 4L * (dim + 1);
        if (bytes.Length % rowBytes != 0)
        {
            throw new InvalidDataException($"'{path}' has {bytes.Length} bytes, not a multiple of the {rowBytes}-byte row of dimension {dim}.");
        }
        int rows = (int)(bytes.Length / rowBytes);
        if (maxRows > 0)
        {
            rows = Math.Min(rows, maxRows);
        }
        var ints = MemoryMarshal.Cast<byte, int>(bytes.AsSpan());
        var data = new int[(long)rows * dim];
        for (int r = 0; r < rows; r++)
        {
            var row = ints.Slice((int)(r * (dim + 1L)), dim + 1);
            if (row[0] != dim)
            {
                throw new InvalidDataException($"'{path}' row {r} has dimension {row[0]}, expected {dim}.");
            }
            row[1..].CopyTo(data.AsSpan(r * dim, dim));
        }
        return (data, rows, dim);
    }

    private static void WriteRows(string path, ReadOnlySpan<int> data, int dimension)
    {
        if (dimension <= 0 || data.Length % dimension != 0)
        {
            throw new ArgumentException($"Data of {data.Length} values is not a whole number of rows of dimension {dimension}.", nameof(dimension));
        }
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> head = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(head, dimension);
        for (int r = 0; r < data.Length / dimension; r++)
        {
            fs.Write(head);
            fs.Write(MemoryMarshal.AsBytes(data.Slice(r * dimension, dimension)));
        }
    }
}
