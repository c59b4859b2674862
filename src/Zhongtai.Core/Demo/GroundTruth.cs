using System.Text;
using System.Text.Json;

namespace Zhongtai.Demo;

/// <summary>The kind of fraud an event or account was planted as.</summary>
public enum FraudKind
{
    None = 0,

    /// <summary>Many accounts clicking the same few items.</summary>
    ClickFarm,

    /// <summary>Accounts acting at inhuman rates (a click every second or so, for many minutes).</summary>
    Bot,

    /// <summary>A click whose request never exposed the item.</summary>
    ClickWithoutExposure,

    /// <summary>Identical copies of one event sent in a burst (the original is genuine, the copies are labelled).</summary>
    DuplicateBurst,

    /// <summary>Accounts sharing one device and IP, acting on the same items together.</summary>
    CoordinatedAccounts,

    /// <summary>Traffic whose user agent is a script or crawler.</summary>
    BotUserAgent,
}

/// <summary>
/// What the demo world planted: each genuine user's top categories and items, the fraudulent accounts, and
/// (filled while <see cref="DemoWorld.Events"/> is enumerated) the id and kind of every fraud event.
/// </summary>
public sealed class GroundTruth
{
    internal GroundTruth() { }

    /// <summary>Category of every item.</summary>
    public Dictionary<string, string> ItemCategory { get; } = new(StringComparer.Ordinal);

    /// <summary>Each genuine user's planted favourite categories, strongest first.</summary>
    public Dictionary<string, string[]> UserTopCategories { get; } = new(StringComparer.Ordinal);

    /// <summary>Each genuine user's planted top items (highest latent affinity within their categories), best first.</summary>
    public Dictionary<string, string[]> UserTopItems { get; } = new(StringComparer.Ordinal);

    /// <summary>Fraudulent accounts and their kind.</summary>
    public Dictionary<string, FraudKind> FraudUsers { get; } = new(StringComparer.Ordinal);

    /// <summary>Items a click farm promotes.</summary>
    public List<string> ClickFarmTargets { get; } = [];

    /// <summary>Fraud events by id; complete once the event stream has been enumerated to the end.</summary>
    public Dictionary<string, FraudKind> FraudEvents { get; } = new(StringComparer.Ordinal);

    /// <summary>Events enumerated so far (all, fraud or not).</summary>
    public long TotalEvents { get; internal set; }

    /// <summary>Fraud events per kind.</summary>
    public Dictionary<FraudKind, int> FraudEventCounts() =>
        FraudEvents.Values.GroupBy(k => k).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>Writes the fraud labels as JSON lines: <c>{"id":"d-17","kind":"ClickFarm"}</c>, in id order.</summary>
    public void WriteFraudLabels(string path)
    {
        using var stream = File.Create(path);
        using var writer = new Utf8JsonWriter(stream);
        foreach (var (id, kind) in FraudEvents.OrderBy(x => long.Parse(x.Key.AsSpan(2), provider: System.Globalization.CultureInfo.InvariantCulture)))
        {
            writer.WriteStartObject();
            writer.WriteString("id", id);
            writer.WriteString("kind", kind.ToString());
            writer.WriteEndObject();
            writer.Flush();
            stream.Write("\n"u8);
            writer.Reset();
        }
    }

    /// <summary>Reads labels written by <see cref="WriteFraudLabels"/>.</summary>
    public static Dictionary<string, FraudKind> ReadFraudLabels(string path)
    {
        var labels = new Dictionary<string, FraudKind>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            if (line.Length == 0)
            {
                continue;
            }

            using var doc = JsonDocument.Parse(line);
            labels[doc.RootElement.GetProperty("id").GetString()!] = Enum.Parse<FraudKind>(doc.RootElement.GetProperty("kind").GetString()!);
        }

        return labels;
    }
}
