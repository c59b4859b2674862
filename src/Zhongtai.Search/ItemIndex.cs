using System.Globalization;
using System.Text.Json;
using Lucene.Net.Analysis;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;
using Zhongtai.Events;
using LuceneDirectory = Lucene.Net.Store.Directory;

namespace Zhongtai.Indexing.Inverted;

/// <summary>
/// The inverted index over the item catalog: a Lucene index in one folder, fed by <c>item</c> events,
/// searched with BM25 over title, tags and text plus exact filters (category, tags, lang, availability),
/// a price range and exclusions. Updates become searchable near-real-time (a <see cref="SearcherManager"/>
/// refreshed every <see cref="ItemIndexOptions.RefreshInterval"/> or by <see cref="Refresh"/>) and durable
/// on <see cref="Commit"/> (Lucene's commit is atomic: a crash leaves the previous commit readable).
/// All members are thread-safe; searches run concurrently with updates.
/// </summary>
public sealed class ItemIndex : IDisposable
{
    /// <summary>Field names in the Lucene documents.</summary>
    public static class Fields
    {
        public const string ItemId = "itemId";
        public const string Title = "title";
        public const string Text = "text";
        public const string Tags = "tags";
        /// <summary>Each tag as one exact, lower-cased term, for the tags filter.</summary>
        public const string TagExact = "tag";
        public const string Category = "category";
        public const string Price = "price";
        public const string Lang = "lang";
        public const string Availability = "availability";
    }

    private static readonly Dictionary<string, string> FilterFields = new(StringComparer.Ordinal)
    {
        ["category"] = Fields.Category,
        ["lang"] = Fields.Lang,
        ["availability"] = Fields.Availability,
        ["tag"] = Fields.TagExact,
    };

    private readonly ItemIndexOptions _options;
    private readonly string _path;
    private readonly LuceneDirectory _directory;
    private readonly Analyzer _analyzer = new MixedLanguageAnalyzer();
    private readonly BM25Similarity _similarity;
    private readonly IndexWriter? _writer;
    private readonly SnapshotDeletionPolicy? _snapshots;
    private readonly SearcherManager _searchers;
    private readonly ITimer? _timer;
    private readonly System.Threading.Lock _timerGate = new();
    private readonly (string Field, float Boost)[] _textFields;
    private int _disposed;

    private ItemIndex(string path, ItemIndexOptions options, TimeProvider time, bool readOnly)
    {
        _options = options;
        _path = Path.GetFullPath(path);
        _similarity = new BM25Similarity(options.Bm25K1, options.Bm25B);
        _textFields = [(Fields.Title, options.TitleBoost), (Fields.Tags, options.TagsBoost), (Fields.Text, options.TextBoost)];
        _directory = FSDirectory.Open(new DirectoryInfo(_path));
        var factory = new Bm25SearcherFactory(_similarity);
        try
        {
            if (readOnly)
            {
                _searchers = new SearcherManager(_directory, factory);
            }
            else
            {
                _snapshots = new SnapshotDeletionPolicy(new KeepOnlyLastCommitDeletionPolicy());
                var config = new IndexWriterConfig(MixedLanguageAnalyzer.Version, _analyzer)
                {
                    OpenMode = OpenMode.CREATE_OR_APPEND,
                    Similarity = _similarity,
                    IndexDeletionPolicy = _snapshots,
                    RAMBufferSizeMB = options.RamBufferMb,
                };
                _writer = new IndexWriter(_directory, config);
                // A fresh folder gets an empty first commit so read-only nodes and snapshots always find one.
                if (!DirectoryReader.IndexExists(_directory))
                {
                    _writer.Commit();
                }
                _searchers = new SearcherManager(_writer, applyAllDeletes: true, factory);
            }
        }
        catch
        {
            _writer?.Dispose();
            _directory.Dispose();
            throw;
        }
        if (options.RefreshInterval > TimeSpan.Zero)
        {
            _timer = time.CreateTimer(static s => ((ItemIndex)s!).TimerRefresh(), this, options.RefreshInterval, options.RefreshInterval);
        }
    }

