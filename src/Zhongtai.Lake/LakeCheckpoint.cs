using System.Text.Json;
using System.Text.Json.Serialization;

namespace Zhongtai.Lake;

/// <summary>
/// The export checkpoint, <c>events/_export.json</c>: everything up to and including <see cref="LastOffset"/>
/// is in the lake exactly once. Written atomically (temp file, fsync, rename) after the part files of a commit
/// are in place; readers only trust rows with <c>offset &lt;= LastOffset</c>.
/// </summary>
public sealed record LakeCheckpoint
{
    /// <summary>Format version; 1.</summary>
    public int Version { get; init; } = 1;

    /// <summary>The last exported log offset; -1 when nothing was exported.</summary>
    public long LastOffset { get; init; } = -1;

    /// <summary>Rows exported over all runs.</summary>
    public long TotalRows { get; init; }

    /// <summary>Part files written over all runs.</summary>
    public long TotalFiles { get; init; }

    /// <summary>When the last commit was written (from the exporter's <see cref="TimeProvider"/>).</summary>
    public DateTimeOffset? UpdatedAt { get; init; }

    /// <summary>The empty checkpoint of a lake nothing was exported to.</summary>
    public static LakeCheckpoint Empty { get; } = new();
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(LakeCheckpoint))]
internal sealed partial class LakeJsonContext : JsonSerializerContext;

internal static class CheckpointFile
{
    public static LakeCheckpoint Read(string lakeDir)
    {
        var path = LakeLayout.CheckpointPath(lakeDir);
        if (!File.Exists(path))
        {
            return LakeCheckpoint.Empty;
        }

        try
        {
            var bytes = File.ReadAllBytes(path);
            return JsonSerializer.Deserialize(bytes, LakeJsonContext.Default.LakeCheckpoint)
                ?? throw new LakeException($"Export checkpoint '{path}' is empty.");
        }
        catch (JsonException e)
        {
            throw new LakeException($"Export checkpoint '{path}' is not valid JSON: {e.Message}", e);
        }
    }

    public static void Write(string lakeDir, LakeCheckpoint checkpoint, bool flushToDisk = true)
    {
        var path = LakeLayout.CheckpointPath(lakeDir);
        var tmp = path + ".tmp";
        var bytes = JsonSerializer.SerializeToUtf8Bytes(checkpoint, LakeJsonContext.Default.LakeCheckpoint);
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            fs.Write(bytes);
            fs.Flush(flushToDisk);
        }

        File.Move(tmp, path, overwrite: true);
        if (flushToDisk)
        {
            Zhongtai.Storage.Durable.SyncDirectory(Path.GetDirectoryName(path)!);
        }
    }
}
