using Zhongtai.Indexing.Vector;

namespace Zhongtai.Tests.Indexing.Vector;

public sealed class VectorBenchTests
{
    [Fact]
    public void Run_SmallGeneratedData_ReportsSweepAndWritesFiles()
    {
        string dir = Directory.CreateTempSubdirectory("zt-vbench-").FullName;
        try
        {
            var options = new VectorBenchOptions
            {
                Count = 2000,
                Dimension = 16,
                QueryCount = 50,
                EfConstruction = 64,
                EfValues = [10, 32, 128],
                Passes = 1,
                MinSeconds = 0,
                WriteDataDirectory = dir,
            };

            var result = VectorBench.Run(options, log: null);

            Assert.Equal(3, result.Sweep.Count);
            Assert.True(result.Sweep[^1].Recall >= 0.95, $"recall {result.Sweep[^1].Recall}");
            Assert.All(result.Sweep, p => Assert.True(p.Qps > 0));
            Assert.Equal(3, result.Targets.Count);
            Assert.Contains("\"sweep\"", result.ToJson(), StringComparison.Ordinal);
            Assert.Equal(2000, Fvecs.ReadFvecs(Path.Combine(dir, "base.fvecs")).Rows);
            Assert.Equal((50, 10), (Fvecs.ReadIvecs(Path.Combine(dir, "gt.ivecs")).Rows, Fvecs.ReadIvecs(Path.Combine(dir, "gt.ivecs")).Dimension));

            // Reading the written files back gives the same ground truth and recall.
            var again = VectorBench.Run(new VectorBenchOptions
            {
                BaseFile = Path.Combine(dir, "base.fvecs"),
                QueryFile = Path.Combine(dir, "query.fvecs"),
                GroundTruthFile = Path.Combine(dir, "gt.ivecs"),
                EfConstruction = 64,
                EfValues = [128],
                Passes = 1,
                MinSeconds = 0,
            }, log: null);
            Assert.True(again.Sweep[0].Recall >= 0.95);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
