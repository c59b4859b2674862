using Microsoft.Extensions.Time.Testing;
using Zhongtai.Indexing.Features;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Indexing.Features;

public class FeatureStoreTests
{
    private static readonly string[] Names = ["ctr7d", "clicks7d", "age"];
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));

    private static (string, float[])[] Rows(int n, float offset = 0) =>
        [.. Enumerable.Range(0, n).Select(i => ($"u{i}", new[] { i + offset, i * 2 + offset, 30f }))];

    [Fact]
    public void BatchedLookup_ReturnsRowsInKeyOrder_AndZerosForMissingKeys()
    {
        using var dir = new TempDirectory();
        var store = new EmbeddedFeatureStore(dir.Path, Names, _time);
        store.LoadVersion("v1", Rows(100));
        var dest = new float[3 * 3];
        var found = new bool[3];
        Assert.Equal(2, store.GetMany(["u7", "nobody", "u3"], dest, found));
        Assert.Equal([7f, 14f, 30f, 0f, 0f, 0f, 3f, 6f, 30f], dest);
        Assert.Equal([true, false, true], found);
    }

    [Fact]
    public void Versions_PersistAndSwitch_AndReopenServesTheActiveOne()
    {
        using var dir = new TempDirectory();
        var store = new EmbeddedFeatureStore(dir.Path, Names, _time);
        store.LoadVersion("v1", Rows(10));
        store.LoadVersion("v2", Rows(10, offset: 100));
        Assert.Equal("v2", store.ActiveVersion);

        var reopened = new EmbeddedFeatureStore(dir.Path, Names, _time);
        var dest = new float[3];
        reopened.GetMany(["u1"], dest, new bool[1]);
        Assert.Equal(("v2", 101f), (reopened.ActiveVersion, dest[0]));
    }

    [Fact]
    public void NearlineUpdates_OverrideUntilTheirTtl()
    {
        using var dir = new TempDirectory();
        var store = new EmbeddedFeatureStore(dir.Path, Names, _time);
        store.LoadVersion("v1", Rows(5));
        store.Put("u1", [0.5f, 99f, 31f], TimeSpan.FromMinutes(10));
        store.Put("new-user", [0.1f, 1f, 20f]);
        var dest = new float[6];
        var found = new bool[2];
        store.GetMany(["u1", "new-user"], dest, found);
        Assert.Equal([0.5f, 99f, 31f, 0.1f, 1f, 20f], dest);

        _time.Advance(TimeSpan.FromMinutes(11));
        store.GetMany(["u1", "new-user"], dest, found);
        Assert.Equal(1f, dest[0]); // back to the base
        Assert.Equal(1, store.Sweep());
    }

    [Fact]
    public void BadInput_IsRefusedClearly()
    {
        using var dir = new TempDirectory();
        var store = new EmbeddedFeatureStore(dir.Path, Names, _time);
        Assert.Throws<ArgumentException>(() => store.Put("u", [1f]));
        Assert.Throws<ArgumentException>(() => store.LoadVersion("v1", [("u", new[] { 1f })]));
        Assert.Throws<ArgumentException>(() => store.LoadVersion("v1", [("u", new[] { 1f, 2f, 3f }), ("u", new[] { 1f, 2f, 3f })]));
        Assert.Throws<ArgumentException>(() => store.LoadVersion("../x", []));
        Assert.Throws<ArgumentException>(() => new EmbeddedFeatureStore(dir.Path, ["a", "a"], _time));
        Assert.Throws<ArgumentException>(() => store.GetMany(["u"], new float[2], new bool[1]));
    }

    [Fact]
    public void CorruptVersionFile_IsRefused_AndATornLoadLeavesThePreviousVersionActive()
    {
        using var dir = new TempDirectory();
        var store = new EmbeddedFeatureStore(dir.Path, Names, _time);
        store.LoadVersion("v1", Rows(10));
        File.WriteAllText(dir.Combine("v2.zfs.tmp"), "half a file"); // a crash mid-write: never made CURRENT
        Assert.Equal("v1", new EmbeddedFeatureStore(dir.Path, Names, _time).ActiveVersion);

        var bytes = File.ReadAllBytes(dir.Combine("v1.zfs"));
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(dir.Combine("v1.zfs"), bytes);
        Assert.Throws<InvalidDataException>(() => new EmbeddedFeatureStore(dir.Path, Names, _time));
    }

    [Fact]
    public async Task ConcurrentReads_DuringVersionSwitches_SeeWholeRows()
    {
        using var dir = new TempDirectory();
        var store = new EmbeddedFeatureStore(dir.Path, Names, _time);
        store.LoadVersion("v0", Rows(1000));
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            var dest = new float[3];
            var found = new bool[1];
            while (!stop.IsCancellationRequested)
            {
                store.GetMany(["u10"], dest, found);
                Assert.True(found[0]);
                Assert.Equal(10f, dest[1] - dest[0]); // both columns from one version's row: (10+o, 20+o)
            }
        })).ToArray();
        for (var v = 1; v <= 5; v++)
        {
            store.LoadVersion("v" + v, Rows(1000, offset: v * 1000));
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers);
    }
}
