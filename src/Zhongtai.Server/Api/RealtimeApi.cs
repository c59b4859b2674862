using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Zhongtai.Gateway;
using Zhongtai.Hosting;
using Zhongtai.Nearline;

namespace Zhongtai.Server.Api;

/// <summary>Runs a realtime consumer for every project; it also feeds the project's nearline features.</summary>
internal sealed class RealtimeService(ZhongtaiHost host, FeatureService features) : ProjectFollowerService<RealtimeConsumer>(host)
{
    protected override bool Enabled => Host.Options.Realtime.Enabled;

    protected override (RealtimeConsumer Value, Task Running) Start(Project project, CancellationToken stopping)
    {
        var consumer = new RealtimeConsumer(project, Host.Options.Realtime, Host.Time, Host.Loggers.CreateLogger<RealtimeConsumer>())
        {
            Applied = features.For(project.Name).Feed.Apply,
        };
        return (consumer, consumer.RunAsync(stopping));
    }
}

/// <summary>Runs the job worker and the configured cron schedules (<c>Schedules</c>) inside the server.</summary>
internal sealed class JobsService(ZhongtaiHost host) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        new Zhongtai.Jobs.JobRunner(host.Jobs, Zhongtai.Pipeline.LakeJobs.Handlers(host), host.Options.Schedules, host.Time, host.Loggers.CreateLogger<Zhongtai.Jobs.JobRunner>())
            .RunAsync(stoppingToken);
}

public sealed record PopularItem(string ItemId, double Score, long Clicks, long Exposures);

public sealed record RealtimeItem(string ItemId, long Exposures, long Clicks, long Likes, long Purchases, double Ctr, string? Category, IReadOnlyList<Neighbour> Neighbours);

public sealed record Neighbour(string ItemId, float Weight);

/// <summary><c>/v1/realtime</c>: what the nearline models know now.</summary>
internal static class RealtimeApi
{
    public static void MapRealtimeApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/realtime").WithTags("realtime");
        group.MapGet("popular", (HttpContext context, RealtimeService realtime, ZhongtaiHost host, int? k, string? category) =>
        {
            var count = k ?? 20;
            if (count is < 1 or > 1000)
            {
                return EventsApi.Error(400, "invalid_argument", "k must be 1..1000.");
            }

            var consumer = realtime.For(context.AppRequest().App.Project);
            var items = consumer.Read(s => s.Popular(count, host.Time.GetUtcNow().ToUnixTimeSeconds(), category)
                .Select(p => new PopularItem(p.Item, p.Score, s.Items[p.Item].Clicks, s.Items[p.Item].Exposures)).ToList());
            return Results.Json(items, ApiJsonContext.Default.ListPopularItem);
        }).RequireScope(Scopes.Serve, Scopes.Manage).Produces<List<PopularItem>>().WithSummary("The most popular items now (decayed engagement), optionally in one category.");

        group.MapGet("items/{id}", (string id, HttpContext context, RealtimeService realtime, int? k) =>
        {
            var consumer = realtime.For(context.AppRequest().App.Project);
            var item = consumer.Read(s => s.Items.TryGetValue(id, out var c)
                ? new RealtimeItem(id, c.Exposures, c.Clicks, c.Likes, c.Purchases, c.Exposures > 0 ? (double)c.Clicks / c.Exposures : 0, c.Category,
                    [.. s.Neighbours(id, k ?? 20).Select(n => new Neighbour(n.Item, n.Weight))])
                : null);
            return item is null
                ? EventsApi.Error(404, "item_not_found", $"The realtime models have seen no item '{id}'.")
                : Results.Json(item, ApiJsonContext.Default.RealtimeItem);
        }).RequireScope(Scopes.Serve, Scopes.Manage).Produces<RealtimeItem>().WithSummary("An item's realtime counters and its co-engaged neighbours.");
    }
}
