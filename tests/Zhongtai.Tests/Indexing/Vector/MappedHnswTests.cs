using Zhongtai.Indexing.Vector;

namespace Zhongtai.Tests.Indexing.Vector;

public sealed class MappedHnswTests
{
    private const int Dim = 32;

    private static HnswIndex Build(float[] data, VectorMetric metric)
    {
        var index = new HnswIndex(Dim, metric, new HnswOptions { M = 12, EfConstruction = 80, BuildThreads = 2, Seed = 5 });
        index.AddRange(VectorTestData.Ids(data.Length / Dim, offset: 100), data);
        return index;
    }

    [Theory]
    [InlineData(VectorMetric.Cosine)]
    [InlineData(VectorMetric.L2)]
    public void OpenMapped_SearchesExactlyLikeTheHeapLoadedIndex(VectorMetric metric)
    {
        var data = VectorTestData.Clustered(3000, Dim, seed: 11);
        var queries = VectorTestData.Clustered(60, Dim, seed: 12);
        using var index = Build(data, metric);
        index.Remove(150);
        string dir = Directory.CreateTempSubdirectory("zt-mmap-").FullName;
        try
        {
            string path = Path.Combine(dir, "v.ztv");
            index.Save(path);
            using var heap = Assert.IsType<HnswIndex>(VectorIndexFile.Load(path));
            using var mapped = VectorIndexFile.OpenMapped(path, verify: true);

            Assert.True(mapped.IsMapped);
            Assert.Equal(heap.Count, mapped.Count);
            Assert.Equal(1, mapped.DeletedCount);
            for (int q = 0; q < 60; q++)
            {
                var query = queries.AsSpan(q * Dim, Dim);
                var expected = heap.Search(query, 10, ef: 40);
                Assert.Equal(expected, mapped.Search(query, 10, ef: 40));
                Assert.Equal(heap.Search(query, 5, id => id % 3 == 0, 40), mapped.Search(query, 5, id => id % 3 == 0, 40));
                Assert.DoesNotContain(mapped.Search(query, 10, ef: 40), h => h.Id == 150);
            }
            Assert.False(mapped.Contains(150));
            Assert.True(mapped.Contains(101));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void OpenMapped_WritesCopyToTheHeapAndNeverTouchTheFile()
    {
        var data = VectorTestData.Clustered(1500, Dim, seed: 21);
        using var index = Build(data, VectorMetric.InnerProduct);
        string dir = Directory.CreateTempSubdirectory("zt-mmap-").FullName;
        try
        {
            string path = Path.Combine(dir, "v.ztv");
            index.Save(path);
            byte[] before = File.ReadAllBytes(path);
            using var mapped = VectorIndexFile.OpenMapped(path);

            Assert.True(mapped.Remove(100)); // a tombstone lives in a heap array: still mapped
            Assert.True(mapped.IsMapped);
            var probe = data.AsSpan(5 * Dim, Dim).ToArray();
            probe[0] += 0.5f;
            mapped.Add(9999, probe);

            Assert.False(mapped.IsMapped);
            Assert.Equal(1500, mapped.Count);
            Assert.Equal(9999, mapped.Search(probe, 1, ef: 50)[0].Id);
            Assert.DoesNotContain(mapped.Search(data.AsSpan(0, Dim), 10, ef: 50), h => h.Id == 100);
            Assert.Equal(before, File.ReadAllBytes(path));

            // Saving over the mapped file while it is open replaces it atomically (the mapping keeps the old inode).
            mapped.Save(path);
            using var reopened = VectorIndexFile.OpenMapped(path, verify: true);
            Assert.Equal(1500, reopened.Count);
            Assert.Equal(9999, reopened.Search(probe, 1, ef: 50)[0].Id);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void OpenMapped_EmptyIndex_CanBeFilled()
    {
        string path = Path.Combine(Path.GetTempPath(), $"zt-mmap-empty-{Guid.NewGuid():N}.ztv");
        try
        {
            using (var empty = new HnswIndex(3, VectorMetric.L2))
            {
                empty.Save(path);
            }
            using var mapped = VectorIndexFile.OpenMapped(path, verify: true);
            Assert.Empty(mapped.Search([1f, 0f, 0f], 3));
            mapped.Add(7, [1f, 2f, 3f]);
            Assert.Equal(7, mapped.Search([1f, 0f, 0f], 3)[0].Id);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void OpenMapped_DamagedFile_VerifyCatchesWhatTheFastOpenSkips()
    {
        var data = VectorTestData.Clustered(400, Dim, seed: 31);
        using var index = Build(data, VectorMetric.L2);
        string dir = Directory.CreateTempSubdirectory("zt-mmap-").FullName;
        try
        {
            string path = Path.Combine(dir, "v.ztv");
            index.Save(path);
            byte[] good = File.ReadAllBytes(path);

            // A flipped bit inside the vectors: the fast open does not read them, verification does.
            var flipped = (byte[])good.Clone();
            flipped[64 + (12 * 400) + 40] ^= 0x10;
            File.WriteAllBytes(path, flipped);
            using (VectorIndexFile.OpenMapped(path))
            {
            }
            var ex = Assert.Throws<InvalidDataException>(() => VectorIndexFile.OpenMapped(path, verify: true));
            Assert.Contains("checksum", ex.Message, StringComparison.Ordinal);
            ex = Assert.Throws<InvalidDataException>(() => VectorIndexFile.Verify(path));
            Assert.Contains("checksum", ex.Message, StringComparison.Ordinal);

            File.WriteAllBytes(path, good.AsSpan(0, good.Length - 8).ToArray());
            ex = Assert.Throws<InvalidDataException>(() => VectorIndexFile.OpenMapped(path));
            Assert.Contains("torn or truncated", ex.Message, StringComparison.Ordinal);

            var badLevel = (byte[])good.Clone();
            badLevel[64 + (4 * 400) + 4] = 0x7F; // node 1's level
            File.WriteAllBytes(path, badLevel);
            Assert.Throws<InvalidDataException>(() => VectorIndexFile.OpenMapped(path));

            File.WriteAllBytes(path, good);
            VectorIndexFile.Verify(path);
            using var ok = VectorIndexFile.OpenMapped(path, verify: true);
            Assert.Equal(400, ok.Count);

            using (var exact = new BruteForceIndex(Dim, VectorMetric.L2))
            {
                exact.Add(1, data.AsSpan(0, Dim));
                exact.Save(path);
            }
            ex = Assert.Throws<InvalidDataException>(() => VectorIndexFile.OpenMapped(path));
            Assert.Contains("exact index", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
