using System.Globalization;
using System.Text;
using System.Text.Json;
using Zhongtai.Events.Ingest;

namespace Zhongtai.Events.Import;

/// <summary>How the columns of an interaction file map to event fields.</summary>
public sealed record CsvMapping(
    string User,
    string Item,
    string? Value = null,
    string? Timestamp = null,
    string? Type = null,
    string DefaultType = EventTypes.Rating,
    char Separator = ',',
    bool? Header = null);

/// <summary>What an import did.</summary>
public sealed record ImportResult(string Source, long Events, long Written, long Duplicates, IReadOnlyDictionary<string, long> ByType);

/// <summary>
/// Imports files through the same validation and event log as live ingestion (with backfill, since history is old).
/// Every file is read twice: first to check every line (a bad line stops the import, naming file and line, before
/// anything is written), then to ingest in batches. Event ids are derived from the rows, so re-running an import
/// within the dedup window writes nothing twice.
/// </summary>
public sealed class Importer(EventIngestor ingestor, TimeProvider time)
{
    private const int BatchSize = 5_000;

    /// <summary>MovieLens: a folder (or file) in the ml-100k layout (u.data, u.item, u.user) or the ml-latest layout (ratings.csv, movies.csv, tags.csv).</summary>
    public async Task<ImportResult> ImportMovieLensAsync(string path, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var dir = Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (File.Exists(Path.Combine(dir, "u.data")))
        {
            return await ImportAsync("movielens-100k", () => MovieLens100k(dir), progress, cancellationToken).ConfigureAwait(false);
        }

        if (File.Exists(Path.Combine(dir, "ratings.csv")))
        {
            return await ImportAsync("movielens-latest", () => MovieLensLatest(dir), progress, cancellationToken).ConfigureAwait(false);
        }

        throw new ImportException(path, 0, "Not a MovieLens folder: expected u.data (ml-100k) or ratings.csv (ml-latest).");
    }

    /// <summary>Any interaction file with a column mapping.</summary>
    public Task<ImportResult> ImportCsvAsync(string path, CsvMapping mapping, IProgress<long>? progress, CancellationToken cancellationToken) =>
        ImportAsync(Path.GetFileName(path), () => Interactions(path, mapping), progress, cancellationToken);

    /// <summary>A catalog of items: JSONL of item events, or CSV with columns itemId,title,text,category,tags (tags separated by '|').</summary>
    public Task<ImportResult> ImportItemsAsync(string path, IProgress<long>? progress, CancellationToken cancellationToken) =>
        ImportAsync(Path.GetFileName(path), () => Items(path), progress, cancellationToken);

    private async Task<ImportResult> ImportAsync(string source, Func<IEnumerable<(string File, int Line, Event Event)>> rows, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        // Pass 1: every row parses and validates.
        var validator = new EventValidator(ingestor.Options);
        var errors = new List<EventError>();
        var now = time.GetUtcNow();
        foreach (var (file, line, e) in rows())
        {
            validator.Validate(e, now, backfill: true, errors);
            if (errors.Count > 0)
            {
                throw new ImportException(file, line, $"{errors[0].Field}: {errors[0].Message}");
            }
        }

        // Pass 2: ingest in batches.
        long total = 0, written = 0, duplicates = 0;
        var byType = new Dictionary<string, long>(StringComparer.Ordinal);
        var batch = new List<Event>(BatchSize);
        async Task FlushAsync()
        {
            var result = await ingestor.IngestAsync(batch, backfill: true, cancellationToken).ConfigureAwait(false);
            total += result.Accepted;
            duplicates += result.Duplicates;
            written += result.Accepted - result.Duplicates;
            progress?.Report(total);
            batch.Clear();
        }

        foreach (var (_, _, e) in rows())
        {
            byType[e.Type] = byType.GetValueOrDefault(e.Type) + 1;
            batch.Add(e);
            if (batch.Count == BatchSize)
            {
                await FlushAsync().ConfigureAwait(false);
            }
        }

        if (batch.Count > 0)
        {
            await FlushAsync().ConfigureAwait(false);
        }

        return new ImportResult(source, total, written, duplicates, byType);
    }

