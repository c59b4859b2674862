using System.ComponentModel.DataAnnotations;

namespace Zhongtai.Events.Ingest;

/// <summary>Limits and rules of event ingestion (configuration section <c>Events:Ingest</c>).</summary>
public sealed class IngestOptions
{
    /// <summary>Largest request body. Default 32 MiB.</summary>
    [Range(1024, int.MaxValue)]
    public int MaxBodyBytes { get; set; } = 32 << 20;

    /// <summary>Largest single event, as JSON. Default 64 KiB.</summary>
    [Range(256, 1 << 20)]
    public int MaxEventBytes { get; set; } = 64 << 10;

    /// <summary>Most events in one batch. Default 10,000.</summary>
    [Range(1, 1_000_000)]
    public int MaxEventsPerBatch { get; set; } = 10_000;

    /// <summary>Events older than this many hours are rejected (unless backfilling). Default 168 (7 days).</summary>
    [Range(1, int.MaxValue)]
    public int MaxAgeHours { get; set; } = 168;

    /// <summary>Events more than this many seconds in the future are rejected. Default 300.</summary>
    [Range(0, int.MaxValue)]
    public int MaxFutureSkewSeconds { get; set; } = 300;

    /// <summary>Event types accepted beside the built-in ones (e.g. <c>add_to_cart</c>). Default none.</summary>
    public List<string> CustomTypes { get; set; } = [];

    /// <summary>Longest id (event, user, item, session, request). Default 256.</summary>
    [Range(1, 4096)]
    public int MaxIdLength { get; set; } = 256;
}
