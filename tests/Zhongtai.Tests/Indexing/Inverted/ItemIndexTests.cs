using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Zhongtai.Events;
using Zhongtai.Indexing.Inverted;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Indexing.Inverted;

public sealed class ItemIndexTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly ItemIndexOptions Manual = new() { RefreshInterval = TimeSpan.Zero };

    private ItemIndex OpenIndex(string name = "index") => ItemIndex.Open(_dir.Combine(name), Manual);

    internal static Event Item(string id, string? title = null, string? text = null, string? category = null,
        string[]? tags = null, double? price = null, string? lang = null, string? availability = null)
    {
        Dictionary<string, JsonElement>? attributes = null;
        if (price is not null || lang is not null || availability is not null)
        {
            attributes = [];
            if (price is double p)
            {
                attributes["price"] = JsonSerializer.SerializeToElement(p);
            }
            if (lang is not null)
            {
                attributes["lang"] = JsonSerializer.SerializeToElement(lang);
            }
            if (availability is not null)
            {
                attributes["availability"] = JsonSerializer.SerializeToElement(availability);
            }
        }
        return new Event
        {
            Type = EventTypes.Item, ItemId = id, Title = title, Text = text, Category = category, Tags = tags, Attributes = attributes,
        };
    }

    private static string[] Ids(IReadOnlyList<SearchHit> hits) => [.. hits.Select(h => h.ItemId)];

    private static string[] Search(ItemIndex index, string? text, int count = 10) => Ids(index.Search(new SearchQuery { Text = text, Count = count }));

    [Fact]
    public void Bm25_TitleMatchBeatsTextOnlyMatch()
    {
        using var index = OpenIndex();
        // Same words, same lengths; only where "wireless" sits differs.
        index.Apply(Item("in-text", title: "ergonomic keyboard", text: "wireless design"));
        index.Apply(Item("in-title", title: "wireless keyboard", text: "ergonomic design"));
        index.Apply(Item("none", title: "ergonomic chair", text: "leather design"));
        index.Refresh();

        Assert.Equal(["in-title", "in-text"], Search(index, "wireless"));
    }

    [Fact]
    public void Bm25_MoreOccurrencesBeatFewerAtEqualLength()
    {
        using var index = OpenIndex();
        index.Apply(Item("once", text: "alpha beta gamma delta"));
        index.Apply(Item("twice", text: "alpha alpha gamma delta"));
        index.Apply(Item("thrice", text: "alpha alpha alpha delta"));
        index.Refresh();

        var hits = index.Search(new SearchQuery { Text = "alpha" });
        Assert.Equal(["thrice", "twice", "once"], Ids(hits));
        Assert.True(hits[0].Score > hits[1].Score && hits[1].Score > hits[2].Score);
        // BM25 saturates: the third occurrence adds less than the second.
        Assert.True(hits[0].Score - hits[1].Score < hits[1].Score - hits[2].Score);
    }

    [Fact]
    public void Bm25_ScoreEqualsTheFormula()
    {
        using var index = OpenIndex();
        // Field lengths 1, 4 and 16: Lucene stores 1/sqrt(length) in one byte, exact for these lengths.
        index.Apply(Item("len1", text: "apple"));
        index.Apply(Item("len4", text: "apple w1 w2 w3"));
        index.Apply(Item("len16", text: string.Join(' ', Enumerable.Range(0, 16).Select(i => $"x{i}"))));
        index.Refresh();

        const double K1 = 1.2, B = 0.75;
        var idf = Math.Log(1 + ((3 - 2 + 0.5) / (2 + 0.5)));
        var avgdl = (1 + 4 + 16) / 3.0;
        double Bm25(double tf, double dl) => idf * tf * (K1 + 1) / (tf + (K1 * (1 - B + (B * dl / avgdl))));

        var hits = index.Search(new SearchQuery { Text = "apple" });
        Assert.Equal(["len1", "len4"], Ids(hits));
        Assert.Equal(Bm25(1, 1), hits[0].Score, 1e-5);
        Assert.Equal(Bm25(1, 4), hits[1].Score, 1e-5);
    }

    [Fact]
    public void Bm25_ShorterFieldWinsAtEqualTermFrequency()
    {
        using var index = OpenIndex();
        index.Apply(Item("long", text: "lamp oak walnut pine maple birch cedar"));
        index.Apply(Item("short", text: "lamp oak"));
        index.Refresh();
        Assert.Equal(["short", "long"], Search(index, "lamp"));
    }

    [Fact]
    public void FieldBoosts_AreConfigurable()
    {
        var options = new ItemIndexOptions { RefreshInterval = TimeSpan.Zero, TitleBoost = 0.1f, TextBoost = 5f };
        using var index = ItemIndex.Open(_dir.Combine("boost"), options);
        index.Apply(Item("in-text", title: "ergonomic keyboard", text: "wireless design"));
        index.Apply(Item("in-title", title: "wireless keyboard", text: "ergonomic design"));
        index.Refresh();
        Assert.Equal(["in-text", "in-title"], Search(index, "wireless"));
    }

    [Fact]
    public void AndSemantics_RequireEveryTerm_OrAcceptsAny()
    {
        using var index = OpenIndex();
        index.Apply(Item("both", title: "red dress"));
        index.Apply(Item("red", title: "red shoes"));
        index.Apply(Item("dress", title: "blue dress"));
        index.Refresh();

        Assert.Equal(["both"], Search(index, "red dress"));
        var any = Ids(index.Search(new SearchQuery { Text = "red dress", Operator = TermOperator.Or }));
        Assert.Equal("both", any[0]);
        Assert.Equal(["both", "dress", "red"], any.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void QuotedText_IsAPhrase()
    {
        using var index = OpenIndex();
        index.Apply(Item("phrase", title: "red dress with pockets"));
        index.Apply(Item("apart", title: "dress in dark red"));
        index.Refresh();

        Assert.Equal(["apart", "phrase"], Search(index, "red dress").Order(StringComparer.Ordinal));
        Assert.Equal(["phrase"], Search(index, "\"red dress\""));
        Assert.Equal(["apart"], Search(index, "\"dark red\" dress"));
        Assert.Empty(Search(index, "\"dress red\""));
    }

    [Fact]
    public void ChineseQuery_FindsChineseTitle()
    {
        using var index = OpenIndex();
        index.Apply(Item("dress-zh", title: "红色连衣裙", category: "服装"));
        index.Apply(Item("shirt-zh", title: "白色衬衫", category: "服装"));
        index.Apply(Item("skirt-zh", title: "红色半身裙", category: "服装"));
        index.Apply(Item("dress-en", title: "Red Dress"));
        index.Refresh();

        Assert.Equal(["dress-zh"], Search(index, "连衣裙"));
        Assert.Equal(["dress-zh", "skirt-zh"], Search(index, "红色").Order(StringComparer.Ordinal));
        Assert.Equal(["dress-zh"], Search(index, "\"红色连衣裙\""));
        Assert.Equal(["shirt-zh"], Search(index, "衬衫"));
        Assert.Equal(["dress-zh"], Ids(index.Search(new SearchQuery { Text = "连衣裙", Category = "服装" })));
    }

    [Fact]
    public void EnglishQuery_IsCaseInsensitiveAndStemmed()
    {
        using var index = OpenIndex();
        index.Apply(Item("dresses", title: "Summer Dresses for Women"));
        index.Apply(Item("running", title: "Running Shoes"));
        index.Apply(Item("mixed", title: "Red Dress 红色连衣裙"));
        index.Refresh();

        Assert.Equal(["dresses", "mixed"], Search(index, "DRESS").Order(StringComparer.Ordinal));
        Assert.Equal(["running"], Search(index, "run shoe"));
        Assert.Equal(["mixed"], Search(index, "red 连衣裙"));
    }

    [Fact]
    public void Filters_CategoryTagsPriceExclusionsAndAttributes()
    {
        using var index = OpenIndex();
        index.Apply(Item("a", title: "lamp", category: "home", tags: ["Sale", "new"], price: 10, lang: "en", availability: "in_stock"));
        index.Apply(Item("b", title: "lamp", category: "home", tags: ["new"], price: 25.5, lang: "zh", availability: "out_of_stock"));
        index.Apply(Item("c", title: "lamp", category: "office", tags: ["sale"], price: 40));
        index.Apply(Item("d", title: "lamp", category: "home"));
        index.Refresh();

        string[] Run(SearchQuery q) => [.. Ids(index.Search(q with { Text = "lamp" })).Order(StringComparer.Ordinal)];

        Assert.Equal(["a", "b", "d"], Run(new SearchQuery { Category = "home" }));
        Assert.Equal(["a", "c"], Run(new SearchQuery { Tags = ["SALE"] }));
        Assert.Equal(["a"], Run(new SearchQuery { Tags = ["sale", "new"] }));
        Assert.Equal(["a", "b"], Run(new SearchQuery { MinPrice = 10, MaxPrice = 25.5 }));
        Assert.Equal(["b", "c"], Run(new SearchQuery { MinPrice = 10.01 }));
        Assert.Equal(["a"], Run(new SearchQuery { MaxPrice = 10 }));
        Assert.Equal(["b", "d"], Run(new SearchQuery { Category = "home", ExcludeIds = ["a"] }));
        Assert.Equal(["b"], Run(new SearchQuery { Filters = new Dictionary<string, string> { ["lang"] = "zh" } }));
        Assert.Equal(["a"], Run(new SearchQuery { Filters = new Dictionary<string, string> { ["availability"] = "in_stock" } }));
        Assert.Equal(["b"], Run(new SearchQuery { Filters = new Dictionary<string, string> { ["tag"] = "New" }, Category = "home", MinPrice = 20 }));
    }

    [Fact]
    public void EmptyTextWithFilters_MatchesAllFiltered_AndPages()
    {
        using var index = OpenIndex();
        for (var i = 0; i < 25; i++)
        {
            index.Apply(Item($"i{i:D2}", title: $"item {i}", category: i % 2 == 0 ? "even" : "odd"));
        }
        index.Refresh();

        Assert.Equal(25, index.Count);
        var all = new List<string>();
        for (var offset = 0; offset < 20; offset += 5)
        {
            all.AddRange(Ids(index.Search(new SearchQuery { Category = "even", Offset = offset, Count = 5 })));
        }
        Assert.Equal(13, all.Count);
        Assert.Equal(13, all.Distinct().Count());
        Assert.All(all, id => Assert.Equal(0, int.Parse(id[1..], System.Globalization.CultureInfo.InvariantCulture) % 2));
        Assert.Equal(10, index.Search(new SearchQuery()).Count);
        Assert.Equal(25, index.Search(new SearchQuery { Count = 100 }).Count);
    }

    [Fact]
    public void Upsert_Replaces_Delete_Removes_OtherTypesIgnored()
    {
        using var index = OpenIndex();
        index.Apply(Item("x", title: "old title"));
        index.Refresh();
        Assert.Equal(["x"], Search(index, "old"));

        Assert.True(index.Apply(Item("x", title: "new title")));
        index.Refresh();
        Assert.Empty(Search(index, "old"));
        Assert.Equal(["x"], Search(index, "new"));
        Assert.Equal(1, index.Count);

        Assert.False(index.Apply(new Event { Type = EventTypes.Click, UserId = "u", ItemId = "x" }));
        Assert.True(index.Apply(new Event { Type = EventTypes.Item, ItemId = "x", Deleted = true }));
        index.Refresh();
        Assert.Empty(Search(index, "new"));
        Assert.Equal(0, index.Count);
    }

    [Fact]
    public void NearRealTime_UpdateIsInvisibleUntilRefresh()
    {
        using var index = OpenIndex();
        index.Apply(Item("late", title: "umbrella"));
        Assert.Empty(Search(index, "umbrella"));
        index.Refresh();
        Assert.Equal(["late"], Search(index, "umbrella"));
    }

    [Fact]
    public void NearRealTime_TimerRefreshesEveryInterval()
    {
        var time = new FakeTimeProvider();
        using var index = ItemIndex.Open(_dir.Combine("timer"), new ItemIndexOptions { RefreshInterval = TimeSpan.FromSeconds(1) }, time);
        index.Apply(Item("t", title: "kettle"));
        Assert.Empty(Search(index, "kettle"));
        time.Advance(TimeSpan.FromSeconds(1));
        // The timer callback runs synchronously inside Advance and calls MaybeRefresh.
        Assert.Equal(["t"], Search(index, "kettle"));
    }

    [Fact]
    public void Rebuild_ReplacesEverything()
    {
        using var index = OpenIndex();
        index.Apply(Item("old", title: "teapot"));
        index.Refresh();

        var applied = index.Rebuild([Item("n1", title: "teapot blue"), Item("n2", title: "cup"), Item("n1", title: "teapot green"),
            new Event { Type = EventTypes.Click, ItemId = "n2" }]);
        Assert.Equal(3, applied);
        Assert.Equal(["n1"], Search(index, "teapot"));
        Assert.Equal(["n1"], Search(index, "green"));
        Assert.Equal(2, index.Count);
    }

    [Fact]
    public void Snapshot_OpensReadOnlyWithSameResults()
    {
        var items = Generate(300, seed: 7);
        var snapshot = _dir.Combine("snap");
        string[][] expected;
        string[] queries = ["alpha", "beta gamma", "\"delta epsilon\"", "红色", "zeta"];
        using (var index = OpenIndex())
        {
            index.Rebuild(items);
            expected = [.. queries.Select(q => Search(index, q, 50))];
            index.Snapshot(snapshot);
            // Later updates do not leak into the snapshot.
            index.Apply(Item("after", title: "omega alpha"));
            index.Refresh();
            Assert.Equal(["after"], Search(index, "omega"));
        }

        using var readOnly = ItemIndex.OpenReadOnly(snapshot, Manual);
        Assert.True(readOnly.IsReadOnly);
        Assert.Equal(items.Select(e => e.ItemId).Distinct().Count(), readOnly.Count);
        for (var i = 0; i < queries.Length; i++)
        {
            Assert.Equal(expected[i], Search(readOnly, queries[i], 50));
        }
        Assert.Contains(expected, e => e.Length > 0);
        Assert.Empty(Search(readOnly, "omega"));
        Assert.Throws<InvalidOperationException>(() => readOnly.Apply(Item("y", title: "alpha")));
    }

    [Fact]
    public void Crash_UncommittedUpdatesAndGarbageFiles_LeaveLastCommitReadable()
    {
        var path = _dir.Combine("crash");
        var index = ItemIndex.Open(path, Manual);
        index.Apply(Item("kept", title: "anchor"));
        index.Commit();
        index.Apply(Item("lost", title: "anchor"));
        index.Apply(new Event { Type = EventTypes.Item, ItemId = "kept", Deleted = true });
        index.Refresh();
        Assert.Equal(["lost"], Search(index, "anchor"));
        index.AbandonWithoutCommit();

        // A torn next commit and half-written segment files, as a crash mid-commit would leave.
        // Lucene names commits segments_<generation in base 36>.
        const string Digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        var generation = Directory.GetFiles(path, "segments_*")
            .Select(f => Path.GetFileName(f)["segments_".Length..].Aggregate(0L, (acc, c) => (acc * 36) + Digits.IndexOf(c, StringComparison.Ordinal)))
            .Max();
        var next = "";
        for (var g = generation + 1; g > 0; g /= 36)
        {
            next = Digits[(int)(g % 36)] + next;
        }
        File.WriteAllBytes(Path.Combine(path, "segments_" + next), [0x3f, 0xd7, 0x6c]);
        File.WriteAllBytes(Path.Combine(path, "_zz.cfs"), new byte[100]);
        File.WriteAllBytes(Path.Combine(path, "_zz.si"), [1, 2, 3]);

        using (var readOnly = ItemIndex.OpenReadOnly(path, Manual))
        {
            Assert.Equal(["kept"], Search(readOnly, "anchor"));
        }
        using var reopened = ItemIndex.Open(path, Manual);
        Assert.Equal(["kept"], Search(reopened, "anchor"));
        reopened.Apply(Item("more", title: "anchor"));
        reopened.Refresh();
        Assert.Equal(2, reopened.Count);
    }

    [Fact]
    public void Dispose_CommitsPendingUpdates()
    {
        var path = _dir.Combine("persist");
        using (var index = ItemIndex.Open(path, Manual))
        {
            index.Apply(Item("p", title: "persisted"));
        }
        using var reopened = ItemIndex.OpenReadOnly(path, Manual);
        Assert.Equal(["p"], Search(reopened, "persisted"));
    }

    [Fact]
    public async Task ConcurrentSearches_DuringUpdates_SeeConsistentResults()
    {
        using var index = OpenIndex();
        index.Rebuild(Generate(500, seed: 11));
        using var cts = new CancellationTokenSource();
        var errors = 0;
        var searches = 0;
        var readers = Enumerable.Range(0, 3).Select(r => Task.Run(() =>
        {
            var random = new Random(r);
            while (!cts.IsCancellationRequested)
            {
                var hits = index.Search(new SearchQuery { Text = Words[random.Next(Words.Length)], Count = 20 });
                if (hits.Select(h => h.ItemId).Distinct().Count() != hits.Count || hits.Zip(hits.Skip(1)).Any(p => p.First.Score < p.Second.Score))
                {
                    Interlocked.Increment(ref errors);
                }
                Interlocked.Increment(ref searches);
            }
        })).ToArray();

        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref searches) > 0, TimeSpan.FromSeconds(30)));
        var updates = Generate(1000, seed: 12);
        for (var i = 0; i < updates.Count; i++)
        {
            index.Apply(updates[i]);
            if (i % 100 == 0)
            {
                index.MaybeRefresh();
                Thread.Yield();
            }
        }
        index.Refresh();
        await cts.CancelAsync();
        await Task.WhenAll(readers);

        Assert.Equal(0, errors);
        Assert.True(searches > 0);
        Assert.Equal(updates.Select(e => e.ItemId).Concat(Generate(500, seed: 11).Select(e => e.ItemId)).Distinct().Count(), index.Count);
    }

    [Theory]
    [InlineData("\"red dress", "Unbalanced quote")]
    [InlineData("red \"\" dress", "Empty phrase")]
    public void MalformedText_Throws(string text, string message)
    {
        using var index = OpenIndex();
        var e = Assert.Throws<ArgumentException>(() => index.Search(new SearchQuery { Text = text }));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadQueries_Throw()
    {
        using var index = OpenIndex();
        var e = Assert.Throws<ArgumentException>(() => index.Search(new SearchQuery { Filters = new Dictionary<string, string> { ["colour"] = "red" } }));
        Assert.Contains("Unknown filter field 'colour'", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => index.Search(new SearchQuery { Offset = -1 }));
        Assert.Throws<ArgumentException>(() => index.Search(new SearchQuery { Count = 0 }));
        Assert.Throws<ArgumentException>(() => index.Search(new SearchQuery { Count = 1_000_000 }));
        Assert.Throws<ArgumentException>(() => index.Search(new SearchQuery { MinPrice = 5, MaxPrice = 1 }));
        Assert.Throws<ArgumentException>(() => index.Search(new SearchQuery { MinPrice = double.NaN }));
        Assert.Throws<ArgumentException>(() => index.Search(new SearchQuery { Tags = [" "] }));
        Assert.Throws<ArgumentException>(() => index.Apply(new Event { Type = EventTypes.Item }));
        Assert.Throws<ArgumentException>(() => index.Snapshot(_dir.Combine("index")));
        // Only stop words: nothing can match.
        Assert.Empty(index.Search(new SearchQuery { Text = "the of" }));
    }

    internal static readonly string[] Words =
        ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "lamp", "chair", "红色", "连衣裙", "衬衫", "手机"];

    internal static List<Event> Generate(int n, int seed)
    {
        var random = new Random(seed);
        var items = new List<Event>(n);
        string Words(int count) => string.Join(' ', Enumerable.Range(0, count).Select(_ => ItemIndexTests.Words[random.Next(ItemIndexTests.Words.Length)]));
        for (var i = 0; i < n; i++)
        {
            items.Add(Item($"item{random.Next(n * 2)}", title: Words(random.Next(1, 5)), text: Words(random.Next(3, 20)),
                category: $"c{random.Next(5)}", tags: [$"t{random.Next(10)}", $"t{random.Next(10)}"], price: Math.Round(random.NextDouble() * 100, 2)));
        }
        return items;
    }
}
