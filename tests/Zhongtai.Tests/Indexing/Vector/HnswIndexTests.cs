using Zhongtai.Indexing.Vector;

namespace Zhongtai.Tests.Indexing.Vector;

public sealed class HnswIndexTests
{
    private const int Dim = 32;

    private static HnswIndex Build(float[] data, VectorMetric metric, int threads = 2, int efConstruction = 100)
    {
        var index = new HnswIndex(Dim, metric, new HnswOptions { M = 16, EfConstruction = efConstruction, BuildThreads = threads, Seed = 3 });
        index.AddRange(VectorTestData.Ids(data.Length / Dim), data);
        return index;
    }

    private static BruteForceIndex Exact(float[] data, VectorMetric metric)
    {
        var exact = new BruteForceIndex(Dim, metric);
        exact.AddRange(VectorTestData.Ids(data.Length / Dim), data);
        return exact;
    }

    [Fact]
    public void Search_ClusteredData_RecallAt10AboveThreshold()
    {
        var data = VectorTestData.Clustered(5000, Dim, seed: 1);
        var queries = VectorTestData.Clustered(200, Dim, seed: 2);
        using var index = Build(data, VectorMetric.L2);
        using var exact = Exact(data, VectorMetric.L2);

        double recall = VectorTestData.Recall(index, exact, queries, Dim, k: 10, ef: 64);

        Assert.True(recall >= 0.95, $"recall@10 = {recall:F4}");
        Assert.Equal(5000, index.Count);
    }

    [Theory]
    [InlineData(VectorMetric.Cosine)]
    [InlineData(VectorMetric.InnerProduct)]
    [InlineData(VectorMetric.L2)]
    public void Search_EachMetric_MatchesExactIndex(VectorMetric metric)
    {
        var data = VectorTestData.Clustered(2000, Dim, seed: 11);
        var queries = VectorTestData.Clustered(100, Dim, seed: 12);
        using var index = Build(data, metric);
        using var exact = Exact(data, metric);

        double recall = VectorTestData.Recall(index, exact, queries, Dim, k: 10, ef: 100);

        Assert.True(recall >= 0.95, $"{metric} recall@10 = {recall:F4}");
        var hits = index.Search(queries.AsSpan(0, Dim), 10);
        var truth = exact.Search(queries.AsSpan(0, Dim), 10);
        Assert.Equal(truth[0].Distance, hits[0].Distance, 3);
        for (int i = 1; i < hits.Length; i++)
        {
            Assert.True(hits[i - 1].Distance <= hits[i].Distance);
        }
    }

    [Fact]
    public void Search_SingleInserts_SameRecallAsBatch()
    {
        var data = VectorTestData.Clustered(1500, Dim, seed: 21);
        var queries = VectorTestData.Clustered(100, Dim, seed: 22);
        using var index = new HnswIndex(Dim, VectorMetric.L2, new HnswOptions { EfConstruction = 100, InitialCapacity = 16 });
        for (int i = 0; i < 1500; i++)
        {
            index.Add(i, data.AsSpan(i * Dim, Dim));
        }
        using var exact = Exact(data, VectorMetric.L2);

        Assert.True(VectorTestData.Recall(index, exact, queries, Dim, 10, 64) >= 0.95);
    }

    [Fact]
    public void Search_VectorItself_IsNearestWithZeroDistance()
    {
        var data = VectorTestData.Clustered(1000, Dim, seed: 5);
        using var index = Build(data, VectorMetric.Cosine);

        var hits = index.Search(data.AsSpan(123 * Dim, Dim), 1, ef: 64);

        Assert.Equal(123, hits[0].Id);
        Assert.Equal(0f, hits[0].Distance, 4);
    }

