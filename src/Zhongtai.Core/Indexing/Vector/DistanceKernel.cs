using System.Runtime.CompilerServices;

namespace Zhongtai.Indexing.Vector;

/// <summary>A distance function as a type, so the generic search loops are specialized per metric by the JIT (no indirect calls).</summary>
internal unsafe interface IDistanceKernel
{
    static abstract float Distance(float* a, float* b, int n);
}

/// <summary>Squared Euclidean distance.</summary>
internal readonly struct L2Kernel : IDistanceKernel
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float Distance(float* a, float* b, int n) => VectorKernels.L2Squared(a, b, n);
}

/// <summary><c>1 - dot</c>: inner product, and cosine on normalized vectors.</summary>
internal readonly struct DotKernel : IDistanceKernel
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float Distance(float* a, float* b, int n) => 1f - VectorKernels.Dot(a, b, n);
}
