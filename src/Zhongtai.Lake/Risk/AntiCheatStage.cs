using Zhongtai.Pipeline;

namespace Zhongtai.Risk;

/// <summary>
/// The anti-cheat engine as the pipeline's quarantine stage: each run is also kept as a risk run of the project
/// (<c>risk/runs/&lt;id&gt;</c>, <c>risk/latest</c>) so that <c>zt risk eval</c> and the online risk filter see it, and the
/// quarantine and the flagged entities become the tables of the pipeline's quarantine dataset. The releases made by
/// people are part of the stage's configuration, so a release makes the next run a new dataset version.
/// </summary>
public sealed class AntiCheatStage(string projectDirectory, AntiCheatOptions options, TimeProvider time) : IAntiCheatStage
{
    public string Name => "anti-cheat";

    public Task<AntiCheatResult> RunAsync(AntiCheatInput input, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(input);
        var runId = RiskRuns.NewRunId(time);
        var dir = Path.Combine(RiskRuns.RunsDirectory(projectDirectory), runId);
        var releases = RiskReleases.Open(RiskReleases.PathFor(projectDirectory));
        RiskReport report;
        using (var lake = input.OpenLake())
        {
            report = new AntiCheat(options, time).Run(lake, releases, dir, ct);
        }

        RiskRuns.SetLatest(projectDirectory, runId);
        File.Copy(Path.Combine(dir, AntiCheat.QuarantineFile), input.OutputFile);
        File.Copy(Path.Combine(dir, AntiCheat.EntitiesFile), Path.Combine(Path.GetDirectoryName(input.OutputFile)!, "flagged_entities.parquet"));
        var config = new { options, releases = releases.All.Select(r => $"{r.Kind}:{r.Id}").Order(StringComparer.Ordinal).ToArray() };
        return Task.FromResult(new AntiCheatResult(report.EventsQuarantined, config));
    }
}
