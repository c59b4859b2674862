using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Zhongtai.Events;
using Zhongtai.Events.Import;
using Zhongtai.Events.Ingest;
using Zhongtai.Events.Log;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Events.Import;

public sealed class ImporterTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
    private EventLog _log = null!;
    private Importer _importer = null!;

    public Task InitializeAsync()
    {
        _log = EventLog.Open(_dir.Combine("events"), new EventLogOptions(), _time, NullLogger.Instance);
        _importer = new Importer(new EventIngestor(_log, new IngestOptions(), _time), _time);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _log.DisposeAsync();
        _dir.Dispose();
    }

    private List<Event> Stored() => [.. _log.ReadEvents(0).Select(e => e.Event)];

    [Fact]
    public async Task MovieLens100k_ImportsCatalogUsersAndRatings_Idempotently()
    {
        var ml = Directory.CreateDirectory(_dir.Combine("ml-100k")).FullName;
        await File.WriteAllTextAsync(Path.Combine(ml, "u.data"), "1\t10\t4\t881250949\n2\t10\t2\t881250950\n1\t11\t5\t881250900\n");
        await File.WriteAllTextAsync(Path.Combine(ml, "u.item"), "10|Toy Story (1995)|01-Jan-1995||http://x|0|1|1\n11|Heat (1995)|01-Jan-1995||http://y|1|0|0\n");
        await File.WriteAllTextAsync(Path.Combine(ml, "u.genre"), "unknown|0\nAction|1\nAdventure|2\n\n");
        await File.WriteAllTextAsync(Path.Combine(ml, "u.user"), "1|24|M|technician|85711\n2|53|F|other|94043\n");

        var result = await _importer.ImportMovieLensAsync(ml, null, CancellationToken.None);
        Assert.Equal((7L, 7L), (result.Events, result.Written));
        var events = Stored();
        var toy = events.Single(e => e.Type == "item" && e.ItemId == "10");
        Assert.Equal(["Action", "Adventure"], toy.Tags!);
        Assert.True(toy.Timestamp < events.Where(e => e.Type == "rating").Min(e => e.Timestamp));
        var rating = events.Single(e => e.Type == "rating" && e.UserId == "2");
        Assert.Equal((2.0, DateTimeOffset.FromUnixTimeSeconds(881250950)), (rating.Value, rating.Timestamp));

        var again = await _importer.ImportMovieLensAsync(ml, null, CancellationToken.None);
        Assert.Equal(7, again.Duplicates);
        Assert.Equal(7, _log.Count);
    }

    [Fact]
    public async Task MovieLensLatest_HandlesQuotedTitlesAndTags()
    {
        var ml = Directory.CreateDirectory(_dir.Combine("ml-latest")).FullName;
        await File.WriteAllTextAsync(Path.Combine(ml, "ratings.csv"), "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,3.5,964981247\n");
        await File.WriteAllTextAsync(Path.Combine(ml, "movies.csv"), "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n3,\"American President, The (1995)\",Comedy|Drama|Romance\n");
        await File.WriteAllTextAsync(Path.Combine(ml, "tags.csv"), "userId,movieId,tag,timestamp\n1,3,\"funny, sweet\",1445714994\n");
        var result = await _importer.ImportMovieLensAsync(ml, null, CancellationToken.None);
        Assert.Equal(5, result.Events);
        var events = Stored();
        Assert.Equal("American President, The (1995)", events.Single(e => e.ItemId == "3" && e.Type == "item").Title);
        Assert.Equal("funny, sweet", events.Single(e => e.Type == "tag").Properties!["tag"].GetString());
    }

    [Fact]
    public async Task Csv_WithHeaderMapping_AndIsoTimestamps()
    {
        var file = _dir.Combine("clicks.tsv");
        await File.WriteAllTextAsync(file, "who\twhat\tkind\twhen\nu1\ti1\tclick\t2026-11-20T10:00:00Z\nu2\ti2\tpurchase\t1763632800\n");
        var result = await _importer.ImportCsvAsync(file, new CsvMapping("who", "what", Timestamp: "when", Type: "kind", Separator: '\t'), null, CancellationToken.None);
        Assert.Equal(2, result.Events);
        Assert.Equal(["click", "purchase"], Stored().Select(e => e.Type));
    }

    [Fact]
    public async Task Csv_ByColumnIndex_DetectsTheHeaderFromNumericColumns()
    {
        var file = _dir.Combine("ratings.csv");
        await File.WriteAllTextAsync(file, "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.0,964981247\n");
        var result = await _importer.ImportCsvAsync(file, new CsvMapping("0", "1", "2", "3"), null, CancellationToken.None);
        Assert.Equal(2, result.Events);
        Assert.Equal(4.0, Stored()[0].Value);
    }

    [Fact]
    public async Task MalformedLine_NamesFileAndLine_AndWritesNothing()
    {
        var file = _dir.Combine("ratings.csv");
        await File.WriteAllTextAsync(file, "user,item,rating,ts\nu1,i1,4,964982703\nu2,i2,four,964982703\n");
        var ex = await Assert.ThrowsAsync<ImportException>(() => _importer.ImportCsvAsync(file, new CsvMapping("user", "item", "rating", "ts"), null, CancellationToken.None));
        Assert.Equal((file, 3), (ex.Path, ex.Line));
        Assert.Contains("'four' is not a number", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, _log.Count);
    }

    [Fact]
    public async Task UnknownColumn_IsAClearError()
    {
        var file = _dir.Combine("x.csv");
        await File.WriteAllTextAsync(file, "user,item\nu1,i1\n");
        var ex = await Assert.ThrowsAsync<ImportException>(() => _importer.ImportCsvAsync(file, new CsvMapping("user", "item", Value: "score"), null, CancellationToken.None));
        Assert.Contains("No column 'score'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ItemsJsonl_ImportsCatalog_AndRejectsBadLines()
    {
        var file = _dir.Combine("items.jsonl");
        await File.WriteAllTextAsync(file, "{\"itemId\":\"a\",\"title\":\"红色连衣裙\",\"category\":\"dress\",\"tags\":[\"red\"]}\n{\"itemId\":\"b\",\"title\":\"Blue shirt\"}\n");
        Assert.Equal(2, (await _importer.ImportItemsAsync(file, null, CancellationToken.None)).Events);
        Assert.Equal("红色连衣裙", Stored()[0].Title);

        var bad = _dir.Combine("bad.jsonl");
        await File.WriteAllTextAsync(bad, "{\"itemId\":\"c\"}\n{\"itemId\":}\n");
        Assert.Equal(2, (await Assert.ThrowsAsync<ImportException>(() => _importer.ImportItemsAsync(bad, null, CancellationToken.None))).Line);
    }
}
