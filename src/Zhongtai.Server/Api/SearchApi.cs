using System.Numerics.Tensors;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Zhongtai.Events;
using Zhongtai.Events.Ingest;
using Zhongtai.Gateway;
using Zhongtai.Hosting;
using Zhongtai.Indexing.Inverted;
using Zhongtai.Serving;

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
        return (index, FollowerThread.Start("zt search index", () => Follow(project, index, stopping)));
    }

    protected override void Stopped(ItemIndex value) => value.Dispose();

    private void Follow(Project project, ItemIndex index, CancellationToken cancellationToken)
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
                FollowerThread.Wait(project.Events.WaitForAsync(consumer.Position, wait.Token));
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}

/// <summary>A search request.</summary>
/// <param name="Query">Words (all must match) or a "quoted phrase"; empty with filters lists the filtered items.</param>
/// <param name="UserId">Optional: the user's recent history reorders the first <see cref="SearchApi.PersonalWindow"/> hits.</param>
/// <param name="Category">Filter: only this category.</param>
/// <param name="Tags">Filter: items carrying every one of these tags.</param>
/// <param name="MinPrice">Filter: the <c>price</c> attribute at least this.</param>
/// <param name="MaxPrice">Filter: the <c>price</c> attribute at most this.</param>
/// <param name="Exclude">Item ids never to return.</param>
/// <param name="Count">Page size, 1..200; default 10.</param>
/// <param name="Offset">Hits to skip (paging), 0..10000; default 0.</param>
public sealed record SearchRequest(string? Query, string? UserId, string? Category, IReadOnlyList<string>? Tags, double? MinPrice, double? MaxPrice,
    IReadOnlyList<string>? Exclude, int? Count, int? Offset);

/// <param name="Score">BM25 when the request is not personalised; else <c>BM25/max BM25 of the window + 0.3·personal</c> (see docs/serving.md).</param>
/// <param name="Channels">Where the item came from: <c>inverted</c> (the BM25 item index).</param>
public sealed record SearchResultItem(string ItemId, float Score, IReadOnlyList<string> Channels);

/// <param name="RequestId">A fresh id per response (send it back with clicks).</param>
/// <param name="Models">What produced the order: <c>bm25</c>, plus <c>history@OFFSET</c> (the serving catalog's log offset the user's history was read at) when personalised.</param>
/// <param name="Personalized">True when the user's history reordered the first window of hits.</param>
public sealed record SearchResponse(string RequestId, IReadOnlyList<string> Models, bool Personalized, IReadOnlyList<SearchResultItem> Items);

/// <summary>
/// <c>POST /v1/search</c>: the inverted channel (BM25 over title, tags and text; English and Chinese) with filters and
/// paging; flagged and risk-blocked items never appear (they are dropped before paging, so pages stay full and
/// consistent); with a <c>userId</c> that has history, the first <see cref="PersonalWindow"/> hits are reordered by
/// <c>BM25/max + 0.3·personal</c>, personal = ½·(share of the user's newest 20 items in the hit's category) +
/// ½·max(0, cosine of the hit's content vector with the mean content vector of those items).
/// </summary>
internal static class SearchApi
{
    /// <summary>Hits (after the risk filter) that personalisation may reorder; pages beyond it keep BM25 order.</summary>
    public const int PersonalWindow = 100;

    /// <summary>Weight of the personal score against the window-normalised BM25 (which is in 0..1).</summary>
    public const float PersonalWeight = 0.3f;

    /// <summary>The user's newest items that personalisation reads.</summary>
    public const int HistoryItems = 20;

    private const int MaxOffset = 10_000;

    private static readonly string[] InvertedOnly = [ChannelNames.Inverted];

    public static void MapSearchApi(this IEndpointRouteBuilder routes)
    {
        var search = routes.ServiceProvider.GetRequiredService<SearchService>(); // not per request: no DI scope
        var recommend = routes.ServiceProvider.GetRequiredService<RecommendService>();
        routes.MapPost("/v1/search", (Func<HttpContext, ValueTask<IResult>>)(context => SearchAsync(context, search, recommend)))
            .WithTags("search").RequireScope(Scopes.Serve)
            .Accepts<SearchRequest>("application/json")
            .Produces<SearchResponse>().Produces<ApiError>(400)
            .WithSummary("Search the catalog: BM25 over title, tags and text (English and Chinese), with filters and paging, personalised by an optional userId; flagged items never appear.");
    }

