using Zhongtai.Experiments;

namespace Zhongtai.Tests.Experiments;

public class ExperimentSetTests
{
    private static IReadOnlyList<string> Errors(string json) =>
        Assert.Throws<ExperimentConfigException>(() => ExperimentSet.Parse(json)).Errors;

    [Fact]
    public void Parse_EmptyDocument_IsNoExperiments()
    {
        Assert.Same(ExperimentSet.Empty, ExperimentSet.Parse("""{ "experiments": [] }"""));
        Assert.Same(ExperimentSet.Empty, ExperimentSet.Load(Path.Combine(Path.GetTempPath(), "zt-no-such-dir", "experiments.json")));
    }

    [Fact]
    public void Parse_CommentsTrailingCommasAndDefaults()
    {
        var set = ExperimentSet.Parse("""
            // written by hand
            { "experiments": [ { "id": "e", "scenes": ["home"], "buckets": [ { "name": "t", "weight": 0.5 }, { "name": "control", "weight": 0.5 }, ], }, ] }
            """);
        var e = Assert.Single(set.Experiments);
        Assert.Equal("e", e.EffectiveLayer);
        Assert.Equal("e", e.EffectiveSalt);
        Assert.Equal("control", e.EffectiveControl);
        Assert.Equal(ExperimentStatus.Running, e.Status);
        Assert.Equal(1.0, e.Traffic);
    }

    [Fact]
    public void Parse_BucketWeightsThatDoNotSumToOne_AreRejected()
    {
        var errors = Errors("""{ "experiments": [ { "id": "e", "scenes": ["*"], "buckets": [ { "name": "a", "weight": 0.5 }, { "name": "b", "weight": 0.3 } ] } ] }""");
        Assert.Contains(errors, m => m.Contains("experiment 'e': bucket weights sum to 0.8; they must sum to 1", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_ListsEveryProblem_NamingTheExperiment()
    {
        var errors = Errors("""
            { "experiments": [
              { "id": "dup", "scenes": ["*"], "buckets": [ { "name": "a", "weight": 0.5 }, { "name": "a", "weight": 0.5 } ] },
              { "id": "dup", "scenes": [], "traffic": 1.5, "control": "nope", "buckets": [ { "name": "x", "weight": 1, "channelQuotas": { "hot": -1 } } ] },
              { "id": "bad id", "scenes": ["*"], "buckets": [] },
              { "id": "tiny", "scenes": ["*"], "buckets": [ { "name": "a", "weight": 0.99999 }, { "name": "b", "weight": 0.00001 } ] } ] }
            """);
        Assert.Contains(errors, m => m.Contains("bucket 'a' appears twice", StringComparison.Ordinal));
        Assert.Contains(errors, m => m.Contains("ids must be unique", StringComparison.Ordinal));
        Assert.Contains(errors, m => m.Contains("scenes is empty", StringComparison.Ordinal));
        Assert.Contains(errors, m => m.Contains("traffic is 1.5", StringComparison.Ordinal));
        Assert.Contains(errors, m => m.Contains("control 'nope' is not one of its buckets", StringComparison.Ordinal));
        Assert.Contains(errors, m => m.Contains("quota -1", StringComparison.Ordinal));
        Assert.Contains(errors, m => m.Contains("id must be non-empty letters", StringComparison.Ordinal));
        Assert.Contains(errors, m => m.Contains("buckets is empty", StringComparison.Ordinal));
        Assert.Contains(errors, m => m.Contains("bucket 'b' gets no slot", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_OverlappingExperimentsInOneLayer_AreRejected()
    {
        var errors = Errors("""
            { "experiments": [
              { "id": "x", "layer": "rank", "scenes": ["*"], "traffic": 0.6, "buckets": [ { "name": "c", "weight": 1 } ] },
              { "id": "y", "layer": "rank", "scenes": ["*"], "traffic": 0.6, "buckets": [ { "name": "c", "weight": 1 } ] } ] }
            """);
        Assert.Contains(errors, m => m.Contains("layer 'rank'", StringComparison.Ordinal) && m.Contains("needs slots 6000..11999", StringComparison.Ordinal));

        errors = Errors("""
            { "experiments": [
              { "id": "x", "layer": "rank", "scenes": ["*"], "traffic": 0.3, "slotStart": 100, "buckets": [ { "name": "c", "weight": 1 } ] },
              { "id": "y", "layer": "rank", "scenes": ["*"], "traffic": 0.3, "slotStart": 2000, "buckets": [ { "name": "c", "weight": 1 } ] } ] }
            """);
        Assert.Contains(errors, m => m.Contains("experiments 'x' and 'y' overlap at slots 2000..3099", StringComparison.Ordinal));

        // Explicit, disjoint ranges are fine; so are the same shares in different layers.
        ExperimentSet.Parse("""
            { "experiments": [
              { "id": "y", "layer": "rank", "scenes": ["*"], "traffic": 0.6, "buckets": [ { "name": "c", "weight": 1 } ] },
              { "id": "x", "layer": "rank", "scenes": ["*"], "traffic": 0.3, "slotStart": 7000, "buckets": [ { "name": "c", "weight": 1 } ] },
              { "id": "z", "layer": "recall", "scenes": ["*"], "traffic": 0.6, "buckets": [ { "name": "c", "weight": 1 } ] } ] }
            """);
    }

    [Fact]
    public void Parse_UnknownFieldOrBadJson_SaysWhere()
    {
        var typo = Errors("""{ "experiments": [ { "id": "e", "scenes": ["*"], "bukets": [] } ] }""");
        Assert.Contains("bukets", Assert.Single(typo), StringComparison.Ordinal);

        var broken = Errors("{ \"experiments\": [\n  { \"id\": \"e\", }\n  oops ] }");
        Assert.Contains("line 3", Assert.Single(broken), StringComparison.Ordinal);

        var status = Errors("""{ "experiments": [ { "id": "e", "scenes": ["*"], "status": "paused", "buckets": [ { "name": "c", "weight": 1 } ] } ] }""");
        Assert.Contains("not valid JSON", Assert.Single(status), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RulesKeepScalarsAsText()
    {
        var set = ExperimentSet.Parse("""
            { "experiments": [ { "id": "e", "scenes": ["*"], "buckets": [ { "name": "c", "weight": 1, "rules": { "n": 10, "x": 0.25, "on": true, "s": "v" } } ] } ] }
            """);
        var rules = set.Experiments[0].Buckets[0].Rules!;
        Assert.Equal(["10", "0.25", "true", "v"], new[] { rules["n"], rules["x"], rules["on"], rules["s"] });
    }
}
