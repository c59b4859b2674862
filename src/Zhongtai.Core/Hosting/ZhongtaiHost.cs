using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Zhongtai.Events.Ingest;
using Zhongtai.Events.Log;
using Zhongtai.Gateway;
using Zhongtai.Jobs;
using Zhongtai.Meta;
using Zhongtai.Registry;

namespace Zhongtai.Hosting;

/// <summary>
/// The whole system built from options and a data directory. The server, the CLI and the tests all use it.
/// Projects (and their event logs) open lazily and close with the host.
/// </summary>
public sealed class ZhongtaiHost : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Project>> _projects = new(StringComparer.Ordinal);
    private int _disposed;

    private ZhongtaiHost(ZhongtaiOptions options, TimeProvider time, ILoggerFactory loggers)
    {
        Options = options;
        Time = time;
        Loggers = loggers;
        DataDirectory = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(DataDirectory);
        Meta = MetaStore.Open(Path.Combine(DataDirectory, "meta.db"));
        Apps = new AppService(Meta, SecretSealer.Create(options.Gateway, Path.Combine(DataDirectory, "master.key")), time);
        Apps.EnsureProject(AppService.DefaultProject);
        Authenticator = new AppAuthenticator(Apps, options.Gateway, time);
        Jobs = new JobService(Meta, Path.Combine(DataDirectory, "jobs"), time);
    }

    public ZhongtaiOptions Options { get; }
    public TimeProvider Time { get; }
    public ILoggerFactory Loggers { get; }
    public string DataDirectory { get; }
    public MetaStore Meta { get; }
    public AppService Apps { get; }
    public AppAuthenticator Authenticator { get; }

    /// <summary>The job queue and job logs.</summary>
    public JobService Jobs { get; }

    /// <summary>Validates the options and opens the data directory.</summary>
    public static ZhongtaiHost Open(ZhongtaiOptions options, TimeProvider? time = null, ILoggerFactory? loggers = null)
    {
        Validate(options);
        Validate(options.Events.Log);
        Validate(options.Events.Ingest);
        Validate(options.Gateway);
        Validate(options.Realtime);
        return new ZhongtaiHost(options, time ?? TimeProvider.System, loggers ?? NullLoggerFactory.Instance);
    }

    /// <summary>The project named <paramref name="name"/>, opening its stores on first use. It must exist.</summary>
    public Project Project(string name = AppService.DefaultProject)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var lazy = _projects.GetOrAdd(name, n => new Lazy<Project>(() => OpenProject(n)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            // Do not cache a failure (a missing project may be created later).
            _projects.TryRemove(new KeyValuePair<string, Lazy<Project>>(name, lazy));
            throw;
        }
    }

    private Project OpenProject(string name)
    {
        if (!Apps.ListProjects().Contains(name, StringComparer.Ordinal))
        {
            throw new AppException("project_not_found", $"No project named '{name}'.");
        }

        var dir = Path.Combine(DataDirectory, "projects", name);
        var log = EventLog.Open(Path.Combine(dir, "events"), Options.Events.Log, Time, Loggers.CreateLogger<EventLog>());
        var models = new ModelRegistry(Meta, name, Path.Combine(dir, "models"), Time);
        return new Project(name, dir, log, new EventIngestor(log, Options.Events.Ingest, Time), models);
    }

    private static void Validate(object options)
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            throw new ValidationException($"Invalid {options.GetType().Name}: {string.Join("; ", results.Select(r => r.ErrorMessage))}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var p in _projects.Values.Where(p => p.IsValueCreated))
        {
            await p.Value.DisposeAsync().ConfigureAwait(false);
        }
    }
}
