using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Zhongtai.Indexing.Vector;

/// <summary>
/// The single-file snapshot format of the vector indexes.
/// </summary>
/// <remarks>
/// Layout (little endian): a 64-byte header — magic <c>ZTVECIDX</c>, format version, kind (1 = exact, 2 = HNSW), metric,
/// dimension, node count, M, efConstruction, max level, entry node, number of upper-level link ints, payload length,
/// CRC-32C — followed by 4-byte aligned sections: labels, levels, tombstones, vectors, level-0 links, upper-level links
/// (the exact index stores labels and vectors only). The CRC covers the header (with the CRC field zero) and the payload.
/// Loading reads each section with one bulk read straight into its final (pinned) array and verifies length and CRC;
/// a torn, truncated or corrupted file is refused with an <see cref="InvalidDataException"/> that says what is wrong.
/// <see cref="OpenMapped"/> maps an HNSW snapshot instead: vectors and links are read in place, the pages shared through the
/// page cache by every process that maps the same file, and the checksum is checked on demand (<see cref="Verify(string)"/>).
/// Saving writes <c>path.tmp</c>, flushes it to disk, renames it over <c>path</c> and fsyncs the directory, so a crash leaves the previous snapshot.
/// </remarks>
public static unsafe class VectorIndexFile
{
    public const int Version = 1;
    internal const int KindExact = 1;
    internal const int KindHnsw = 2;
    private const int HeaderSize = 64;
    internal const int HeaderBytes = HeaderSize;
    private static ReadOnlySpan<byte> Magic => "ZTVECIDX"u8;

    internal sealed class Header
    {
        public int Kind;
        public VectorMetric Metric;
        public int Dimension;
        public int Count;
        public int M;
        public int EfConstruction;
        public int MaxLevel = -1;
        public int EntryNode = -1;
        public int UpperInts;
        public long PayloadBytes;
        public uint Crc;

        public long ExpectedPayload() => Kind == KindExact
            ? (4L * Count) + (4L * Count * Dimension)
            : (4L * Count * 3) + (4L * Count * Dimension) + (4L * Count * ((2 * M) + 1)) + (4L * UpperInts);

        public void WriteTo(Span<byte> b)
        {
            b.Clear();
            Magic.CopyTo(b);
            BinaryPrimitives.WriteInt32LittleEndian(b[8..], Version);
            BinaryPrimitives.WriteInt32LittleEndian(b[12..], Kind);
            BinaryPrimitives.WriteInt32LittleEndian(b[16..], (int)Metric);
            BinaryPrimitives.WriteInt32LittleEndian(b[20..], Dimension);
            BinaryPrimitives.WriteInt32LittleEndian(b[24..], Count);
            BinaryPrimitives.WriteInt32LittleEndian(b[28..], M);
            BinaryPrimitives.WriteInt32LittleEndian(b[32..], EfConstruction);
            BinaryPrimitives.WriteInt32LittleEndian(b[36..], MaxLevel);
            BinaryPrimitives.WriteInt32LittleEndian(b[40..], EntryNode);
            BinaryPrimitives.WriteInt32LittleEndian(b[44..], UpperInts);
            BinaryPrimitives.WriteInt64LittleEndian(b[48..], PayloadBytes);
            BinaryPrimitives.WriteUInt32LittleEndian(b[56..], Crc);
        }

        public static Header Read(ReadOnlySpan<byte> b, string path)
        {
            if (!b[..8].SequenceEqual(Magic))
            {
                throw new InvalidDataException($"'{path}' is not a Zhongtai vector index file (bad magic).");
            }
            int version = BinaryPrimitives.ReadInt32LittleEndian(b[8..]);
            if (version != Version)
            {
                throw new InvalidDataException($"'{path}' has vector index format version {version}; this build reads version {Version}.");
            }
            var h = new Header
            {
                Kind = BinaryPrimitives.ReadInt32LittleEndian(b[12..]),
                Metric = (VectorMetric)BinaryPrimitives.ReadInt32LittleEndian(b[16..]),
                Dimension = BinaryPrimitives.ReadInt32LittleEndian(b[20..]),
                Count = BinaryPrimitives.ReadInt32LittleEndian(b[24..]),
                M = BinaryPrimitives.ReadInt32LittleEndian(b[28..]),
                EfConstruction = BinaryPrimitives.ReadInt32LittleEndian(b[32..]),
                MaxLevel = BinaryPrimitives.ReadInt32LittleEndian(b[36..]),
                EntryNode = BinaryPrimitives.ReadInt32LittleEndian(b[40..]),
                UpperInts = BinaryPrimitives.ReadInt32LittleEndian(b[44..]),
                PayloadBytes = BinaryPrimitives.ReadInt64LittleEndian(b[48..]),
                Crc = BinaryPrimitives.ReadUInt32LittleEndian(b[56..]),
            };
            bool sane = h.Kind is KindExact or KindHnsw
                && Enum.IsDefined(h.Metric)
                && h.Dimension > 0 && h.Count >= 0 && h.UpperInts >= 0
                && (h.Kind == KindExact || (h.M is >= 2 and <= 256 && h.EfConstruction > 0 && h.EntryNode < h.Count && h.MaxLevel <= 16));
            if (!sane || h.PayloadBytes != h.ExpectedPayload())
            {
                throw new InvalidDataException($"'{path}' is corrupt: its header is inconsistent (kind {h.Kind}, dim {h.Dimension}, count {h.Count}, payload {h.PayloadBytes} bytes).");
            }
            return h;
        }
    }

