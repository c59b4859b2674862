using System.Buffers;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Zhongtai.Experiments;

/// <summary>
/// Assigns users to experiment buckets, deterministically, per request. Thread-safe; <see cref="Assign"/> reads an
/// immutable snapshot and allocates nothing once a combination of buckets has been seen. When built with
/// <see cref="Watch"/> it re-reads <c>experiments.json</c> whenever the file changes (polled), and a file that fails to
/// parse or validate keeps the last good config (see <see cref="LastError"/>).
/// </summary>
public sealed partial class ExperimentAssigner : IDisposable
{
    private const int StackUnitBytes = 256;

    private readonly string? _path;
    private readonly ILogger _logger;
    private readonly ITimer? _timer;
    private readonly Lock _reloadLock = new();
    private volatile ExperimentSet _current;
    private volatile string? _lastError;
    private (DateTime WriteTime, long Length) _stamp;

    /// <summary>An assigner over a fixed set (tests, tools); <see cref="Update"/> swaps it.</summary>
    public ExperimentAssigner(ExperimentSet experiments)
    {
        _current = experiments;
        _logger = NullLogger.Instance;
    }

    private ExperimentAssigner(string path, TimeProvider time, ILogger logger, TimeSpan pollInterval)
    {
        _path = path;
        _logger = logger;
        _current = ExperimentSet.Empty;
        Reload();
        _timer = time.CreateTimer(static s => ((ExperimentAssigner)s!).ReloadIfChanged(), this, pollInterval, pollInterval);
    }

    /// <summary>
    /// An assigner over <paramref name="path"/> (usually <see cref="ExperimentSet.PathFor"/> of the project directory),
    /// checked for changes every <paramref name="pollInterval"/> (default 2 s) on <paramref name="time"/>'s timer. A
    /// missing file means no experiments; an invalid one at start means no experiments until it is fixed (logged, and
    /// in <see cref="LastError"/>).
    /// </summary>
    public static ExperimentAssigner Watch(string path, TimeProvider time, ILogger? logger = null, TimeSpan? pollInterval = null) =>
        new(path, time, logger ?? NullLogger.Instance, pollInterval ?? TimeSpan.FromSeconds(2));

    /// <summary>The config in force.</summary>
    public ExperimentSet Current => _current;

    /// <summary>Why the newest file was not taken (null when the config in force is the file's content).</summary>
    public string? LastError => _lastError;

    /// <summary>
    /// The unit's buckets in <paramref name="scene"/>: the unit is <paramref name="userId"/>, else
    /// <paramref name="anonymousId"/> (a device or cookie id); with neither the result is
    /// <see cref="ExperimentAssignments.Empty"/> (control behaviour, and nothing logged, so unassignable traffic does
    /// not dilute the control bucket).
    /// </summary>
    public ExperimentAssignments Assign(string? userId, string scene, string? anonymousId = null)
    {
        var set = _current;
        if (ReferenceEquals(set, ExperimentSet.Empty))
        {
            return ExperimentAssignments.Empty;
        }

        var unit = !string.IsNullOrEmpty(userId) ? userId : anonymousId;
        if (string.IsNullOrEmpty(unit))
        {
            return ExperimentAssignments.Empty;
        }

        int max = Encoding.UTF8.GetMaxByteCount(unit.Length);
        if (max <= StackUnitBytes)
        {
            Span<byte> buffer = stackalloc byte[max]; // sized to the id: stackalloc zeroes what it takes
            int n = Encoding.UTF8.GetBytes(unit, buffer);
            return set.Assign(buffer[..n], scene);
        }

        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            int n = Encoding.UTF8.GetBytes(unit, rented);
            return set.Assign(rented.AsSpan(0, n), scene);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Puts <paramref name="experiments"/> in force.</summary>
    public void Update(ExperimentSet experiments)
    {
        _current = experiments;
        _lastError = null;
    }

    /// <summary>Re-reads the watched file now; on an error keeps the config in force and returns the error (else null).</summary>
    public string? Reload()
    {
        if (_path is null)
        {
            throw new InvalidOperationException("This assigner does not watch a file.");
        }

        lock (_reloadLock)
        {
            _stamp = Stamp(_path);
            try
            {
                var set = ExperimentSet.Load(_path);
                _current = set;
                _lastError = null;
                LogLoaded(_logger, _path, set.Experiments.Count);
                return null;
            }
            catch (Exception e) when (e is ExperimentConfigException or IOException or UnauthorizedAccessException)
            {
                _lastError = e.Message;
                LogRejected(_logger, _path, e.Message);
                return e.Message;
            }
        }
    }

    private void ReloadIfChanged()
    {
        try
        {
            if (_path is not null && Stamp(_path) != _stamp)
            {
                Reload();
            }
        }
        catch (Exception e)
        {
            // A timer callback must not throw (it would take the process down): keep the config in force.
            _lastError = e.Message;
            LogRejected(_logger, _path!, e.Message);
        }
    }

    private static (DateTime, long) Stamp(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1);
    }

    public void Dispose() => _timer?.Dispose();

    [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "Experiments loaded from {Path}: {Count} experiment(s)")]
    private static partial void LogLoaded(ILogger logger, string path, int count);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Error, Message = "Experiments file {Path} rejected, keeping the config in force: {Reason}")]
    private static partial void LogRejected(ILogger logger, string path, string reason);
}
