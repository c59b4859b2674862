using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Zhongtai.Gateway;
using Zhongtai.Hosting;
using Zhongtai.Server;

namespace Zhongtai.Tests.Support;

/// <summary>A real host and a real Kestrel server on a free loopback port, in a temp data directory.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly TempDirectory _dir = new();
    private WebApplication _app = null!;

    public ZhongtaiHost Host { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<TestServer> StartAsync(Action<ZhongtaiOptions>? configure = null, TimeProvider? time = null)
    {
        var server = new TestServer();
        var options = new ZhongtaiOptions { DataDirectory = server._dir.Path };
        configure?.Invoke(options);
        server.Host = ZhongtaiHost.Open(options, time);
        server._app = ZhongtaiServer.Build(server.Host, ["http://127.0.0.1:0"]);
        await server._app.StartAsync();
        var address = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseAddress = new Uri(address);
        return server;
    }

    /// <summary>A client that sends <paramref name="credentials"/>'s bearer token (or none).</summary>
    public HttpClient Client(AppCredentials? credentials = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (credentials is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", credentials.Token);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await Host.DisposeAsync();
        _dir.Dispose();
    }
}