    /// <summary>Opens (or creates) the writable index in <paramref name="path"/>.</summary>
    public static ItemIndex Open(string path, ItemIndexOptions? options = null, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        System.IO.Directory.CreateDirectory(path);
        return new ItemIndex(path, options ?? new ItemIndexOptions(), time ?? TimeProvider.System, readOnly: false);
    }

    /// <summary>
    /// Opens the last commit in <paramref name="path"/> (e.g. a folder written by <see cref="Snapshot"/>)
    /// read-only, for a serving node. <see cref="Apply"/>, <see cref="Commit"/> and friends throw.
    /// </summary>
    public static ItemIndex OpenReadOnly(string path, ItemIndexOptions? options = null, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!System.IO.Directory.Exists(path))
        {
            throw new DirectoryNotFoundException($"No index folder at '{path}'.");
        }
        return new ItemIndex(path, options ?? new ItemIndexOptions(), time ?? TimeProvider.System, readOnly: true);
    }

    /// <summary>True when opened with <see cref="OpenReadOnly"/>.</summary>
    public bool IsReadOnly => _writer is null;

    /// <summary>Number of live items visible to searches now.</summary>
    public int Count
    {
        get
        {
            var searcher = _searchers.Acquire();
            try
            {
                return searcher.IndexReader.NumDocs;
            }
            finally
            {
                _searchers.Release(searcher);
            }
        }
    }

    /// <summary>
    /// Applies one event: an <c>item</c> event upserts the item (replacing any previous version) or deletes it
    /// when <see cref="Event.Deleted"/> is true; other types are ignored. Visible after the next refresh.
    /// </summary>
    /// <returns>True when the event changed the index.</returns>
    public bool Apply(Event e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var writer = Writer();
        if (!string.Equals(e.Type, EventTypes.Item, StringComparison.Ordinal))
        {
            return false;
        }
        if (string.IsNullOrEmpty(e.ItemId))
        {
            throw new ArgumentException("An item event needs an itemId.", nameof(e));
        }
        var key = new Term(Fields.ItemId, e.ItemId);
        if (e.Deleted == true)
        {
            writer.DeleteDocuments(key);
        }
        else
        {
            writer.UpdateDocument(key, ToDocument(e));
        }
        return true;
    }

    /// <summary>Replaces the whole index with <paramref name="catalog"/> (its <c>item</c> events, later ones win) and commits.</summary>
    /// <returns>The number of events applied.</returns>
    public int Rebuild(IEnumerable<Event> catalog, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var writer = Writer();
        writer.DeleteAll();
        var applied = 0;
        foreach (var e in catalog)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Apply(e))
            {
                applied++;
            }
        }
        writer.Commit();
        _searchers.MaybeRefreshBlocking();
        return applied;
    }

    /// <summary>Makes every update applied so far visible to searches (blocks until done).</summary>
    public void Refresh() => _searchers.MaybeRefreshBlocking();

    /// <summary>Refreshes unless another thread is refreshing now; returns false when it skipped.</summary>
    public bool MaybeRefresh() => _searchers.MaybeRefresh();

    /// <summary>Persists every applied update atomically (a crash before it leaves the previous commit).</summary>
    public void Commit() => Writer().Commit();

    /// <summary>
    /// Commits, then copies that commit's files into <paramref name="targetDirectory"/> (created; must be
    /// empty or absent) while a snapshot pins them against merges. The copy opens with <see cref="OpenReadOnly"/>.
    /// </summary>
    public void Snapshot(string targetDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(targetDirectory);
        var writer = Writer();
        var target = Path.GetFullPath(targetDirectory);
        if (string.Equals(target.TrimEnd(Path.DirectorySeparatorChar), _path.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal))
        {
            throw new ArgumentException("The snapshot folder must differ from the index folder.", nameof(targetDirectory));
        }
        if (System.IO.Directory.Exists(target) && System.IO.Directory.EnumerateFileSystemEntries(target).Any())
        {
            throw new ArgumentException($"The snapshot folder '{target}' is not empty.", nameof(targetDirectory));
        }
        writer.Commit();
        var commit = _snapshots!.Snapshot();
        try
        {
            // Copy into a sibling temp folder, then rename: a reader never sees a half-copied snapshot.
            var temp = target + ".tmp-" + commit.Generation.ToString(CultureInfo.InvariantCulture);
            if (System.IO.Directory.Exists(temp))
            {
                System.IO.Directory.Delete(temp, recursive: true);
            }
            System.IO.Directory.CreateDirectory(temp);
            foreach (var file in commit.FileNames)
            {
                File.Copy(Path.Combine(_path, file), Path.Combine(temp, file));
            }
            if (System.IO.Directory.Exists(target))
            {
                System.IO.Directory.Delete(target);
            }
            System.IO.Directory.Move(temp, target);
        }
        finally
        {
            _snapshots.Release(commit);
            writer.DeleteUnusedFiles();
        }
    }

    /// <summary>Runs <paramref name="query"/> against the latest refreshed view.</summary>
    /// <exception cref="ArgumentException">Malformed text (unbalanced quote, empty phrase), bad paging, bad price range or an unknown filter field.</exception>
    public IReadOnlyList<SearchHit> Search(SearchQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var lucene = BuildQuery(query);
        if (lucene is null)
        {
            return [];
        }
        var searcher = _searchers.Acquire();
        try
        {
            var top = searcher.Search(lucene, query.Offset + query.Count);
            var n = Math.Max(0, top.ScoreDocs.Length - query.Offset);
            var hits = new SearchHit[n];
            for (var i = 0; i < n; i++)
            {
                var sd = top.ScoreDocs[query.Offset + i];
                var doc = searcher.Doc(sd.Doc, IdOnly);
                hits[i] = new SearchHit(doc.Get(Fields.ItemId), float.IsNaN(sd.Score) ? 0f : sd.Score);
            }
            return hits;
        }
        finally
        {
            _searchers.Release(searcher);
        }
    }

    private static readonly ISet<string> IdOnly = new HashSet<string>(StringComparer.Ordinal) { Fields.ItemId };

    /// <summary>The Lucene query for <paramref name="q"/>; null when the text has no searchable term (no hit can match).</summary>
    internal Query? BuildQuery(SearchQuery q)
    {
        if (q.Offset < 0)
        {
            throw new ArgumentException($"offset must be >= 0 (got {q.Offset}).", nameof(q));
        }
        if (q.Count <= 0 || q.Count > _options.MaxCount)
        {
            throw new ArgumentException($"count must be in 1..{_options.MaxCount} (got {q.Count}).", nameof(q));
        }
        if ((long)q.Offset + q.Count > int.MaxValue / 2)
        {
            throw new ArgumentException("offset + count is too large.", nameof(q));
        }

        var root = new BooleanQuery();
        var hasText = !string.IsNullOrWhiteSpace(q.Text);
        if (hasText)
        {
            var text = TextQuery(q.Text!, q.Operator);
            if (text is null)
            {
                return null;
            }
            root.Add(text, Occur.MUST);
        }
        else
        {
            root.Add(new MatchAllDocsQuery(), Occur.MUST);
        }

        // Filters do not score: they go into a filter, not the scoring query.
        var filter = new BooleanQuery();
        var hasFilter = false;
        void Require(string field, string value)
        {
            filter.Add(new TermQuery(new Term(field, value)), Occur.MUST);
            hasFilter = true;
        }
        if (q.Category is not null)
        {
            Require(Fields.Category, q.Category);
        }
        if (q.Tags is not null)
        {
            foreach (var tag in q.Tags)
            {
                if (string.IsNullOrWhiteSpace(tag))
                {
                    throw new ArgumentException("A tags filter value is empty.", nameof(q));
                }
                Require(Fields.TagExact, NormalizeTag(tag));
            }
        }
        if (q.Filters is not null)
        {
            foreach (var (name, value) in q.Filters)
            {
                if (!FilterFields.TryGetValue(name, out var field))
                {
                    throw new ArgumentException(
                        $"Unknown filter field '{name}'; known: {string.Join(", ", FilterFields.Keys.Order(StringComparer.Ordinal))}.", nameof(q));
                }
                if (value is null)
                {
                    throw new ArgumentException($"Filter '{name}' has no value.", nameof(q));
                }
                Require(field, field == Fields.TagExact ? NormalizeTag(value) : value);
            }
        }
        if (q.MinPrice is not null || q.MaxPrice is not null)
        {
            if (q.MinPrice is double lo && !double.IsFinite(lo) || q.MaxPrice is double hi && !double.IsFinite(hi))
            {
                throw new ArgumentException("Price bounds must be finite numbers.", nameof(q));
            }
            if (q.MinPrice > q.MaxPrice)
            {
                throw new ArgumentException($"minPrice {q.MinPrice} is above maxPrice {q.MaxPrice}.", nameof(q));
            }
            filter.Add(NumericRangeQuery.NewDoubleRange(Fields.Price, q.MinPrice, q.MaxPrice, true, true), Occur.MUST);
            hasFilter = true;
        }
        if (q.ExcludeIds is { Count: > 0 })
        {
            foreach (var id in q.ExcludeIds)
            {
                root.Add(new TermQuery(new Term(Fields.ItemId, id)), Occur.MUST_NOT);
            }
        }
        return hasFilter ? new FilteredQuery(root, new QueryWrapperFilter(filter)) : root;
    }

    /// <summary>
    /// Free text → query: whitespace-separated words and double-quoted phrases. Each analyzed term must
    /// match (AND) or may match (OR) in title, tags or text (a disjunction summing the boosted BM25 scores
    /// of the fields it occurs in); a phrase must match, in order, within one field. A word the analyzer
    /// splits into several terms (a CJK run into bigrams, "e-mail") contributes each term.
    /// </summary>
    private BooleanQuery? TextQuery(string text, TermOperator op)
    {
        var occur = op == TermOperator.And ? Occur.MUST : Occur.SHOULD;
        var query = new BooleanQuery();
        foreach (var (part, isPhrase) in SplitQuoted(text))
        {
            var terms = Analyze(part);
            if (terms.Count == 0)
            {
                continue; // stop words and punctuation only
            }
            if (isPhrase && terms.Count > 1)
            {
                var perField = new BooleanQuery();
                foreach (var (field, boost) in _textFields)
                {
                    var phrase = new PhraseQuery { Boost = boost };
                    foreach (var (term, position) in terms)
                    {
                        phrase.Add(new Term(field, term), position);
                    }
                    perField.Add(phrase, Occur.SHOULD);
                }
                query.Add(perField, occur);
                continue;
            }
            foreach (var (term, _) in terms)
            {
                var perField = new BooleanQuery();
                foreach (var (field, boost) in _textFields)
                {
                    perField.Add(new TermQuery(new Term(field, term)) { Boost = boost }, Occur.SHOULD);
                }
                query.Add(perField, occur);
            }
        }
        return query.Clauses.Count == 0 ? null : query;
    }

    private static List<(string Part, bool IsPhrase)> SplitQuoted(string text)
    {
        var parts = new List<(string, bool)>();
        var i = 0;
        while (i < text.Length)
        {
            var quote = text.IndexOf('"', i);
            if (quote < 0)
            {
                parts.Add((text[i..], false));
                break;
            }
            if (quote > i)
            {
                parts.Add((text[i..quote], false));
            }
            var close = text.IndexOf('"', quote + 1);
            if (close < 0)
            {
                throw new ArgumentException($"Unbalanced quote at position {quote} in query text '{text}'.", nameof(text));
            }
            var phrase = text[(quote + 1)..close];
            if (string.IsNullOrWhiteSpace(phrase))
            {
                throw new ArgumentException($"Empty phrase at position {quote} in query text '{text}'.", nameof(text));
            }
            parts.Add((phrase, true));
            i = close + 1;
        }
        return parts;
    }

    /// <summary>Analyzed terms of <paramref name="text"/> with their positions (gaps kept where stop words were).</summary>
    private List<(string Term, int Position)> Analyze(string text)
    {
        var terms = new List<(string, int)>();
        using var stream = _analyzer.GetTokenStream(Fields.Text, text);
        var term = stream.AddAttribute<ICharTermAttribute>();
        var increment = stream.AddAttribute<IPositionIncrementAttribute>();
        stream.Reset();
        var position = -1;
        while (stream.IncrementToken())
        {
            position += increment.PositionIncrement;
            terms.Add((term.ToString(), position));
        }
        stream.End();
        return terms;
    }

    private static string NormalizeTag(string tag) => tag.Trim().ToLowerInvariant();

    private static Document ToDocument(Event e)
    {
        var doc = new Document
        {
            new StringField(Fields.ItemId, e.ItemId, Field.Store.YES),
        };
        if (!string.IsNullOrEmpty(e.Title))
        {
            doc.Add(new TextField(Fields.Title, e.Title, Field.Store.NO));
        }
        if (!string.IsNullOrEmpty(e.Text))
        {
            doc.Add(new TextField(Fields.Text, e.Text, Field.Store.NO));
        }
        if (e.Tags is not null)
        {
            foreach (var tag in e.Tags)
            {
                if (!string.IsNullOrWhiteSpace(tag))
                {
                    doc.Add(new TextField(Fields.Tags, tag, Field.Store.NO));
                    doc.Add(new StringField(Fields.TagExact, NormalizeTag(tag), Field.Store.NO));
                }
            }
        }
        if (!string.IsNullOrEmpty(e.Category))
        {
            doc.Add(new StringField(Fields.Category, e.Category, Field.Store.NO));
        }
        if (e.Attributes is { } attributes)
        {
            if (attributes.TryGetValue(Fields.Price, out var price) && price.ValueKind == JsonValueKind.Number
                && price.TryGetDouble(out var p) && double.IsFinite(p))
            {
                doc.Add(new DoubleField(Fields.Price, p, Field.Store.NO));
            }
            AddKeyword(doc, attributes, Fields.Lang);
            AddKeyword(doc, attributes, Fields.Availability);
        }
        return doc;
    }

    private static void AddKeyword(Document doc, Dictionary<string, JsonElement> attributes, string name)
    {
        if (attributes.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.String
            && value.GetString() is { Length: > 0 } s)
        {
            doc.Add(new StringField(name, s, Field.Store.NO));
        }
    }

    private IndexWriter Writer()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _writer ?? throw new InvalidOperationException("This item index was opened read-only.");
    }

    private void TimerRefresh()
    {
        // Dispose takes the gate before closing the searchers, so a tick never races the close.
        lock (_timerGate)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return;
            }
            try
            {
                _searchers.MaybeRefresh();
            }
            catch (IOException)
            {
                // A failed background refresh keeps the previous view; the next tick or Refresh() retries and surfaces it.
            }
        }
    }

    private void StopTimer()
    {
        _timer?.Dispose();
        lock (_timerGate)
        {
            // Waits for a tick in flight; later ticks see _disposed.
        }
    }

    /// <summary>Test hook: drops every update since the last commit and closes, as a crash would.</summary>
    internal void AbandonWithoutCommit()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        StopTimer();
        _searchers.Dispose();
        _writer?.Rollback();
        _directory.Dispose();
    }

    /// <summary>Stops the refresh timer, commits pending updates (writable index) and closes the folder.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        StopTimer();
        _searchers.Dispose();
        _writer?.Dispose();
        _directory.Dispose();
        _analyzer.Dispose();
    }

    private sealed class Bm25SearcherFactory(Similarity similarity) : SearcherFactory
    {
        public override IndexSearcher NewSearcher(IndexReader reader) => new(reader) { Similarity = similarity };
    }
}
