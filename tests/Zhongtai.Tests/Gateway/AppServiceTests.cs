using System.Text;
using Zhongtai.Gateway;
using Zhongtai.Hosting;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Gateway;

public class AppServiceTests
{
    [Fact]
    public async Task Create_ReturnsSecretOnce_AndStoresItSealed()
    {
        using var dir = new TempDirectory();
        string secret;
        await using (var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path }))
        {
            var created = host.Apps.Create("shop", scopes: ["ingest", "manage"]);
            secret = created.AppSecret;
            Assert.StartsWith(created.App.AppKey + ".", created.Token, StringComparison.Ordinal);
            Assert.Equal(["ingest", "manage"], created.App.Scopes);
            Assert.Equal("default", created.App.Project);
            Assert.Single(host.Apps.List());
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var db = await File.ReadAllBytesAsync(dir.Combine("meta.db"));
        var wal = File.Exists(dir.Combine("meta.db-wal")) ? await File.ReadAllBytesAsync(dir.Combine("meta.db-wal")) : [];
        Assert.DoesNotContain(secret, Encoding.Latin1.GetString([.. db, .. wal]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DuplicateName_BadName_BadScopes_AreRejectedWithCodes()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        host.Apps.Create("shop");
        Assert.Equal("app_exists", Assert.Throws<AppException>(() => host.Apps.Create("shop")).Code);
        Assert.Equal("invalid_name", Assert.Throws<AppException>(() => host.Apps.Create("Shop!")).Code);
        Assert.Equal("invalid_scopes", Assert.Throws<AppException>(() => host.Apps.Create("x", scopes: ["root"])).Code);
        Assert.Equal("app_not_found", Assert.Throws<AppException>(() => host.Apps.Disable("nope")).Code);
    }

    [Fact]
    public async Task DisableAndRotate_ChangeWhatAuthenticates()
    {
        using var dir = new TempDirectory();
        await using var host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = dir.Path });
        var created = host.Apps.Create("shop");
        var rotated = host.Apps.RotateSecret("shop");
        Assert.NotEqual(created.AppSecret, rotated.AppSecret);
        Assert.Equal(rotated.AppSecret, host.Apps.FindWithSecret(created.App.AppKey)!.Value.Secret);
        Assert.False(host.Apps.Disable("shop").IsActive);
        Assert.True(host.Apps.Enable("shop").IsActive);
    }
}
