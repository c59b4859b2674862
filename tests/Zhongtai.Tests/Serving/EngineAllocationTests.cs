using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;
using Zhongtai.Events;
using Zhongtai.Hosting;
using Zhongtai.Nearline;
using Zhongtai.Serving;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Serving;

/// <summary>
/// The engine's compute stages (recall from the built-in channels, merge, FTRL ranking, category and frequency cap)
/// allocate nothing per request once warm: what a request allocates is its response (the result, its items, the request
/// id and the model labels). Counted with the thread's allocation counter; exposure logging is off (it has its own path).
/// </summary>
public class EngineAllocationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RecommendAsync_AllocatesOnlyTheResponse_OnceWarm()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var project = host.Project();
        var now = host.Time.GetUtcNow();
        var events = new List<Event>();
        for (var i = 0; i < 2000; i++)
        {
            events.Add(new Event { Type = EventTypes.Item, ItemId = $"i{i}", Category = $"c{i % 20}", Timestamp = now.AddMinutes(-600 + (i * 0.1)) });
        }

        var rng = new Random(5);
        for (var u = 0; u < 200; u++)
        {
            for (var c = 0; c < 15; c++)
            {
                var item = $"i{(rng.Next(100) * 20) + (u % 20)}";
                events.Add(new Event { Type = EventTypes.Exposure, UserId = $"u{u}", ItemId = item, Scene = "home", Position = c % 10, RequestId = $"r{u}-{c / 10}", Device = "ios", Timestamp = now.AddMinutes(-300 + c) });
                events.Add(new Event { Type = EventTypes.Click, UserId = $"u{u}", ItemId = item, RequestId = $"r{u}-{c / 10}", Device = "ios", Timestamp = now.AddMinutes(-300 + c).AddSeconds(5) });
            }
        }

        await project.Ingestor.IngestAsync([.. events], backfill: false, CancellationToken.None);
        var realtime = new RealtimeConsumer(project, host.Options.Realtime, host.Time, NullLogger.Instance);
        realtime.CatchUp();
        var engine = new RecommendEngine(project, realtime, host.Options.Realtime, new ServingOptions { LogExposures = false }, host.Time, host.Loggers);
        engine.CatchUp();
        engine.RefreshPopular();
        Assert.True(engine.RefreshRankWeights());
        engine.Flagged.SetFlaggedItems(["i3", "i40"]);
        await File.WriteAllTextAsync(Path.Combine(project.Directory, "scenes.json"), """
            {"scenes": {"home": {
              "channels": [{"name": "i2i", "quota": 200}, {"name": "popular", "quota": 200}, {"name": "fresh", "quota": 200}],
              "parallel": false, "maxCandidates": 300,
              "rules": {"block": ["i5"], "diversity": {"method": "categoryCap", "maxPerCategory": 2}, "frequencyCap": {"maxExposures": 1, "windowHours": 24}}}}}
            """);
        engine.Scenes.Reload();

        RecommendRequest Request(int i) => new() { UserId = $"u{i % 200}", Scene = "home", Count = 10, Device = "ios" };
        for (var i = 0; i < 400; i++)
        {
            await engine.RecommendAsync(Request(i)); // warm: scratch, per-thread channel buffers, JIT
        }

        var requests = Enumerable.Range(0, 200).Select(Request).ToArray();
        long served = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var request in requests)
        {
            var task = engine.RecommendAsync(request);
            Assert.True(task.IsCompletedSuccessfully); // no await: the channels run inline, so the count is this thread's
            served += (await task).Items.Count;
        }

        var perRequest = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)requests.Length;
        output.WriteLine($"{perRequest:F0} bytes allocated per request, {served / (double)requests.Length:F1} items served, {engine.LastCandidateCount} candidates");
        Assert.Equal(10.0, served / (double)requests.Length);
        // The response (result, model list, item array, 10 items, request id and model label strings) is about 780 bytes;
        // a Debug build adds the async state machine, a class there (about 360 bytes). Merge, rank and rerank add nothing;
        // the slot map, per-candidate arrays and per-category stamps are the pooled scratch's.
        Assert.True(perRequest < 1400, $"{perRequest:F0} bytes per request");
    }
}