    private static async ValueTask<IResult> SearchAsync(HttpContext context, SearchService search, RecommendService recommend)
    {
        if (ApiBody.Parse(context, ApiJsonContext.Default.SearchRequest, "search request", out var invalid) is not { } request)
        {
            return invalid!;
        }

        if (Validate(request) is { } errors)
        {
            return ApiBody.Invalid("invalid_argument", errors);
        }

        var project = context.AppRequest().App.Project;
        var index = search.For(project);
        var engine = recommend.For(project);
        var count = request.Count ?? 10;
        var offset = request.Offset ?? 0;
        var personal = request.UserId is { } userId ? SearchPersonalizer.For(engine, userId) : null;
        var needed = Math.Max(offset + count, personal is null ? 0 : PersonalWindow);

        // Fetch from the top and drop what the risk filter blocks before paging; fetch more while blocked hits left the page short.
        var kept = new List<SearchHit>(needed);
        var fetch = needed;
        while (true)
        {
            IReadOnlyList<SearchHit> hits;
            try
            {
                hits = index.Search(new SearchQuery
                {
                    Text = request.Query,
                    Category = request.Category,
                    Tags = request.Tags,
                    MinPrice = request.MinPrice,
                    MaxPrice = request.MaxPrice,
                    ExcludeIds = request.Exclude,
                    Count = fetch,
                    Offset = 0,
                });
            }
            catch (ArgumentException ex)
            {
                return ApiBody.Invalid("invalid_argument", [("query", ex.Message)]); // the rest was validated above: malformed text (unbalanced quote, empty phrase)
            }

            kept.Clear();
            foreach (var hit in hits)
            {
                if (!engine.IsRiskBlocked(null, hit.ItemId))
                {
                    kept.Add(hit);
                }
            }

            if (kept.Count >= needed || hits.Count < fetch || fetch >= MaxOffset)
            {
                break;
            }

            fetch = Math.Min(MaxOffset, Math.Max(fetch * 2, needed + (hits.Count - kept.Count) * 2));
        }

        var scores = new float[kept.Count];
        for (var i = 0; i < kept.Count; i++)
        {
            scores[i] = kept[i].Score;
        }

        var order = Enumerable.Range(0, kept.Count).ToArray();
        var models = new List<string>(2) { "bm25" };
        if (personal is not null && kept.Count > 1)
        {
            var window = Math.Min(PersonalWindow, kept.Count);
            var max = 0f;
            for (var i = 0; i < window; i++)
            {
                max = Math.Max(max, kept[i].Score);
            }

            var scale = max > 0 ? 1 / max : 0;
            for (var i = 0; i < kept.Count; i++)
            {
                scores[i] = (kept[i].Score * scale) + (i < window ? PersonalWeight * personal.Score(kept[i].ItemId) : 0);
            }

            // Stable: equal scores keep the BM25 order.
            Array.Sort(order, 0, window, Comparer<int>.Create((a, b) => scores[a] != scores[b] ? scores[b].CompareTo(scores[a]) : a.CompareTo(b)));
            models.Add(personal.Version);
        }

        var items = new List<SearchResultItem>(count);
        for (var i = offset; i < kept.Count && items.Count < count; i++)
        {
            items.Add(new SearchResultItem(kept[order[i]].ItemId, scores[order[i]], InvertedOnly));
        }

        var response = new SearchResponse(NewRequestId(), models, personal is not null, items);
        if (request.UserId is { } viewer)
        {
            // Logged back like recommended lists (scene "search", positions from the page's offset), so clicks that
            // carry the requestId are attributed; an anonymous search has nobody to attribute to.
            engine.LogServed(viewer, "search", response.RequestId, models, [.. items.Select(i => new RecommendedItem(i.ItemId, i.Score, i.Channels))], offset);
        }

        return await ApiBody.WriteJsonAsync(context, response, ApiJsonContext.Default.SearchResponse);
    }

