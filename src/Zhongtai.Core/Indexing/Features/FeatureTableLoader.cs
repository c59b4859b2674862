using System.Globalization;
using System.Numerics;
using Parquet;
using Parquet.Schema;

namespace Zhongtai.Indexing.Features;

/// <summary>
/// Bulk loads of the feature store from the offline pipeline: rows of (entity key → feature values) from a Parquet file
/// or any sequence become a new base version of an <see cref="IFeatureStore"/>, published atomically (the version file is
/// written and synced first, then <c>CURRENT</c> is replaced by rename and the in-memory base swapped by reference, so a
/// reader sees either the old version or the new one, never a mix).
/// </summary>
public static class FeatureTableLoader
{
    /// <summary>Publishes <paramref name="rows"/> as base version <paramref name="version"/> of <paramref name="store"/>; returns the rows loaded.</summary>
    public static int Publish(IFeatureStore store, string version, IEnumerable<(string Key, float[] Values)> rows)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(rows);
        int count = 0;
        store.LoadVersion(version, Counted(rows));
        return count;

        IEnumerable<(string Key, float[] Values)> Counted(IEnumerable<(string Key, float[] Values)> source)
        {
            foreach (var row in source)
            {
                count++;
                yield return row;
            }
        }
    }

    /// <summary>
    /// Publishes a Parquet table as base version <paramref name="version"/>: column <paramref name="keyColumn"/> (string,
    /// int or long) is the entity key, and for every feature of the store a numeric column of the same name (float,
    /// double, int or long, nullable or not) gives its values; a null value loads as 0, other columns are ignored.
    /// Returns the rows loaded.
    /// </summary>
    /// <exception cref="InvalidDataException">A feature column or the key column is missing or not numeric/string, or a key is null.</exception>
    public static async Task<int> PublishParquetAsync(IFeatureStore store, string version, string path, string keyColumn = "key", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var rows = await ReadParquetAsync(path, keyColumn, store.FeatureNames, cancellationToken).ConfigureAwait(false);
        return Publish(store, version, rows);
    }

    /// <summary>Reads the rows of a feature table (see <see cref="PublishParquetAsync"/>) into memory.</summary>
    public static async Task<List<(string Key, float[] Values)>> ReadParquetAsync(string path, string keyColumn, IReadOnlyList<string> features, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(features);
        var stream = File.OpenRead(path);
        await using var streamScope = stream.ConfigureAwait(false);
        var reader = await ParquetReader.CreateAsync(stream, null, false, cancellationToken).ConfigureAwait(false);
        await using var readerScope = reader.ConfigureAwait(false);
        var fields = reader.Schema.GetDataFields();
        DataField Field(string name) => fields.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.Ordinal))
            ?? throw new InvalidDataException($"{path} has no column '{name}' (columns: {string.Join(", ", fields.Select(f => f.Name))}).");
        var keyField = Field(keyColumn);
        var featureFields = features.Select(Field).ToArray();
        int width = features.Count;
        var result = new List<(string, float[])>();
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var rg = reader.OpenRowGroupReader(g);
            int n = checked((int)rg.RowCount);
            var keys = await ReadKeysAsync(rg, keyField, n, path, cancellationToken).ConfigureAwait(false);
            var matrix = new float[n * width];
            for (int c = 0; c < width; c++)
            {
                var f = featureFields[c];
                var t = f.ClrType;
                Task task = t == typeof(float) ? ReadColumnAsync<float>(rg, f, n, matrix, c, width, cancellationToken)
                    : t == typeof(double) ? ReadColumnAsync<double>(rg, f, n, matrix, c, width, cancellationToken)
                    : t == typeof(int) ? ReadColumnAsync<int>(rg, f, n, matrix, c, width, cancellationToken)
                    : t == typeof(long) ? ReadColumnAsync<long>(rg, f, n, matrix, c, width, cancellationToken)
                    : throw new InvalidDataException($"{path}: feature column '{f.Name}' is {t.Name}; expected float, double, int or long.");
                await task.ConfigureAwait(false);
            }
            for (int i = 0; i < n; i++)
            {
                result.Add((keys[i], matrix.AsSpan(i * width, width).ToArray()));
            }
        }
        return result;
    }

    private static async Task<string[]> ReadKeysAsync(ParquetRowGroupReader rg, DataField field, int n, string path, CancellationToken ct)
    {
        var keys = new string[n];
        if (field.ClrType == typeof(string) || field.ClrType == typeof(ReadOnlyMemory<char>))
        {
            var raw = new string?[n];
            await rg.ReadAsync(field, raw.AsMemory(), null, ct).ConfigureAwait(false);
            for (int i = 0; i < n; i++)
            {
                keys[i] = raw[i] ?? throw new InvalidDataException($"{path}: row {i} has a null key.");
            }
            return keys;
        }
        if (field.ClrType != typeof(long) && field.ClrType != typeof(int))
        {
            throw new InvalidDataException($"{path}: key column '{field.Name}' is {field.ClrType.Name}; expected string, int or long.");
        }
        var longs = new long?[n];
        if (field.ClrType == typeof(long))
        {
            await ReadNullableAsync(rg, field, longs, ct).ConfigureAwait(false);
        }
        else
        {
            var ints = new int?[n];
            await ReadNullableAsync(rg, field, ints, ct).ConfigureAwait(false);
            for (int i = 0; i < n; i++)
            {
                longs[i] = ints[i];
            }
        }
        for (int i = 0; i < n; i++)
        {
            keys[i] = longs[i]?.ToString(CultureInfo.InvariantCulture) ?? throw new InvalidDataException($"{path}: row {i} has a null key.");
        }
        return keys;
    }

    private static async Task ReadNullableAsync<T>(ParquetRowGroupReader rg, DataField field, T?[] values, CancellationToken ct)
        where T : struct
    {
        if (field.IsNullable)
        {
            await rg.ReadAsync<T>(field, values.AsMemory(), null, ct).ConfigureAwait(false);
            return;
        }
        var plain = new T[values.Length];
        await rg.ReadAsync<T>(field, plain.AsMemory(), null, ct).ConfigureAwait(false);
        for (int i = 0; i < plain.Length; i++)
        {
            values[i] = plain[i];
        }
    }

    private static async Task ReadColumnAsync<T>(ParquetRowGroupReader rg, DataField field, int n, float[] matrix, int column, int width, CancellationToken ct)
        where T : struct, INumberBase<T>
    {
        var values = new T?[n];
        await ReadNullableAsync(rg, field, values, ct).ConfigureAwait(false);
        for (int i = 0; i < n; i++)
        {
            matrix[(i * width) + column] = values[i] is { } v ? float.CreateSaturating(v) : 0f;
        }
    }
}
