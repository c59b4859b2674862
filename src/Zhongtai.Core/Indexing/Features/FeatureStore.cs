using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using Zhongtai.Events.Log;

namespace Zhongtai.Indexing.Features;

/// <summary>
/// Online features of one entity kind (users or items): fixed-width float vectors by key, read in batches for ranking.
/// Two layers: an immutable, versioned base loaded in bulk from the offline pipeline, and a nearline overlay of
/// per-key updates with a time to live. The embedded implementation is <see cref="EmbeddedFeatureStore"/>; a Redis one
/// can satisfy the same interface.
/// </summary>
public interface IFeatureStore
{
    /// <summary>The feature names, in column order.</summary>
    IReadOnlyList<string> FeatureNames { get; }

    /// <summary>The base version serving now, or null before the first load.</summary>
    string? ActiveVersion { get; }

    /// <summary>Writes <paramref name="rows"/> as base version <paramref name="version"/> and makes it active.</summary>
    void LoadVersion(string version, IEnumerable<(string Key, float[] Values)> rows);

    /// <summary>A nearline update: overrides the base for <paramref name="key"/> until <paramref name="ttl"/> passes (null: until the next base load).</summary>
    void Put(string key, ReadOnlySpan<float> values, TimeSpan? ttl = null);

    /// <summary>
    /// Looks up <paramref name="keys"/>; row i of <paramref name="destination"/> (width <see cref="FeatureNames"/>.Count)
    /// gets key i's features, or zeros with <paramref name="found"/>[i] false. Returns how many were found.
    /// </summary>
    int GetMany(ReadOnlySpan<string> keys, Span<float> destination, Span<bool> found);
}

/// <summary>
/// The embedded feature store: base versions are files <c>DIR/VERSION.zfs</c> (header, names, keys, a float matrix and an
/// XXH64 checksum; written to a temporary file, fsync'd and renamed), <c>DIR/CURRENT</c> names the active one (replaced
/// atomically), and the whole active version lives in one contiguous array with a key → row dictionary. Readers never
/// lock: a new version is swapped in by reference. The overlay is a concurrent dictionary with expiry from the
/// <see cref="TimeProvider"/>.
/// </summary>
public sealed class EmbeddedFeatureStore : IFeatureStore
{
    private const uint Magic = 0x5346545A; // "ZTFS"
    private readonly string _directory;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, OverlayRow> _overlay = new(StringComparer.Ordinal);
    private BaseLayer? _base;

    public EmbeddedFeatureStore(string directory, IReadOnlyList<string> featureNames, TimeProvider time)
    {
        if (featureNames.Count == 0 || featureNames.Distinct(StringComparer.Ordinal).Count() != featureNames.Count)
        {
            throw new ArgumentException("Feature names must be a non-empty list without duplicates.", nameof(featureNames));
        }

        _directory = directory;
        _time = time;
        FeatureNames = featureNames;
        Directory.CreateDirectory(directory);
        var current = Path.Combine(directory, "CURRENT");
        if (File.Exists(current))
        {
            _base = Read(Path.Combine(directory, File.ReadAllText(current).Trim() + ".zfs"));
            if (!_base.Names.SequenceEqual(featureNames, StringComparer.Ordinal))
            {
                throw new InvalidDataException($"The active feature version {_base.Version} has features [{string.Join(",", _base.Names)}], not [{string.Join(",", featureNames)}].");
            }
        }
    }

    public IReadOnlyList<string> FeatureNames { get; }

    public string? ActiveVersion => Volatile.Read(ref _base)?.Version;

    public int Width => FeatureNames.Count;

