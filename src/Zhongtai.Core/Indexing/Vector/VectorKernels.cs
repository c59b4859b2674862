using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Zhongtai.Indexing.Vector;

/// <summary>SIMD distance kernels (AVX-512 / AVX2 / portable) over raw float pointers and spans.</summary>
internal static unsafe class VectorKernels
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* a, float* b, int n)
    {
        int i = 0;
        float sum;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; i <= n - 32; i += 32)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 16), Vector512.Load(b + i + 16), acc1);
            }
            if (i <= n - 16)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc0);
                i += 16;
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8), acc1);
            }
            if (i <= n - 8)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc0);
                i += 8;
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        else
        {
            sum = 0f;
        }
        for (; i < n; i++)
        {
            sum += a[i] * b[i];
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float L2Squared(float* a, float* b, int n)
    {
        int i = 0;
        float sum;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; i <= n - 32; i += 32)
            {
                var d0 = Vector512.Load(a + i) - Vector512.Load(b + i);
                var d1 = Vector512.Load(a + i + 16) - Vector512.Load(b + i + 16);
                acc0 = Vector512.FusedMultiplyAdd(d0, d0, acc0);
                acc1 = Vector512.FusedMultiplyAdd(d1, d1, acc1);
            }
            if (i <= n - 16)
            {
                var d0 = Vector512.Load(a + i) - Vector512.Load(b + i);
                acc0 = Vector512.FusedMultiplyAdd(d0, d0, acc0);
                i += 16;
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var d0 = Vector256.Load(a + i) - Vector256.Load(b + i);
                var d1 = Vector256.Load(a + i + 8) - Vector256.Load(b + i + 8);
                acc0 = Vector256.FusedMultiplyAdd(d0, d0, acc0);
                acc1 = Vector256.FusedMultiplyAdd(d1, d1, acc1);
            }
            if (i <= n - 8)
            {
                var d0 = Vector256.Load(a + i) - Vector256.Load(b + i);
                acc0 = Vector256.FusedMultiplyAdd(d0, d0, acc0);
                i += 8;
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        else
        {
            sum = 0f;
        }
        for (; i < n; i++)
        {
            float d = a[i] - b[i];
            sum += d * d;
        }
        return sum;
    }

    /// <summary>Distance under <paramref name="metric"/> (vectors already normalized for cosine).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Distance(VectorMetric metric, float* a, float* b, int n) =>
        metric == VectorMetric.L2 ? L2Squared(a, b, n) : 1f - Dot(a, b, n);

    public static float Distance(VectorMetric metric, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        fixed (float* pa = a)
        fixed (float* pb = b)
        {
            return Distance(metric, pa, pb, a.Length);
        }
    }

    /// <summary>True when every component is finite (no NaN, no infinity).</summary>
    public static bool AllFinite(ReadOnlySpan<float> v)
    {
        ref float r = ref MemoryMarshal.GetReference(v);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= v.Length - 8; i += 8)
            {
                var x = Vector256.LoadUnsafe(ref r, (nuint)i);
                // x - x is 0 for finite values and NaN for NaN and infinities.
                if (!Vector256.EqualsAll(x - x, Vector256<float>.Zero))
                {
                    return false;
                }
            }
        }
        for (; i < v.Length; i++)
        {
            if (!float.IsFinite(Unsafe.Add(ref r, i)))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Validates a vector or query for an index and throws a clear <see cref="ArgumentException"/> when it is unusable.</summary>
    public static void Validate(ReadOnlySpan<float> v, int dimension, VectorMetric metric, string paramName)
    {
        if (v.Length != dimension)
        {
            throw new ArgumentException($"Vector has {v.Length} dimensions but the index has {dimension}.", paramName);
        }
        if (!AllFinite(v))
        {
            throw new ArgumentException("Vector contains NaN or infinite components.", paramName);
        }
        if (metric == VectorMetric.Cosine && System.Numerics.Tensors.TensorPrimitives.Norm(v) == 0f)
        {
            throw new ArgumentException("Vector is all zeros; a zero vector has no direction under the cosine metric.", paramName);
        }
    }

    /// <summary>Copies <paramref name="src"/> to <paramref name="dst"/>, normalized to unit length for cosine.</summary>
    public static void CopyForMetric(ReadOnlySpan<float> src, Span<float> dst, VectorMetric metric)
    {
        if (metric == VectorMetric.Cosine)
        {
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(src);
            System.Numerics.Tensors.TensorPrimitives.Divide(src, norm, dst);
        }
        else
        {
            src.CopyTo(dst);
        }
    }
}
