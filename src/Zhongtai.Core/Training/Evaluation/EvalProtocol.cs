using Zhongtai.Training.Recall;

namespace Zhongtai.Training.Evaluation;

/// <summary>How the held-out interactions are chosen.</summary>
public enum EvalProtocolKind
{
    /// <summary>Per user, a random <see cref="EvalProtocol.TestRatio"/> of the user's distinct items goes to test.</summary>
    RandomSplit,

    /// <summary>Per user, the latest interaction by timestamp goes to test (ties: the highest item id).</summary>
    LeaveLastOut,
}

/// <summary>An evaluation protocol. Parse names with <see cref="Parse"/>: <c>random-split</c>, <c>leave-last-out</c>.</summary>
public sealed record EvalProtocol
{
    /// <summary>The kind of split. Default <see cref="EvalProtocolKind.RandomSplit"/>.</summary>
    public EvalProtocolKind Kind { get; init; } = EvalProtocolKind.RandomSplit;

    /// <summary>Share of each user's distinct items held out by <see cref="EvalProtocolKind.RandomSplit"/>, in (0, 1). Default 0.25.</summary>
    public double TestRatio { get; init; } = 0.25;

    /// <summary>Seed of the random split. Default 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Users with fewer distinct items than this stay entirely in train. Default 2 (at least one item stays in train).</summary>
    public int MinInteractions { get; init; } = 2;

    /// <summary>Parses <c>random-split</c> or <c>leave-last-out</c>.</summary>
    public static EvalProtocol Parse(string name, double testRatio = 0.25, int seed = 42)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.ToUpperInvariant() switch
        {
            "RANDOM-SPLIT" or "RANDOM" => new EvalProtocol { Kind = EvalProtocolKind.RandomSplit, TestRatio = testRatio, Seed = seed },
            "LEAVE-LAST-OUT" or "LOO" => new EvalProtocol { Kind = EvalProtocolKind.LeaveLastOut, Seed = seed },
            _ => throw new ArgumentException($"Unknown protocol '{name}'; expected 'random-split' or 'leave-last-out'.", nameof(name)),
        };
    }

    /// <summary>The protocol's name as <see cref="Parse"/> reads it.</summary>
    public string Name => Kind == EvalProtocolKind.RandomSplit ? "random-split" : "leave-last-out";

    /// <summary>Throws <see cref="ArgumentException"/> on invalid values.</summary>
    public void Validate()
    {
        if (Kind == EvalProtocolKind.RandomSplit && !(TestRatio > 0 && TestRatio < 1))
        {
            throw new ArgumentException($"TestRatio must be in (0, 1); got {TestRatio}.", nameof(TestRatio));
        }

        if (MinInteractions < 2)
        {
            throw new ArgumentException($"MinInteractions must be >= 2 (a test user needs a train item); got {MinInteractions}.", nameof(MinInteractions));
        }
    }

    /// <summary>Splits <paramref name="data"/> (deduplicated first: one entry per distinct user-item pair).</summary>
    public EvalSplit Split(InteractionData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Split(data.ToMatrix());
    }

    /// <summary>Splits a matrix (also used to carve a validation split out of a train matrix).</summary>
    public EvalSplit Split(InteractionMatrix full)
    {
        ArgumentNullException.ThrowIfNull(full);
        Validate();
        if (full.NonZeroCount == 0)
        {
            throw new ArgumentException("The data set is empty: nothing to split.", nameof(full));
        }

        var rng = new Random(Seed);
        var test = new int[full.UserCount][];
        var tu = new List<int>(full.NonZeroCount);
        var ti = new List<int>(full.NonZeroCount);
        var tv = new List<float>(full.NonZeroCount);
        var tt = new List<long>(full.NonZeroCount);
        var order = Array.Empty<int>();
        var isTest = Array.Empty<bool>();
        for (int u = 0; u < full.UserCount; u++)
        {
            var items = full.ItemsOf(u);
            var values = full.ValuesOf(u);
            var times = full.TimesOf(u);
            int n = items.Length;
            if (isTest.Length < n)
            {
                isTest = new bool[n];
                order = new int[n];
            }

            Array.Clear(isTest, 0, n);
            int testCount = 0;
            if (n >= MinInteractions)
            {
                if (Kind == EvalProtocolKind.LeaveLastOut)
                {
                    int last = 0;
                    for (int p = 1; p < n; p++)
                    {
                        if (times[p] >= times[last])
                        {
                            last = p;
                        }
                    }

                    isTest[last] = true;
                    testCount = 1;
                }
                else
                {
                    testCount = Math.Clamp((int)Math.Round(n * TestRatio, MidpointRounding.AwayFromZero), 1, n - 1);
                    for (int p = 0; p < n; p++)
                    {
                        order[p] = p;
                    }

                    // partial Fisher-Yates: the first testCount positions become test
                    for (int p = 0; p < testCount; p++)
                    {
                        int q = p + rng.Next(n - p);
                        (order[p], order[q]) = (order[q], order[p]);
                        isTest[order[p]] = true;
                    }
                }
            }

            var userTest = new int[testCount];
            int w = 0;
            for (int p = 0; p < n; p++)
            {
                if (isTest[p])
                {
                    userTest[w++] = items[p];
                }
                else
                {
                    tu.Add(u);
                    ti.Add(items[p]);
                    tv.Add(values[p]);
                    tt.Add(times[p]);
                }
            }

            test[u] = userTest; // items are sorted because the row is
        }

        var train = InteractionMatrix.FromArrays(
            System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tu),
            System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ti),
            System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tv),
            System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tt),
            full.UserCount,
            full.ItemCount);
        return new EvalSplit(train, test);
    }
}

/// <summary>A train matrix and, per user, the held-out test items (sorted; empty for users not tested).</summary>
public sealed class EvalSplit
{
    /// <summary>Creates a split.</summary>
    public EvalSplit(InteractionMatrix train, int[][] test)
    {
        Train = train;
        Test = test;
    }

    /// <summary>Training interactions (all users and items keep their ids).</summary>
    public InteractionMatrix Train { get; }

    /// <summary>Test items per user, sorted.</summary>
    public IReadOnlyList<int[]> Test { get; }

    /// <summary>Number of users with at least one test item.</summary>
    public int TestUserCount => Test.Count(t => t.Length > 0);

    /// <summary>Total number of test items.</summary>
    public int TestItemCount => Test.Sum(t => t.Length);
}