    [Fact]
    public void Remove_DeletedIdsNeverReturned_AndRecallHoldsBeforeAndAfterCompact()
    {
        var data = VectorTestData.Clustered(3000, Dim, seed: 31);
        var queries = VectorTestData.Clustered(100, Dim, seed: 32);
        using var index = Build(data, VectorMetric.L2);
        using var exact = Exact(data, VectorMetric.L2);
        var removed = new HashSet<int>();
        for (int id = 0; id < 3000; id += 3)
        {
            Assert.True(index.Remove(id));
            Assert.True(exact.Remove(id));
            removed.Add(id);
        }
        Assert.False(index.Remove(0));
        Assert.Equal(2000, index.Count);
        Assert.Equal(1000, index.DeletedCount);

        for (int q = 0; q < 100; q++)
        {
            foreach (var hit in index.Search(queries.AsSpan(q * Dim, Dim), 10, ef: 64))
            {
                Assert.DoesNotContain(hit.Id, removed);
            }
            // The removed vector itself must not come back even when queried exactly.
            Assert.NotEqual(3 * q, index.Search(data.AsSpan(3 * q * Dim, Dim), 1, ef: 64)[0].Id);
        }
        Assert.True(VectorTestData.Recall(index, exact, queries, Dim, 10, 64) >= 0.95);

        index.Compact();

        Assert.Equal(0, index.DeletedCount);
        Assert.Equal(2000, index.NodeCount);
        Assert.Equal(2000, index.Count);
        Assert.True(VectorTestData.Recall(index, exact, queries, Dim, 10, 64) >= 0.95);
        Assert.False(index.Contains(0));
        Assert.True(index.Contains(1));
    }

    [Fact]
    public void CompactIfNeeded_CompactsOnlyAboveThreshold()
    {
        var data = VectorTestData.Clustered(1000, Dim, seed: 33);
        using var index = Build(data, VectorMetric.L2);
        for (int id = 0; id < 100; id++)
        {
            index.Remove(id);
        }

        Assert.False(index.CompactIfNeeded(0.2));
        Assert.Equal(100, index.DeletedCount);
        for (int id = 100; id < 300; id++)
        {
            index.Remove(id);
        }
        Assert.True(index.CompactIfNeeded(0.2));
        Assert.Equal(0, index.DeletedCount);
        Assert.Equal(700, index.Count);
        Assert.Equal(500, index.Search(data.AsSpan(500 * Dim, Dim), 1, ef: 32)[0].Id);
        Assert.Throws<ArgumentException>(() => index.CompactIfNeeded(1.5));
    }

    [Fact]
    public void Search_WithIdBitset_ReturnsOnlyAllowedIds()
    {
        var data = VectorTestData.Clustered(2000, Dim, seed: 55);
        var queries = VectorTestData.Clustered(50, Dim, seed: 56);
        using var index = Build(data, VectorMetric.L2);
        using var exact = Exact(data, VectorMetric.L2);
        var allowed = new IdBitset(2000);
        var rng = new Random(1);
        for (int i = 0; i < 100; i++)
        {
            allowed.Add(rng.Next(2000));
        }

        double recall = VectorTestData.Recall(index, exact, queries, Dim, 10, 64, allowed.Filter);

        Assert.True(recall >= 0.9, $"bitset-filtered recall@10 = {recall:F4}");
        Assert.All(index.Search(queries.AsSpan(0, Dim), 10, allowed.Filter, 64), h => Assert.True(allowed.Contains(h.Id)));
        Assert.False(allowed.Contains(-1));
        Assert.False(allowed.Contains(2000));
        Assert.Throws<ArgumentException>(() => allowed.Add(2000));
    }

    [Fact]
    public void Add_ExistingId_ReplacesVector()
    {
        var data = VectorTestData.Clustered(500, Dim, seed: 41);
        using var index = Build(data, VectorMetric.L2);
        var newVector = data.AsSpan(7 * Dim, Dim).ToArray();

        index.Add(3, newVector);

        Assert.Equal(500, index.Count);
        var hits = index.Search(newVector, 2, ef: 64);
        Assert.Contains(hits, h => h.Id == 3 && h.Distance == 0f);
        Assert.Contains(hits, h => h.Id == 7);
        Assert.DoesNotContain(index.Search(data.AsSpan(3 * Dim, Dim), 1, ef: 64), h => h.Id == 3 && h.Distance == 0f);
    }

