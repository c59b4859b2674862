using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Zhongtai.Gateway;
using Zhongtai.Hosting;
using Zhongtai.Registry;

namespace Zhongtai.Server.Api;

/// <summary><c>/v1/models</c>: the registry of the calling app's project.</summary>
internal static class ModelsApi
{
    public static void MapModelsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/models").WithTags("models");
        group.MapGet("", (HttpContext context, ZhongtaiHost host) =>
        {
            var registry = Registry(context, host);
            return Results.Json(registry.Names().SelectMany(registry.Versions).ToList(), ApiJsonContext.Default.ListModelVersion);
        }).RequireScope(Scopes.Manage, Scopes.Serve).Produces<List<ModelVersion>>().WithSummary("Every version of every model, with aliases.");

        group.MapGet("{name}", (string name, HttpContext context, ZhongtaiHost host) =>
        {
            var versions = Registry(context, host).Versions(name).ToList();
            return versions.Count == 0
                ? EventsApi.Error(404, "model_not_found", $"No model named '{name}'.")
                : Results.Json(versions, ApiJsonContext.Default.ListModelVersion);
        }).RequireScope(Scopes.Manage, Scopes.Serve).Produces<List<ModelVersion>>().WithSummary("A model's versions, newest first.");

        group.MapPost("{name}/promote", (string name, PromoteRequest request, HttpContext context, ZhongtaiHost host) =>
            Results.Json(Registry(context, host).Promote(name, request.Version, $"api:{context.AppRequest().App.Name}"), ApiJsonContext.Default.ModelVersion))
            .RequireScope(Scopes.Manage).Produces<ModelVersion>().WithSummary("Make a version production; the old production becomes previous.");

        group.MapPost("{name}/rollback", (string name, HttpContext context, ZhongtaiHost host) =>
            Results.Json(Registry(context, host).Rollback(name), ApiJsonContext.Default.ModelVersion))
            .RequireScope(Scopes.Manage).Produces<ModelVersion>().WithSummary("Production goes back to the previous version.");
    }

    private static ModelRegistry Registry(HttpContext context, ZhongtaiHost host) => host.Project(context.AppRequest().App.Project).Models;
}
