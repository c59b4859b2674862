using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Zhongtai.Events.Ingest;
using Zhongtai.Hosting;
using Zhongtai.Indexing.Graph;

namespace Zhongtai.Jobs;

/// <summary>
/// Runs <c>graph-build</c> jobs: builds the project's knowledge graph from its whole event log
/// (<see cref="KnowledgeGraphBuilder"/>) and publishes it under <c>PROJECT/index/graph</c> with the <c>CURRENT</c> pointer
/// switched atomically (<see cref="KnowledgeGraphSnapshots"/>). Arguments (JSON, all optional): <c>keep</c> (snapshots
/// kept, default 3) and the <see cref="KnowledgeGraphOptions"/> <c>coEngagementWindow</c>, <c>minCoEngagement</c>,
/// <c>topNeighbours</c>, <c>contentSimilarity</c>, <c>contentSimilarityThreshold</c>, <c>includeUsers</c>.
/// Schedule it like the trainers, e.g. <c>{"Name":"graph-nightly","Cron":"30 2 * * *","Kind":"graph-build","Args":"{\"keep\":5}"}</c>
/// in <c>Schedules</c>.
/// </summary>
public sealed class GraphJobHandler(ZhongtaiHost host) : IJobHandler
{
    public const string GraphBuild = "graph-build";

    public string Kind => GraphBuild;

    public Task<string> RunAsync(JobContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (options, keep) = ParseArgs(context.Job.Args);
        var project = host.Project(context.Job.Project);
        var sw = Stopwatch.StartNew();
        var builder = new KnowledgeGraphBuilder(options);
        long read = 0;
        long end = project.Events.NextOffset;
        foreach (var (_, e) in project.Events.ReadEvents(project.Events.StartOffset, end))
        {
            if ((++read & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
            builder.Add(e);
        }
        var graph = builder.Build(cancellationToken);
        context.Log(string.Create(CultureInfo.InvariantCulture, $"read {read} events up to offset {end}, {builder.EventsUsed} used; {graph.NodeCount} nodes in {sw.Elapsed.TotalSeconds:F2} s"));
        var path = KnowledgeGraphSnapshots.Publish(graph, KnowledgeGraphSnapshots.DirectoryOf(project.Directory), host.Time.GetUtcNow(), Tag(context.Job.Id), keep, cancellationToken);
        context.Log($"published {Path.GetFileName(path)}");

        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("snapshot", Path.GetFileName(path));
            w.WriteNumber("events", read);
            w.WriteNumber("eventsUsed", builder.EventsUsed);
            w.WriteNumber("toOffset", end);
            w.WriteNumber("nodes", graph.NodeCount);
            w.WriteNumber("items", graph.Items.Length);
            w.WriteStartObject("edges");
            foreach (var r in Enum.GetValues<Relation>())
            {
                w.WriteNumber(JsonNamingPolicy.CamelCase.ConvertName(r.ToString()), graph.EdgeCount(r));
            }
            w.WriteEndObject();
            w.WriteNumber("seconds", Math.Round(sw.Elapsed.TotalSeconds, 3));
            w.WriteEndObject();
        }
        return Task.FromResult(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static string Tag(string jobId)
    {
        var clean = new string([.. jobId.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')]);
        return clean.Length == 0 ? "job" : clean;
    }

    private static (KnowledgeGraphOptions Options, int Keep) ParseArgs(string args)
    {
        var options = new KnowledgeGraphOptions();
        int keep = 3;
        if (string.IsNullOrWhiteSpace(args))
        {
            return (options, keep);
        }
        using var doc = JsonDocument.Parse(args);
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            switch (p.Name)
            {
                case "keep": keep = p.Value.GetInt32(); break;
                case "coEngagementWindow": options.CoEngagementWindow = p.Value.GetInt32(); break;
                case "minCoEngagement": options.MinCoEngagement = p.Value.GetInt32(); break;
                case "topNeighbours": options.TopNeighbours = p.Value.GetInt32(); break;
                case "contentSimilarity": options.ContentSimilarity = p.Value.GetBoolean(); break;
                case "contentSimilarityThreshold": options.ContentSimilarityThreshold = p.Value.GetSingle(); break;
                case "includeUsers": options.IncludeUsers = p.Value.GetBoolean(); break;
                default: throw new ArgumentException($"Unknown graph-build argument '{p.Name}'.", nameof(args));
            }
        }
        if (keep < 1)
        {
            throw new ArgumentException($"keep must be >= 1; got {keep}.", nameof(args));
        }
        options.Validate();
        return (options, keep);
    }
}
