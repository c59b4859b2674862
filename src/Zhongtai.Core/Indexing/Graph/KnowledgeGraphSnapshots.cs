namespace Zhongtai.Indexing.Graph;

/// <summary>
/// The published knowledge graphs of a project: immutable snapshot files <c>DIR/graph-STAMP-TAG.ztkg</c> and a pointer
/// file <c>DIR/CURRENT</c> naming the latest. Publishing writes the snapshot (temp file, fsync, rename), then replaces
/// <c>CURRENT</c> the same way, so a reader that follows the pointer always finds a complete snapshot and a crash
/// leaves the previous one serving. Older snapshots beyond <c>keep</c> are deleted after the switch. The default
/// directory of a project is <c>PROJECT/index/graph</c> (<see cref="DirectoryOf"/>).
/// </summary>
public static class KnowledgeGraphSnapshots
{
    private const string Pointer = "CURRENT";
    private const string Extension = ".ztkg";

    /// <summary>The snapshot directory under a project directory: <c>index/graph</c>.</summary>
    public static string DirectoryOf(string projectDirectory) => Path.Combine(projectDirectory, "index", "graph");

    /// <summary>
    /// Saves <paramref name="graph"/> as a new snapshot named from <paramref name="now"/> and <paramref name="tag"/>
    /// (letters, digits, '-' and '_'), points <c>CURRENT</c> at it, deletes all but the newest <paramref name="keep"/>
    /// snapshots, and returns the new snapshot's path.
    /// </summary>
    public static string Publish(KnowledgeGraph graph, string directory, DateTimeOffset now, string tag, int keep = 3, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        if (string.IsNullOrEmpty(tag) || tag.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            throw new ArgumentException($"A snapshot tag is letters, digits, '-' and '_'; got '{tag}'.", nameof(tag));
        }
        Directory.CreateDirectory(directory);
        var name = $"graph-{now.UtcDateTime:yyyyMMdd'T'HHmmssfff}-{tag}{Extension}";
        var path = Path.Combine(directory, name);
        graph.Save(path, ct);

        var pointer = Path.Combine(directory, Pointer);
        var temp = pointer + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(System.Text.Encoding.UTF8.GetBytes(name));
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, pointer, overwrite: true);
        Zhongtai.Storage.Durable.SyncDirectory(directory);

        foreach (var old in List(directory).SkipLast(keep))
        {
            if (!string.Equals(Path.GetFileName(old), name, StringComparison.Ordinal))
            {
                File.Delete(old);
            }
        }
        return path;
    }

    /// <summary>The path <c>CURRENT</c> points at, or null when nothing was published.</summary>
    public static string? LatestPath(string directory)
    {
        var pointer = Path.Combine(directory, Pointer);
        if (!File.Exists(pointer))
        {
            return null;
        }
        var name = File.ReadAllText(pointer).Trim();
        if (name.Length == 0 || name.Contains('/', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal) || !name.EndsWith(Extension, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{pointer} does not name a graph snapshot ('{name}').");
        }
        return Path.Combine(directory, name);
    }

    /// <summary>Loads the latest published graph, or returns null when nothing was published.</summary>
    public static KnowledgeGraph? LoadLatest(string directory) => LatestPath(directory) is { } path ? KnowledgeGraph.Load(path) : null;

    /// <summary>Snapshot files in the directory, oldest first (names sort by time).</summary>
    public static IReadOnlyList<string> List(string directory) =>
        Directory.Exists(directory)
            ? [.. Directory.GetFiles(directory, "graph-*" + Extension).Order(StringComparer.Ordinal)]
            : [];
}
