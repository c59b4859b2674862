using Zhongtai.Training.Recall;

namespace Zhongtai.Tests.Training.Recall;

public class InteractionMatrixTests
{
    [Fact]
    public void FromArrays_SortsRowsMergesDuplicatesAndBuildsColumns()
    {
        var m = InteractionMatrix.FromArrays([1, 0, 1, 1, 0], [5, 2, 3, 5, 4], [1, 1, 2, 3, 1], [10, 20, 30, 40, 5]);
        Assert.Equal(2, m.UserCount);
        Assert.Equal(6, m.ItemCount);
        Assert.Equal(4, m.NonZeroCount);
        Assert.Equal([3, 5], m.ItemsOf(1).ToArray());
        Assert.Equal([2f, 4f], m.ValuesOf(1).ToArray());
        Assert.Equal([30L, 40L], m.TimesOf(1).ToArray());
        Assert.Equal([4, 2], m.SequenceOf(0));
        Assert.Equal([1], m.UsersOf(5).ToArray());
        Assert.Equal([0], m.UsersOf(2).ToArray());
        Assert.Empty(m.UsersOf(0).ToArray());
        Assert.Equal([0, 0, 1, 1, 1, 1], m.ItemCounts());
        Assert.True(m.Contains(0, 4));
        Assert.False(m.Contains(0, 5));
    }

    [Fact]
    public void FromArrays_RejectsMismatchedLengthsAndIdsBeyondCounts()
    {
        Assert.Throws<ArgumentException>(() => InteractionMatrix.FromArrays([0, 1], [0]));
        Assert.Throws<ArgumentException>(() => InteractionMatrix.FromArrays([0, 5], [0, 1], userCount: 3));
        Assert.Throws<ArgumentException>(() => InteractionMatrix.FromArrays([-1], [0]));
    }

    [Fact]
    public void TopK_ReturnsBestFirst_TiesToLowerIndex_SkipsNegativeInfinity()
    {
        float[] scores = [0.5f, 2f, float.NegativeInfinity, 2f, -1f, 1f];
        var top = new int[4];
        Assert.Equal(4, TopK.Select(scores, top));
        Assert.Equal([1, 3, 5, 0], top);
        var all = new int[10];
        Assert.Equal(5, TopK.Select(scores, all));
        Assert.Equal([1, 3, 5, 0, 4], all[..5]);
    }
}
