using System.Globalization;
using Zhongtai.Training.Ranking;

namespace Zhongtai.Bench.Ranking;

/// <summary>
/// ml-100k as a click-like task: label = rating ≥ 4; features user, item, occupation, gender, age bucket, the
/// item's genres and user×genre crosses, all hashed. Split by time: the last 20% of ratings are the test set.
/// </summary>
internal static class MovieLensCtr
{
    public static (SparseBatch Train, SparseBatch Test)? Load(string directory, int bits)
    {
        string data = Path.Combine(directory, "u.data");
        string items = Path.Combine(directory, "u.item");
        string users = Path.Combine(directory, "u.user");
        if (!File.Exists(data) || !File.Exists(items) || !File.Exists(users))
        {
            return null;
        }

        var hasher = new FeatureHasher(bits);
        var userFeatures = new Dictionary<string, (string Age, string Gender, string Occupation)>();
        foreach (string line in File.ReadLines(users))
        {
            string[] p = line.Split('|');
            int age = int.Parse(p[1], CultureInfo.InvariantCulture);
            userFeatures[p[0]] = ((age / 10).ToString(CultureInfo.InvariantCulture), p[2], p[3]);
        }

        var genres = new Dictionary<string, List<int>>();
        foreach (string line in File.ReadLines(items, System.Text.Encoding.Latin1))
        {
            string[] p = line.Split('|');
            var list = new List<int>();
            for (int g = 5; g < p.Length; g++)
            {
                if (p[g] == "1")
                {
                    list.Add(g - 5);
                }
            }

            genres[p[0]] = list;
        }

        var rows = new List<(string User, string Item, float Label, long Time)>();
        foreach (string line in File.ReadLines(data))
        {
            string[] p = line.Split('\t');
            rows.Add((p[0], p[1], int.Parse(p[2], CultureInfo.InvariantCulture) >= 4 ? 1f : 0f, long.Parse(p[3], CultureInfo.InvariantCulture)));
        }

        rows.Sort((a, b) => a.Time.CompareTo(b.Time));
        int split = rows.Count * 8 / 10;
        var train = new SparseBatchBuilder(split, 16);
        var test = new SparseBatchBuilder(rows.Count - split, 16);
        var indices = new List<int>();
        for (int r = 0; r < rows.Count; r++)
        {
            var (user, item, label, _) = rows[r];
            var (age, gender, occupation) = userFeatures[user];
            indices.Clear();
            indices.Add(hasher.Index("user", user));
            indices.Add(hasher.Index("item", item));
            indices.Add(hasher.Index("occupation", occupation));
            indices.Add(hasher.Index("gender", gender));
            indices.Add(hasher.Index("age", age));
            foreach (int g in genres[item])
            {
                string genre = g.ToString(CultureInfo.InvariantCulture);
                indices.Add(hasher.Index("genre", genre));
                indices.Add(hasher.Index($"user^genre={user}^{genre}"));
            }

            (r < split ? train : test).Add(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(indices), label, group: int.Parse(user, CultureInfo.InvariantCulture));
        }

        return (train.Build(), test.Build());
    }
}
