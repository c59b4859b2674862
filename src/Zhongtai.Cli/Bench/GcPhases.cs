using System.Diagnostics.Tracing;

namespace Zhongtai.Cli.Bench;

/// <summary>
/// Splits the runtime's GC pauses into their phases from its own events (Microsoft-Windows-DotNETRuntime, GC keyword):
/// suspending the threads, the collection itself, and restarting them; also counts collections by generation. What
/// <see cref="GC.GetTotalPauseDuration"/> reports as one number, so a benchmark can say what its p99 is made of.
/// </summary>
internal sealed class GcPhases : EventListener
{
    private readonly Lock _lock = new();
    private DateTime _suspendStart, _gcStart, _restartStart;
    private double _suspendMs, _gcMs, _restartMs, _maxPauseMs;
    private DateTime _pauseStart;
    private readonly int[] _byGeneration = new int[3];
    private static readonly string[] MarkNames = ["stacks", "finalizer queue", "handles", "older generations (cards)", "sized refs", "overflow", "dependent handles", "new finalizer queue", "steal"];
    private readonly double[] _markMs = new double[MarkNames.Length];
    private readonly long[] _markBytes = new long[MarkNames.Length];
    private DateTime _lastMark;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Informational, (EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        lock (_lock)
        {
            switch (e.EventName)
            {
                case "GCSuspendEEBegin_V1":
                    _suspendStart = _pauseStart = e.TimeStamp;
                    break;
                case "GCSuspendEEEnd_V1":
                    _suspendMs += (e.TimeStamp - _suspendStart).TotalMilliseconds;
                    break;
                case "GCStart_V2":
                    _gcStart = _lastMark = e.TimeStamp;
                    if (e.Payload is { Count: > 1 } p && p[1] is uint depth && depth < 3)
                    {
                        _byGeneration[depth]++;
                    }

                    break;
                case "GCMarkWithType":
                    // One event as each root kind is marked through: the time since the previous one is that kind's share.
                    if (e.Payload is { Count: > 3 } m && m[2] is uint kind && kind < MarkNames.Length)
                    {
                        _markMs[kind] += (e.TimeStamp - _lastMark).TotalMilliseconds;
                        _markBytes[kind] += m[3] is ulong bytes ? (long)bytes : 0;
                    }

                    _lastMark = e.TimeStamp;
                    break;
                case "GCEnd_V1":
                    _gcMs += (e.TimeStamp - _gcStart).TotalMilliseconds;
                    break;
                case "GCRestartEEBegin_V1":
                    _restartStart = e.TimeStamp;
                    break;
                case "GCRestartEEEnd_V1":
                    _restartMs += (e.TimeStamp - _restartStart).TotalMilliseconds;
                    _maxPauseMs = Math.Max(_maxPauseMs, (e.TimeStamp - _pauseStart).TotalMilliseconds);
                    break;
            }
        }
    }

    public void Reset()
    {
        lock (_lock)
        {
            _suspendMs = _gcMs = _restartMs = _maxPauseMs = 0;
            Array.Clear(_byGeneration);
            Array.Clear(_markMs);
            Array.Clear(_markBytes);
        }
    }

    public override string ToString()
    {
        lock (_lock)
        {
            var marks = string.Join(", ", Enumerable.Range(0, MarkNames.Length).Where(i => _markMs[i] > 0.5)
                .Select(i => $"{MarkNames[i]} {_markMs[i]:F0} ms ({_markBytes[i] / 1e6:F1} MB)"));
            return $"suspend {_suspendMs:F0} ms, collect {_gcMs:F0} ms (marking: {marks}), restart {_restartMs:F0} ms, longest pause {_maxPauseMs:F1} ms, collections gen0/1/2 {_byGeneration[0]}/{_byGeneration[1]}/{_byGeneration[2]}";
        }
    }
}
