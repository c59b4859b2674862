using Zhongtai.Training.Evaluation;
using Zhongtai.Training.Recall;

namespace Zhongtai.Tests.Training.Recall;

public class BlendSettingsTests
{
    [Fact]
    public void BlendMembers_UseBlendEase_AndTheDefaultAlsWeight_WhileEaseAloneKeepsItsOptions()
    {
        var m = PlantedData.Matrix();
        var settings = new RecallModelSettings { Als = new AlsOptions { Factors = 4, Iterations = 3, Threads = 1 } };

        var blend = Assert.IsType<BlendModel>(RecallModelFactory.Train("ease+als", m, settings));
        var member = Assert.IsType<EaseModel>(blend.Models[0]);
        Assert.False(member.Options.ZeroDiagonal);          // DLAE in the blend (validation-chosen)
        Assert.Equal([1f, 3f], blend.Weights.ToArray());     // ALS weight 3 by default

        var alone = Assert.IsType<EaseModel>(RecallModelFactory.Train("ease", m, settings));
        Assert.True(alone.Options.ZeroDiagonal);
        Assert.Same(settings.Ease, alone.Options);

        settings.BlendEase = new EaseOptions { ZeroDiagonal = true, Lambda = 50 };
        settings.BlendWeights["als"] = 0.5;
        var custom = Assert.IsType<BlendModel>(RecallModelFactory.Train("ease+als", m, settings));
        Assert.Same(settings.BlendEase, ((EaseModel)custom.Models[0]).Options);
        Assert.Equal([1f, 0.5f], custom.Weights.ToArray());
    }
}
