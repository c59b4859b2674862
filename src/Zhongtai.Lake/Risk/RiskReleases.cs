using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Zhongtai.Storage;

namespace Zhongtai.Risk;

/// <summary>What a release names: a user (account-level rules no longer quarantine its events) or an item (no longer flagged).</summary>
public enum ReleaseKind
{
    User,
    Item,
}

/// <summary>A person's decision that an entity the anti-cheat flagged is genuine.</summary>
public sealed record RiskRelease(ReleaseKind Kind, string Id, string Reason, string By, DateTimeOffset At);

/// <summary>
/// The releases of one project, durable in an append-only JSON-lines file (<c>projects/P/risk/releases.jsonl</c>):
/// each release is appended and fsynced before <see cref="Release"/> returns; a torn last line (a crash mid-append)
/// is ignored on open. The latest release of an entity wins. Not thread-safe.
/// </summary>
public sealed class RiskReleases
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private readonly string? _path;
    private readonly List<RiskRelease> _all = [];

    private RiskReleases(string? path) => _path = path;

    /// <summary>No releases (and nowhere to store one).</summary>
    public static RiskReleases None => new(null);

    /// <summary>Every release, oldest first.</summary>
    public IReadOnlyList<RiskRelease> All => _all;

    /// <summary>Released user ids.</summary>
    public IReadOnlySet<string> Users => Ids(ReleaseKind.User);

    /// <summary>Released item ids.</summary>
    public IReadOnlySet<string> Items => Ids(ReleaseKind.Item);

    /// <summary>The releases file of a project directory.</summary>
    public static string PathFor(string projectDirectory) => System.IO.Path.Combine(projectDirectory, "risk", "releases.jsonl");

    /// <summary>Opens (or starts) the releases file at <paramref name="path"/>.</summary>
    public static RiskReleases Open(string path)
    {
        var releases = new RiskReleases(path);
        if (!File.Exists(path))
        {
            return releases;
        }

        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                if (JsonSerializer.Deserialize<RiskRelease>(line, Json) is { } r)
                {
                    releases._all.Add(r);
                }
            }
            catch (JsonException)
            {
                // A torn final append: it was never acknowledged.
            }
        }

        return releases;
    }

    /// <summary>Records a release durably (appended and fsynced).</summary>
    public RiskRelease Release(ReleaseKind kind, string id, string reason, string by, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        ArgumentNullException.ThrowIfNull(time);
        if (_path is null)
        {
            throw new InvalidOperationException("These releases have no file to record a release in.");
        }

        var release = new RiskRelease(kind, id, reason, string.IsNullOrWhiteSpace(by) ? "unknown" : by, time.GetUtcNow());
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_path))!;
        bool created = !File.Exists(_path);
        Directory.CreateDirectory(dir);
        using (var stream = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read))
        {
            // A line that starts fresh even after a torn append.
            if (stream.Length > 0)
            {
                stream.Seek(-1, SeekOrigin.End);
                if (stream.ReadByte() != '\n')
                {
                    stream.Write("\n"u8);
                }
            }

            stream.Seek(0, SeekOrigin.End);
            stream.Write(JsonSerializer.SerializeToUtf8Bytes(release, Json));
            stream.Write("\n"u8);
            stream.Flush(flushToDisk: true);
        }

        if (created)
        {
            Durable.SyncDirectory(dir);
        }

        _all.Add(release);
        return release;
    }

    private HashSet<string> Ids(ReleaseKind kind) =>
        _all.Where(r => r.Kind == kind).Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
}
