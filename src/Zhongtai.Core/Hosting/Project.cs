using Zhongtai.Events.Ingest;
using Zhongtai.Events.Log;
using Zhongtai.Registry;

namespace Zhongtai.Hosting;

/// <summary>A project's own stores: the unit of isolation. Nothing crosses projects.</summary>
public sealed class Project : IAsyncDisposable
{
    internal Project(string name, string directory, EventLog log, EventIngestor ingestor, ModelRegistry models)
    {
        Models = models;
        Name = name;
        Directory = directory;
        Events = log;
        Ingestor = ingestor;
    }

    public string Name { get; }

    /// <summary><c>DATA/projects/NAME</c>.</summary>
    public string Directory { get; }

    /// <summary>The durable event log (<c>events/</c>).</summary>
    public EventLog Events { get; }

    public EventIngestor Ingestor { get; }

    /// <summary>The model registry (<c>models/</c>: artifacts addressed by checksum).</summary>
    public ModelRegistry Models { get; }

    /// <summary><c>lake/</c>: Parquet partitions.</summary>
    public string LakeDirectory => Path.Combine(Directory, "lake");

    public ValueTask DisposeAsync() => Events.DisposeAsync();
}
