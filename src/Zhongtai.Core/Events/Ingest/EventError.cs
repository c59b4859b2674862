namespace Zhongtai.Events.Ingest;

/// <summary>Why one event of a batch was rejected.</summary>
/// <param name="Index">Zero-based index of the event in the batch (-1: the batch as a whole).</param>
/// <param name="Field">The camelCase field at fault, or empty.</param>
/// <param name="Code">Machine-readable reason: missing_field, invalid_value, unknown_type, unknown_field, too_large, out_of_window, malformed_json.</param>
/// <param name="Message">What to fix, for a person.</param>
public sealed record EventError(int Index, string Field, string Code, string Message);

/// <summary>The outcome of ingesting a batch.</summary>
/// <param name="Accepted">Events in the batch (written now or earlier).</param>
/// <param name="Duplicates">Events whose id was already in the log within the dedup window (not written again).</param>
/// <param name="FirstOffset">Offset of the first event of the batch, or -1 for an empty batch.</param>
/// <param name="LastOffset">Offset of the last event of the batch, or -1.</param>
/// <param name="Offsets">Offset of each event, in batch order.</param>
public sealed record IngestResult(int Accepted, int Duplicates, long FirstOffset, long LastOffset, long[] Offsets);

/// <summary>A batch was rejected as a whole; nothing was written.</summary>
public sealed class EventBatchException(IReadOnlyList<EventError> errors)
    : Exception($"{errors.Count} invalid event(s); nothing was written. First: [{errors[0].Index}] {errors[0].Field}: {errors[0].Message}")
{
    public IReadOnlyList<EventError> Errors { get; } = errors;
}
