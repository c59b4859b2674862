using System.Diagnostics.Metrics;

namespace Zhongtai.Server.Api;

/// <summary>The server's own metrics (meter <c>Zhongtai</c>), exported at <c>/metrics</c>.</summary>
public sealed class ZhongtaiMetrics
{
    public const string MeterName = "Zhongtai";

    public ZhongtaiMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        EventsIngested = meter.CreateCounter<long>("zt_events_ingested", "{event}", "Events made durable (duplicates excluded).");
        EventsDuplicated = meter.CreateCounter<long>("zt_events_duplicates", "{event}", "Events skipped as retries of an id already in the log.");
        BatchesRejected = meter.CreateCounter<long>("zt_event_batches_rejected", "{batch}", "Batches rejected as invalid; nothing of them was written.");
        meter.CreateObservableCounter("zt_exposures_logged", () => Zhongtai.Serving.ServingCounters.ExposuresLogged, "{event}", "Served items logged back as exposure events.");
        meter.CreateObservableCounter("zt_exposures_dropped", () => Zhongtai.Serving.ServingCounters.ExposuresDropped, "{event}", "Exposure events dropped because serving outran the log (the queue was full).");
        meter.CreateObservableCounter("zt_exposures_failed", () => Zhongtai.Serving.ServingCounters.ExposuresFailed, "{event}", "Exposure events the log refused (I/O failure).");
    }

    public Counter<long> EventsIngested { get; }
    public Counter<long> EventsDuplicated { get; }
    public Counter<long> BatchesRejected { get; }
}
