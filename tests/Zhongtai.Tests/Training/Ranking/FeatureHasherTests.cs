using Zhongtai.Training.Ranking;

namespace Zhongtai.Tests.Training.Ranking;

public sealed class FeatureHasherTests
{
    [Fact]
    public void Crosses_GiveTheIndicesOfTheCrossedNames_AcrossUsersAndLongValues()
    {
        var hasher = new FeatureHasher(20, seed: 7);
        var crosses = hasher.NewCrosses();
        string[] users = ["u1", "用户-7", new string('u', 600)];
        string[] categories = ["", "shoes", "鞋子", new string('c', 700)];
        foreach (var user in users)
        {
            crosses.Start("uc", user);
            foreach (var category in categories)
            {
                Assert.Equal(hasher.Index("uc", user, category), crosses.Index(category));
                Assert.Equal(hasher.Index("uc", user + "\u0001" + category), crosses.Index(category));
            }
        }
    }
}
