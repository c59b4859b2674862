using System.ComponentModel.DataAnnotations;
using System.Numerics.Tensors;
using Zhongtai.Events;
using Zhongtai.Indexing.Vector;

namespace Zhongtai.Serving;

/// <summary>Options of the <c>content</c> recall channel (configuration section <c>Serving:Content</c>).</summary>
public sealed class ContentChannelOptions
{
    /// <summary>
    /// Keep content vectors of every item (about 0.9 KB and 78 µs of the catalog's follow thread per item at 64 dims).
    /// False: the channel proposes nothing and search personalisation uses category shares only. Default true.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Dimension of the hashed content vectors (more dimensions: fewer hash collisions, more memory). Default 64.</summary>
    [Range(8, 1024)]
    public int Dimension { get; set; } = 64;

    /// <summary>Characters of an item's <c>text</c> that are embedded (the rest is ignored). Default 2000.</summary>
    [Range(0, 1_000_000)]
    public int MaxTextChars { get; set; } = 2000;

    /// <summary>HNSW graph degree of the content index. Default 16.</summary>
    [Range(4, 64)]
    public int HnswM { get; set; } = 16;

    /// <summary>HNSW construction breadth of the content index. Default 100.</summary>
    [Range(10, 1000)]
    public int HnswEfConstruction { get; set; } = 100;

    /// <summary>HNSW search breadth (raised to at least the channel's quota). Default 100.</summary>
    [Range(1, 10_000)]
    public int EfSearch { get; set; } = 100;

    /// <summary>Candidates whose cosine similarity to the query is at most this are not proposed. Default 0.05.</summary>
    [Range(-1.0, 1.0)]
    public double MinSimilarity { get; set; } = 0.05;

    /// <summary>The index is rebuilt without its replaced and deleted nodes once they exceed this fraction of its nodes. Default 0.25.</summary>
    [Range(0.0, 1.0)]
    public double CompactFraction { get; set; } = 0.25;
}

/// <summary>
/// Deterministic content embedding by feature hashing: each field's tokens are hashed (FNV-1a, then a 64-bit mix) to a
/// signed slot of a fixed-dimension vector; each field is L2-normalised, weighted and summed, and the sum is
/// L2-normalised. Tokens: words (runs of letters and digits, lower-cased) and their character trigrams with
/// boundary marks (so <c>dress</c> and <c>dresses</c> share most of their mass); Chinese, Japanese and Korean text as
/// single characters (weight 0.5) and character bigrams (weight 1); each tag whole and its words; the category whole
/// and its words.
/// </summary>
internal sealed class ContentEmbedder(int dimension, int maxTextChars)
{
    /// <summary>Field weights (each field is normalised first): title 1, tags 1, text 0.5, category 0.7.</summary>
    internal const float TitleWeight = 1f, TagsWeight = 1f, TextWeight = 0.5f, CategoryWeight = 0.7f;

    private const float TrigramWeight = 0.3f, CjkCharWeight = 0.5f, WholeTokenWeight = 1f, TokenWordsWeight = 0.5f;
    private const int MaxWord = 64;

    public int Dimension => dimension;

    /// <summary>Embeds an item into <paramref name="destination"/> (length <see cref="Dimension"/>); false when it has no content (all zero).</summary>
    public bool Embed(string? title, string? text, string? category, IReadOnlyList<string>? tags, Span<float> destination)
    {
        destination.Clear();
        Span<float> field = stackalloc float[dimension];
        field.Clear();
        Words(title, field, 1f);
        Accumulate(field, TitleWeight, destination);

        field.Clear();
        foreach (var tag in tags ?? [])
        {
            Token('t', tag, field, WholeTokenWeight);
            Words(tag, field, TokenWordsWeight);
        }

        Accumulate(field, TagsWeight, destination);

        field.Clear();
        Words(text is { } t && t.Length > maxTextChars ? t.AsSpan(0, maxTextChars) : text, field, 1f);
        Accumulate(field, TextWeight, destination);

        field.Clear();
        Token('c', category, field, WholeTokenWeight);
        Words(category, field, TokenWordsWeight);
        Accumulate(field, CategoryWeight, destination);
        return Normalise(destination);
    }

