using System.Collections.Frozen;

namespace Zhongtai.Serving;

/// <summary>Decides which items may never reach a user (quarantined, flagged). Implementations are called on the request path and must be thread-safe and fast.</summary>
public interface IRiskFilter
{
    bool IsBlocked(string itemId);
}

/// <summary>
/// Flagged or quarantined items, e.g. the anti-cheat stage's output: set in process with <see cref="SetFlaggedItems"/>
/// or followed from a file (one item id a line; <c>#</c> starts a comment, also after an id) with <see cref="Reload"/>. The set is swapped whole,
/// so readers never lock.
/// </summary>
public sealed class FlaggedItemsFilter(string? path = null) : IRiskFilter
{
    private volatile FrozenSet<string> _flagged = FrozenSet<string>.Empty;
    private (DateTime Modified, long Length) _stamp = (DateTime.MinValue, -1);

    /// <summary>The followed file (null: in-process only).</summary>
    public string? Path => path;

    public int Count => _flagged.Count;

    /// <summary>The flagged set in force: replaced whole on every change, so its reference identifies a version (the engine's per-item bitmap follows it).</summary>
    internal FrozenSet<string> Current => _flagged;

    public bool IsBlocked(string itemId) => _flagged.Count > 0 && _flagged.Contains(itemId);

    /// <summary>Replaces the flagged set.</summary>
    public void SetFlaggedItems(IEnumerable<string> itemIds)
    {
        ArgumentNullException.ThrowIfNull(itemIds);
        _flagged = itemIds.Where(s => !string.IsNullOrWhiteSpace(s)).ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>Re-reads the file when it changed (a removed file clears the set); returns true when the set changed.</summary>
    public bool Reload()
    {
        if (path is null)
        {
            return false;
        }

        var info = new FileInfo(path);
        var stamp = info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1L);
        if (stamp == _stamp)
        {
            return false;
        }

        try
        {
            SetFlaggedItems(info.Exists
                ? File.ReadLines(path).Select(l => (l.IndexOf('#', StringComparison.Ordinal) is var c and >= 0 ? l[..c] : l).Trim()).Where(l => l.Length > 0)
                : []);
            _stamp = stamp;
            return true;
        }
        catch (IOException)
        {
            return false; // being replaced: read it next time
        }
    }
}
