using System.ComponentModel.DataAnnotations;
using Zhongtai.Events.Ingest;
using Zhongtai.Events.Log;
using Zhongtai.Gateway;

namespace Zhongtai.Hosting;

/// <summary>All options of a Zhongtai instance; the configuration root binds to it (see <c>zhongtai.json</c>).</summary>
public sealed class ZhongtaiOptions
{
    /// <summary>The data directory: meta.db, master.key and projects/. Default <c>data</c>.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    /// <summary>Event log and ingestion.</summary>
    public EventsOptions Events { get; set; } = new();

    /// <summary>Apps and authentication.</summary>
    public GatewayOptions Gateway { get; set; } = new();

    /// <summary>Training runs and the admission gate.</summary>
    public Zhongtai.Training.TrainingOptions Training { get; set; } = new();

    /// <summary>Cron schedules of jobs (the three-stage rocket's full and incremental runs).</summary>
    public List<Zhongtai.Jobs.JobSchedule> Schedules { get; set; } = [];

    /// <summary>The nearline realtime models.</summary>
    public Zhongtai.Nearline.RealtimeOptions Realtime { get; set; } = new();

    /// <summary>Recommendation serving (recall, ranking, exposure logging, model hot release).</summary>
    public Zhongtai.Serving.ServingOptions Serving { get; set; } = new();
}

/// <summary>The <c>Events</c> section.</summary>
public sealed class EventsOptions
{
    public EventLogOptions Log { get; set; } = new();

    public IngestOptions Ingest { get; set; } = new();
}