    /// <summary>Loads a snapshot written by <see cref="IVectorIndex.Save"/>; returns an <see cref="HnswIndex"/> or a <see cref="BruteForceIndex"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Search/build options for a loaded HNSW index (M and efConstruction come from the file).</param>
    /// <exception cref="InvalidDataException">The file is not an index, is truncated, or fails its checksum.</exception>
    public static IVectorIndex Load(string path, HnswOptions? options = null)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        long length = RandomAccess.GetLength(handle);
        if (length < HeaderSize)
        {
            throw new InvalidDataException($"'{path}' is truncated: {length} bytes is shorter than the {HeaderSize}-byte header.");
        }
        Span<byte> hb = stackalloc byte[HeaderSize];
        ReadExactly(handle, hb, 0, path);
        var h = Header.Read(hb, path);
        if (length != HeaderSize + h.PayloadBytes)
        {
            throw new InvalidDataException($"'{path}' is torn or truncated: the header promises {HeaderSize + h.PayloadBytes} bytes but the file has {length}.");
        }
        BinaryPrimitives.WriteUInt32LittleEndian(hb[56..], 0);
        uint crc = Crc32C.Update(Crc32C.Seed, hb);
        long offset = HeaderSize;

        T[] Section<T>(long count) where T : unmanaged
        {
            var arr = GC.AllocateUninitializedArray<T>(checked((int)count), pinned: true);
            var bytes = MemoryMarshal.AsBytes(arr.AsSpan());
            ReadExactly(handle, bytes, offset, path);
            crc = Crc32C.Update(crc, bytes);
            offset += bytes.Length;
            return arr;
        }

