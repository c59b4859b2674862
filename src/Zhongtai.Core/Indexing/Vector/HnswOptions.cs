using System.ComponentModel.DataAnnotations;

namespace Zhongtai.Indexing.Vector;

/// <summary>Parameters of an <see cref="HnswIndex"/>.</summary>
public sealed class HnswOptions
{
    /// <summary>Links per node on the upper levels; level 0 keeps <c>2 * M</c>. Default 16.</summary>
    [Range(2, 256)]
    public int M { get; set; } = 16;

    /// <summary>Candidate list size while inserting; higher builds slower and searches better. Default 200.</summary>
    [Range(1, 100_000)]
    public int EfConstruction { get; set; } = 200;

    /// <summary>Default candidate list size for searches when the caller passes <c>ef = 0</c> (raised to at least k). Default 64.</summary>
    [Range(1, 100_000)]
    public int EfSearch { get; set; } = 64;

    /// <summary>Seed of the level generator. Default 42.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>Threads used by <see cref="HnswIndex.AddRange"/> and <see cref="HnswIndex.Compact"/>; 0 means all cores. Default 0.</summary>
    [Range(0, 1024)]
    public int BuildThreads { get; set; }

    /// <summary>Vectors to reserve room for up front; the index grows by doubling beyond it. Default 1024.</summary>
    [Range(1, int.MaxValue)]
    public int InitialCapacity { get; set; } = 1024;

    internal void Validate()
    {
        if (M is < 2 or > 256)
        {
            throw new ArgumentException($"M must be in [2, 256], got {M}.", nameof(M));
        }
        if (EfConstruction < 1)
        {
            throw new ArgumentException($"EfConstruction must be positive, got {EfConstruction}.", nameof(EfConstruction));
        }
        if (EfSearch < 1)
        {
            throw new ArgumentException($"EfSearch must be positive, got {EfSearch}.", nameof(EfSearch));
        }
        if (BuildThreads < 0)
        {
            throw new ArgumentException($"BuildThreads must be >= 0, got {BuildThreads}.", nameof(BuildThreads));
        }
        if (InitialCapacity < 1)
        {
            throw new ArgumentException($"InitialCapacity must be positive, got {InitialCapacity}.", nameof(InitialCapacity));
        }
    }
}