    private static IEnumerable<(string, int, Event)> MovieLens100k(string dir)
    {
        var latin1 = Encoding.Latin1;
        var data = Path.Combine(dir, "u.data");
        var first = MinTimestamp(DelimitedReader.Read(data, '\t'), data, 3);
        string[] genres = File.Exists(Path.Combine(dir, "u.genre"))
            ? [.. File.ReadAllLines(Path.Combine(dir, "u.genre"), latin1).Where(l => l.Contains('|', StringComparison.Ordinal)).Select(l => l.Split('|')[0])]
            : [];
        var items = Path.Combine(dir, "u.item");
        if (File.Exists(items))
        {
            foreach (var (line, f) in DelimitedReader.Read(items, '|', latin1))
            {
                Require(items, line, f, 5);
                var tags = genres.Length == 0 ? [] : f.Skip(5).Select((flag, g) => (flag, g)).Where(x => x.flag == "1" && x.g < genres.Length).Select(x => genres[x.g]).ToArray();
                yield return (items, line, new Event
                {
                    Id = "ml-item-" + f[0],
                    Type = EventTypes.Item,
                    ItemId = f[0],
                    Title = f[1],
                    Category = tags.FirstOrDefault(),
                    Tags = tags,
                    Timestamp = first,
                    Attributes = Attributes(("releaseDate", f[2]), ("url", f[4])),
                });
            }
        }

        var users = Path.Combine(dir, "u.user");
        if (File.Exists(users))
        {
            foreach (var (line, f) in DelimitedReader.Read(users, '|', latin1))
            {
                Require(users, line, f, 5);
                yield return (users, line, new Event
                {
                    Id = "ml-user-" + f[0],
                    Type = EventTypes.User,
                    UserId = f[0],
                    Timestamp = first,
                    Attributes = Attributes(("age", f[1]), ("gender", f[2]), ("occupation", f[3]), ("zip", f[4])),
                });
            }
        }

        foreach (var (line, f) in DelimitedReader.Read(data, '\t'))
        {
            Require(data, line, f, 4);
            yield return (data, line, Rating(data, line, f[0], f[1], f[2], f[3]));
        }
    }

    private static IEnumerable<(string, int, Event)> MovieLensLatest(string dir)
    {
        var ratings = Path.Combine(dir, "ratings.csv");
        var first = MinTimestamp(DelimitedReader.Read(ratings, ',').Skip(1), ratings, 3);
        var movies = Path.Combine(dir, "movies.csv");
        if (File.Exists(movies))
        {
            foreach (var (line, f) in DelimitedReader.Read(movies, ',').Skip(1))
            {
                Require(movies, line, f, 3);
                var tags = f[2] == "(no genres listed)" ? [] : f[2].Split('|');
                yield return (movies, line, new Event { Id = "ml-item-" + f[0], Type = EventTypes.Item, ItemId = f[0], Title = f[1], Category = tags.FirstOrDefault(), Tags = tags, Timestamp = first });
            }
        }

        foreach (var (line, f) in DelimitedReader.Read(ratings, ',').Skip(1))
        {
            Require(ratings, line, f, 4);
            yield return (ratings, line, Rating(ratings, line, f[0], f[1], f[2], f[3]));
        }

        var tagsFile = Path.Combine(dir, "tags.csv");
        if (File.Exists(tagsFile))
        {
            foreach (var (line, f) in DelimitedReader.Read(tagsFile, ',').Skip(1))
            {
                Require(tagsFile, line, f, 4);
                yield return (tagsFile, line, new Event
                {
                    Id = $"ml-tag-{f[0]}-{f[1]}-{line}",
                    Type = EventTypes.Tag,
                    UserId = f[0],
                    ItemId = f[1],
                    Timestamp = UnixTime(tagsFile, line, f[3]),
                    Properties = new Dictionary<string, JsonElement> { ["tag"] = JsonSerializer.SerializeToElement(f[2], EventJsonContext.Default.String) },
                });
            }
        }
    }

    private static IEnumerable<(string, int, Event)> Interactions(string path, CsvMapping m)
    {
        var rows = DelimitedReader.Read(path, m.Separator);
        string[]? header = null;
        var firstRow = rows.Take(1).ToList();
        if (firstRow.Count == 0)
        {
            yield break;
        }

        var hasHeader = m.Header ?? LooksLikeHeader(firstRow[0].Fields, m);
        if (hasHeader)
        {
            header = firstRow[0].Fields;
        }

        int Column(string? name, bool required)
        {
            if (name is null)
            {
                return -1;
            }

            if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                return index;
            }

            var found = header is null ? -1 : Array.FindIndex(header, h => string.Equals(h.Trim(), name, StringComparison.OrdinalIgnoreCase));
            return found >= 0 || !required ? found : throw new ImportException(path, 1, $"No column '{name}' in the header ({string.Join(",", header ?? [])}); name columns by header or by 0-based index.");
        }