        IVectorIndex index;
        if (h.Kind == KindExact)
        {
            var labels = Section<int>(h.Count);
            var vectors = Section<float>((long)h.Count * h.Dimension);
            Verify(crc, h, path);
            index = BruteForceIndex.FromFile(h, labels, vectors);
        }
        else
        {
            var labels = Section<int>(h.Count);
            var levels = Section<int>(h.Count);
            var deleted = Section<int>(h.Count);
            var vectors = Section<float>((long)h.Count * h.Dimension);
            var links0 = Section<int>((long)h.Count * ((2 * h.M) + 1));
            var upper = Section<int>(h.UpperInts);
            Verify(crc, h, path);
            CheckLinks(links0, h, path);
            index = HnswIndex.FromFile(h, labels, levels, deleted, vectors, links0, upper, options);
        }
        return index;
    }

    /// <summary>
    /// Opens an HNSW snapshot by memory-mapping it read-only: vectors, level-0 links and upper-level links stay in the file
    /// and are paged in on first touch (and shared through the page cache by every process that maps the file); only
    /// labels, levels and tombstones (12 bytes a node) are copied. Searches run at heap speed once pages are resident.
    /// The index accepts writes: the first insert copies the graph to the heap (the file is never written).
    /// Dispose the index to unmap it, after searches have stopped.
    /// </summary>
    /// <param name="path">A file written by <see cref="HnswIndex.Save"/>.</param>
    /// <param name="options">Search/build options (M and efConstruction come from the file).</param>
    /// <param name="verify">
    /// True: check the CRC and every link before returning (reads the whole file, like <see cref="Load"/>).
    /// False (default): check the header, the length and the levels only, which is what makes opening take milliseconds;
    /// a file damaged at rest can then return wrong results or fault, so verify it once when it is published
    /// (<see cref="Verify(string)"/>, e.g. in the job that wrote it or in the background after opening).
    /// </param>
    /// <exception cref="InvalidDataException">Not an HNSW index file, truncated, or (when verifying) corrupt.</exception>
    public static HnswIndex OpenMapped(string path, HnswOptions? options = null, bool verify = false)
    {
        var mapping = MappedVectorFile.Open(path);
        try
        {
            if (mapping.Length < HeaderSize)
            {
                throw new InvalidDataException($"'{path}' is truncated: {mapping.Length} bytes is shorter than the {HeaderSize}-byte header.");
            }
            var h = Header.Read(new ReadOnlySpan<byte>(mapping.Pointer, HeaderSize), path);
            if (mapping.Length != HeaderSize + h.PayloadBytes)
            {
                throw new InvalidDataException($"'{path}' is torn or truncated: the header promises {HeaderSize + h.PayloadBytes} bytes but the file has {mapping.Length}.");
            }
            if (h.Kind != KindHnsw)
            {
                throw new InvalidDataException($"'{path}' holds an exact index; only HNSW snapshots can be mapped (use Load).");
            }
            if (verify)
            {
                VerifyMapped(mapping, h, path);
            }
            return HnswIndex.FromMapping(h, mapping, options);
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Verifies a snapshot without loading it: header, length, CRC, and (for HNSW) that every level-0 link names a node.
    /// Streams the file through a mapping (no large allocation). Throws <see cref="InvalidDataException"/> on any damage.
    /// </summary>
    public static void Verify(string path)
    {
        using var mapping = MappedVectorFile.Open(path);
        if (mapping.Length < HeaderSize)
        {
            throw new InvalidDataException($"'{path}' is truncated: {mapping.Length} bytes is shorter than the {HeaderSize}-byte header.");
        }
        var h = Header.Read(new ReadOnlySpan<byte>(mapping.Pointer, HeaderSize), path);
        if (mapping.Length != HeaderSize + h.PayloadBytes)
        {
            throw new InvalidDataException($"'{path}' is torn or truncated: the header promises {HeaderSize + h.PayloadBytes} bytes but the file has {mapping.Length}.");
        }
        VerifyMapped(mapping, h, path);
    }

    private static void VerifyMapped(MappedVectorFile mapping, Header h, string path)
    {
        Span<byte> hb = stackalloc byte[HeaderSize];
        new ReadOnlySpan<byte>(mapping.Pointer, HeaderSize).CopyTo(hb);
        BinaryPrimitives.WriteUInt32LittleEndian(hb[56..], 0);
        uint crc = Crc32C.Update(Crc32C.Seed, hb);
        const int Chunk = 1 << 30;
        for (long off = 0; off < h.PayloadBytes; off += Chunk)
        {
            int len = (int)Math.Min(Chunk, h.PayloadBytes - off);
            crc = Crc32C.Update(crc, new ReadOnlySpan<byte>(mapping.Pointer + HeaderSize + off, len));
        }
        Verify(crc, h, path);
        if (h.Kind == KindHnsw)
        {
            long links0Offset = HeaderSize + (4L * h.Count * 3) + (4L * h.Count * h.Dimension);
            CheckLinks(new ReadOnlySpan<int>(mapping.Pointer + links0Offset, checked(h.Count * ((2 * h.M) + 1))), h, path);
            var upper = new ReadOnlySpan<int>(mapping.Pointer + links0Offset + (4L * h.Count * ((2 * h.M) + 1)), h.UpperInts);
            foreach (int v in upper)
            {
                // Counts (<= M) and node ids (< Count) both fit this bound; exact per-list checks happen in Load.
                if ((uint)v >= (uint)Math.Max(h.Count, h.M + 1))
                {
                    throw new InvalidDataException($"'{path}' is corrupt: an upper-level link names a node that does not exist.");
                }
            }
        }
    }

    private static void Verify(uint crc, Header h, string path)
    {
        uint actual = Crc32C.Finish(crc);
        if (actual != h.Crc)
        {
            throw new InvalidDataException($"'{path}' is corrupt: checksum mismatch (header says {h.Crc:x8}, content gives {actual:x8}).");
        }
    }

    private static void CheckLinks(ReadOnlySpan<int> links0, Header h, string path)
    {
        int stride = (2 * h.M) + 1;
        for (int node = 0; node < h.Count; node++)
        {
            int cnt = links0[node * stride];
            if ((uint)cnt > (uint)(2 * h.M))
            {
                throw new InvalidDataException($"'{path}' is corrupt: node {node} has {cnt} links.");
            }
            for (int j = 1; j <= cnt; j++)
            {
                if ((uint)links0[(node * stride) + j] >= (uint)h.Count)
                {
                    throw new InvalidDataException($"'{path}' is corrupt: node {node} links to a node that does not exist.");
                }
            }
        }
    }

    private static void ReadExactly(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Span<byte> buffer, long offset, string path)
    {
        while (!buffer.IsEmpty)
        {
            int n = RandomAccess.Read(handle, buffer, offset);
            if (n <= 0)
            {
                throw new InvalidDataException($"'{path}' is truncated at byte {offset}.");
            }
            buffer = buffer[n..];
            offset += n;
        }
    }

    /// <summary>Streams sections into a temp file, computing the checksum, then commits with fsync + rename.</summary>
    internal sealed class Writer : IDisposable
    {
        private readonly string _path;
        private readonly string _tmp;
        private readonly FileStream _stream;
        private readonly Header _header;
        private uint _crc;
        private long _written;
        private bool _committed;

        public Writer(string path, Header header)
        {
            _path = Path.GetFullPath(path);
            _tmp = _path + ".tmp";
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            _header = header;
            _header.PayloadBytes = header.ExpectedPayload();
            _header.Crc = 0;
            _stream = new FileStream(_tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            Span<byte> hb = stackalloc byte[HeaderSize];
            _header.WriteTo(hb);
            _crc = Crc32C.Update(Crc32C.Seed, hb);
            _stream.Write(hb);
        }

        public void Write<T>(ReadOnlySpan<T> section) where T : unmanaged
        {
            var bytes = MemoryMarshal.AsBytes(section);
            _crc = Crc32C.Update(_crc, bytes);
            _stream.Write(bytes);
            _written += bytes.Length;
        }

        public void Commit()
        {
            if (_written != _header.PayloadBytes)
            {
                throw new InvalidOperationException($"Vector index writer produced {_written} payload bytes, expected {_header.PayloadBytes}.");
            }
            _header.Crc = Crc32C.Finish(_crc);
            Span<byte> hb = stackalloc byte[HeaderSize];
            _header.WriteTo(hb);
            _stream.Position = 0;
            _stream.Write(hb);
            _stream.Flush(flushToDisk: true);
            _stream.Dispose();
            File.Move(_tmp, _path, overwrite: true);
            Zhongtai.Storage.Durable.SyncDirectory(Path.GetDirectoryName(_path)!);
            _committed = true;
        }

        public void Dispose()
        {
            if (!_committed)
            {
                _stream.Dispose();
                try
                {
                    File.Delete(_tmp);
                }
                catch (IOException)
                {
                    // Best effort: a stale temp file is harmless and replaced by the next save.
                }
            }
        }
    }
}

/// <summary>A read-only memory mapping of a whole file and the pointer to its first byte; disposing unmaps it.</summary>
internal sealed unsafe class MappedVectorFile : IDisposable
{
    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _view;
    private int _disposed;

    private MappedVectorFile(MemoryMappedFile? file, MemoryMappedViewAccessor? view, byte* pointer, long length)
    {
        _file = file;
        _view = view;
        Pointer = pointer;
        Length = length;
    }

    public byte* Pointer { get; }

    public long Length { get; }

    public static MappedVectorFile Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.RandomAccess);
        MemoryMappedFile? file = null;
        try
        {
            long length = stream.Length;
            if (length == 0)
            {
                stream.Dispose();
                return new MappedVectorFile(null, null, null, 0);
            }
            // The mapping owns the stream from here on (leaveOpen: false).
            file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            var view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            return new MappedVectorFile(file, view, p + view.PointerOffset, length);
        }
        catch
        {
            if (file is null)
            {
                stream.Dispose();
            }
            else
            {
                file.Dispose();
            }
            throw;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || _view is null)
        {
            return;
        }
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file!.Dispose();
    }
}

/// <summary>CRC-32C (Castagnoli) using the SSE4.2 instruction when available.</summary>
internal static class Crc32C
{
    public const uint Seed = 0xFFFFFFFFu;
    private static readonly uint[] Table = BuildTable();

    public static uint Finish(uint crc) => ~crc;

    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        if (Sse42.X64.IsSupported)
        {
            ulong c = crc;
            var longs = MemoryMarshal.Cast<byte, ulong>(data);
            foreach (ulong v in longs)
            {
                c = Sse42.X64.Crc32(c, v);
            }
            crc = (uint)c;
            foreach (byte b in data[(longs.Length * 8)..])
            {
                crc = Sse42.Crc32(crc, b);
            }
            return crc;
        }
        foreach (byte b in data)
        {
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return crc;
    }

    private static uint[] BuildTable()
    {
        var t = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
            }
            t[i] = c;
        }
        return t;
    }
}
