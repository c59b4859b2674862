using System.Globalization;
using Zhongtai.Training.Recall;

namespace Zhongtai.Training.Evaluation;

/// <summary>
/// Raw interactions over dense ids, as parallel arrays (one entry per event), with the external ids they came from.
/// Timestamps are Unix seconds.
/// </summary>
public sealed class InteractionData
{
    /// <summary>Creates the data; arrays must have equal length.</summary>
    public InteractionData(int[] users, int[] items, float[] values, long[] timestamps, int userCount, int itemCount)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(timestamps);
        if (items.Length != users.Length || values.Length != users.Length || timestamps.Length != users.Length)
        {
            throw new ArgumentException("users, items, values and timestamps must have the same length.");
        }

        Users = users;
        Items = items;
        Values = values;
        Timestamps = timestamps;
        UserCount = userCount;
        ItemCount = itemCount;
    }

    public int[] Users { get; }
    public int[] Items { get; }
    public float[] Values { get; }
    public long[] Timestamps { get; }
    public int UserCount { get; }
    public int ItemCount { get; }

    /// <summary>External user id of each dense user, when loaded from a file.</summary>
    public string[]? UserIds { get; init; }

    /// <summary>External item id of each dense item, when loaded from a file.</summary>
    public string[]? ItemIds { get; init; }

    /// <summary>Number of events.</summary>
    public int Count => Users.Length;

    /// <summary>The whole data set as a (deduplicated) matrix.</summary>
    public InteractionMatrix ToMatrix() => InteractionMatrix.FromArrays(Users, Items, Values, Timestamps, UserCount, ItemCount);
}

/// <summary>Loads rating files into <see cref="InteractionData"/> (dense ids in order of first appearance).</summary>
public static class RatingsLoader
{
    /// <summary>
    /// Loads a ratings file. <paramref name="format"/>: <c>movielens</c> (ml-100k <c>u.data</c>: user, item, rating, timestamp
    /// separated by tabs) or <c>csv</c> (ml-latest <c>ratings.csv</c>: header line, then <c>userId,movieId,rating,timestamp</c>).
    /// Ratings below <paramref name="minRating"/> are skipped (default: keep all, every rating is an implicit positive).
    /// </summary>
    public static InteractionData Load(string path, string format, double minRating = double.NegativeInfinity)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(format);
        char sep;
        bool header;
        switch (format.ToUpperInvariant())
        {
            case "MOVIELENS":
            case "ML-100K":
                sep = '\t';
                header = false;
                break;
            case "CSV":
                sep = ',';
                header = true;
                break;
            default:
                throw new ArgumentException($"Unknown ratings format '{format}'; expected 'movielens' or 'csv'.", nameof(format));
        }

        var userIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var itemIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var userIds = new List<string>();
        var itemIds = new List<string>();
        var users = new List<int>();
        var items = new List<int>();
        var values = new List<float>();
        var times = new List<long>();
        int lineNo = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNo++;
            if ((header && lineNo == 1) || line.Length == 0)
            {
                continue;
            }

            string[] f = line.Split(sep);
            if (f.Length < 3)
            {
                throw new FormatException($"{path}:{lineNo}: expected user{sep}item{sep}rating[{sep}timestamp], got '{line}'.");
            }

            if (!double.TryParse(f[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double rating))
            {
                throw new FormatException($"{path}:{lineNo}: rating '{f[2]}' is not a number.");
            }

            if (rating < minRating)
            {
                continue;
            }

            long ts = 0;
            if (f.Length > 3 && !long.TryParse(f[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out ts))
            {
                throw new FormatException($"{path}:{lineNo}: timestamp '{f[3]}' is not an integer.");
            }

            users.Add(Intern(userIndex, userIds, f[0]));
            items.Add(Intern(itemIndex, itemIds, f[1]));
            values.Add((float)rating);
            times.Add(ts);
        }

        return new InteractionData([.. users], [.. items], [.. values], [.. times], userIds.Count, itemIds.Count)
        {
            UserIds = [.. userIds],
            ItemIds = [.. itemIds],
        };
    }

    private static int Intern(Dictionary<string, int> index, List<string> ids, string key)
    {
        if (!index.TryGetValue(key, out int id))
        {
            id = ids.Count;
            index.Add(key, id);
            ids.Add(key);
        }

        return id;
    }
}
