using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Zhongtai.Hosting;
using Zhongtai.Registry;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Registry;

public sealed class ModelRegistryTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));
    private ZhongtaiHost _host = null!;

    private ModelRegistry Registry => _host.Project().Models;

    public Task InitializeAsync()
    {
        _host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = _dir.Path }, _time);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _dir.Dispose();
    }

    private ModelVersion Register(string content, int? parent = null, string name = "ranker") =>
        Registry.Register(new ModelRegistration(name, "ftrl", "zt-ftrl/1", "{\"alpha\":0.1}", ["samples@3"], new Dictionary<string, double> { ["auc"] = 0.7 }, parent, "test"), Encoding.UTF8.GetBytes(content));

    [Fact]
    public void Register_NumbersVersions_AndStoresArtifactsByChecksum()
    {
        var v1 = Register("weights-1");
        var v2 = Register("weights-2", parent: 1);
        var v3 = Register("weights-1");
        Assert.Equal([1, 2, 3], new[] { v1.Version, v2.Version, v3.Version });
        Assert.Equal(v1.Checksum, v3.Checksum);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(_host.Project().Directory, "models"), "*.bin").Length);
        Assert.Equal("weights-2", Encoding.UTF8.GetString(Registry.ReadArtifact(v2)));
        Assert.Equal(1, Registry.Get("ranker", 2).ParentVersion);
        Assert.Equal(0.7, v2.Metrics["auc"]);
        Assert.Equal("version_not_found", Assert.Throws<RegistryException>(() => Register("x", parent: 99)).Code);
    }

    [Fact]
    public void Promote_MovesProductionToPrevious_AndRollbackWalksBack()
    {
        for (var i = 1; i <= 3; i++)
        {
            Register("w" + i);
        }

        Registry.Promote("ranker", 1);
        Registry.Promote("ranker", 2);
        Registry.Promote("ranker", 3);
        Assert.Equal(3, Registry.Resolve("ranker", ModelAliases.Production)!.Version);
        Assert.Equal(2, Registry.Resolve("ranker", ModelAliases.Previous)!.Version);

        Assert.Equal(2, Registry.Rollback("ranker").Version);
        Assert.Equal(1, Registry.Resolve("ranker", ModelAliases.Previous)!.Version);
        Assert.Equal(1, Registry.Rollback("ranker").Version);
        Assert.Null(Registry.Resolve("ranker", ModelAliases.Previous));
        Assert.Equal("nothing_to_roll_back", Assert.Throws<RegistryException>(() => Registry.Rollback("ranker")).Code);
        Assert.Equal(["production"], Registry.Get("ranker", 1).Aliases);
    }

    [Fact]
    public void RejectedVersion_CannotBePromoted_AndKeepsItsReasons()
    {
        Register("w1");
        Registry.SetStatus("ranker", 1, ModelStatus.Rejected, ["auc 0.61 < production 0.70 - 0.005"]);
        var ex = Assert.Throws<RegistryException>(() => Registry.Promote("ranker", 1));
        Assert.Equal("version_rejected", ex.Code);
        Assert.Contains("auc 0.61", Registry.Get("ranker", 1).StatusReasons[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentPromotions_LeaveOneConsistentState()
    {
        for (var i = 1; i <= 8; i++)
        {
            Register("w" + i);
        }

        await Task.WhenAll(Enumerable.Range(1, 8).Select(v => Task.Run(() => Registry.Promote("ranker", v))));
        var production = Registry.Resolve("ranker", ModelAliases.Production)!;
        var previous = Registry.Resolve("ranker", ModelAliases.Previous)!;
        Assert.NotEqual(production.Version, previous.Version);
        Assert.Equal(previous.Version, Registry.Rollback("ranker").Version);
    }

    [Fact]
    public void CorruptOrTruncatedArtifact_IsRefused()
    {
        var v = Register("some weights");
        var path = Path.Combine(_host.Project().Directory, "models", v.Checksum + ".bin");
        File.WriteAllText(path, "some weightz");
        Assert.Throws<CorruptArtifactException>(() => Registry.ReadArtifact(v));
        File.WriteAllText(path, "some");
        Assert.Throws<CorruptArtifactException>(() => Registry.ReadArtifact(v));
        File.Delete(path);
        Assert.Throws<CorruptArtifactException>(() => Registry.ReadArtifact(v));
    }

    [Fact]
    public void Gc_RemovesOldUnaliasedVersionsAndFiles_NeverAliasedOnesOrTheirLineage()
    {
        Register("w1");
        Register("w2", parent: 1);
        Register("w3");
        Register("w4");
        Registry.Promote("ranker", 2);
        Registry.SetAlias("ranker", "bucket-b", 4);
        _time.Advance(TimeSpan.FromDays(10));
        var old = _time.GetUtcNow().AddDays(-30).UtcDateTime;
        foreach (var f in Directory.GetFiles(Path.Combine(_host.Project().Directory, "models")))
        {
            File.SetLastWriteTimeUtc(f, old);
        }

        var (versions, files) = Registry.CollectGarbage(TimeSpan.FromDays(7));
        Assert.Equal((1, 1), (versions, files));
        Assert.Equal([4, 2, 1], Registry.Versions("ranker").Select(v => v.Version));
        Assert.Equal("w2", Encoding.UTF8.GetString(Registry.ReadArtifact(Registry.Get("ranker", 2))));
    }

    [Fact]
    public async Task Http_ListPromoteRollback_NeedManageScope()
    {
        await using var server = await TestServer.StartAsync();
        var registry = server.Host.Project().Models;
        registry.Register(new ModelRegistration("ranker", "ftrl", "zt-ftrl/1", "{}", [], new Dictionary<string, double>(), null, "t"), [1, 2, 3]);
        registry.Register(new ModelRegistration("ranker", "ftrl", "zt-ftrl/1", "{}", [], new Dictionary<string, double>(), null, "t"), [4, 5, 6]);
        using var reader = server.Client(server.Host.Apps.Create("reader", scopes: ["serve"]));
        using var admin = server.Client(server.Host.Apps.Create("admin", scopes: ["manage"]));

        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/v1/models/ranker")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsJsonAsync("/v1/models/ranker/promote", new { version = 1 })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync("/v1/models/ranker/promote", new { version = 1 })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync("/v1/models/ranker/promote", new { version = 2 })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/v1/models/ranker/rollback", null)).StatusCode);
        Assert.Equal(1, registry.Resolve("ranker", "production")!.Version);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsJsonAsync("/v1/models/ranker/promote", new { version = 9 })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/v1/models/nope")).StatusCode);
    }
}
