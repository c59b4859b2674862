using Zhongtai.Training.Ranking;

namespace Zhongtai.Serving;

/// <summary>
/// The item side of the realtime FTRL margin for every item, by dense id: <c>w(i=item) + w(c=category)</c> summed in
/// double, as of one moment. Ranking gathers it for the candidates (one load each from a contiguous array) instead of
/// two random reads into the model's 2^bits coordinates; the user-, request- and user×category weights are still read
/// live per request, so a click moves the next ranking at once through them. Built by the engine's follower
/// (<see cref="RecommendEngine.RefreshRankWeights"/>) when the model learned more or the catalog changed, at most every
/// <see cref="ServingOptions.RankWeightsRefreshMs"/>; immutable once published.
/// </summary>
internal sealed class RankWeights
{
    private RankWeights(double[] items, int count, long samplesSeen, long itemVersion)
    {
        Items = items;
        Count = count;
        SamplesSeen = samplesSeen;
        ItemVersion = itemVersion;
    }

    /// <summary>Item-side margin by dense id (valid below <see cref="Count"/>).</summary>
    public double[] Items { get; }

    /// <summary>Items covered: those the catalog held at the build; newer ones are read live.</summary>
    public int Count { get; }

    /// <summary>The model's <see cref="FtrlModel.SamplesSeen"/> when the build started.</summary>
    public long SamplesSeen { get; }

    /// <summary>The catalog's <see cref="ServingCatalog.ItemVersion"/> when the build started.</summary>
    public long ItemVersion { get; }

    /// <summary>Builds a snapshot, into <paramref name="reuse"/> when it is large enough (an array no reader uses any more).</summary>
    public static RankWeights Build(FtrlModel ftrl, ServingCatalog catalog, double[]? reuse)
    {
        // Versions first: a change during the build shows as newer than the snapshot and triggers the next one.
        var samples = ftrl.SamplesSeen;
        var version = catalog.ItemVersion;
        var count = catalog.Count;
        var items = reuse is not null && reuse.Length >= count ? reuse : new double[count + (count >> 3) + 64];
        for (var d = 0; d < count; d++)
        {
            ref readonly var hot = ref catalog.Hot(d);
            items[d] = (double)ftrl.Weight(hot.ItemFeature) + ftrl.Weight(hot.CategoryFeature);
        }

        return new RankWeights(items, count, samples, version);
    }

    /// <summary>True when the model learned nothing and the catalog did not change since this snapshot.</summary>
    public bool IsCurrent(FtrlModel ftrl, ServingCatalog catalog) => SamplesSeen == ftrl.SamplesSeen && ItemVersion == catalog.ItemVersion;
}