    /// <summary>Every problem of the request, by field; null when it is valid.</summary>
    internal static List<(string Field, string Message)>? Validate(SearchRequest request)
    {
        List<(string, string)>? errors = null;
        if (request.Query is { Length: > 1000 })
        {
            (errors ??= []).Add(("query", "query is at most 1000 characters."));
        }

        if (request.UserId is { } user && (string.IsNullOrWhiteSpace(user) || user.Length > 256 || user.AsSpan().ContainsAnyInRange('\0', '\u001f')))
        {
            (errors ??= []).Add(("userId", "userId, when given, must be 1..256 characters without control characters."));
        }

        if (request.Count is < 1 or > 200)
        {
            (errors ??= []).Add(("count", "count must be 1..200."));
        }

        if (request.Offset is < 0 or > MaxOffset - 200)
        {
            (errors ??= []).Add(("offset", $"offset must be 0..{MaxOffset - 200}."));
        }

        if (request.Category is { Length: 0 })
        {
            (errors ??= []).Add(("category", "category must not be empty."));
        }

        if (request.Tags is { } tags && (tags.Count > 20 || tags.Any(string.IsNullOrWhiteSpace)))
        {
            (errors ??= []).Add(("tags", "tags holds at most 20 non-empty tags."));
        }

        if (request.MinPrice is { } min && !double.IsFinite(min))
        {
            (errors ??= []).Add(("minPrice", "minPrice must be a finite number."));
        }

        if (request.MaxPrice is { } max && !double.IsFinite(max))
        {
            (errors ??= []).Add(("maxPrice", "maxPrice must be a finite number."));
        }
        else if (request.MinPrice is { } lo && request.MaxPrice is { } hi && double.IsFinite(lo) && lo > hi)
        {
            (errors ??= []).Add(("maxPrice", "maxPrice must be >= minPrice."));
        }

        if (request.Exclude is { Count: > 1000 })
        {
            (errors ??= []).Add(("exclude", "exclude holds at most 1000 items."));
        }

        return errors;
    }


    private static string NewRequestId() => "r-" + Guid.CreateVersion7().ToString("N");
}

/// <summary>
/// A user's search personalisation, read once per request from serving's state: the category shares and the mean
/// content vector of the user's newest <see cref="SearchApi.HistoryItems"/> items. Null for a user without history.
/// </summary>
internal sealed class SearchPersonalizer
{
    private readonly RecommendEngine _engine;
    private readonly Dictionary<int, float> _categoryShare = [];
    private readonly float[] _user;
    private readonly float[] _item;
    private readonly bool _hasContent;

    private SearchPersonalizer(RecommendEngine engine, ReadOnlySpan<int> recent, long offset)
    {
        _engine = engine;
        Version = $"history@{offset}";
        var catalog = engine.Catalog;
        var index = engine.Content.Index;
        _user = new float[index.Dimension];
        _item = new float[index.Dimension];
        var seeds = 0;
        foreach (var dense in recent)
        {
            var ordinal = catalog.Hot(dense).CategoryOrdinal;
            if (ordinal > 0)
            {
                _categoryShare[ordinal] = _categoryShare.GetValueOrDefault(ordinal) + (1f / recent.Length);
            }

            if (index.AddTo(dense, 1f, _user))
            {
                seeds++;
            }
        }

        _hasContent = seeds > 0 && ContentEmbedder.Normalise(_user);
    }

    /// <summary>For <c>models</c>: <c>history@OFFSET</c>.</summary>
    public string Version { get; }

    public static SearchPersonalizer? For(RecommendEngine engine, string userId)
    {
        var offset = engine.Catalog.NextOffset;
        if (engine.Catalog.User(userId) is not { } history)
        {
            return null;
        }

        Span<int> recent = stackalloc int[SearchApi.HistoryItems];
        var n = history.Recent(recent);
        return n == 0 ? null : new SearchPersonalizer(engine, recent[..n], offset);
    }

    /// <summary>½·category share + ½·content similarity, in 0..1; 0 for an item serving does not know.</summary>
    public float Score(string itemId)
    {
        var catalog = _engine.Catalog;
        var dense = catalog.Find(itemId);
        if (dense < 0)
        {
            return 0;
        }

        var score = 0.5f * _categoryShare.GetValueOrDefault(catalog.Hot(dense).CategoryOrdinal);
        if (_hasContent && _engine.Content.Index.TryGet(dense, _item))
        {
            score += 0.5f * Math.Max(0, TensorPrimitives.Dot(_user, _item));
        }

        return score;
    }
}
