using Zhongtai.Indexing.Vector;

namespace Zhongtai.Tests.Indexing.Vector;

public sealed class VectorKernelsTests
{
    [Fact]
    public unsafe void DotAndL2_MatchScalarForEveryLength()
    {
        var rng = new Random(1);
        for (int n = 1; n <= 80; n++)
        {
            var a = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
            var b = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
            double dot = 0;
            double l2 = 0;
            for (int i = 0; i < n; i++)
            {
                dot += a[i] * b[i];
                l2 += (a[i] - b[i]) * (a[i] - b[i]);
            }
            fixed (float* pa = a)
            fixed (float* pb = b)
            {
                Assert.Equal(dot, VectorKernels.Dot(pa, pb, n), 4);
                Assert.Equal(l2, VectorKernels.L2Squared(pa, pb, n), 4);
            }
        }
    }

    [Fact]
    public void AllFinite_DetectsNaNAndInfinityAnywhere()
    {
        for (int n = 1; n <= 40; n++)
        {
            var v = new float[n];
            Assert.True(VectorKernels.AllFinite(v));
            v[n - 1] = float.NaN;
            Assert.False(VectorKernels.AllFinite(v));
            v[n - 1] = float.NegativeInfinity;
            Assert.False(VectorKernels.AllFinite(v));
        }
    }
}