    /// <summary>Embeds a query (its text weighted as a title, plus a category) into <paramref name="destination"/>; false when empty.</summary>
    public bool EmbedQuery(string? text, string? category, Span<float> destination) => Embed(text, null, category, null, destination);

    /// <summary>Adds the category field alone, weighted like an item's, to <paramref name="destination"/> (not normalised).</summary>
    public void AddCategory(string category, Span<float> destination)
    {
        Span<float> field = stackalloc float[dimension];
        field.Clear();
        Token('c', category, field, WholeTokenWeight);
        Words(category, field, TokenWordsWeight);
        Accumulate(field, CategoryWeight, destination);
    }

    /// <summary>Scales <paramref name="v"/> to unit length; false (and left zero) when it is all zero.</summary>
    public static bool Normalise(Span<float> v)
    {
        var norm = TensorPrimitives.Norm(v);
        if (!(norm > 1e-12f) || !float.IsFinite(norm))
        {
            v.Clear();
            return false;
        }

        TensorPrimitives.Multiply(v, 1f / norm, v);
        return true;
    }

    private static void Accumulate(ReadOnlySpan<float> field, float weight, Span<float> destination)
    {
        var norm = TensorPrimitives.Norm(field);
        if (norm > 1e-12f)
        {
            TensorPrimitives.MultiplyAdd(field, weight / norm, destination, destination);
        }
    }

    private void Token(char kind, string? value, Span<float> field, float weight)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return;
        }

        Span<char> lower = stackalloc char[Math.Min(value.Length, 256)];
        value.AsSpan(0, lower.Length).ToLowerInvariant(lower);
        Add(kind, lower.Trim(), field, weight);
    }

    private void Words(ReadOnlySpan<char> text, Span<float> field, float weight)
    {
        Span<char> word = stackalloc char[MaxWord + 2];
        var length = 0; // letters of the current word, after the '<' mark at word[0]
        var previousCjk = '\0';
        for (var i = 0; i <= text.Length; i++)
        {
            var c = i < text.Length ? text[i] : ' ';
            if (IsCjk(c))
            {
                FlushWord(word, ref length, field, weight);
                Add('h', [c], field, weight * CjkCharWeight);
                if (previousCjk != '\0')
                {
                    Add('b', [previousCjk, c], field, weight);
                }

                previousCjk = c;
                continue;
            }

            previousCjk = '\0';
            if (char.IsLetterOrDigit(c))
            {
                if (length < MaxWord)
                {
                    word[1 + length++] = char.ToLowerInvariant(c);
                }
            }
            else
            {
                FlushWord(word, ref length, field, weight);
            }
        }
    }

    private void FlushWord(Span<char> word, ref int length, Span<float> field, float weight)
    {
        if (length == 0)
        {
            return;
        }

        Add('w', word.Slice(1, length), field, weight);
        if (length >= 3)
        {
            word[0] = '<';
            word[1 + length] = '>';
            for (var g = 0; g + 3 <= length + 2; g++)
            {
                Add('3', word.Slice(g, 3), field, weight * TrigramWeight);
            }
        }

        length = 0;
    }

    private void Add(char kind, ReadOnlySpan<char> token, Span<float> field, float weight)
    {
        if (token.IsEmpty)
        {
            return;
        }

        var h = 14695981039346656037UL;
        h = (h ^ kind) * 1099511628211UL;
        foreach (var c in token)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        // SplitMix64 finaliser: FNV's low bits are weak for short keys.
        h ^= h >> 30;
        h *= 0xbf58476d1ce4e5b9UL;
        h ^= h >> 27;
        h *= 0x94d049bb133111ebUL;
        h ^= h >> 31;
        field[(int)((h & 0xFFFFFFFF) % (uint)dimension)] += (h >> 63) == 0 ? weight : -weight;
    }

    internal static bool IsCjk(char c) =>
        c is (>= '\u4E00' and <= '\u9FFF') or (>= '\u3400' and <= '\u4DBF') or (>= '\u3040' and <= '\u30FF') or (>= '\uAC00' and <= '\uD7AF') or (>= '\uF900' and <= '\uFAFF');
}

