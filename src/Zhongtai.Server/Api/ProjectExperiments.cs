using System.Runtime.CompilerServices;
using Zhongtai.Experiments;
using Zhongtai.Serving;
using Assignments = Zhongtai.Experiments.ExperimentAssignments;
using ServingAssignment = Zhongtai.Serving.ExperimentAssignment;

namespace Zhongtai.Server.Api;

/// <summary>
/// A project's experiments (<c>projects/P/experiments.json</c>, followed by <see cref="ExperimentAssigner.Watch"/>) as
/// the serving engine's assigner. Every layer a user falls into applies: the recall model alias and channel quotas
/// overrides merge across layers (earlier layers win), a bucket's rule <c>rankingModel</c> (<c>ftrl</c> or <c>none</c>)
/// switches the ranker, and the response and the exposure log carry every bucket (<c>exp:bucket,exp2:bucket</c>).
/// The translation is cached per assignment set, which the assigner itself caches, so the request path allocates nothing.
/// </summary>
internal sealed class ProjectExperiments(ExperimentAssigner assigner) : IExperimentAssigner, IDisposable
{
    private readonly ConditionalWeakTable<Assignments, ServingAssignment> _translated = [];

    public ServingAssignment? Assign(string userId, string scene)
    {
        var assignments = assigner.Assign(userId, scene);
        return assignments.IsEmpty ? null : _translated.GetValue(assignments, Translate);
    }

    private static ServingAssignment Translate(Assignments a)
    {
        var first = a[0];
        var overrides = new SceneOverride
        {
            RecallModelAlias = a.ModelAlias,
            ChannelQuotas = a.ChannelQuotas.Count > 0 ? a.ChannelQuotas : null,
            RankingModel = a.Rules.GetValueOrDefault("rankingModel"),
        };
        var none = overrides.RecallModelAlias is null && overrides.ChannelQuotas is null && overrides.RankingModel is null;
        return new ServingAssignment(first.ExperimentId, first.Bucket, none ? null : overrides, a.BucketLabel);
    }

    public void Dispose() => assigner.Dispose();
}
