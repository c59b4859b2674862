using System.Globalization;
using System.Text;
using Zhongtai.Training.Ranking;

namespace Zhongtai.Bench.Ranking;

/// <summary>
/// svmlight text files ("label idx:value ...", zero-based indices, ascending, duplicates merged) so that the
/// benchmark and the scikit-learn peer train on exactly the same rows.
/// </summary>
internal static class SvmLight
{
    public static void Write(string path, SparseBatch batch)
    {
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false), 1 << 20);
        var pairs = new List<(int Index, float Value)>();
        var line = new StringBuilder();
        for (int s = 0; s < batch.Count; s++)
        {
            SparseSample sample = batch[s];
            pairs.Clear();
            for (int j = 0; j < sample.Indices.Length; j++)
            {
                pairs.Add((sample.Indices[j], sample.Values[j]));
            }

            pairs.Sort((a, b) => a.Index.CompareTo(b.Index));
            line.Clear();
            line.Append(sample.Label > 0.5f ? '1' : '0');
            for (int j = 0; j < pairs.Count; j++)
            {
                int index = pairs[j].Index;
                float value = pairs[j].Value;
                while (j + 1 < pairs.Count && pairs[j + 1].Index == index)
                {
                    value += pairs[++j].Value; // hash collision inside one sample: one column, summed
                }

                line.Append(' ').Append(index.ToString(CultureInfo.InvariantCulture)).Append(':').Append(value.ToString("R", CultureInfo.InvariantCulture));
            }

            writer.WriteLine(line);
        }
    }

    public static SparseBatch Read(string path)
    {
        var builder = new SparseBatchBuilder(1 << 16, 24);
        var indices = new List<int>();
        var values = new List<float>();
        foreach (string line in File.ReadLines(path))
        {
            if (line.Length == 0)
            {
                continue;
            }

            indices.Clear();
            values.Clear();
            var parts = line.AsSpan();
            int space = parts.IndexOf(' ');
            float label = float.Parse(space < 0 ? parts : parts[..space], CultureInfo.InvariantCulture);
            parts = space < 0 ? [] : parts[(space + 1)..];
            while (!parts.IsEmpty)
            {
                space = parts.IndexOf(' ');
                ReadOnlySpan<char> token = space < 0 ? parts : parts[..space];
                int colon = token.IndexOf(':');
                indices.Add(int.Parse(token[..colon], CultureInfo.InvariantCulture));
                values.Add(float.Parse(token[(colon + 1)..], CultureInfo.InvariantCulture));
                parts = space < 0 ? [] : parts[(space + 1)..];
            }

            builder.Add(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(indices), System.Runtime.InteropServices.CollectionsMarshal.AsSpan(values), label);
        }

        return builder.Build();
    }
}
