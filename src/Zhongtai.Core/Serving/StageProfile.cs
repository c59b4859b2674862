using System.Diagnostics;

namespace Zhongtai.Serving;

/// <summary>
/// Optional per-stage time accounting of <see cref="RecommendEngine.RecommendAsync"/> (benchmarks): when
/// <see cref="RecommendEngine.Profile"/> is set, every request adds its stopwatch ticks per stage here (lock-free).
/// Off (null) by default; then the request path takes no timestamps.
/// </summary>
internal sealed class StageProfile
{
    /// <summary>Stage names, in request order.</summary>
    public static readonly string[] Names = ["plan", "recall", "merge", "rank", "rerank", "result", "exposures"];

    private readonly long[] _ticks = new long[Names.Length * 8]; // one cache line per stage
    private long _requests;

    public const int Plan = 0, Recall = 1, Merge = 2, Rank = 3, Rerank = 4, Result = 5, Exposures = 6;

    public long Requests => Interlocked.Read(ref _requests);

    public void Add(int stage, long ticks) => Interlocked.Add(ref _ticks[stage * 8], ticks);

    public void Request() => Interlocked.Increment(ref _requests);

    public void Reset()
    {
        for (var i = 0; i < _ticks.Length; i++)
        {
            Interlocked.Exchange(ref _ticks[i], 0);
        }

        Interlocked.Exchange(ref _requests, 0);
    }

    /// <summary>Mean microseconds per request of each stage.</summary>
    public IReadOnlyList<(string Stage, double MeanMicroseconds)> Means()
    {
        var requests = Math.Max(1, Requests);
        var result = new (string, double)[Names.Length];
        for (var i = 0; i < Names.Length; i++)
        {
            result[i] = (Names[i], Interlocked.Read(ref _ticks[i * 8]) * 1e6 / Stopwatch.Frequency / requests);
        }

        return result;
    }

    public override string ToString() => string.Join(", ", Means().Select(m => $"{m.Stage} {m.MeanMicroseconds:F0} µs"));
}