    [Fact]
    public void Search_WithFilter_ReturnsOnlyAllowedIdsWithGoodRecall()
    {
        var data = VectorTestData.Clustered(4000, Dim, seed: 51);
        var queries = VectorTestData.Clustered(100, Dim, seed: 52);
        using var index = Build(data, VectorMetric.L2);
        using var exact = Exact(data, VectorMetric.L2);
        Func<int, bool> allowed = id => id % 10 == 3;

        double recall = VectorTestData.Recall(index, exact, queries, Dim, 10, 64, allowed);

        Assert.True(recall >= 0.9, $"filtered recall@10 = {recall:F4}");
        for (int q = 0; q < 20; q++)
        {
            var hits = index.Search(queries.AsSpan(q * Dim, Dim), 10, allowed, 64);
            Assert.Equal(10, hits.Length);
            Assert.All(hits, h => Assert.Equal(3, h.Id % 10));
        }
    }

    [Fact]
    public void Search_FilterAllowingFewerThanK_ReturnsAllAllowed()
    {
        var data = VectorTestData.Clustered(1000, Dim, seed: 53);
        using var index = Build(data, VectorMetric.L2);

        var hits = index.Search(data.AsSpan(0, Dim), 10, id => id is 5 or 600 or 999, 32);

        Assert.Equal([5, 600, 999], hits.Select(h => h.Id).Order().ToArray());
    }

    [Fact]
    public void AddRange_ParallelBuild_LeavesEveryNodeReachable()
    {
        // Regression: a node reached from an upper level by another thread could get a link at a lower level before writing
        // its own list there; overwriting that list dropped the link and left nodes unreachable.
        var data = new ClusteredVectors(64, seed: 5).Sample(4000, seed: 6);
        using var index = new HnswIndex(64, VectorMetric.L2, new HnswOptions { EfConstruction = 100, BuildThreads = 4 });

        index.AddRange(VectorTestData.Ids(4000), data);

        // HNSW does not guarantee reachability (pruning can drop a node's last in-link), but it is rare: 0 in almost every
        // build of this data, while the bug above left 6-9 of 4,000 nodes unreachable on every parallel build.
        Assert.InRange(index.CountUnreachable(), 0, 2);
    }

    [Fact]
    public void Search_EmptyIndex_ReturnsNothing()
    {
        using var index = new HnswIndex(4, VectorMetric.L2);
        Assert.Empty(index.Search([1f, 2f, 3f, 4f], 5));
    }

    [Fact]
    public void BadInput_ThrowsArgumentExceptionWithReason()
    {
        using var index = new HnswIndex(4, VectorMetric.Cosine);
        index.Add(1, [1f, 0f, 0f, 0f]);

        var wrongDim = Assert.Throws<ArgumentException>(() => index.Add(2, [1f, 2f, 3f]));
        Assert.Contains("3 dimensions", wrongDim.Message, StringComparison.Ordinal);
        var nan = Assert.Throws<ArgumentException>(() => index.Add(2, [1f, float.NaN, 0f, 0f]));
        Assert.Contains("NaN", nan.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => index.Add(2, [1f, float.PositiveInfinity, 0f, 0f]));
        Assert.Throws<ArgumentException>(() => index.Add(2, [0f, 0f, 0f, 0f]));
        var badK = Assert.Throws<ArgumentException>(() => index.Search([1f, 0f, 0f, 0f], 0));
        Assert.Contains("k must be positive", badK.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => index.Search([1f, 0f, 0f, 0f], -1));
        Assert.Throws<ArgumentException>(() => index.Search([1f, 0f, float.NaN, 0f], 1));
        Assert.Throws<ArgumentException>(() => index.Search([1f, 0f, 0f], 1));
        Assert.Throws<ArgumentException>(() => index.AddRange([1, 2], new float[7]));
        Assert.Throws<ArgumentException>(() => new HnswIndex(0, VectorMetric.L2));
        Assert.Throws<ArgumentException>(() => new HnswIndex(4, VectorMetric.L2, new HnswOptions { M = 1 }));
        Assert.Equal(1, index.Count);
    }

