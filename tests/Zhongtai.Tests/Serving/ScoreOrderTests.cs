using Zhongtai.Events;
using Zhongtai.Hosting;
using Zhongtai.Serving;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Serving;

/// <summary>
/// The engine orders scored items by one total order, score descending then dense id ascending (<see cref="ScoreOrder"/>),
/// and finds the best of them by selection and a lazy heap instead of sorting all: every partial answer must be exactly
/// the prefix of a full sort by that order, ties included; the merge must never let a consumed item through.
/// </summary>
public class ScoreOrderTests
{
    private static readonly Comparison<(float Score, int Id)> Order = static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Id.CompareTo(b.Id);

    [Fact]
    public void Keys_SortAsTheTotalOrder_AndRoundTripTheScore()
    {
        var rng = new Random(3);
        float[] special = [0f, -0f, 1f, -1f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity, 1e-3f, 0.5f];
        var entries = Enumerable.Range(0, 2000)
            .Select(i => (Score: i < 200 ? special[rng.Next(special.Length)] : (float)Math.Round((rng.NextDouble() * 4) - 2, rng.Next(1, 4)), Id: rng.Next(0, int.MaxValue)))
            .DistinctBy(e => e.Id)
            .ToArray();
        var expected = entries.ToArray();
        Array.Sort(expected, Order);
        var keys = entries.Select(e => ScoreOrder.Key(e.Score, e.Id)).Order().ToArray();
        Assert.Equal(expected.Select(e => e.Id), keys.Select(ScoreOrder.Id));
        Assert.Equal(expected.Select(e => e.Score + 0f), keys.Select(ScoreOrder.Score)); // -0 reads as +0, equal as a float
        Assert.True(ScoreOrder.Key(-0f, 5) == ScoreOrder.Key(0f, 5));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 5)]
    [InlineData(17, 3)]
    [InlineData(503, 4)]
    [InlineData(600, 5)]
    [InlineData(5000, 6)]
    public void SelectSmallest_KeepsExactlyTheFirstKOfAFullSort_WithManyTies(int n, int seed)
    {
        var rng = new Random(seed);
        for (var round = 0; round < 30; round++)
        {
            // Few distinct scores (reciprocal ranks, as the merge's priors): most entries tie on score.
            var ids = Enumerable.Range(0, n * 3).OrderBy(_ => rng.Next()).Take(n).ToArray();
            var entries = ids.Select(id => (Score: 1f / (60 + rng.Next(0, round % 2 == 0 ? 5 : 400)), Id: id)).ToArray();
            if (round % 5 == 4)
            {
                Array.Sort(entries, Order); // already ordered, and reversed below: the quickselect's bad cases
                if (round % 10 == 9)
                {
                    Array.Reverse(entries);
                }
            }

            var sorted = entries.ToArray();
            Array.Sort(sorted, Order);
            var k = rng.Next(0, n + 2);
            var keys = entries.Select(e => ScoreOrder.Key(e.Score, e.Id)).ToArray();
            ScoreOrder.SelectSmallest(keys, k);
            var take = Math.Min(k, n);
            Assert.Equal(sorted.Take(take).Select(e => e.Id).Order(), keys.Take(take).Select(ScoreOrder.Id).Order());
            Assert.Equal(sorted.Skip(take).Select(e => e.Id).Order(), keys.Skip(take).Select(ScoreOrder.Id).Order());
        }
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 2)]
    [InlineData(2, 3)]
    [InlineData(500, 4)]
    [InlineData(3001, 5)]
    public void HeapPops_AreTheFullSortInOrder(int n, int seed)
    {
        var rng = new Random(seed);
        var entries = Enumerable.Range(0, n).Select(id => (Score: (float)rng.Next(0, 20) / 7, Id: id)).OrderBy(_ => rng.Next()).ToArray();
        var sorted = entries.ToArray();
        Array.Sort(sorted, Order);
        var heap = entries.Select(e => ScoreOrder.Key(e.Score, e.Id)).ToArray();
        ScoreOrder.Heapify(heap);
        var count = heap.Length;
        var popped = new List<int>();
        while (count > 0)
        {
            popped.Add(ScoreOrder.Id(ScoreOrder.Pop(heap, ref count)));
        }

        Assert.Equal(sorted.Select(e => e.Id), popped);
    }

    [Theory]
    [InlineData(1, 10, 1)]
    [InlineData(10, 40, 2)]
    [InlineData(50, 256, 3)]
    public void ItemSums_SumAndAnswerExactlyAsADictionary_AcrossResets(int seeds, int perSeed, int seed)
    {
        var rng = new Random(seed);
        var table = new ItemSums();
        for (var round = 0; round < 5; round++)
        {
            var expected = new Dictionary<int, float>();
            var items = rng.Next(2) == 0 ? 30 : 1_000_000; // many repeats, or nearly none
            table.Reset(seeds * perSeed);
            for (var s = 0; s < seeds; s++)
            {
                foreach (var item in Enumerable.Range(0, items).OrderBy(_ => rng.Next()).Take(rng.Next(0, perSeed + 1)).ToArray())
                {
                    var weight = (float)rng.Next(1, 50) / (1 + s);
                    table.Add(item, weight);
                    expected[item] = expected.GetValueOrDefault(item) + weight;
                }
            }

            Assert.Equal(expected.Count, table.Count);
            Assert.Equal(
                expected.Select(kv => ScoreOrder.Key(kv.Value, kv.Key)).Order(),
                table.Keys().ToArray().Order());
            Assert.All(expected, kv => Assert.Equal(kv.Value, table.Get(kv.Key)));
            Assert.Equal(0f, table.Get(-1));
            Assert.Equal(0f, table.Get(items + 1));
        }
    }

    /// <summary>
    /// Two channels with many equal reciprocal-rank priors, more candidates than the scene keeps, unranked (score = the
    /// prior): the cut, the rerank's heap and the category cap must serve exactly what a full sort by (score, dense id)
    /// and the cap rule applied to the whole list serve.
    /// </summary>
    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 2)]
    [InlineData(true, 3)]
    public async Task Served_IsThePrefixOfTheFullTotalOrder_AfterTheCutAndTheCap(bool categoryCap, int seed)
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var project = host.Project();
        var now = host.Time.GetUtcNow();
        var rng = new Random(seed);
        string? Category(int i) => i % 7 == 0 ? null : $"c{i % 4}";
        await project.Ingestor.IngestAsync(
            [
                .. Enumerable.Range(0, 400).OrderBy(_ => rng.Next()).Select(i => new Event { Type = EventTypes.Item, ItemId = $"i{i}", Category = Category(i), Timestamp = now.AddMinutes(-10) }),
                .. Enumerable.Range(0, 40).Select(k => new Event { Type = EventTypes.Click, UserId = "u", ItemId = $"i{k * 10}", Timestamp = now.AddMinutes(-5) }),
            ],
            backfill: false, CancellationToken.None);
        var a = Enumerable.Range(0, 400).OrderBy(_ => rng.Next()).Take(250).Select(i => $"i{i}").ToArray();
        var b = Enumerable.Range(0, 400).OrderBy(_ => rng.Next()).Take(250).Select(i => $"i{i}").ToArray();
        var engine = new RecommendEngine(project, null, host.Options.Realtime, new ServingOptions { LogExposures = false }, host.Time, host.Loggers,
            [new ListChannel(ChannelNames.Inverted, a), new ListChannel(ChannelNames.Content, b)]);
        engine.CatchUp();
        var diversity = categoryCap ? """, "diversity": {"method": "categoryCap", "maxPerCategory": 2}""" : "";
        var scenes = """
            {"scenes": {"home": {"channels": [{"name": "inverted", "quota": 250}, {"name": "content", "quota": 250}], "parallel": false,
              "rankingModel": "none", "maxCandidates": 200, "maxCount": 300, "rules": {"frequencyCap": null DIVERSITY}}}}
            """.Replace(" DIVERSITY", diversity, StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(project.Directory, "scenes.json"), scenes);
        engine.Scenes.Reload();

        // The reference: priors summed in channel order as the merge does, consumed items (every 10th) dropped, the
        // best 200 by (prior, dense id) kept, scores scaled by the largest prior, then the whole list sorted.
        var consumed = Enumerable.Range(0, 40).Select(k => $"i{k * 10}").ToHashSet();
        var priors = new Dictionary<string, float>();
        foreach (var list in new[] { a, b })
        {
            for (var r = 0; r < list.Length; r++)
            {
                if (!consumed.Contains(list[r]))
                {
                    priors[list[r]] = priors.GetValueOrDefault(list[r]) + (1f / (60 + r));
                }
            }
        }

        int Dense(string id) => engine.Catalog.Find(id);
        var kept = priors.Select(p => (Score: p.Value, Id: Dense(p.Key))).ToArray();
        Array.Sort(kept, Order);
        kept = kept[..200];
        var scale = 1f / kept.Max(k => k.Score);
        var ordered = kept.Select(k => (Score: k.Score * scale, k.Id)).ToArray();
        Array.Sort(ordered, Order);
        Assert.Contains(ordered.Zip(ordered.Skip(1)), p => p.First.Score == p.Second.Score); // ties were there to break

        foreach (var count in new[] { 1, 10, 37, 200, 300 })
        {
            var expected = new List<string>();
            var overflow = new List<string>();
            var perCategory = new Dictionary<string, int>();
            foreach (var (_, dense) in ordered)
            {
                if (expected.Count == count)
                {
                    break;
                }

                var id = engine.Catalog[dense].Id;
                var category = engine.Catalog[dense].Category;
                if (categoryCap && category is not null && perCategory.GetValueOrDefault(category) >= 2)
                {
                    overflow.Add(id);
                    continue;
                }

                if (category is not null)
                {
                    perCategory[category] = perCategory.GetValueOrDefault(category) + 1;
                }

                expected.Add(id);
            }

            expected.AddRange(overflow.Take(count - expected.Count));
            var served = await engine.RecommendAsync(new RecommendRequest { UserId = "u", Scene = "home", Count = count });
            Assert.Equal(expected, served.Items.Select(i => i.ItemId));
            Assert.DoesNotContain(served.Items, i => consumed.Contains(i.ItemId));
        }
    }

    /// <summary>
    /// The frequency cap counts a candidate's exposures in the window only when the rules pop it (from the user's exposures
    /// sorted by item): candidates exposed as often as the cap, and a pin exposed so, must be left out exactly.
    /// </summary>
    [Fact]
    public async Task FrequencyCap_LeavesOutExactlyTheItemsExposedCapTimesInTheWindow_PinsIncluded()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var project = host.Project();
        var now = host.Time.GetUtcNow();
        int Times(int k) => k < 30 ? k % 4 : 0;
        var events = Enumerable.Range(0, 60).Select(i => new Event { Type = EventTypes.Item, ItemId = $"i{i}", Category = "c", Timestamp = now.AddMinutes(-300) }).ToList();
        for (var k = 0; k < 30; k++)
        {
            for (var t = 0; t < Times(k); t++)
            {
                events.Add(new Event { Type = EventTypes.Exposure, UserId = "u", ItemId = $"i{k}", Scene = "home", Position = t, RequestId = $"r{k}-{t}", Timestamp = now.AddMinutes(-60 + t) });
            }
        }

        events.AddRange(Enumerable.Range(0, 5).Select(t => new Event { Type = EventTypes.Exposure, UserId = "u", ItemId = "i1", Scene = "home", Position = 0, RequestId = $"old{t}", Timestamp = now.AddHours(-48) }));
        await project.Ingestor.IngestAsync([.. events], backfill: false, CancellationToken.None);
        var ids = Enumerable.Range(0, 60).Select(i => $"i{i}").ToArray();
        var engine = new RecommendEngine(project, null, host.Options.Realtime, new ServingOptions { LogExposures = false }, host.Time, host.Loggers, [new ListChannel(ChannelNames.Inverted, ids)]);
        engine.CatchUp();
        await File.WriteAllTextAsync(Path.Combine(project.Directory, "scenes.json"), """
            {"scenes": {"home": {"channels": [{"name": "inverted", "quota": 60}], "parallel": false, "rankingModel": "none", "maxCount": 100,
              "rules": {"frequencyCap": {"maxExposures": 2, "windowHours": 24}, "pin": {"i2": 0, "i40": 1}}}}}
            """);
        engine.Scenes.Reload();

        foreach (var count in new[] { 1, 5, 20, 60 })
        {
            var expected = Enumerable.Range(0, 60).Where(k => Times(k) < 2 && k != 40 && k != 2).Select(k => $"i{k}").Take(count).ToList();
            expected.Insert(Math.Min(1, expected.Count), "i40"); // i2 is pinned too, but exposed twice: capped
            var served = await engine.RecommendAsync(new RecommendRequest { UserId = "u", Scene = "home", Count = count });
            Assert.Equal(expected.Take(count), served.Items.Select(i => i.ItemId));
        }
    }

    private sealed class ListChannel(string name, string[] items) : IRecallChannel
    {
        public string Name => name;

        public void Recall(RecallContext context, int quota, RecallBuffer output)
        {
            foreach (var item in items.Take(quota))
            {
                output.Add(item, 1);
            }
        }
    }
}
