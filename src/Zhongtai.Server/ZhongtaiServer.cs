using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Scalar.AspNetCore;
using Zhongtai.Hosting;
using Zhongtai.Server.Api;

namespace Zhongtai.Server;

/// <summary>The HTTP server over a <see cref="ZhongtaiHost"/>: what <c>zt serve</c> runs and what the integration tests start.</summary>
public static class ZhongtaiServer
{
    /// <summary>Builds the web application; call <c>StartAsync</c>/<c>RunAsync</c> on it. The caller owns <paramref name="host"/>.</summary>
    public static WebApplication Build(ZhongtaiHost host, IEnumerable<string> urls)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = host.DataDirectory });
        builder.WebHost.UseUrls([.. urls]);
        ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
        if (host.Options.Serving.MinWorkerThreads > minWorkers)
        {
            ThreadPool.SetMinThreads(host.Options.Serving.MinWorkerThreads, minIo);
        }

        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = host.Options.Events.Ingest.MaxBodyBytes;
            k.AddServerHeader = false;
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(host.Loggers);
        builder.Services.AddSingleton(host);
        builder.Services.AddSingleton(host.Time);
        builder.Services.Configure<KestrelServerOptions>(o => o.AllowSynchronousIO = false);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "Zhongtai API";
            doc.Info.Description = "Authenticate with 'Authorization: Bearer <appKey>.<appSecret>' or a ZT-HMAC-SHA256 signature.";
            return Task.CompletedTask;
        }));
        builder.Services.AddOpenTelemetry().WithMetrics(m => m
            .AddMeter(ZhongtaiMetrics.MeterName)
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            .AddPrometheusExporter());
        builder.Services.AddSingleton<ZhongtaiMetrics>();
        builder.Services.AddSingleton<FeatureService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<FeatureService>());
        builder.Services.AddSingleton<RealtimeService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RealtimeService>());
        builder.Services.AddHostedService<JobsService>();
        builder.Services.AddSingleton<SearchService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SearchService>());
        builder.Services.AddSingleton<RecommendService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RecommendService>());

        var app = builder.Build();
        app.UseMiddleware<ErrorMiddleware>();
        app.UseMiddleware<AppAuthenticationMiddleware>();
        app.MapGet("/healthz", () => Results.Json(new HealthResponse("ok"), ApiJsonContext.Default.HealthResponse))
            .WithTags("system").WithSummary("Liveness: 200 when the server is up.");
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapScalarApiReference("/docs", o => o.WithTitle("Zhongtai API").WithOpenApiRoutePattern("/openapi/{documentName}.json"));
        app.MapGet("/", () => Results.Redirect("/docs")).ExcludeFromDescription();
        app.MapEventsApi();
        app.MapAppsApi();
        app.MapModelsApi();
        app.MapRealtimeApi();
        app.MapFeaturesApi();
        app.MapSearchApi();
        app.MapRecommendApi();
        return app;
    }
}
