using System.Globalization;
using System.Text;

namespace Zhongtai.Events.Log;

/// <summary>
/// Reads the log in order from a durably committed position. After a crash it resumes from the last
/// <see cref="Commit"/>, so a consumer that commits after applying its effects sees every record at least once,
/// and one that commits atomically with its own state sees each exactly once.
/// </summary>
public sealed class LogConsumer
{
    private readonly EventLog _log;
    private readonly string _path;

    internal LogConsumer(EventLog log, string directory, string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            throw new ArgumentException($"Consumer name '{name}' must be letters, digits, '-', '_' or '.'.", nameof(name));
        }

        _log = log;
        Name = name;
        Directory.CreateDirectory(directory);
        _path = Path.Combine(directory, name + ".offset");
        Committed = File.Exists(_path)
            ? long.Parse(File.ReadAllText(_path, Encoding.ASCII).Trim(), CultureInfo.InvariantCulture)
            : log.StartOffset;
        Position = Math.Max(Committed, log.StartOffset);
    }

    public string Name { get; }

    /// <summary>The next offset to read after a restart.</summary>
    public long Committed { get; private set; }

    /// <summary>The next offset this instance will read.</summary>
    public long Position { get; private set; }

    /// <summary>How many durable records are not yet read.</summary>
    public long Lag => _log.NextOffset - Position;

    /// <summary>Reads up to <paramref name="max"/> records from <see cref="Position"/> and advances it.</summary>
    public IReadOnlyList<LogRecord> Poll(int max)
    {
        var records = _log.Read(Position, Position + max).ToList();
        if (records.Count > 0)
        {
            Position = records[^1].Offset + 1;
        }

        return records;
    }

    /// <summary>Waits for new records, then reads up to <paramref name="max"/> of them.</summary>
    public async Task<IReadOnlyList<LogRecord>> PollAsync(int max, CancellationToken cancellationToken)
    {
        await _log.WaitForAsync(Position, cancellationToken).ConfigureAwait(false);
        return Poll(max);
    }

    /// <summary>Durably records that everything before <paramref name="nextOffset"/> (default: <see cref="Position"/>) is done.</summary>
    public void Commit(long? nextOffset = null)
    {
        var value = nextOffset ?? Position;
        var tmp = _path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write))
        {
            fs.Write(Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture)));
            fs.Flush(flushToDisk: true);
        }

        File.Move(tmp, _path, overwrite: true);
        Zhongtai.Storage.Durable.SyncDirectory(Path.GetDirectoryName(_path)!);
        Committed = value;
    }

    /// <summary>Moves the read position (e.g. to replay).</summary>
    public void Seek(long offset) => Position = Math.Clamp(offset, _log.StartOffset, _log.NextOffset);
}