        int user = Column(m.User, true), item = Column(m.Item, true), value = Column(m.Value, true), ts = Column(m.Timestamp, true), type = Column(m.Type, true);
        foreach (var (line, f) in DelimitedReader.Read(path, m.Separator).Skip(hasHeader ? 1 : 0))
        {
            Require(path, line, f, new[] { user, item, value, ts, type }.Max() + 1);
            var e = new Event
            {
                Id = $"csv-{Path.GetFileName(path)}-{line}",
                Type = type >= 0 ? f[type].Trim() : m.DefaultType,
                UserId = f[user].Trim(),
                ItemId = f[item].Trim(),
                Value = value >= 0 ? Number(path, line, f[value]) : m.DefaultType == EventTypes.Rating ? 1 : null,
                Timestamp = ts >= 0 ? ParseTime(path, line, f[ts]) : DateTimeOffset.UnixEpoch.AddSeconds(line),
            };
            yield return (path, line, e);
        }
    }

    /// <summary>A first row is a header when it names the user column, or when a numeric column (value, timestamp) holds no number.</summary>
    private static bool LooksLikeHeader(string[] first, CsvMapping m)
    {
        if (first.Contains(m.User, StringComparer.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (var column in new[] { m.Value, m.Timestamp })
        {
            if (column is not null && int.TryParse(column, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < first.Length
                && !double.TryParse(first[index], NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                && !DateTimeOffset.TryParse(first[index], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
            {
                return true;
            }
        }

        return false;
    }

    private static IEnumerable<(string, int, Event)> Items(string path)
    {
        if (path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase))
        {
            var line = 0;
            foreach (var text in File.ReadLines(path))
            {
                line++;
                if (string.IsNullOrWhiteSpace(text))
                {
                    continue;
                }

                Event? e;
                try
                {
                    e = JsonSerializer.Deserialize(text, EventJsonContext.Default.Event);
                }
                catch (JsonException ex)
                {
                    throw new ImportException(path, line, ex.Message);
                }

                if (e is null)
                {
                    throw new ImportException(path, line, "null is not an item.");
                }

                e.Type = string.IsNullOrEmpty(e.Type) ? EventTypes.Item : e.Type;
                e.Id ??= $"items-{Path.GetFileName(path)}-{e.ItemId}";
                if (e.Timestamp == default)
                {
                    e.Timestamp = DateTimeOffset.UnixEpoch;
                }

                yield return (path, line, e);
            }

            yield break;
        }

        foreach (var (line, f) in DelimitedReader.Read(path, ',').Skip(1))
        {
            Require(path, line, f, 2);
            yield return (path, line, new Event
            {
                Id = $"items-{Path.GetFileName(path)}-{f[0]}",
                Type = EventTypes.Item,
                ItemId = f[0],
                Title = f[1],
                Text = f.Length > 2 ? f[2] : null,
                Category = f.Length > 3 && f[3].Length > 0 ? f[3] : null,
                Tags = f.Length > 4 && f[4].Length > 0 ? f[4].Split('|') : null,
                Timestamp = DateTimeOffset.UnixEpoch,
            });
        }
    }

    private static Event Rating(string file, int line, string user, string item, string rating, string timestamp) => new()
    {
        Id = $"ml-r-{user}-{item}-{timestamp}",
        Type = EventTypes.Rating,
        UserId = user,
        ItemId = item,
        Value = Number(file, line, rating),
        Timestamp = UnixTime(file, line, timestamp),
    };

    private static DateTimeOffset MinTimestamp(IEnumerable<(int Line, string[] Fields)> rows, string file, int column)
    {
        var min = long.MaxValue;
        foreach (var (line, f) in rows)
        {
            Require(file, line, f, column + 1);
            min = Math.Min(min, UnixTime(file, line, f[column]).ToUnixTimeSeconds());
        }

        return min == long.MaxValue ? DateTimeOffset.UnixEpoch : DateTimeOffset.FromUnixTimeSeconds(min - 1);
    }

    private static DateTimeOffset UnixTime(string file, int line, string text) =>
        long.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) && s is >= 0 and < 32_503_680_000
            ? DateTimeOffset.FromUnixTimeSeconds(s)
            : throw new ImportException(file, line, $"'{text}' is not a Unix timestamp in seconds.");

    private static DateTimeOffset ParseTime(string file, int line, string text) =>
        long.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
            ? UnixTime(file, line, text)
            : DateTimeOffset.TryParse(text.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
                ? t
                : throw new ImportException(file, line, $"'{text}' is not a timestamp (Unix seconds or ISO 8601).");

    private static double Number(string file, int line, string text) =>
        double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v
            : throw new ImportException(file, line, $"'{text}' is not a number.");

    private static void Require(string file, int line, string[] fields, int count)
    {
        if (fields.Length < count)
        {
            throw new ImportException(file, line, $"Expected at least {count} fields, found {fields.Length}.");
        }
    }

    private static Dictionary<string, JsonElement> Attributes(params (string Key, string Value)[] pairs) =>
        pairs.Where(p => p.Value.Length > 0).ToDictionary(p => p.Key, p => JsonSerializer.SerializeToElement(p.Value, EventJsonContext.Default.String));
}
