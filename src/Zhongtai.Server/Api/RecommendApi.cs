using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Zhongtai.Events.Ingest;
using Zhongtai.Gateway;
using Zhongtai.Hosting;
using Zhongtai.Indexing.Inverted;
using Zhongtai.Serving;

namespace Zhongtai.Server.Api;

/// <summary>
/// One <see cref="RecommendEngine"/> per project, following its log (catalog, histories, popular lists, model
/// aliases, scenes); the inverted channel is the project's search index. Requests are bucketed by the project's
/// experiments file (or by an <see cref="IExperimentAssigner"/> in the service collection, for tests).
/// </summary>
internal sealed class RecommendService(ZhongtaiHost host, RealtimeService realtime, SearchService search, IServiceProvider services)
    : ProjectFollowerService<RecommendEngine>(host)
{
    protected override (RecommendEngine Value, Task Running) Start(Project project, CancellationToken stopping)
    {
        var engine = new RecommendEngine(
            project,
            Host.Options.Realtime.Enabled ? realtime.For(project.Name) : null,
            Host.Options.Realtime,
            Host.Options.Serving,
            Host.Time,
            Host.Loggers,
            [new InvertedChannel(search.For(project.Name))])
        {
            Experiments = services.GetService<IExperimentAssigner>() ?? Watch(project, stopping),
        };
        return (engine, Task.Run(() => engine.RunAsync(stopping), CancellationToken.None));
    }

    private ProjectExperiments Watch(Project project, CancellationToken stopping)
    {
        var experiments = new ProjectExperiments(Zhongtai.Experiments.ExperimentAssigner.Watch(
            Zhongtai.Experiments.ExperimentSet.PathFor(project.Directory), Host.Time, Host.Loggers.CreateLogger<ProjectExperiments>()));
        stopping.Register(experiments.Dispose);
        return experiments;
    }
}


/// <summary>The inverted channel: the request's query, else the user's interest terms (tags and categories of recent items), over the item index.</summary>
internal sealed class InvertedChannel(ItemIndex index) : IRecallChannel
{
    public string Name => ChannelNames.Inverted;

    public void Recall(RecallContext context, int quota, RecallBuffer output)
    {
        var text = context.Query ?? string.Join(' ', context.InterestTerms);
        text = text.Replace('"', ' ');
        if (string.IsNullOrWhiteSpace(text))
        {
            return;
        }

        var hits = index.Search(new SearchQuery
        {
            Text = text,
            Operator = context.Query is null ? TermOperator.Or : TermOperator.And,
            Category = context.Category,
            Count = Math.Min(quota, 1000),
        });
        foreach (var hit in hits)
        {
            output.Add(hit.ItemId, hit.Score);
        }
    }
}

/// <summary>A recommendation request: the schema of the body (read by <see cref="RecommendBody"/>).</summary>
/// <param name="UserId">Required; an unknown user gets a cold-start answer.</param>
/// <param name="Scene">Default <c>home</c>.</param>
/// <param name="Count">Default the scene's default count (10); at most its maxCount.</param>
/// <param name="Query">Text for the inverted channel.</param>
/// <param name="Exclude">Item ids never to return.</param>
public sealed record RecommendHttpRequest(string? UserId, string? Scene, int? Count, string? Query, RecommendFilters? Filters, IReadOnlyList<string>? Exclude, RecommendRequestContext? Context);

/// <param name="Category">Only items of this category.</param>
/// <param name="Attributes">Only items whose attributes equal these values (strings, numbers or booleans).</param>
public sealed record RecommendFilters(string? Category, Dictionary<string, JsonElement>? Attributes);

public sealed record RecommendRequestContext(string? Device);

/// <summary><c>POST /v1/recommend</c> and <c>GET /v1/items/{id}/similar</c>.</summary>
internal static class RecommendApi
{
    public static void MapRecommendApi(this IEndpointRouteBuilder routes)
    {
        var recommend = routes.ServiceProvider.GetRequiredService<RecommendService>(); // not per request: no DI scope
        routes.MapPost("/v1/recommend", (Func<HttpContext, ValueTask<IResult>>)(context => RecommendAsync(context, recommend)))
            .WithTags("recommend").RequireScope(Scopes.Serve)
            .Accepts<RecommendHttpRequest>("application/json")
            .Produces<RecommendResult>().Produces<ApiError>(400)
            .WithSummary("Recommend items for a user in a scene: multi-channel recall, ranking, rerank rules and the risk filter.")
            .WithDescription("Every served list is logged back as exposure events carrying the requestId; send the requestId with clicks to attribute them.");

        routes.MapGet("/v1/items/{id}/similar", (string id, HttpContext context, RecommendService service, int? count, string? scene) =>
        {
            var k = count ?? 10;
            if (k is < 1 or > 200)
            {
                return EventsApi.Error(400, "invalid_argument", "count must be 1..200.");
            }

            var engine = service.For(context.AppRequest().App.Project);
            var result = engine.Similar(id, k, scene ?? "detail");
            return result is null
                ? EventsApi.Error(404, "item_not_found", $"No item '{id}' in this project.")
                : Results.Json(result, ApiJsonContext.Default.RecommendResult);
        }).WithTags("recommend").RequireScope(Scopes.Serve).Produces<RecommendResult>().Produces<ApiError>(404)
          .WithSummary("Items similar to an item: realtime co-engagement, recall-model neighbours and knowledge-graph neighbours.");
    }

    private static async ValueTask<IResult> RecommendAsync(HttpContext context, RecommendService service)
    {
        RecommendRequest request;
        List<(string Field, string Message)>? errors;
        try
        {
            request = RecommendBody.Parse(context.AppRequest().Body.Span, out errors);
        }
        catch (JsonException ex)
        {
            return ApiBody.Invalid("invalid_json", [("body", $"The body is not a valid recommend request: {ex.Message}")]);
        }

        if (errors is not null)
        {
            return ApiBody.Invalid("invalid_argument", errors);
        }

        var engine = service.For(context.AppRequest().App.Project);
        try
        {
            var result = await engine.RecommendAsync(request, context.RequestAborted);
            return await ApiBody.WriteJsonAsync(context, result, ApiJsonContext.Default.RecommendResult);
        }
        catch (RecommendException ex)
        {
            return ApiBody.Invalid(ex.Code, ex.Errors);
        }
    }
}
