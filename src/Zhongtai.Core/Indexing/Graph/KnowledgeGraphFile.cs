using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using Zhongtai.Indexing.Vector;

namespace Zhongtai.Indexing.Graph;

/// <summary>
/// The snapshot format: header <c>magic "ZTKG" (u32) · version (i32) · body length (i64) · XxHash64 of the body (u64)</c>,
/// then the body: node count, each node's type (byte) and key (string); relation count, and for each relation its
/// edge count, offsets, targets and weights (little-endian). Files are written to a temporary name, fsynced and
/// renamed over the target, so a reader sees the old or the new snapshot, never half of one.
/// </summary>
public sealed partial class KnowledgeGraph
{
    private const uint Magic = 0x474B545A; // "ZTKG"
    private const int FormatVersion = 1;

    /// <summary>Writes the graph to <paramref name="path"/> atomically (temp file + fsync + rename).</summary>
    public void Save(string path, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temp = full + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Save(file, ct);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
            Zhongtai.Storage.Durable.SyncDirectory(directory);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>Writes the graph to <paramref name="stream"/>.</summary>
    public void Save(Stream stream, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var body = new MemoryStream();
        using (var w = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(_types.Length);
            for (var i = 0; i < _types.Length; i++)
            {
                w.Write((byte)_types[i]);
                w.Write(_keys[i]);
            }
            ct.ThrowIfCancellationRequested();
            w.Write(_relations.Length);
            foreach (var t in _relations)
            {
                w.Write(t.EdgeCount);
                w.Write(MemoryMarshal.AsBytes(t.Offsets.AsSpan()));
                w.Write(MemoryMarshal.AsBytes(t.Targets.AsSpan()));
                w.Write(MemoryMarshal.AsBytes(t.Weights.AsSpan()));
            }
        }
        var bytes = body.GetBuffer().AsSpan(0, (int)body.Length);
        using var header = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        header.Write(Magic);
        header.Write(FormatVersion);
        header.Write(body.Length);
        header.Write(XxHash64.HashToUInt64(bytes));
        header.Write(bytes);
    }

    /// <summary>Reads a snapshot written by <see cref="Save(string, CancellationToken)"/>; a corrupt or truncated file throws <see cref="InvalidDataException"/>.</summary>
    public static KnowledgeGraph Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Load(file);
    }

    /// <summary>Reads a snapshot from <paramref name="stream"/>; a corrupt or truncated one throws <see cref="InvalidDataException"/>.</summary>
    public static KnowledgeGraph Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            using var header = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
            if (header.ReadUInt32() != Magic || header.ReadInt32() != FormatVersion)
            {
                throw new InvalidDataException("Not a knowledge graph snapshot (bad magic or version).");
            }
            var length = header.ReadInt64();
            var checksum = header.ReadUInt64();
            if (length < 0 || length > Array.MaxLength)
            {
                throw new InvalidDataException("The knowledge graph snapshot has an impossible length.");
            }
            var bytes = header.ReadBytes((int)length);
            if (bytes.Length != length || XxHash64.HashToUInt64(bytes) != checksum)
            {
                throw new InvalidDataException("The knowledge graph snapshot is truncated or corrupt.");
            }

            using var r = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
            var n = r.ReadInt32();
            if (n < 0 || n > bytes.Length)
            {
                throw new InvalidDataException("Bad node count.");
            }
            var types = new NodeType[n];
            var keys = new string[n];
            for (var i = 0; i < n; i++)
            {
                var type = r.ReadByte();
                if (type > (byte)NodeType.User)
                {
                    throw new InvalidDataException($"Bad node type {type}.");
                }
                types[i] = (NodeType)type;
                keys[i] = r.ReadString();
            }
            if (r.ReadInt32() != Relations.Count)
            {
                throw new InvalidDataException("Bad relation count.");
            }
            var tables = new Csr[Relations.Count];
            for (var rel = 0; rel < tables.Length; rel++)
            {
                var edges = r.ReadInt32();
                if (edges < 0 || (long)edges * 8 > bytes.Length)
                {
                    throw new InvalidDataException("Bad edge count.");
                }
                var offsets = ReadArray<int>(r, n + 1);
                var targets = ReadArray<int>(r, edges);
                var weights = ReadArray<float>(r, edges);
                if (offsets[0] != 0 || offsets[n] != edges)
                {
                    throw new InvalidDataException("Bad CSR offsets.");
                }
                for (var u = 0; u < n; u++)
                {
                    if (offsets[u + 1] < offsets[u])
                    {
                        throw new InvalidDataException("Bad CSR offsets.");
                    }
                }
                foreach (var t in targets)
                {
                    if ((uint)t >= (uint)n)
                    {
                        throw new InvalidDataException("Edge target out of range.");
                    }
                }
                foreach (var w in weights)
                {
                    if (!(w > 0f) || float.IsInfinity(w))
                    {
                        throw new InvalidDataException("Edge weights must be positive and finite.");
                    }
                }
                tables[rel] = new Csr(offsets, targets, weights);
            }
            if (r.BaseStream.Position != r.BaseStream.Length)
            {
                throw new InvalidDataException("Trailing bytes in the knowledge graph snapshot.");
            }
            return new KnowledgeGraph(types, keys, tables);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException("The knowledge graph snapshot is truncated.", ex);
        }
    }

    private static T[] ReadArray<T>(BinaryReader r, int count)
        where T : unmanaged
    {
        var array = new T[count];
        var span = MemoryMarshal.AsBytes(array.AsSpan());
        if (r.Read(span) != span.Length)
        {
            throw new EndOfStreamException();
        }
        return array;
    }
}