/// <summary>
/// Content vectors of the catalog's items by dense id, with an HNSW index (inner product over unit vectors, i.e.
/// cosine) that accepts inserts: <see cref="Apply"/> is called by the serving catalog's single writer for every item
/// event, so an item is searchable the moment serving has applied its catalog event. A changed item is re-inserted
/// (the old node becomes a tombstone), a deleted one removed; an update that leaves the content unchanged (e.g. a
/// price) touches nothing. Searches run concurrently with the writer.
/// </summary>
internal sealed class ContentIndex
{
    private readonly ContentChannelOptions _options;
    private readonly HnswIndex _hnsw;
    private readonly float[] _scratch;
    private volatile float[] _vectors = [];
    private volatile byte[] _present = [];

    public ContentIndex(ContentChannelOptions options)
    {
        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), errors, validateAllProperties: true))
        {
            throw new ValidationException($"Invalid Serving:Content options: {string.Join("; ", errors.Select(r => r.ErrorMessage))}");
        }

        _options = options;
        Embedder = new ContentEmbedder(options.Dimension, options.MaxTextChars);
        _scratch = new float[options.Dimension];
        _hnsw = new HnswIndex(options.Dimension, VectorMetric.InnerProduct, new HnswOptions
        {
            M = options.HnswM,
            EfConstruction = options.HnswEfConstruction,
            EfSearch = options.EfSearch,
            BuildThreads = 1,
        });
    }

    public ContentEmbedder Embedder { get; }

    public int Dimension => _options.Dimension;

    /// <summary>Items with a content vector.</summary>
    public int Count => _hnsw.Count;

    /// <summary>Nodes in the HNSW graph, live and replaced (tests: an unchanged update adds none).</summary>
    internal int Nodes => _hnsw.NodeCount;

    /// <summary>Bytes of the vectors kept by dense id plus the HNSW index.</summary>
    public long MemoryBytes => ((long)_vectors.Length * sizeof(float)) + _present.Length + _hnsw.MemoryBytes;

    /// <summary>Applies an <c>item</c> event of the item with dense id <paramref name="dense"/> (the catalog's writer only).</summary>
    public void Apply(int dense, Event e)
    {
        if (e.Deleted == true || !Embedder.Embed(e.Title, e.Text, e.Category, e.Tags, _scratch))
        {
            Remove(dense);
            return;
        }

        Ensure(dense);
        var row = _vectors.AsSpan(dense * Dimension, Dimension);
        if (_present[dense] != 0 && row.SequenceEqual(_scratch))
        {
            return;
        }

        _scratch.CopyTo(row);
        Volatile.Write(ref _present[dense], 1);
        _hnsw.Add(dense, _scratch);
        _hnsw.CompactIfNeeded(_options.CompactFraction);
    }

    /// <summary>Copies the content vector of an item into <paramref name="destination"/>; false when it has none.</summary>
    public bool TryGet(int dense, Span<float> destination)
    {
        var present = _present;
        var vectors = _vectors; // published before the flags that point into it
        if ((uint)dense >= (uint)present.Length || Volatile.Read(ref present[dense]) == 0)
        {
            return false;
        }

        vectors.AsSpan(dense * Dimension, Dimension).CopyTo(destination);
        return true;
    }

    /// <summary>Adds the content vector of an item, times <paramref name="weight"/>, to <paramref name="destination"/>; false when it has none.</summary>
    public bool AddTo(int dense, float weight, Span<float> destination)
    {
        var present = _present;
        var vectors = _vectors;
        if ((uint)dense >= (uint)present.Length || Volatile.Read(ref present[dense]) == 0)
        {
            return false;
        }

        TensorPrimitives.MultiplyAdd(vectors.AsSpan(dense * Dimension, Dimension), weight, destination, destination);
        return true;
    }

    /// <summary>The nearest items to a unit query (<c>1 - Distance</c> is the cosine similarity), best first.</summary>
    public int Search(ReadOnlySpan<float> query, int k, Span<VectorHit> hits) =>
        _hnsw.Count == 0 ? 0 : _hnsw.Search(query, k, hits, null, Math.Max(k, _options.EfSearch));

    private void Remove(int dense)
    {
        var present = _present;
        if ((uint)dense < (uint)present.Length && present[dense] != 0)
        {
            Volatile.Write(ref present[dense], 0);
            _hnsw.Remove(dense);
            _hnsw.CompactIfNeeded(_options.CompactFraction);
        }
    }

    private void Ensure(int dense)
    {
        var present = _present;
        if (dense < present.Length)
        {
            return;
        }

        var capacity = Math.Max(dense + 1, Math.Max(1024, present.Length * 2));
        var vectors = new float[(long)capacity * Dimension];
        _vectors.AsSpan().CopyTo(vectors);
        var grown = new byte[capacity];
        present.AsSpan().CopyTo(grown);
        _vectors = vectors; // before the flags: a reader that sees a flag sees the row
        _present = grown;
    }
}

