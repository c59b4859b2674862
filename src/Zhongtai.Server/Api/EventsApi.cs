using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;
using Zhongtai.Events.Ingest;
using Zhongtai.Gateway;
using Zhongtai.Hosting;

namespace Zhongtai.Server.Api;

/// <summary><c>/v1/events</c>: ingestion and read-back, scoped to the calling app's project.</summary>
internal static class EventsApi
{
    public static void MapEventsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/events").WithTags("events");
        group.MapPost("", IngestAsync)
            .RequireScope(Scopes.Ingest)
            .AddOpenApiOperationTransformer(async (operation, context, ct) =>
            {
                var schema = await context.GetOrCreateSchemaAsync(typeof(Zhongtai.Events.Event[]), null, ct);
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Description = "A JSON array of events, or NDJSON (one event a line). Any content type is accepted; the body is sniffed.",
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/json"] = new() { Schema = schema },
                        ["application/x-ndjson"] = new() { Schema = schema },
                    },
                };
            })
            .Produces<IngestResult>()
            .Produces<ApiError>(400)
            .Produces<ApiError>(401)
            .WithSummary("Ingest a batch of events (JSON array or NDJSON).")
            .WithDescription("All or nothing: one invalid event rejects the batch with each bad event's index, field and reason. Answers only once the batch is durable. Events with an id already ingested within the dedup window are not written twice. ?backfill=true (scope manage) lifts the maximum-age window for historical imports.");
        group.MapGet("stats", Stats)
            .RequireScope(Scopes.Ingest, Scopes.Manage)
            .Produces<EventsStats>()
            .WithSummary("How many durable events the project's log holds.");
        group.MapGet("", Read)
            .RequireScope(Scopes.Manage)
            .Produces<EventsPage>()
            .WithSummary("Read durable events from an offset.");
    }

    private static async Task<IResult> IngestAsync(HttpContext context, ZhongtaiHost host, ZhongtaiMetrics metrics, bool? backfill)
    {
        var request = context.AppRequest();
        if (backfill == true && !request.App.HasScope(Scopes.Manage))
        {
            return Error(403, "insufficient_scope", "backfill needs the scope manage.");
        }

        var project = host.Project(request.App.Project);
        try
        {
            var result = await project.Ingestor.IngestAsync(request.Body, backfill == true, context.RequestAborted);
            metrics.EventsIngested.Add(result.Accepted - result.Duplicates);
            metrics.EventsDuplicated.Add(result.Duplicates);
            return Results.Json(result, ApiJsonContext.Default.IngestResult);
        }
        catch (EventBatchException)
        {
            metrics.BatchesRejected.Add(1);
            throw;
        }
    }

    private static IResult Stats(HttpContext context, ZhongtaiHost host)
    {
        var project = host.Project(context.AppRequest().App.Project);
        var log = project.Events;
        return Results.Json(new EventsStats(project.Name, log.Count, log.StartOffset, log.NextOffset), ApiJsonContext.Default.EventsStats);
    }

    private static IResult Read(HttpContext context, ZhongtaiHost host, long? from, int? limit)
    {
        var log = host.Project(context.AppRequest().App.Project).Events;
        var start = from ?? log.StartOffset;
        var count = limit ?? 100;
        if (count is < 1 or > 10_000)
        {
            return Error(400, "invalid_argument", "limit must be 1..10000.");
        }

        if (start < log.StartOffset || start > log.NextOffset)
        {
            return Error(400, "invalid_argument", $"from must be within {log.StartOffset}..{log.NextOffset}.");
        }

        var events = log.ReadEvents(start, start + count).Select(e => new StoredEvent(e.Offset, e.Event)).ToList();
        var next = events.Count > 0 ? events[^1].Offset + 1 : start;
        return Results.Json(new EventsPage(events, next), ApiJsonContext.Default.EventsPage);
    }

    internal static IResult Error(int status, string code, string message) =>
        Results.Json(new ApiError(status, code, message), ApiJsonContext.Default.ApiError, "application/problem+json", status);
}
