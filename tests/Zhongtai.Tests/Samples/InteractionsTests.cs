using Microsoft.Extensions.Time.Testing;
using Zhongtai.Events;
using Zhongtai.Hosting;
using Zhongtai.Samples;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Samples;

public class InteractionsTests
{
    [Fact]
    public void IdDictionary_IsDenseDurable_AndDropsATornTail()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("ids", "users.dict");
        using (var ids = IdDictionary.Open(path))
        {
            Assert.Equal([0, 1, 0, 2], new[] { ids.GetOrAdd("alice"), ids.GetOrAdd("bob"), ids.GetOrAdd("alice"), ids.GetOrAdd("用户") });
        }

        using (var fs = new FileStream(path, FileMode.Append))
        {
            fs.Write([9, 0, 0, 0, 1, 2]); // a torn record
        }

        using var reopened = IdDictionary.Open(path);
        Assert.Equal(3, reopened.Count);
        Assert.Equal((1, "用户", -1), (reopened.Find("bob"), reopened[2], reopened.Find("carol")));
        Assert.Equal(3, reopened.GetOrAdd("carol"));
    }

    [Fact]
    public async Task Builder_WeighsDedupsAndRespectsTimeAndExclusions()
    {
        using var dir = new TempDirectory();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path }, time);
        var project = host.Project();
        var t0 = time.GetUtcNow().AddHours(-5);
        Event E(string type, string user, string item, int minutes, double? value = null) =>
            new() { Type = type, UserId = user, ItemId = item, Timestamp = t0.AddMinutes(minutes), Value = value };
        await project.Ingestor.IngestAsync(
        [
            E("exposure", "u1", "a", 0),
            E("click", "u1", "a", 1),
            E("purchase", "u1", "a", 2, 30),
            E("dwell", "u1", "b", 3, 2),     // too short
            E("dwell", "u1", "c", 4, 60),
            E("click", "u2", "a", 5),        // excluded below (offset 5)
            E("like", "u2", "b", 200),       // after the cut-off
        ], backfill: false, CancellationToken.None);

        var interactions = InteractionsBuilder.Build(project.Events, project.UserIds, project.ItemIds, new InteractionOptions(), until: t0.AddMinutes(100), exclude: offset => offset == 5);
        var rows = Enumerable.Range(0, interactions.Count).Select(i => (interactions.UserIds[interactions.Users[i]], interactions.ItemIds[interactions.Items[i]], interactions.Values[i])).ToList();
        Assert.Equal([("u1", "a", 5f), ("u1", "c", 1f)], rows);
    }
}
