using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Zhongtai.Training.Recall;

/// <summary>
/// In-place inverse of a dense symmetric positive-definite float matrix: blocked right-looking Cholesky
/// (<c>A = L Lᵀ</c>), blocked forward substitution for <c>Y = L⁻¹</c>, then <c>A⁻¹ = Yᵀ Y</c>. All the O(n³) work runs
/// through one 4×32 register-tiled FMA kernel (AVX-512, or two AVX2 4×16 tiles), parallel over tiles. Row-major storage
/// with a leading dimension padded to a multiple of 32 (<see cref="PaddedSize"/>); the padding must hold the identity.
/// </summary>
internal static unsafe class DenseSpdInverse
{
    private const int Block = 64;

    private const int Tile = 32;

    /// <summary>The leading dimension used for an n×n matrix (a multiple of the 32-wide column tile).</summary>
    public static int PaddedSize(int n) => (n + 31) & ~31;

    /// <summary>
    /// Inverts <paramref name="a"/> (ld×ld with ld = <see cref="PaddedSize"/>(n), the padding set to the identity) in place;
    /// on return it holds the full symmetric inverse. Throws <see cref="ArgumentException"/> when the matrix is not positive definite.
    /// </summary>
    public static void Invert(float[] a, int n, int threads, CancellationToken cancellationToken)
    {
        int ld = PaddedSize(n);
        if (a.Length < (long)ld * ld)
        {
            throw new ArgumentException($"Buffer of {a.Length} floats is smaller than {ld}x{ld}.", nameof(a));
        }

        var po = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = threads <= 0 ? Environment.ProcessorCount : threads };
        Cholesky(a, ld, po);
        var y = new float[(long)ld * ld];
        LowerInverse(a, y, ld, po);
        GramTranspose(y, a, ld, po);
    }

    private static void Cholesky(float[] a, int ld, ParallelOptions po)
    {
        var bt = new float[(Block * ld) + (Tile * Block)];
        for (int k0 = 0; k0 < ld; k0 += Block)
        {
            po.CancellationToken.ThrowIfCancellationRequested();
            int kb = Math.Min(Block, ld - k0), k1 = k0 + kb;

            // 1. diagonal block
            for (int j = k0; j < k1; j++)
            {
                var rowJ = a.AsSpan(j * ld + k0, j - k0);
                float d = a[(j * ld) + j] - TensorPrimitives.Dot(rowJ, rowJ);
                if (!(d > 0))
                {
                    throw new ArgumentException($"The matrix is not positive definite (pivot {j} = {d}); increase the regularization.");
                }

                float ljj = MathF.Sqrt(d);
                a[(j * ld) + j] = ljj;
                for (int i = j + 1; i < k1; i++)
                {
                    a[(i * ld) + j] = (a[(i * ld) + j] - TensorPrimitives.Dot(a.AsSpan((i * ld) + k0, j - k0), rowJ)) / ljj;
                }
            }

            int m = ld - k1;
            if (m == 0)
            {
                break;
            }

            // 2. panel below the diagonal block (rows independent) and its packed transpose into bt
            Parallel.For(k1, ld, po, i =>
            {
                int ri = i * ld;
                for (int j = k0; j < k1; j++)
                {
                    float v = (a[ri + j] - TensorPrimitives.Dot(a.AsSpan(ri + k0, j - k0), a.AsSpan((j * ld) + k0, j - k0))) / a[(j * ld) + j];
                    a[ri + j] = v;

                    // packed by 32-column tiles: [tile][t][32], so the kernel reads B contiguously
                    int col = i - k1;
                    bt[(((col / Tile) * kb) + (j - k0)) * Tile + (col % Tile)] = v;
                }
            });

            // 3. trailing update of the lower triangle: A22 -= L21 L21ᵀ
            int rowTiles = m / 4;
            Parallel.For(0, rowTiles, po, tile =>
            {
                int i0 = k1 + (tile * 4);
                fixed (float* pa = a, pb = bt)
                {
                    for (int j0 = k1; j0 <= i0 + 3; j0 += Tile)
                    {
                        Kernel4x32(pa + ((long)i0 * ld) + k0, ld, 1, pb + ((long)(j0 - k1) / Tile * kb * Tile), Tile, pa + ((long)i0 * ld) + j0, ld, kb, Mode.Subtract);
                    }
                }
            });
        }
    }

    // Y = L⁻¹ stored packed by 32-column tiles: element (t, c) at ((c / 32) * ld + t) * 32 + c % 32, so that every kernel
    // operand below is read contiguously.
    private static long Packed(int ld, int t, int c) => ((((long)(c / Tile) * ld) + t) * Tile) + (c % Tile);

    private static void LowerInverse(float[] l, float[] y, int ld, ParallelOptions po)
    {
        for (int r0 = 0; r0 < ld; r0 += Block)
        {
            po.CancellationToken.ThrowIfCancellationRequested();
            int r1 = Math.Min(ld, r0 + Block);
            int colTiles = r0 / Tile, rowTiles = (r1 - r0) / 4;

            // contribution of the finished rows: Y[I, c] = -sum_{t in [c0, r0)} L[i,t] Y[t,c]
            if (colTiles > 0)
            {
                Parallel.For(0, colTiles * rowTiles, po, task =>
                {
                    int c0 = (task / rowTiles) * Tile, i0 = r0 + ((task % rowTiles) * 4);
                    fixed (float* pl = l, py = y)
                    {
                        Kernel4x32(pl + ((long)i0 * ld) + c0, ld, 1, py + Packed(ld, c0, c0), Tile, py + Packed(ld, i0, c0), Tile, r0 - c0, Mode.Subtract);
                    }
                });
            }

            // the rows inside the block, in order (row t's entries beyond column t are zero, so whole tiles can be used)
            for (int i = r0; i < r1; i++)
            {
                y[Packed(ld, i, i)] = 1f;
                int lastTile = i / Tile;
                for (int t = r0; t < i; t++)
                {
                    float lit = l[(i * ld) + t];
                    if (lit == 0)
                    {
                        continue;
                    }

                    for (int ct = 0; ct <= t / Tile; ct++)
                    {
                        var rowT = y.AsSpan((int)Packed(ld, t, ct * Tile), Tile);
                        var rowI = y.AsSpan((int)Packed(ld, i, ct * Tile), Tile);
                        TensorPrimitives.MultiplyAdd(rowT, -lit, rowI, rowI);
                    }
                }

                float inv = 1f / l[(i * ld) + i];
                for (int ct = 0; ct <= lastTile; ct++)
                {
                    var rowI = y.AsSpan((int)Packed(ld, i, ct * Tile), Tile);
                    TensorPrimitives.Multiply(rowI, inv, rowI);
                }
            }
        }
    }

    // p = yᵀ y for lower-triangular, packed y (full symmetric, row-major result).
    private static void GramTranspose(float[] y, float[] p, int ld, ParallelOptions po)
    {
        int rowTiles = ld / 4;
        Parallel.For(0, rowTiles, po, tile =>
        {
            int p0 = tile * 4;
            fixed (float* py = y, pp = p)
            {
                for (int q0 = 0; q0 <= p0 + 3; q0 += Tile)
                {
                    int t0 = Math.Max(p0, q0);
                    Kernel4x32(py + Packed(ld, t0, p0), 1, Tile, py + Packed(ld, t0, q0), Tile, pp + ((long)p0 * ld) + q0, ld, ld - t0, Mode.Store);
                }
            }
        });

        po.CancellationToken.ThrowIfCancellationRequested();
        Parallel.For(0, ld, po, r =>
        {
            for (int c = r + 1; c < ld; c++)
            {
                p[(r * ld) + c] = p[(c * ld) + r];
            }
        });
    }

    private enum Mode
    {
        Subtract,
        Store,
    }

    // C[4x32] (op)= sum_t A(r,t) * B[t, 0..32]: one AVX-512 register tile where available, else two 4x16 AVX tiles.
    private static void Kernel4x32(float* a, long aRs, long aKs, float* b, long bRs, float* c, long cRs, int kLen, Mode mode)
    {
        if (!Vector512.IsHardwareAccelerated)
        {
            Kernel4x16(a, aRs, aKs, b, bRs, c, cRs, kLen, mode);
            Kernel4x16(a, aRs, aKs, b + 16, bRs, c + 16, cRs, kLen, mode);
            return;
        }

        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        float* a0 = a, a1 = a + aRs, a2 = a + (2 * aRs), a3 = a + (3 * aRs);
        for (int t = 0; t < kLen; t++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(*a0);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(*a1);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(*a2);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(*a3);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            a0 += aKs;
            a1 += aKs;
            a2 += aKs;
            a3 += aKs;
            b += bRs;
        }

        Write512(c, c00, c01, mode);
        Write512(c + cRs, c10, c11, mode);
        Write512(c + (2 * cRs), c20, c21, mode);
        Write512(c + (3 * cRs), c30, c31, mode);
    }

    private static void Write512(float* c, Vector512<float> v0, Vector512<float> v1, Mode mode)
    {
        if (mode == Mode.Store)
        {
            v0.Store(c);
            v1.Store(c + 16);
        }
        else
        {
            (Vector512.Load(c) - v0).Store(c);
            (Vector512.Load(c + 16) - v1).Store(c + 16);
        }
    }

    // C[4x16] (op)= sum_t A(r,t) * B[t, 0..16], A(r,t) = a[r*aRs + t*aKs].
    private static void Kernel4x16(float* a, long aRs, long aKs, float* b, long bRs, float* c, long cRs, int kLen, Mode mode)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        float* a0 = a, a1 = a + aRs, a2 = a + (2 * aRs), a3 = a + (3 * aRs);
        for (int t = 0; t < kLen; t++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(*a0);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(*a1);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(*a2);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(*a3);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            a0 += aKs;
            a1 += aKs;
            a2 += aKs;
            a3 += aKs;
            b += bRs;
        }

        Write(c, c00, c01, mode);
        Write(c + cRs, c10, c11, mode);
        Write(c + (2 * cRs), c20, c21, mode);
        Write(c + (3 * cRs), c30, c31, mode);
    }

    private static void Write(float* c, Vector256<float> v0, Vector256<float> v1, Mode mode)
    {
        if (mode == Mode.Store)
        {
            v0.Store(c);
            v1.Store(c + 8);
        }
        else
        {
            (Vector256.Load(c) - v0).Store(c);
            (Vector256.Load(c + 8) - v1).Store(c + 8);
        }
    }
}
