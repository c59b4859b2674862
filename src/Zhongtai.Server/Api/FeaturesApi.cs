using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Zhongtai.Datasets;
using Zhongtai.Gateway;
using Zhongtai.Hosting;
using Zhongtai.Indexing.Features;
using Zhongtai.Pipeline;

namespace Zhongtai.Server.Api;

/// <summary>
/// A project's online feature stores: the offline tables of the newest <c>features</c> dataset (bulk-loaded as a base
/// version, switched atomically when the pipeline registers a new one) and the nearline counters the realtime consumer
/// feeds as events arrive (exposures, clicks and CTR over short windows, with a TTL).
/// </summary>
internal sealed partial class ProjectFeatures(Project project, DatasetRegistry datasets, string datasetName, TimeProvider time, ILogger logger)
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(5);
    public EmbeddedFeatureStore OfflineItems { get; } = new(Path.Combine(project.Directory, "features", "offline-items"), FeatureTables.ItemFeatures, time);
    public EmbeddedFeatureStore OfflineUsers { get; } = new(Path.Combine(project.Directory, "features", "offline-users"), FeatureTables.UserFeatures, time);
    public EmbeddedFeatureStore RealtimeItems { get; } = new(Path.Combine(project.Directory, "features", "realtime-items"), RealtimeFeatureFeed.FeatureNamesFor(), time);
    public EmbeddedFeatureStore RealtimeUsers { get; } = new(Path.Combine(project.Directory, "features", "realtime-users"), RealtimeFeatureFeed.FeatureNamesFor(), time);

    private RealtimeFeatureFeed? _feed;

    /// <summary>The nearline feed (the realtime consumer's <c>Applied</c> hook).</summary>
    public RealtimeFeatureFeed Feed => _feed ??= new RealtimeFeatureFeed(RealtimeItems, RealtimeUsers);

    public async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await LoadNewestAsync(stopping);
                RealtimeItems.Sweep();
                RealtimeUsers.Sweep();
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or DatasetException)
            {
                LogLoadFailed(logger, ex, project.Name);
            }

            try
            {
                await Task.Delay(Poll, time, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Loads the newest <c>features</c> dataset into the offline stores unless it is active already.</summary>
    public async Task LoadNewestAsync(CancellationToken ct)
    {
        var newest = datasets.List(datasetName).MaxBy(d => d.Version);
        if (newest is null || OfflineItems.ActiveVersion == Version(newest))
        {
            return;
        }

        var items = await FeatureTableLoader.PublishParquetAsync(OfflineItems, Version(newest), newest.TablePath("items"), "key", ct);
        var users = await FeatureTableLoader.PublishParquetAsync(OfflineUsers, Version(newest), newest.TablePath("users"), "key", ct);
        LogLoaded(logger, project.Name, newest.Id, items, users);
    }

    private static string Version(DatasetRecord record) => record.Id.Replace('@', '-');

    [LoggerMessage(EventId = 6101, Level = LogLevel.Information, Message = "Feature store of {Project}: loaded {Dataset} ({Items} items, {Users} users)")]
    private static partial void LogLoaded(ILogger logger, string project, string dataset, int items, int users);

    [LoggerMessage(EventId = 6102, Level = LogLevel.Warning, Message = "Feature store of {Project}: could not load the newest features dataset")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception, string project);
}

/// <summary>One <see cref="ProjectFeatures"/> per project.</summary>
internal sealed class FeatureService(ZhongtaiHost host) : ProjectFollowerService<ProjectFeatures>(host)
{
    protected override (ProjectFeatures Value, Task Running) Start(Project project, CancellationToken stopping)
    {
        var features = new ProjectFeatures(project, LakeJobs.Datasets(Host, project), PipelineOptions.Load(Host.DataDirectory).FeaturesDataset, Host.Time, Host.Loggers.CreateLogger<ProjectFeatures>());
        return (features, Task.Run(() => features.RunAsync(stopping), CancellationToken.None));
    }
}

/// <summary>An entity's features: offline (version of the loaded dataset) and nearline; null where the store has no row.</summary>
public sealed record FeaturesResponse(string Entity, string Id, string? OfflineVersion, IReadOnlyDictionary<string, float>? Offline, IReadOnlyDictionary<string, float>? Realtime);

/// <summary><c>GET /v1/features/{entity}/{id}</c>.</summary>
internal static class FeaturesApi
{
    public static void MapFeaturesApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/features/{entity}/{id}", (string entity, string id, HttpContext context, FeatureService service) =>
        {
            if (entity is not ("items" or "users"))
            {
                return EventsApi.Error(400, "invalid_argument", "entity must be 'items' or 'users'.");
            }

            var features = service.For(context.AppRequest().App.Project);
            var (offline, realtime) = entity == "items" ? (features.OfflineItems, features.RealtimeItems) : (features.OfflineUsers, features.RealtimeUsers);
            var response = new FeaturesResponse(entity, id, offline.ActiveVersion, Lookup(offline, id), Lookup(realtime, id));
            return response.Offline is null && response.Realtime is null
                ? EventsApi.Error(404, "entity_not_found", $"No features for {entity[..^1]} '{id}'.")
                : Results.Json(response, ApiJsonContext.Default.FeaturesResponse);
        }).WithTags("features").RequireScope(Scopes.Serve, Scopes.Manage).Produces<FeaturesResponse>()
            .WithSummary("An item's or a user's features: the offline tables of the newest features dataset and the nearline counters.");
    }

    private static Dictionary<string, float>? Lookup(IFeatureStore store, string id)
    {
        var values = new float[store.FeatureNames.Count];
        var found = new bool[1];
        store.GetMany([id], values, found);
        return found[0] ? store.FeatureNames.Select((n, i) => (n, v: values[i])).ToDictionary(x => x.n, x => x.v, StringComparer.Ordinal) : null;
    }
}
