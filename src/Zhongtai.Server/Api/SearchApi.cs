using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Zhongtai.Events;
using Zhongtai.Events.Ingest;
using Zhongtai.Gateway;
using Zhongtai.Hosting;
using Zhongtai.Indexing.Inverted;

namespace Zhongtai.Server.Api;

/// <summary>
/// Keeps each project's inverted item index (<c>projects/P/index/items</c>) current from its event log: a consumer
/// applies <c>item</c> upserts and deletes, the index refreshes every second (near-real-time), and every second the
/// index is committed before the consumer's position, so a crash replays at most the uncommitted tail (upserts are
/// idempotent).
/// </summary>
internal sealed class SearchService(ZhongtaiHost host) : ProjectFollowerService<ItemIndex>(host)
{
    protected override (ItemIndex Value, Task Running) Start(Project project, CancellationToken stopping)
    {
        var index = ItemIndex.Open(Path.Combine(project.Directory, "index", "items"), new ItemIndexOptions(), Host.Time);
        return (index, Task.Run(() => FollowAsync(project, index, stopping), CancellationToken.None));
    }

    protected override void Stopped(ItemIndex value) => value.Dispose();

    private async Task FollowAsync(Project project, ItemIndex index, CancellationToken cancellationToken)
    {
        var consumer = project.Events.Consumer("index-items");
        var lastCommit = Host.Time.GetTimestamp();
        var dirty = false;
        while (true)
        {
            using (var reader = project.Events.OpenReader(consumer.Position))
            {
                while (reader.TryRead(out var record))
                {
                    // Only catalog upserts matter here: the rest (exposures, clicks) is skipped without decoding.
                    if (EventCodec.MayBeType(record.Payload, "item"u8) && EventCodec.Decode(record.Payload) is { Type: EventTypes.Item } e)
                    {
                        index.Apply(e);
                        dirty = true;
                    }

                    consumer.Seek(record.Offset + 1);
                }
            }

            var stopping = cancellationToken.IsCancellationRequested;
            if (dirty && (stopping || Host.Time.GetElapsedTime(lastCommit) >= TimeSpan.FromSeconds(1)))
            {
                index.Commit();
                consumer.Commit();
                dirty = false;
                lastCommit = Host.Time.GetTimestamp();
            }

            if (stopping)
            {
                return;
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(TimeSpan.FromSeconds(1));
            try
            {
                await project.Events.WaitForAsync(consumer.Position, wait.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}

/// <summary>A search request.</summary>
/// <param name="Query">Words (all must match) or a "quoted phrase"; empty with filters lists the filtered items.</param>
public sealed record SearchRequest(string? Query, string? Category, IReadOnlyList<string>? Tags, double? MinPrice, double? MaxPrice, IReadOnlyList<string>? Exclude, int? Count, int? Offset);

public sealed record SearchResultItem(string ItemId, float Score, IReadOnlyList<string> Channels);

public sealed record SearchResponse(string RequestId, IReadOnlyList<SearchResultItem> Items);

/// <summary><c>POST /v1/search</c>: the inverted channel (BM25 over title, tags and text; English and Chinese).</summary>
internal static class SearchApi
{
    public static void MapSearchApi(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/v1/search", (SearchRequest request, HttpContext context, SearchService search) =>
        {
            var count = request.Count ?? 10;
            if (count is < 1 or > 200 || request.Offset is < 0)
            {
                return EventsApi.Error(400, "invalid_argument", "count must be 1..200 and offset >= 0.");
            }

            var index = search.For(context.AppRequest().App.Project);
            var hits = index.Search(new SearchQuery
            {
                Text = request.Query,
                Category = request.Category,
                Tags = request.Tags,
                MinPrice = request.MinPrice,
                MaxPrice = request.MaxPrice,
                ExcludeIds = request.Exclude,
                Count = count,
                Offset = request.Offset ?? 0,
            });
            var response = new SearchResponse("r-" + Guid.CreateVersion7().ToString("N"), [.. hits.Select(h => new SearchResultItem(h.ItemId, h.Score, ["inverted"]))]);
            return Results.Json(response, ApiJsonContext.Default.SearchResponse);
        }).WithTags("search").RequireScope(Scopes.Serve).Produces<SearchResponse>().Produces<ApiError>(400)
          .WithSummary("Search the catalog: BM25 over title, tags and text (English and Chinese), with filters and paging.");
    }
}
