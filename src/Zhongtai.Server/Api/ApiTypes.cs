using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Zhongtai.Events;
using Zhongtai.Events.Ingest;

namespace Zhongtai.Server.Api;

/// <summary>Every 4xx/5xx answer: a machine-readable code, a message for a person, and per-item details where there are some.</summary>
public sealed record ApiError(int Status, string Code, string Message, IReadOnlyList<EventError>? Errors = null);

public sealed record HealthResponse(string Status);

public sealed record EventsStats(string Project, long Count, long StartOffset, long NextOffset);

public sealed record StoredEvent(long Offset, Event Event);

public sealed record EventsPage(IReadOnlyList<StoredEvent> Events, long NextOffset);

public sealed record PromoteRequest(int Version);

public sealed record AppInfo(string AppKey, string Name, string Project, IReadOnlyList<string> Scopes, string Status, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(IngestResult))]
[JsonSerializable(typeof(EventsStats))]
[JsonSerializable(typeof(EventsPage))]
[JsonSerializable(typeof(AppInfo))]
[JsonSerializable(typeof(List<Zhongtai.Registry.ModelVersion>))]
[JsonSerializable(typeof(PromoteRequest))]
[JsonSerializable(typeof(List<PopularItem>))]
[JsonSerializable(typeof(RealtimeItem))]
[JsonSerializable(typeof(FeaturesResponse))]
[JsonSerializable(typeof(SearchRequest))]
[JsonSerializable(typeof(SearchResponse))]
[JsonSerializable(typeof(RecommendHttpRequest))]
[JsonSerializable(typeof(Zhongtai.Serving.RecommendResult))]
public sealed partial class ApiJsonContext : JsonSerializerContext;

/// <summary>The JSON bodies of the serving endpoints: parsed from what the gateway read once, and 400s with field reasons.</summary>
internal static class ApiBody
{
    /// <summary>The request body as <typeparamref name="T"/>, or null with the 400 to answer in <paramref name="error"/>.</summary>
    public static T? Parse<T>(HttpContext context, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info, string what, out IResult? error)
        where T : class
    {
        error = null;
        try
        {
            var body = System.Text.Json.JsonSerializer.Deserialize(context.AppRequest().Body.Span, info);
            if (body is null)
            {
                error = Invalid("invalid_json", [("body", "The body is empty.")]);
            }

            return body;
        }
        catch (System.Text.Json.JsonException ex)
        {
            error = Invalid("invalid_json", [("body", $"The body is not a valid {what}: {ex.Message}")]);
            return null;
        }
    }

    [ThreadStatic]
    private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer)? t_json;

    /// <summary>
    /// Answers 200 with <paramref name="value"/> as JSON, for the hot endpoints: serialised (source-generated) into a
    /// per-thread buffer, copied into the response pipe with its Content-Length, flushed. The returned result does
    /// nothing more. <see cref="Results.Json{TValue}(TValue, JsonTypeInfo{TValue}, string?, int?)"/> gives the same
    /// bytes through a result object, the serializer's async path and chunked framing.
    /// </summary>
    public static ValueTask<IResult> WriteJsonAsync<T>(HttpContext context, T value, JsonTypeInfo<T> info)
    {
        var (buffer, writer) = t_json ??= (new ArrayBufferWriter<byte>(4096), new Utf8JsonWriter(Stream.Null, new JsonWriterOptions { Encoder = info.Options.Encoder, SkipValidation = true }));
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        JsonSerializer.Serialize(writer, value, info);
        writer.Flush();
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = buffer.WrittenCount;
        response.BodyWriter.Write(buffer.WrittenSpan); // copied before the await: the buffer is the thread's
        if (buffer.Capacity > 1 << 20)
        {
            t_json = null; // a huge answer does not pin its buffer to the thread
        }

        var flush = response.BodyWriter.FlushAsync(context.RequestAborted);
        return flush.IsCompletedSuccessfully ? new ValueTask<IResult>(Results.Empty) : AwaitFlush(flush); // nothing allocated when the pipe takes it at once

        static async ValueTask<IResult> AwaitFlush(ValueTask<System.IO.Pipelines.FlushResult> flush)
        {
            await flush;
            return Results.Empty;
        }
    }

    /// <summary>A 400 (problem+json) naming every bad field.</summary>
    public static IResult Invalid(string code, IReadOnlyList<(string Field, string Message)> errors) =>
        Results.Json(new ApiError(400, code, string.Join(" ", errors.Select(e => e.Message)), [.. errors.Select(e => new EventError(-1, e.Field, code, e.Message))]),
            ApiJsonContext.Default.ApiError, "application/problem+json", 400);
}

