using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Zhongtai.Hosting;

namespace Zhongtai.Server.Api;

/// <summary>
/// Something that follows each project's event log inside the server (the realtime models, the search index): one per
/// project, started at start-up for existing projects or on first use for new ones, and awaited at shutdown.
/// </summary>
internal abstract class ProjectFollowerService<T>(ZhongtaiHost host) : BackgroundService
{
    private readonly ConcurrentDictionary<string, Lazy<(T Value, Task Running)>> _followers = new(StringComparer.Ordinal);
    // Its own token, not ExecuteAsync's: since .NET 10 ExecuteAsync starts on a background thread, so a follower
    // started by a request before it runs would otherwise get a token that never fires and hold up shutdown.
    private readonly CancellationTokenSource _stopping = new();

    protected ZhongtaiHost Host => host;

    /// <summary>False: nothing is started at start-up.</summary>
    protected virtual bool Enabled => true;

    /// <summary>The project's follower, starting it on first use.</summary>
    public T For(string project) =>
        _followers.GetOrAdd(project, p => new(() => Start(host.Project(p), _stopping.Token))).Value.Value;

    /// <summary>Creates the follower and starts its loop (which must end when <paramref name="stopping"/> is cancelled).</summary>
    protected abstract (T Value, Task Running) Start(Project project, CancellationToken stopping);

    /// <summary>Runs after the follower's loop has ended, at shutdown.</summary>
    protected virtual void Stopped(T value)
    {
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _stopping.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }

        foreach (var project in host.Apps.ListProjects())
        {
            For(project);
        }

        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }

        foreach (var follower in _followers.Values.Where(l => l.IsValueCreated).Select(l => l.Value))
        {
            await follower.Running;
            Stopped(follower.Value);
        }
    }
}
