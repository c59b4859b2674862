using Zhongtai.Events;
using Zhongtai.Events.Log;
using Zhongtai.Events.Ingest;

namespace Zhongtai.Samples;

/// <summary>How behaviour becomes implicit feedback for recall models (configuration <c>Samples:Interactions</c>).</summary>
public sealed class InteractionOptions
{
    /// <summary>Weight of each event type; types not listed (exposure, item, user, ...) are not interactions. Defaults: click 1, like 2, share 2, purchase 4, rating 1, tag 1, dwell 1.</summary>
    public Dictionary<string, float> Weights { get; set; } = new(StringComparer.Ordinal)
    {
        [EventTypes.Click] = 1,
        [EventTypes.Like] = 2,
        [EventTypes.Share] = 2,
        [EventTypes.Purchase] = 4,
        [EventTypes.Rating] = 1,
        [EventTypes.Tag] = 1,
        [EventTypes.Dwell] = 1,
    };

    /// <summary>A dwell counts only when at least this many seconds. Default 10.</summary>
    public double MinDwellSeconds { get; set; } = 10;

    /// <summary>A rating counts only when at least this value (e.g. 4 to keep only liked items). Default: every rating.</summary>
    public double MinRating { get; set; } = double.NegativeInfinity;
}

/// <summary>Deduplicated user-item interactions over dense ids: one row per pair, summed weight, latest timestamp.</summary>
public sealed record Interactions(int[] Users, int[] Items, float[] Values, long[] Timestamps, string[] UserIds, string[] ItemIds)
{
    public int Count => Users.Length;
}

/// <summary>Builds <see cref="Interactions"/> from a project's event log, mapping ids through the project's dictionaries.</summary>
public static class InteractionsBuilder
{
    /// <param name="until">Only events before this time (point-in-time: a model trained "as of" a moment sees nothing after it).</param>
    /// <param name="exclude">Events to leave out (e.g. quarantined by anti-cheat), by offset.</param>
    public static Interactions Build(EventLog log, IdDictionary users, IdDictionary items, InteractionOptions options, DateTimeOffset? until = null, Func<long, bool>? exclude = null)
    {
        var pairs = new Dictionary<(int User, int Item), (float Weight, long Time)>();
        foreach (var (offset, e) in log.ReadEvents(log.StartOffset))
        {
            if (e.UserId is null || e.ItemId is null || !options.Weights.TryGetValue(e.Type, out var weight))
            {
                continue;
            }

            if ((until is { } u && e.Timestamp >= u) || (exclude?.Invoke(offset) ?? false))
            {
                continue;
            }

            if ((e.Type == EventTypes.Dwell && e.Value < options.MinDwellSeconds) || (e.Type == EventTypes.Rating && e.Value < options.MinRating))
            {
                continue;
            }

            var key = (users.GetOrAdd(e.UserId), items.GetOrAdd(e.ItemId));
            var time = e.Timestamp.ToUnixTimeSeconds();
            pairs[key] = pairs.TryGetValue(key, out var old) ? (old.Weight + weight, Math.Max(old.Time, time)) : (weight, time);
        }

        users.Flush();
        items.Flush();
        var n = pairs.Count;
        var (us, its, vs, ts) = (new int[n], new int[n], new float[n], new long[n]);
        var i = 0;
        foreach (var ((user, item), (weight, time)) in pairs.OrderBy(p => p.Key.User).ThenBy(p => p.Key.Item))
        {
            (us[i], its[i], vs[i], ts[i]) = (user, item, weight, time);
            i++;
        }

        return new Interactions(us, its, vs, ts, users.ToArray(), items.ToArray());
    }
}
