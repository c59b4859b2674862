using System.Globalization;
using System.Text.Json;
using Zhongtai.Events;

namespace Zhongtai.Tests.Lake;

/// <summary>Small generated event sets and temp lake directories for the lake tests.</summary>
internal static class LakeTestData
{
    public static readonly DateTimeOffset Start = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary><paramref name="count"/> behaviour events spread over <paramref name="hours"/> hours from <see cref="Start"/>, offsets from <paramref name="firstOffset"/>.</summary>
    public static List<(long Offset, Event Event)> Events(int count, int hours, int seed = 7, long firstOffset = 0)
    {
        var rng = new Random(seed);
        var list = new List<(long, Event)>(count);
        string[] types = [EventTypes.Exposure, EventTypes.Click, EventTypes.Like, EventTypes.Dwell];
        for (int i = 0; i < count; i++)
        {
            var ts = Start.AddSeconds(rng.NextDouble() * hours * 3600);
            var e = new Event
            {
                Id = "e-" + (firstOffset + i).ToString(CultureInfo.InvariantCulture),
                Type = types[rng.Next(types.Length)],
                UserId = "u" + rng.Next(50).ToString(CultureInfo.InvariantCulture),
                ItemId = "i" + rng.Next(200).ToString(CultureInfo.InvariantCulture),
                Timestamp = ts,
                Scene = "home",
                Position = rng.Next(10),
                RequestId = "r" + rng.Next(1000).ToString(CultureInfo.InvariantCulture),
                Value = rng.Next(3) == 0 ? null : rng.NextDouble() * 100,
            };
            list.Add((firstOffset + i, e));
        }

        return list;
    }

    public static Dictionary<string, JsonElement> Json(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;
}

/// <summary>A temp directory deleted after the test.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "zt-lake-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