    public void LoadVersion(string version, IEnumerable<(string Key, float[] Values)> rows)
    {
        if (string.IsNullOrEmpty(version) || version.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            throw new ArgumentException($"A feature version is letters, digits, '-', '_' and '.'; got '{version}'.", nameof(version));
        }

        var keys = new List<string>();
        var matrix = new List<float>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, values) in rows)
        {
            if (values.Length != Width)
            {
                throw new ArgumentException($"Key '{key}' has {values.Length} values; the store has {Width} features.", nameof(rows));
            }

            if (!seen.Add(key))
            {
                throw new ArgumentException($"Key '{key}' appears twice in version {version}.", nameof(rows));
            }

            keys.Add(key);
            matrix.AddRange(values);
        }

        var path = Path.Combine(_directory, version + ".zfs");
        Write(path, version, [.. keys], [.. matrix]);
        var current = Path.Combine(_directory, "CURRENT");
        File.WriteAllText(current + ".tmp", version);
        File.Move(current + ".tmp", current, overwrite: true);
        Zhongtai.Storage.Durable.SyncDirectory(_directory);
        Volatile.Write(ref _base, Read(path));
        _overlay.Clear();
    }

    public void Put(string key, ReadOnlySpan<float> values, TimeSpan? ttl = null)
    {
        if (values.Length != Width)
        {
            throw new ArgumentException($"Key '{key}' has {values.Length} values; the store has {Width} features.", nameof(values));
        }

        var expires = ttl is { } t ? _time.GetUtcNow().Add(t).UtcTicks : long.MaxValue;
        // A key written again (realtime counters: every exposure) is updated in place, so a busy overlay allocates
        // nothing; a row the sweep removed meanwhile is put back whole.
        if (_overlay.TryGetValue(key, out var row))
        {
            lock (row)
            {
                values.CopyTo(row.Values);
                row.ExpiresAt = expires;
            }

            if (_overlay.TryGetValue(key, out var current) && ReferenceEquals(current, row))
            {
                return;
            }
        }

        _overlay[key] = new OverlayRow(values.ToArray(), expires);
    }

    public int GetMany(ReadOnlySpan<string> keys, Span<float> destination, Span<bool> found)
    {
        var width = Width;
        if (destination.Length < keys.Length * width || found.Length < keys.Length)
        {
            throw new ArgumentException($"destination needs {keys.Length}×{width} floats and found {keys.Length} flags.");
        }

        var layer = Volatile.Read(ref _base);
        var now = _overlay.IsEmpty ? 0 : _time.GetUtcNow().UtcTicks;
        var hits = 0;
        for (var i = 0; i < keys.Length; i++)
        {
            var row = destination.Slice(i * width, width);
            if (!_overlay.IsEmpty && _overlay.TryGetValue(keys[i], out var o) && o.TryCopy(now, row))
            {
                found[i] = true;
                hits++;
            }
            else if (layer is not null && layer.Rows.TryGetValue(keys[i], out var r))
            {
                layer.Matrix.AsSpan(r * width, width).CopyTo(row);
                found[i] = true;
                hits++;
            }
            else
            {
                row.Clear();
                found[i] = false;
            }
        }

        return hits;
    }

    /// <summary>Removes expired overlay entries (lookups already ignore them); returns how many.</summary>
    public int Sweep()
    {
        var now = _time.GetUtcNow().UtcTicks;
        var removed = 0;
        foreach (var (key, value) in _overlay)
        {
            lock (value)
            {
                if (value.ExpiresAt <= now && _overlay.TryRemove(new KeyValuePair<string, OverlayRow>(key, value)))
                {
                    removed++;
                }
            }
        }

        return removed;
    }

    /// <summary>One overlay row, written in place under its own lock.</summary>
    private sealed class OverlayRow(float[] values, long expiresAt)
    {
        public float[] Values { get; } = values;
        public long ExpiresAt { get; set; } = expiresAt;

        public bool TryCopy(long now, Span<float> destination)
        {
            lock (this)
            {
                if (ExpiresAt <= now)
                {
                    return false;
                }

                Values.CopyTo(destination);
                return true;
            }
        }
    }

    private void Write(string path, string version, string[] keys, float[] matrix)
    {
        using var body = new MemoryStream();
        using (var w = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(version);
            w.Write(FeatureNames.Count);
            foreach (var n in FeatureNames)
            {
                w.Write(n);
            }

            w.Write(keys.Length);
            foreach (var k in keys)
            {
                w.Write(k);
            }

            w.Write(MemoryMarshal.AsBytes(matrix.AsSpan()));
        }

        var tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write))
        using (var w = new BinaryWriter(fs))
        {
            w.Write(Magic);
            w.Write(body.Length);
            w.Write(XxHash64.HashToUInt64(body.GetBuffer().AsSpan(0, (int)body.Length)));
            w.Write(body.GetBuffer(), 0, (int)body.Length);
            w.Flush();
            fs.Flush(flushToDisk: true);
        }

        File.Move(tmp, path, overwrite: true);
    }

    private static BaseLayer Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 20 || BitConverter.ToUInt32(bytes, 0) != Magic)
        {
            throw new InvalidDataException($"{path} is not a feature version file.");
        }

        var length = BitConverter.ToInt64(bytes, 4);
        if (length != bytes.Length - 20 || XxHash64.HashToUInt64(bytes.AsSpan(20)) != BitConverter.ToUInt64(bytes, 12))
        {
            throw new InvalidDataException($"{path} is truncated or corrupt.");
        }

        using var r = new BinaryReader(new MemoryStream(bytes, 20, bytes.Length - 20), Encoding.UTF8);
        var version = r.ReadString();
        var names = new string[r.ReadInt32()];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = r.ReadString();
        }

        var count = r.ReadInt32();
        var rows = new Dictionary<string, int>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            rows[r.ReadString()] = i;
        }

        var matrix = new float[count * names.Length];
        r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(matrix.AsSpan()));
        return new BaseLayer(version, names, rows, matrix);
    }

    private sealed record BaseLayer(string Version, string[] Names, Dictionary<string, int> Rows, float[] Matrix);
}
