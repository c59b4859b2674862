using Zhongtai.Training.Recall;

namespace Zhongtai.Tests.Training.Recall;

public class DenseSpdInverseTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(37)]
    [InlineData(130)]
    [InlineData(200)]
    public void Invert_GivesTheInverseOfASymmetricPositiveDefiniteMatrix(int n)
    {
        // A = MᵀM / n + I: well conditioned, crossing the 64-wide blocks for n = 130
        var rng = new Random(n);
        var mtx = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                mtx[i, j] = rng.NextDouble() - 0.5;
            }
        }

        var a = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int t = 0; t < n; t++)
                {
                    s += mtx[t, i] * mtx[t, j];
                }

                a[i, j] = (s / n) + (i == j ? 1 : 0);
            }
        }

        int ld = DenseSpdInverse.PaddedSize(n);
        var buf = new float[ld * ld];
        for (int i = 0; i < ld; i++)
        {
            for (int j = 0; j < ld; j++)
            {
                buf[(i * ld) + j] = i < n && j < n ? (float)a[i, j] : i == j ? 1f : 0f;
            }
        }

        DenseSpdInverse.Invert(buf, n, 2, CancellationToken.None);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int t = 0; t < n; t++)
                {
                    s += a[i, t] * buf[(t * ld) + j];
                }

                Assert.Equal(i == j ? 1.0 : 0.0, s, 3);
                Assert.Equal(buf[(i * ld) + j], buf[(j * ld) + i]);
            }
        }
    }

    [Fact]
    public void Invert_RejectsANonPositiveDefiniteMatrix()
    {
        int ld = DenseSpdInverse.PaddedSize(2);
        var buf = new float[ld * ld];
        buf[0] = 1;
        buf[1] = 2;
        buf[ld] = 2;
        buf[ld + 1] = 1;
        for (int i = 2; i < ld; i++)
        {
            buf[(i * ld) + i] = 1;
        }

        var e = Assert.Throws<ArgumentException>(() => DenseSpdInverse.Invert(buf, 2, 1, CancellationToken.None));
        Assert.Contains("positive definite", e.Message, StringComparison.Ordinal);
    }

    internal static double[,] InvertDouble(double[,] a)
    {
        int n = a.GetLength(0);
        var m = (double[,])a.Clone();
        var inv = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            inv[i, i] = 1;
        }

        for (int c = 0; c < n; c++)
        {
            double p = m[c, c];
            for (int j = 0; j < n; j++)
            {
                m[c, j] /= p;
                inv[c, j] /= p;
            }

            for (int r = 0; r < n; r++)
            {
                if (r == c)
                {
                    continue;
                }

                double f = m[r, c];
                for (int j = 0; j < n; j++)
                {
                    m[r, j] -= f * m[c, j];
                    inv[r, j] -= f * inv[c, j];
                }
            }
        }

        return inv;
    }
}
