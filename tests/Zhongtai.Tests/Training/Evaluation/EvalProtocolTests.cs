using Zhongtai.Training.Evaluation;
using Zhongtai.Training.Recall;

namespace Zhongtai.Tests.Training.Evaluation;

public class EvalProtocolTests
{
    private static InteractionData Uniform(int users, int itemsPerUser, int seed)
    {
        var rng = new Random(seed);
        var u = new List<int>();
        var i = new List<int>();
        var t = new List<long>();
        for (int user = 0; user < users; user++)
        {
            var chosen = Enumerable.Range(0, 100).OrderBy(_ => rng.Next()).Take(itemsPerUser);
            foreach (int item in chosen)
            {
                u.Add(user);
                i.Add(item);
                t.Add(rng.Next(1_000_000));
            }
        }

        return new InteractionData([.. u], [.. i], Enumerable.Repeat(1f, u.Count).ToArray(), [.. t], users, 100);
    }

    [Fact]
    public void RandomSplit_HoldsOutTheRatioPerUser_DisjointFromTrain()
    {
        var data = Uniform(30, 20, 1);
        var split = new EvalProtocol { TestRatio = 0.25, Seed = 3 }.Split(data);
        var full = data.ToMatrix();
        for (int u = 0; u < 30; u++)
        {
            Assert.Equal(5, split.Test[u].Length);
            Assert.Equal(15, split.Train.CountOf(u));
            foreach (int item in split.Test[u])
            {
                Assert.False(split.Train.Contains(u, item));
                Assert.True(full.Contains(u, item));
            }

            Assert.Equal(full.ItemsOf(u).ToArray(), split.Train.ItemsOf(u).ToArray().Concat(split.Test[u]).Order().ToArray());
        }

        Assert.Equal(150, split.TestItemCount);
    }

    [Fact]
    public void RandomSplit_IsDeterministicPerSeed()
    {
        var data = Uniform(10, 12, 2);
        var a = new EvalProtocol { Seed = 5 }.Split(data);
        var b = new EvalProtocol { Seed = 5 }.Split(data);
        var c = new EvalProtocol { Seed = 6 }.Split(data);
        Assert.Equal(a.Test, b.Test);
        Assert.NotEqual(a.Test, c.Test);
    }

    [Fact]
    public void UsersWithTooFewInteractions_StayInTrain()
    {
        var data = new InteractionData([0, 1, 1, 1, 1], [0, 0, 1, 2, 3], [1, 1, 1, 1, 1], [1, 1, 2, 3, 4], 2, 4);
        var split = new EvalProtocol { TestRatio = 0.5, MinInteractions = 3 }.Split(data);
        Assert.Empty(split.Test[0]);
        Assert.Equal(1, split.Train.CountOf(0));
        Assert.Equal(2, split.Test[1].Length);
        Assert.Equal(1, split.TestUserCount);
    }

    [Fact]
    public void LeaveLastOut_PicksTheLatestInteraction()
    {
        var data = new InteractionData(
            [0, 0, 0, 1, 1, 2],
            [4, 7, 2, 1, 3, 5],
            [1, 1, 1, 1, 1, 1],
            [10, 30, 20, 99, 5, 1],
            3,
            8);
        var split = EvalProtocol.Parse("leave-last-out").Split(data);
        Assert.Equal([7], split.Test[0]);
        Assert.Equal([1], split.Test[1]);
        Assert.Empty(split.Test[2]); // a single interaction stays in train
        Assert.Equal([2, 4], split.Train.ItemsOf(0).ToArray());
    }

    [Fact]
    public void DuplicatesAreMergedBeforeSplitting_KeepingTheLatestTime()
    {
        // user 0 saw item 1 at t=5 and again at t=50: item 1 is the latest
        var data = new InteractionData([0, 0, 0], [1, 2, 1], [1, 1, 1], [5, 20, 50], 1, 3);
        var split = EvalProtocol.Parse("leave-last-out").Split(data);
        Assert.Equal([1], split.Test[0]);
        Assert.Equal([2], split.Train.ItemsOf(0).ToArray());
    }

    [Fact]
    public void BadSettingsAndEmptyData_ThrowClearErrors()
    {
        var data = Uniform(3, 5, 1);
        var e = Assert.Throws<ArgumentException>(() => new EvalProtocol { TestRatio = 1.5 }.Split(data));
        Assert.Contains("TestRatio", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => EvalProtocol.Parse("k-fold"));
        var empty = new InteractionData([], [], [], [], 0, 0);
        e = Assert.Throws<ArgumentException>(() => new EvalProtocol().Split(empty));
        Assert.Contains("empty", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Loader_ReadsMovieLensAndCsvFormats()
    {
        string dir = Directory.CreateTempSubdirectory("zt-ratings").FullName;
        try
        {
            string udata = Path.Combine(dir, "u.data");
            File.WriteAllText(udata, "196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t1\t878887116\n");
            var a = RatingsLoader.Load(udata, "movielens");
            Assert.Equal(3, a.Count);
            Assert.Equal(2, a.UserCount);
            Assert.Equal(2, a.ItemCount);
            Assert.Equal(["196", "186"], a.UserIds!);
            Assert.Equal([0, 1, 0], a.Users);
            Assert.Equal([0, 1, 1], a.Items);
            Assert.Equal(878887116, a.Timestamps[2]);

            string csv = Path.Combine(dir, "ratings.csv");
            File.WriteAllText(csv, "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n2,3,0.5,1\n");
            var b = RatingsLoader.Load(csv, "csv", minRating: 1);
            Assert.Equal(2, b.Count);
            Assert.Equal(4.5f, b.Values[1]);
            Assert.Throws<ArgumentException>(() => RatingsLoader.Load(csv, "parquet"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
