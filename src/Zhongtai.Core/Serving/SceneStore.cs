using Microsoft.Extensions.Logging;

namespace Zhongtai.Serving;

/// <summary>
/// The scenes of one project, from <c>projects/P/scenes.json</c> (or <see cref="SceneSet.Default"/> when the file is
/// absent). <see cref="Reload"/> re-reads the file when its modification time or length changed; a file that fails to
/// parse or validate is logged and the previous configuration stays in force. Readers take <see cref="Current"/> with
/// no lock: the set is swapped whole.
/// </summary>
public sealed partial class SceneStore
{
    private readonly string _path;
    private readonly ILogger _logger;
    private (DateTime Modified, long Length) _stamp = (DateTime.MinValue, -1);
    private volatile SceneSet _current = SceneSet.Default();

    public SceneStore(string path, ILogger logger)
    {
        _path = path;
        _logger = logger;
        Reload();
    }

    /// <summary>The file this store follows.</summary>
    public string Path => _path;

    public SceneSet Current => _current;

    /// <summary>The last load error, or null when the file in force loaded cleanly.</summary>
    public string? LastError { get; private set; }

    /// <summary>Re-reads the file if it changed; returns true when a new configuration came into force.</summary>
    public bool Reload()
    {
        var info = new FileInfo(_path);
        if (!info.Exists)
        {
            if (_stamp.Length == -1)
            {
                return false;
            }

            _stamp = (DateTime.MinValue, -1);
            _current = SceneSet.Default();
            LogDefaults(_logger, _path);
            return true;
        }

        var stamp = (info.LastWriteTimeUtc, info.Length);
        if (stamp == _stamp)
        {
            return false;
        }

        _stamp = stamp;
        try
        {
            _current = SceneSet.Parse(File.ReadAllBytes(_path));
            LastError = null;
            LogLoaded(_logger, _path, _current.Scenes.Count);
            return true;
        }
        catch (SceneConfigException ex)
        {
            LastError = ex.Message;
            LogRejected(_logger, _path, ex.Message);
        }
        catch (IOException ex)
        {
            _stamp = (DateTime.MinValue, -2); // read again next time
            LastError = ex.Message;
            LogRejected(_logger, _path, ex.Message);
        }

        return false;
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Scenes loaded from {Path}: {Count} scenes")]
    private static partial void LogLoaded(ILogger logger, string path, int count);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Error, Message = "Scenes file {Path} rejected, the previous scenes stay in force: {Reason}")]
    private static partial void LogRejected(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "Scenes file {Path} removed: the built-in scenes are in force")]
    private static partial void LogDefaults(ILogger logger, string path);
}
