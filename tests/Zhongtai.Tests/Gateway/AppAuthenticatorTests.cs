using System.Text;
using Microsoft.Extensions.Time.Testing;
using Zhongtai.Gateway;
using Zhongtai.Hosting;
using Zhongtai.Tests.Support;

namespace Zhongtai.Tests.Gateway;

public sealed class AppAuthenticatorTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero));
    private ZhongtaiHost _host = null!;
    private AppCredentials _app = null!;

    public Task InitializeAsync()
    {
        _host = ZhongtaiHost.Open(new ZhongtaiOptions { DataDirectory = _dir.Path }, _time);
        _app = _host.Apps.Create("shop", expiresAt: _time.GetUtcNow().AddDays(30));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _dir.Dispose();
    }

    private AuthResult Bearer(string token) => _host.Authenticator.Authenticate(new AuthRequest("GET", "/v1/me", "Bearer " + token, default));

    private AuthResult Signed(string method, string path, string body, string? nonce = null, DateTimeOffset? at = null, string? sentBody = null)
    {
        var header = RequestSigner.Header(_app.App.AppKey, _app.AppSecret, method, path, at ?? _time.GetUtcNow(), nonce ?? Guid.NewGuid().ToString("N"), Encoding.UTF8.GetBytes(body));
        return _host.Authenticator.Authenticate(new AuthRequest(method, path, header, Encoding.UTF8.GetBytes(sentBody ?? body)));
    }

    [Fact]
    public void Bearer_ValidToken_Succeeds() => Assert.Equal("shop", Bearer(_app.Token).App!.Name);

    [Theory]
    [InlineData("", "missing_credentials")]
    [InlineData("nodot", "malformed_credentials")]
    [InlineData("akunknown.secret", "invalid_credentials")]
    public void Bearer_BadTokens_FailWithReason(string token, string code)
    {
        var result = token.Length == 0
            ? _host.Authenticator.Authenticate(new AuthRequest("GET", "/", null, default))
            : Bearer(token);
        Assert.Equal(code, result.Code);
    }

    [Fact]
    public void Bearer_WrongSecret_GetsSameAnswerAsUnknownKey() =>
        Assert.Equal(Bearer("akunknown.x").Code, Bearer(_app.App.AppKey + ".wrong").Code);

    [Fact]
    public void Bearer_DisabledApp_IsRejected()
    {
        _host.Apps.Disable("shop");
        _time.Advance(TimeSpan.FromSeconds(3)); // past the credential cache
        Assert.Equal("app_disabled", Bearer(_app.Token).Code);
    }

    [Fact]
    public void Bearer_ExpiredApp_IsRejected()
    {
        _time.Advance(TimeSpan.FromDays(31));
        Assert.Equal("credentials_expired", Bearer(_app.Token).Code);
    }

    [Fact]
    public void Bearer_RotatedSecret_OldTokenStopsWorking()
    {
        var rotated = _host.Apps.RotateSecret("shop");
        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal("invalid_credentials", Bearer(_app.Token).Code);
        Assert.True(Bearer(rotated.Token).Succeeded);
    }

    [Fact]
    public void Hmac_ValidSignature_Succeeds() => Assert.True(Signed("POST", "/v1/events", "[]").Succeeded);

    [Fact]
    public void Hmac_TamperedBody_IsRejected() => Assert.Equal("invalid_credentials", Signed("POST", "/v1/events", "[]", sentBody: "[1]").Code);

    [Fact]
    public void Hmac_ReplayedNonce_IsRejected()
    {
        Assert.True(Signed("GET", "/v1/me", "", nonce: "nonce-123456").Succeeded);
        Assert.Equal("replayed_request", Signed("GET", "/v1/me", "", nonce: "nonce-123456").Code);
    }

    [Fact]
    public void Hmac_ClockSkew_IsBounded()
    {
        Assert.Equal("timestamp_out_of_window", Signed("GET", "/v1/me", "", at: _time.GetUtcNow().AddMinutes(-10)).Code);
        Assert.True(Signed("GET", "/v1/me", "", at: _time.GetUtcNow().AddMinutes(-4)).Succeeded);
    }

    [Fact]
    public void Hmac_MissingParts_IsMalformed() =>
        Assert.Equal("malformed_credentials", _host.Authenticator.Authenticate(new AuthRequest("GET", "/", "ZT-HMAC-SHA256 Key=ak1", default)).Code);
}
