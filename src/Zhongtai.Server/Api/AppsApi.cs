using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Zhongtai.Server.Api;

/// <summary><c>/v1/me</c>: who the credentials belong to.</summary>
internal static class AppsApi
{
    public static void MapAppsApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/me", (HttpContext context) =>
        {
            var app = context.AppRequest().App;
            return Results.Json(new AppInfo(app.AppKey, app.Name, app.Project, app.Scopes, app.Status, app.CreatedAt, app.ExpiresAt), ApiJsonContext.Default.AppInfo);
        }).WithTags("apps").Produces<AppInfo>().WithSummary("The calling app: key, name, project, scopes.");
    }
}
