using Zhongtai.Training.Evaluation;
using Zhongtai.Training.Recall;

namespace Zhongtai.Tests.Training.Recall;

/// <summary>
/// Two user groups, each liking its own block of items: group 0 users pick 14 of items 0..19, group 1 users 14 of
/// items 20..39, in random time order. A model that learns the structure ranks the rest of the user's block first.
/// </summary>
internal static class PlantedData
{
    public const int ItemsPerBlock = 20;

    public static InteractionData Create(int usersPerGroup = 40, int seed = 1)
    {
        var rng = new Random(seed);
        var u = new List<int>();
        var i = new List<int>();
        var t = new List<long>();
        for (int user = 0; user < 2 * usersPerGroup; user++)
        {
            int block = user % 2;
            foreach (int item in Enumerable.Range(block * ItemsPerBlock, ItemsPerBlock).OrderBy(_ => rng.Next()).Take(14))
            {
                u.Add(user);
                i.Add(item);
                t.Add(rng.Next(1_000_000));
            }
        }

        return new InteractionData([.. u], [.. i], Enumerable.Repeat(1f, u.Count).ToArray(), [.. t], 2 * usersPerGroup, 2 * ItemsPerBlock);
    }

    public static EvalSplit Split(int usersPerGroup = 40, int seed = 1) =>
        new EvalProtocol { TestRatio = 0.25, Seed = 3 }.Split(Create(usersPerGroup, seed));

    public static InteractionMatrix Matrix(int usersPerGroup = 40, int seed = 1) => Create(usersPerGroup, seed).ToMatrix();

    /// <summary>Share of top-10 recommendations (excluding train items) that fall in the user's own block.</summary>
    public static double InBlockShare(IRecallModel model, InteractionMatrix train)
    {
        int inBlock = 0, total = 0;
        for (int u = 0; u < train.UserCount; u++)
        {
            var top = model.Recommend(u, train.ItemsOf(u), 8);
            foreach (int item in top)
            {
                total++;
                if (item / ItemsPerBlock == u % 2)
                {
                    inBlock++;
                }
            }
        }

        return (double)inBlock / total;
    }
}
