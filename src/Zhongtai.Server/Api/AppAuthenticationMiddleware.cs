using System.Buffers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Zhongtai.Gateway;
using Zhongtai.Hosting;

namespace Zhongtai.Server.Api;

/// <summary>The scope an endpoint requires (any of the listed ones).</summary>
public sealed class RequiresScopeAttribute(params string[] scopes) : Attribute
{
    public IReadOnlyList<string> Scopes { get; } = scopes;
}

/// <summary>The authenticated app and the request body it signed.</summary>
public sealed class AppRequestFeature(App app, ReadOnlyMemory<byte> body)
{
    public App App { get; } = app;
    public ReadOnlyMemory<byte> Body { get; } = body;
}

/// <summary>
/// Every <c>/v1</c> endpoint requires app credentials. The body is read once here (bounded), so that HMAC
/// signatures cover it, and handed to the endpoint through <see cref="AppRequestFeature"/>.
/// </summary>
internal sealed class AppAuthenticationMiddleware(RequestDelegate next, ZhongtaiHost host)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments("/v1", StringComparison.Ordinal) || context.GetEndpoint() is null)
        {
            await next(context);
            return;
        }

        var max = host.Options.Events.Ingest.MaxBodyBytes;
        if (context.Request.ContentLength > max)
        {
            await ErrorMiddleware.WriteAsync(context, new ApiError(413, "body_too_large", $"The body exceeds {max} bytes."));
            return;
        }

        var (buffer, length) = await ReadBodyAsync(context, max);
        try
        {
            if (length < 0)
            {
                await ErrorMiddleware.WriteAsync(context, new ApiError(413, "body_too_large", $"The body exceeds {max} bytes."));
                return;
            }

            var body = buffer.AsMemory(0, length);
            string? authorization = context.Request.Headers.Authorization;
            var signed = authorization?.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) != true; // only a signature covers the path
            var request = new AuthRequest(context.Request.Method, signed ? context.Request.Path + context.Request.QueryString : "", authorization, body);
            var result = host.Authenticator.Authenticate(request);
            if (!result.Succeeded)
            {
                context.Response.Headers.WWWAuthenticate = "Bearer, " + AppAuthenticator.HmacScheme;
                await ErrorMiddleware.WriteAsync(context, new ApiError(401, result.Code!, result.Message!));
                return;
            }

            var required = context.GetEndpoint()!.Metadata.GetMetadata<RequiresScopeAttribute>();
            if (required is not null && !HasAnyScope(result.App!, required.Scopes))
            {
                await ErrorMiddleware.WriteAsync(context, new ApiError(403, "insufficient_scope", $"This needs the scope {string.Join(" or ", required.Scopes)}."));
                return;
            }

            context.Features.Set(new AppRequestFeature(result.App!, body));
            context.Request.Body = new MemoryStream(buffer, 0, length, writable: false); // for model binding
            await next(context);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool HasAnyScope(App app, IReadOnlyList<string> scopes)
    {
        for (var i = 0; i < scopes.Count; i++)
        {
            if (app.HasScope(scopes[i]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Reads the whole body into a pooled buffer; length -1 when it exceeds <paramref name="max"/>.</summary>
    private static async ValueTask<(byte[] Buffer, int Length)> ReadBodyAsync(HttpContext context, int max)
    {
        var hint = (int)Math.Min(context.Request.ContentLength ?? 4096, max);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(hint, 256));
        var length = 0;
        while (true)
        {
            if (length == max)
            {
                var probe = new byte[1];
                return (buffer, await context.Request.Body.ReadAsync(probe, context.RequestAborted) > 0 ? -1 : length);
            }

            if (length == buffer.Length)
            {
                var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(max, buffer.Length * 2L));
                buffer.AsSpan(0, length).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = bigger;
            }

            var read = await context.Request.Body.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, max) - length), context.RequestAborted);
            if (read == 0)
            {
                return (buffer, length);
            }

            length += read;
        }
    }
}

internal static class EndpointExtensions
{
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, params string[] scopes)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new RequiresScopeAttribute(scopes));
        return builder;
    }

    public static AppRequestFeature AppRequest(this HttpContext context) =>
        context.Features.Get<AppRequestFeature>() ?? throw new InvalidOperationException("No authenticated app on this request.");
}
