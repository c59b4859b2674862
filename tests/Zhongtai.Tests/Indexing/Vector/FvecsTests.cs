using Zhongtai.Indexing.Vector;

namespace Zhongtai.Tests.Indexing.Vector;

public sealed class FvecsTests
{
    [Fact]
    public void Durable_SyncDirectory_FsyncsADirectory_AndReportsAMissingOne()
    {
        string dir = Directory.CreateTempSubdirectory("zt-dsync-").FullName;
        try
        {
            Zhongtai.Storage.Durable.SyncDirectory(dir);
            Assert.Throws<IOException>(() => Zhongtai.Storage.Durable.SyncDirectory(Path.Combine(dir, "missing")));
        }
        finally
        {
            Directory.Delete(dir);
        }
    }

    [Fact]
    public void WriteAndRead_RoundTrip()
    {
        string dir = Directory.CreateTempSubdirectory("zt-fvecs-").FullName;
        try
        {
            var data = VectorTestData.Clustered(37, 5, seed: 1);
            Fvecs.WriteFvecs(Path.Combine(dir, "a.fvecs"), data, 5);
            Fvecs.WriteIvecs(Path.Combine(dir, "a.ivecs"), VectorTestData.Ids(12), 3);

            var (read, rows, dim) = Fvecs.ReadFvecs(Path.Combine(dir, "a.fvecs"));
            var (ints, irows, idim) = Fvecs.ReadIvecs(Path.Combine(dir, "a.ivecs"));

            Assert.Equal((37, 5), (rows, dim));
            Assert.Equal(data, read);
            Assert.Equal((4, 3), (irows, idim));
            Assert.Equal(VectorTestData.Ids(12), ints);
            Assert.Equal(10, Fvecs.ReadFvecs(Path.Combine(dir, "a.fvecs"), maxRows: 10).Rows);

            File.WriteAllBytes(Path.Combine(dir, "bad.fvecs"), new byte[] { 5, 0, 0, 0, 1, 2, 3 });
            Assert.Throws<InvalidDataException>(() => Fvecs.ReadFvecs(Path.Combine(dir, "bad.fvecs")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