/// <summary>
/// The <c>content</c> channel: items whose content (title, text, category, tags; see <see cref="ContentEmbedder"/>) is
/// nearest to the request's — the query text (plus the category filter) when the request has one, else the mean
/// content vector of the user's newest <c>Serving:SeedItems</c> items (plus the category filter), else the category
/// filter alone. Needs no behaviour, so it recalls an item the moment its catalog event is applied: cold start for
/// new items, and for users with a single click.
/// </summary>
internal sealed class ContentChannel : IRecallChannel
{
    [ThreadStatic]
    private static float[]? t_query;

    [ThreadStatic]
    private static VectorHit[]? t_hits;

    private readonly double _minSimilarity;

    public ContentChannel(RecommendEngine engine, ContentChannelOptions options)
    {
        Index = new ContentIndex(options);
        _minSimilarity = options.MinSimilarity;
        if (options.Enabled)
        {
            engine.Catalog.ItemChanged += Index.Apply;
        }
    }

    public string Name => ChannelNames.Content;

    internal ContentIndex Index { get; }

    public void Recall(RecallContext context, int quota, RecallBuffer output)
    {
        var dimension = Index.Dimension;
        var query = t_query is { } q && q.Length == dimension ? q : t_query = new float[dimension];
        if (!Query(context, query))
        {
            return;
        }

        var k = Math.Min(quota + context.RecentCount, 5000);
        var hits = t_hits is { } h && h.Length >= k ? h : t_hits = new VectorHit[Math.Max(k, 256)];
        var n = Index.Search(query, k, hits);
        var recent = context.Recent;
        var added = 0;
        for (var i = 0; i < n && added < quota; i++)
        {
            var similarity = 1 - hits[i].Distance;
            if (similarity <= _minSimilarity)
            {
                break; // best first
            }

            if (recent.Contains(hits[i].Id))
            {
                continue; // the seeds themselves
            }

            output.Add(hits[i].Id, similarity);
            added++;
        }
    }

    /// <summary>Builds the unit query vector; false when the request gives nothing to search with.</summary>
    internal bool Query(RecallContext context, Span<float> query)
    {
        var embedder = Index.Embedder;
        if (!string.IsNullOrWhiteSpace(context.Query))
        {
            return embedder.EmbedQuery(context.Query, context.Category, query);
        }

        query.Clear();
        var seeds = 0;
        foreach (var dense in context.Recent)
        {
            if (Index.AddTo(dense, 1f, query))
            {
                seeds++;
            }
        }

        if (seeds > 0)
        {
            TensorPrimitives.Multiply(query, 1f / seeds, query); // the mean: a unit vector's worth, so the category below keeps its item weight
        }

        if (context.Category is { } category)
        {
            embedder.AddCategory(category, query);
        }

        return ContentEmbedder.Normalise(query);
    }
}