    [Fact]
    public async Task Search_ConcurrentWithInsertsAndRemoves_StaysConsistent()
    {
        const int N = 3000;
        var data = VectorTestData.Clustered(N, Dim, seed: 61);
        var queries = VectorTestData.Clustered(50, Dim, seed: 62);
        using var index = new HnswIndex(Dim, VectorMetric.L2, new HnswOptions { EfConstruction = 64, InitialCapacity = 64 });
        index.AddRange(VectorTestData.Ids(100), data.AsSpan(0, 100 * Dim));
        using var done = new CancellationTokenSource();
        using var started = new CountdownEvent(3);
        long searches = 0;

        // Dedicated threads: the thread pool may be saturated by other tests on a small machine.
        var readers = Enumerable.Range(0, 3).Select(r => Task.Factory.StartNew(() =>
        {
            var hits = new VectorHit[10];
            int q = r;
            bool signalled = false;
            while (!done.IsCancellationRequested)
            {
                int n = index.Search(queries.AsSpan((q++ % 50) * Dim, Dim), 10, hits, null, 32);
                Assert.InRange(n, 1, 10);
                for (int i = 0; i < n; i++)
                {
                    Assert.InRange(hits[i].Id, 0, N - 1);
                    Assert.True(i == 0 || hits[i - 1].Distance <= hits[i].Distance);
                }
                Interlocked.Increment(ref searches);
                if (!signalled)
                {
                    started.Signal();
                    signalled = true;
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

        Assert.True(started.Wait(TimeSpan.FromSeconds(60)), "the reader threads did not start");
        for (int i = 100; i < N; i++)
        {
            index.Add(i, data.AsSpan(i * Dim, Dim));
            if (i % 7 == 0 && i < 2000)
            {
                index.Remove(i);
            }
            if (i == 1500)
            {
                index.Compact();
            }
        }
        await done.CancelAsync();
        await Task.WhenAll(readers);

        Assert.True(Interlocked.Read(ref searches) > 0);
        using var exact = new BruteForceIndex(Dim, VectorMetric.L2);
        var live = Enumerable.Range(0, N).Where(i => i % 7 != 0 || i < 100 || i >= 2000).ToArray();
        foreach (int id in live)
        {
            exact.Add(id, data.AsSpan(id * Dim, Dim));
        }
        Assert.Equal(live.Length, index.Count);
        Assert.True(VectorTestData.Recall(index, exact, queries, Dim, 10, 64) >= 0.95);
    }

    [Fact]
    public void SaveAndLoad_RoundTrip_GivesSameResults()
    {
        var data = VectorTestData.Clustered(2000, Dim, seed: 71);
        var queries = VectorTestData.Clustered(50, Dim, seed: 72);
        using var index = Build(data, VectorMetric.Cosine);
        index.Remove(10);
        string dir = Directory.CreateTempSubdirectory("zt-vec-").FullName;
        try
        {
            string path = Path.Combine(dir, "items.ztv");
            index.Save(path);
            index.Save(path); // overwrite an existing snapshot

            using var loaded = Assert.IsType<HnswIndex>(VectorIndexFile.Load(path));

            Assert.Equal(index.Count, loaded.Count);
            Assert.Equal(VectorMetric.Cosine, loaded.Metric);
            Assert.Equal(1, loaded.DeletedCount);
            Assert.False(loaded.Contains(10));
            for (int q = 0; q < 50; q++)
            {
                var a = index.Search(queries.AsSpan(q * Dim, Dim), 10, ef: 50);
                var b = loaded.Search(queries.AsSpan(q * Dim, Dim), 10, ef: 50);
                Assert.Equal(a, b);
            }
            loaded.Add(5000, queries.AsSpan(0, Dim));
            Assert.Equal(5000, loaded.Search(queries.AsSpan(0, Dim), 1)[0].Id);
            Assert.Equal([path], Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void SaveAndLoad_EmptyIndex_CanBeFilledAfterLoading()
    {
        using var index = new HnswIndex(3, VectorMetric.InnerProduct, new HnswOptions { EfSearch = 17 });
        string path = Path.Combine(Path.GetTempPath(), $"zt-empty-{Guid.NewGuid():N}.ztv");
        try
        {
            index.Save(path);
            var options = new HnswOptions { EfSearch = 33 };
            using var loaded = Assert.IsType<HnswIndex>(VectorIndexFile.Load(path, options));

            Assert.Equal(0, loaded.Count);
            Assert.Empty(loaded.Search([1f, 0f, 0f], 3));
            Assert.Equal(33, loaded.Options.EfSearch);
            Assert.Equal(1024, options.InitialCapacity); // the caller's options are not modified
            loaded.Add(4, [1f, 2f, 3f]);
            Assert.Equal(4, loaded.Search([1f, 0f, 0f], 3)[0].Id);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_CorruptOrTornFile_IsRefusedWithClearError()
    {
        var data = VectorTestData.Clustered(500, Dim, seed: 81);
        using var index = Build(data, VectorMetric.L2);
        string dir = Directory.CreateTempSubdirectory("zt-vec-").FullName;
        try
        {
            string path = Path.Combine(dir, "v.ztv");
            index.Save(path);
            byte[] good = File.ReadAllBytes(path);

            var flipped = (byte[])good.Clone();
            flipped[good.Length / 2] ^= 0x40;
            File.WriteAllBytes(path, flipped);
            var ex = Assert.Throws<InvalidDataException>(() => VectorIndexFile.Load(path));
            Assert.Contains("checksum", ex.Message, StringComparison.Ordinal);

            File.WriteAllBytes(path, good.AsSpan(0, good.Length - 100).ToArray());
            ex = Assert.Throws<InvalidDataException>(() => VectorIndexFile.Load(path));
            Assert.Contains("torn or truncated", ex.Message, StringComparison.Ordinal);

            File.WriteAllBytes(path, good.AsSpan(0, 10).ToArray());
            Assert.Throws<InvalidDataException>(() => VectorIndexFile.Load(path));

            var badMagic = (byte[])good.Clone();
            badMagic[0] = (byte)'X';
            File.WriteAllBytes(path, badMagic);
            ex = Assert.Throws<InvalidDataException>(() => VectorIndexFile.Load(path));
            Assert.Contains("not a Zhongtai vector index", ex.Message, StringComparison.Ordinal);

            var badHeader = (byte[])good.Clone();
            badHeader[20] ^= 0x01; // dimension
            File.WriteAllBytes(path, badHeader);
            Assert.Throws<InvalidDataException>(() => VectorIndexFile.Load(path));

            File.WriteAllBytes(path, good);
            Assert.Equal(500, VectorIndexFile.Load(path).Count);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Search_DoesNotAllocateOnceWarm()
    {
        var data = VectorTestData.Clustered(1000, Dim, seed: 91);
        using var index = Build(data, VectorMetric.L2);
        var hits = new VectorHit[10];
        var query = data.AsSpan(0, Dim).ToArray();
        for (int i = 0; i < 10; i++)
        {
            index.Search(query, 10, hits, null, 64);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            index.Search(query, 10, hits, null, 64);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }
}
