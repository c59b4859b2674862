using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Zhongtai.Bench.Ranking;

/// <summary>
/// Wall time and the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID). On a machine shared with other jobs,
/// thread CPU time is the stable measure of single-thread throughput; the Python peer reports
/// <c>time.thread_time()</c>, the same clock.
/// </summary>
internal readonly partial struct ThreadClock
{
    private const int ClockThreadCpuTimeId = 3;
    private readonly long _wallStart;
    private readonly double _cpuStart;

    private ThreadClock(long wallStart, double cpuStart)
    {
        _wallStart = wallStart;
        _cpuStart = cpuStart;
    }

    public static ThreadClock Start() => new(Stopwatch.GetTimestamp(), CpuSeconds());

    public (double Wall, double Cpu) Elapsed() => (Stopwatch.GetElapsedTime(_wallStart).TotalSeconds, CpuSeconds() - _cpuStart);

    private static double CpuSeconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return double.NaN;
        }

        clock_gettime(ClockThreadCpuTimeId, out Timespec t);
        return t.Seconds + (t.Nanoseconds * 1e-9);
    }

    [LibraryImport("libc", SetLastError = false)]
    private static partial int clock_gettime(int clockId, out Timespec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
