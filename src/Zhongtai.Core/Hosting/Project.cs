using Zhongtai.Events.Ingest;
using Zhongtai.Events.Log;
using Zhongtai.Registry;
using Zhongtai.Samples;

namespace Zhongtai.Hosting;

/// <summary>A project's own stores: the unit of isolation. Nothing crosses projects.</summary>
public sealed class Project : IAsyncDisposable
{
    internal Project(string name, string directory, EventLog log, EventIngestor ingestor, ModelRegistry models)
    {
        Models = models;
        _users = new(() => IdDictionary.Open(Path.Combine(directory, "ids", "users.dict")));
        _items = new(() => IdDictionary.Open(Path.Combine(directory, "ids", "items.dict")));
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

    private readonly Lazy<IdDictionary> _users = null!;
    private readonly Lazy<IdDictionary> _items = null!;

    /// <summary>External user ids → dense ints (<c>ids/users.dict</c>, append-only).</summary>
    public IdDictionary UserIds => _users.Value;

    /// <summary>External item ids → dense ints (<c>ids/items.dict</c>, append-only).</summary>
    public IdDictionary ItemIds => _items.Value;

    public async ValueTask DisposeAsync()
    {
        if (_users.IsValueCreated)
        {
            _users.Value.Dispose();
        }

        if (_items.IsValueCreated)
        {
            _items.Value.Dispose();
        }

        await Events.DisposeAsync().ConfigureAwait(false);
    }
}
