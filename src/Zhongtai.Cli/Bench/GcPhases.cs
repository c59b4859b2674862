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
                    _gcStart = e.TimeStamp;
                    if (e.Payload is { Count: > 1 } p && p[1] is uint depth && depth < 3)
                    {
                        _byGeneration[depth]++;
                    }

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
        }
    }

    public override string ToString()
    {
        lock (_lock)
        {
            return $"suspend {_suspendMs:F0} ms, collect {_gcMs:F0} ms, restart {_restartMs:F0} ms, longest pause {_maxPauseMs:F1} ms, collections gen0/1/2 {_byGeneration[0]}/{_byGeneration[1]}/{_byGeneration[2]}";
        }
    }
}
