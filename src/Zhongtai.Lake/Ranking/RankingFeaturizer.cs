using System.Data.Common;
using System.Globalization;
using DuckDB.NET.Data;
using Zhongtai.Training.Ranking;

namespace Zhongtai.Training;

/// <summary>
/// Turns rows of a ranking-samples table (the pipeline's point-in-time features) into hashed sparse samples, driven by
/// the column types so that a new feature column needs no code: text columns become one-hot <c>column=value</c>
/// features, list columns one feature per element, rates (<c>*_ctr_*</c>, <c>*affinity*</c>) enter as they are, and
/// other numbers as <c>sign·log(1+|x|)</c>. Identity and label columns are skipped. Serving must featurize with the
/// same <see cref="Bits"/> and <see cref="Seed"/>, which the model's registered configuration records.
/// </summary>
public sealed class RankingFeaturizer
{
    /// <summary>Columns that are never features: keys, time, labels and the actions that make them.</summary>
    public static readonly IReadOnlySet<string> NotFeatures = new HashSet<string>(StringComparer.Ordinal)
    {
        "event_offset", "negative", "ts", "label", "weight", "dwell_seconds",
    };

    private readonly FeatureHasher _hasher;

    public RankingFeaturizer(int bits, ulong seed = 0, bool identities = true)
    {
        _hasher = new FeatureHasher(bits, seed);
        Identities = identities;
    }

    public int Bits => _hasher.Bits;
    public ulong Seed => _hasher.Seed;

    /// <summary>When false, <c>user_id</c> and <c>item_id</c> are not features (a model that generalises only through statistics).</summary>
    public bool Identities { get; }

    /// <summary>True for the columns this featurizer reads.</summary>
    public bool IsFeature(string column) =>
        !NotFeatures.Contains(column) && !column.StartsWith("act_", StringComparison.Ordinal)
        && (Identities || (column != "user_id" && column != "item_id"));

    /// <summary>Reads every row of <paramref name="sql"/> (which must select <c>label</c> and <c>ts</c>) into a batch, with the rows' times.</summary>
    public (SparseBatch Batch, long[] Times) Read(DuckDBConnection connection, string sql, CancellationToken ct)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var columns = Enumerable.Range(0, reader.FieldCount).Select(i => (Index: i, Name: reader.GetName(i), Type: reader.GetFieldType(i))).ToArray();
        var label = Array.FindIndex(columns, c => c.Name == "label");
        if (label < 0)
        {
            throw new InvalidDataException("The samples have no 'label' column.");
        }

        var ts = columns.FirstOrDefault(c => c.Name == "ts");
        var features = columns.Where(c => IsFeature(c.Name)).ToArray();
        var builder = new SparseBatchBuilder(4096, features.Length + 4);
        var times = new List<long>();
        var indices = new List<int>(features.Length * 2);
        var values = new List<float>(features.Length * 2);
        while (reader.Read())
        {
            ct.ThrowIfCancellationRequested();
            indices.Clear();
            values.Clear();
            foreach (var (i, name, type) in features)
            {
                if (reader.IsDBNull(i))
                {
                    continue;
                }

                Add(reader, i, name, type, indices, values);
            }

            builder.Add(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(indices), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(values), Convert.ToSingle(reader.GetValue(label), CultureInfo.InvariantCulture));
            times.Add(ts.Name is null || reader.IsDBNull(ts.Index) ? 0 : ToMicros(reader.GetValue(ts.Index)));
        }

        return (builder.Build(), [.. times]);
    }

    private void Add(DbDataReader reader, int i, string name, Type type, List<int> indices, List<float> values)
    {
        if (type == typeof(string))
        {
            indices.Add(_hasher.Index(name, reader.GetString(i)));
            values.Add(1f);
        }
        else if (reader.GetValue(i) is System.Collections.IEnumerable list and not string)
        {
            foreach (var element in list)
            {
                if (element is not null)
                {
                    indices.Add(_hasher.Index(name, Convert.ToString(element, CultureInfo.InvariantCulture)));
                    values.Add(1f);
                }
            }
        }
        else if (type == typeof(bool))
        {
            indices.Add(_hasher.Index(name, reader.GetBoolean(i) ? "true" : "false"));
            values.Add(1f);
        }
        else if (name is "position" or "hour_of_day")
        {
            // Small integers with no order worth learning linearly: one-hot.
            indices.Add(_hasher.Index(name, Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture)));
            values.Add(1f);
        }
        else if (type.IsPrimitive || type == typeof(decimal) || type == typeof(System.Numerics.BigInteger))
        {
            var x = Convert.ToDouble(reader.GetValue(i), CultureInfo.InvariantCulture);
            if (!double.IsFinite(x) || x == 0)
            {
                return;
            }

            var rate = name.Contains("_ctr_", StringComparison.Ordinal) || name.Contains("affinity", StringComparison.Ordinal);
            indices.Add(_hasher.Index(name));
            values.Add((float)(rate ? x : Math.Sign(x) * Math.Log(1 + Math.Abs(x))));
        }
    }

    private static long ToMicros(object value) => value switch
    {
        DateTime d => (d.ToUniversalTime().Ticks - DateTime.UnixEpoch.Ticks) / 10,
        DateTimeOffset d => (d.UtcTicks - DateTime.UnixEpoch.Ticks) / 10,
        _ => Convert.ToInt64(value, CultureInfo.InvariantCulture),
    };
}
