using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Zhongtai.Events.Ingest;
using Zhongtai.Gateway;

namespace Zhongtai.Server.Api;

/// <summary>Turns exceptions into <see cref="ApiError"/> answers: 4xx for the caller's mistakes, 500 (logged) for ours.</summary>
internal sealed partial class ErrorMiddleware(RequestDelegate next, ILogger<ErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
            if (context.Response.StatusCode == StatusCodes.Status415UnsupportedMediaType && !context.Response.HasStarted)
            {
                // The framework answers a JSON endpoint called without a JSON content type with an empty 415.
                await WriteAsync(context, new ApiError(415, "unsupported_media_type",
                    $"Send the body as JSON with 'Content-Type: application/json' (got '{context.Request.ContentType ?? "none"}')."));
            }
        }
        catch (EventBatchException ex)
        {
            await WriteAsync(context, new ApiError(400, "invalid_events", ex.Message, ex.Errors));
        }
        catch (AppException ex)
        {
            var status = ex.Code.EndsWith("not_found", StringComparison.Ordinal) ? 404 : ex.Code == "app_exists" ? 409 : 400;
            await WriteAsync(context, new ApiError(status, ex.Code, ex.Message));
        }
        catch (Zhongtai.Registry.RegistryException ex)
        {
            var status = ex.Code.EndsWith("not_found", StringComparison.Ordinal) ? 404 : ex.Code is "version_rejected" or "nothing_to_roll_back" ? 409 : 400;
            await WriteAsync(context, new ApiError(status, ex.Code, ex.Message));
        }
        catch (BadHttpRequestException ex)
        {
            var code = ex.StatusCode == 413 ? "body_too_large" : "bad_request";
            await WriteAsync(context, new ApiError(ex.StatusCode, code, ex.Message));
        }
        catch (ArgumentException ex)
        {
            await WriteAsync(context, new ApiError(400, "invalid_argument", ex.Message));
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (Exception ex)
        {
            LogUnhandled(logger, ex, context.Request.Method, context.Request.Path);
            await WriteAsync(context, new ApiError(500, "internal_error", "The server failed; see its log."));
        }
    }

    public static Task WriteAsync(HttpContext context, ApiError error)
    {
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        context.Response.Clear();
        context.Response.StatusCode = error.Status;
        return context.Response.WriteAsJsonAsync(error, ApiJsonContext.Default.ApiError, "application/problem+json", context.RequestAborted);
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Error, Message = "Unhandled error in {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
