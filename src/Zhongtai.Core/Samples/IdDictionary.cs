using System.Buffers.Binary;
using System.Text;
using Zhongtai.Events.Log;

namespace Zhongtai.Samples;

/// <summary>
/// Maps external ids (strings) to dense integers 0, 1, 2, ... in order of first sight. Append-only and durable:
/// each new id is a CRC-framed record in one file, fsync'd by <see cref="Flush"/>; a torn tail is dropped on open,
/// so an id is never renumbered. Models and indexes work on the dense ints.
/// </summary>
public sealed class IdDictionary : IDisposable
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];
    private readonly FileStream _file;
    private readonly Lock _lock = new();

    private IdDictionary(FileStream file) => _file = file;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _names.Count;
            }
        }
    }

    /// <summary>Opens (creating) the dictionary file, reading every complete record.</summary>
    public static IdDictionary Open(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        var dictionary = new IdDictionary(file);
        var bytes = new byte[file.Length];
        file.ReadExactly(bytes);
        var position = 0;
        while (position + 8 <= bytes.Length)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(position));
            if (length < 0 || position + 8 + length > bytes.Length)
            {
                break;
            }

            var payload = bytes.AsSpan(position + 8, length);
            if (Crc32C.Compute(payload) != BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(position + 4)))
            {
                break;
            }

            var id = Encoding.UTF8.GetString(payload);
            dictionary._ids[id] = dictionary._names.Count;
            dictionary._names.Add(id);
            position += 8 + length;
        }

        file.SetLength(position);
        file.Position = position;
        return dictionary;
    }

    /// <summary>The dense int of <paramref name="id"/>, assigning the next one if it is new (call <see cref="Flush"/> to make new ids durable).</summary>
    public int GetOrAdd(string id)
    {
        lock (_lock)
        {
            if (_ids.TryGetValue(id, out var existing))
            {
                return existing;
            }

            var payload = Encoding.UTF8.GetBytes(id);
            Span<byte> header = stackalloc byte[8];
            BinaryPrimitives.WriteInt32LittleEndian(header, payload.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Crc32C.Compute(payload));
            _file.Write(header);
            _file.Write(payload);
            var dense = _names.Count;
            _ids[id] = dense;
            _names.Add(id);
            return dense;
        }
    }

    /// <summary>The dense int of a known id, or -1.</summary>
    public int Find(string id)
    {
        lock (_lock)
        {
            return _ids.TryGetValue(id, out var v) ? v : -1;
        }
    }

    /// <summary>The external id of a dense int.</summary>
    public string this[int dense]
    {
        get
        {
            lock (_lock)
            {
                return _names[dense];
            }
        }
    }

    /// <summary>A snapshot of every external id, in dense order.</summary>
    public string[] ToArray()
    {
        lock (_lock)
        {
            return [.. _names];
        }
    }

    /// <summary>Makes every id assigned so far durable.</summary>
    public void Flush()
    {
        lock (_lock)
        {
            _file.Flush(flushToDisk: true);
        }
    }

    public void Dispose()
    {
        Flush();
        _file.Dispose();
    }
}
