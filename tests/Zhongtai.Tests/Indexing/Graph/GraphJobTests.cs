using System.Numerics.Tensors;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Zhongtai.Demo;
using Zhongtai.Events;
using Zhongtai.Events.Ingest;
using Zhongtai.Hosting;
using Zhongtai.Indexing.Graph;
using Zhongtai.Jobs;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Indexing.Graph;

public sealed class GraphJobTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
    private ZhongtaiHost _host = null!;
    private List<Event> _events = [];

    private Project Project => _host.Project();

    public async Task InitializeAsync()
    {
        _host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = _dir.Path }, _time);
        var world = DemoWorld.Generate(new DemoWorldOptions { Seed = 5, Scale = 0.1, Days = 3, Start = _time.GetUtcNow().AddDays(-4) });
        _events = world.Events().ToList();
        await Project.Ingestor.IngestAsync(_events, backfill: true, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task GraphBuildJob_PublishesASnapshot_AndSwitchesThePointerAtomically()
    {
        var runner = new JobRunner(_host.Jobs, [new GraphJobHandler(_host)], [], _time, NullLogger.Instance);
        var dir = KnowledgeGraphSnapshots.DirectoryOf(Project.Directory);
        Assert.Null(KnowledgeGraphSnapshots.LoadLatest(dir));

        var first = runner.Enqueue("default", GraphJobHandler.GraphBuild, """{"keep":1}""", "test");
        await runner.DrainAsync(CancellationToken.None);
        var done = _host.Jobs.Get(first.Id);
        Assert.True(done.Status == JobStatus.Succeeded, done.Error);
        Assert.Contains("\"coEngagement\":", done.Result, StringComparison.Ordinal);

        var expected = KnowledgeGraphBuilder.Build(Project.Events.ReadEvents(0).Select(x => x.Event));
        var latest = KnowledgeGraphSnapshots.LoadLatest(dir)!;
        Assert.Equal(expected.NodeCount, latest.NodeCount);
        Assert.Equal(expected.EdgeCount(Relation.CoEngagement), latest.EdgeCount(Relation.CoEngagement));
        Assert.True(latest.EdgeCount(Relation.CoEngagement) > 0);
        var firstPath = KnowledgeGraphSnapshots.LatestPath(dir)!;

        // New events, a later run: the pointer moves to the new snapshot and keep=1 prunes the old one.
        var extra = Enumerable.Range(0, 40).Select(i => new Event
        {
            Type = EventTypes.Click,
            UserId = $"new-user-{i % 5}",
            ItemId = i % 2 == 0 ? "brand-new-a" : "brand-new-b",
            Timestamp = _time.GetUtcNow().AddMinutes(-i),
        }).ToList();
        await Project.Ingestor.IngestAsync(extra, backfill: true, CancellationToken.None);
        _time.Advance(TimeSpan.FromHours(1));
        var second = runner.Enqueue("default", GraphJobHandler.GraphBuild, """{"keep":1}""", "test");
        await runner.DrainAsync(CancellationToken.None);
        Assert.Equal(JobStatus.Succeeded, _host.Jobs.Get(second.Id).Status);
        var secondPath = KnowledgeGraphSnapshots.LatestPath(dir)!;
        Assert.NotEqual(firstPath, secondPath);
        Assert.Equal([secondPath], KnowledgeGraphSnapshots.List(dir));
        var updated = KnowledgeGraphSnapshots.LoadLatest(dir)!;
        Assert.True(updated.TryGetNode(NodeType.Item, "brand-new-a", out int a));
        Assert.Contains(updated.Neighbours(a, Relation.CoEngagement, 5), n => updated.KeyOf(n.Node) == "brand-new-b");
        Assert.Empty(Directory.GetFiles(dir, "*.tmp*"));
    }

    [Fact]
    public async Task GraphBuildJob_BadArguments_FailWithTheReason()
    {
        var runner = new JobRunner(_host.Jobs, [new GraphJobHandler(_host)], [], _time, NullLogger.Instance);
        var job = runner.Enqueue("default", GraphJobHandler.GraphBuild, """{"colour":"blue"}""", "test");
        await runner.DrainAsync(CancellationToken.None);
        var done = _host.Jobs.Get(job.Id);
        Assert.Equal(JobStatus.Failed, done.Status);
        Assert.Contains("colour", done.Error, StringComparison.Ordinal);
        Assert.Null(KnowledgeGraphSnapshots.LatestPath(KnowledgeGraphSnapshots.DirectoryOf(Project.Directory)));
    }

    [Fact]
    public void ScheduleExample_ParsesAndFiresNightly()
    {
        var schedule = new JobSchedule { Name = "graph-nightly", Cron = "30 2 * * *", Kind = GraphJobHandler.GraphBuild, Args = """{"keep":5}""" };
        var next = CronSchedule.Parse(schedule.Cron).Next(_time.GetUtcNow());
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 2, 30, 0, TimeSpan.Zero), next);
    }

    [Fact]
    public void DeepWalkOnGraphWalks_IsDeterministic_AndPlacesCoEngagedItemsCloser()
    {
        var graph = KnowledgeGraphBuilder.Build(_events);
        var options = new GraphDeepWalkOptions { Dimension = 16, WalksPerItem = 4, WalkLength = 20, Threads = 1, Seed = 9 };
        var a = GraphDeepWalk.Train(graph, options);
        var b = GraphDeepWalk.Train(graph, options);
        Assert.Equal(a.Vectors, b.Vectors);
        Assert.Equal(a.ItemIds, b.ItemIds);
        Assert.True(a.Walks > 0);

        var row = a.ItemIds.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i, StringComparer.Ordinal);
        float Cos(int x, int y) => TensorPrimitives.CosineSimilarity(a.Vectors.AsSpan(x * 16, 16), a.Vectors.AsSpan(y * 16, 16));
        var rng = new Random(1);
        double neighbours = 0, random = 0;
        int pairs = 0;
        foreach (var (id, i) in row)
        {
            int node = graph.GetNode(NodeType.Item, id);
            var top = graph.Neighbours(node, Relation.CoEngagement, 1);
            if (top.Length == 0 || !row.TryGetValue(graph.KeyOf(top[0].Node), out int j))
            {
                continue;
            }
            neighbours += Cos(i, j);
            random += Cos(i, rng.Next(row.Count));
            pairs++;
        }
        Assert.True(pairs > 20);
        Assert.True(neighbours / pairs > (random / pairs) + 0.2, $"neighbour cosine {neighbours / pairs:F3} vs random {random / pairs:F3}");

        var table = a.Table(id => id == a.ItemIds[0] ? 2 : null, 3);
        Assert.Equal(a.Vectors.AsSpan(0, 16).ToArray(), table.AsSpan(32, 16).ToArray());
        Assert.All(table.AsSpan(0, 32).ToArray(), v => Assert.Equal(0f, v));
    }
}
