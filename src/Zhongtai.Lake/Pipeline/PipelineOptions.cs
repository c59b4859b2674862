using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Zhongtai.Samples;

namespace Zhongtai.Pipeline;

/// <summary>
/// Options of <c>zt pipeline run</c> (configuration section <c>Pipeline</c>; e.g. <c>ZT__PIPELINE__DUCKDBMEMORYLIMIT=1GB</c>,
/// <c>ZT__PIPELINE__SAMPLES__ATTRIBUTIONWINDOWSECONDS=600</c>). Every default is documented here and in docs/samples.md.
/// </summary>
public sealed class PipelineOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Pipeline";

    /// <summary>Samples, features, negatives and splits.</summary>
    public SampleOptions Samples { get; set; } = new();

    /// <summary>Export the event log to the lake first (what the lake lacks). Default true.</summary>
    public bool Export { get; set; } = true;

    /// <summary>Run the anti-cheat stage (section <c>Risk</c>) and leave its quarantine out of the samples; ignored when <see cref="QuarantineFile"/> is given. Default true.</summary>
    public bool AntiCheat { get; set; } = true;

    /// <summary>Build the offline feature tables (dataset <see cref="FeaturesDataset"/>) the online feature store loads. Default true.</summary>
    public bool Features { get; set; } = true;

    /// <summary>Dataset name of the offline feature tables. Default "features".</summary>
    public string FeaturesDataset { get; set; } = "features";

    /// <summary>Build the recall data (histories, sessions, negatives). Default true.</summary>
    public bool Recall { get; set; } = true;

    /// <summary>DuckDB memory limit of every stage (it spills to a temp directory past it). Default "2GB".</summary>
    [Required]
    public string DuckDbMemoryLimit { get; set; } = "2GB";

    /// <summary>DuckDB worker threads; 0 = one per core. Default 0.</summary>
    [Range(0, 1024)]
    public int DuckDbThreads { get; set; }

    /// <summary>
    /// A Parquet file with a column <c>offset BIGINT</c> naming events to leave out of the samples, used when no
    /// anti-cheat stage is plugged in. Default none.
    /// </summary>
    public string? QuarantineFile { get; set; }

    /// <summary>Dataset name of the quarantine (when an anti-cheat stage runs). Default "quarantine".</summary>
    public string QuarantineDataset { get; set; } = "quarantine";

    /// <summary>Dataset name of the ranking samples. Default "ranking-samples".</summary>
    public string SamplesDataset { get; set; } = "ranking-samples";

    /// <summary>Dataset name of the recall data. Default "recall".</summary>
    public string RecallDataset { get; set; } = "recall";

    /// <summary>Dataset name of the train/validation/test split of the ranking samples. Default "ranking-splits".</summary>
    public string SplitsDataset { get; set; } = "ranking-splits";

    /// <summary>
    /// Binds the <c>Pipeline</c> section from the same sources as the host's configuration: <c>zhongtai.json</c> beside
    /// the binary, <c>DATA/zhongtai.json</c>, <c>ZT__</c> environment variables, then <paramref name="overrides"/>.
    /// </summary>
    public static PipelineOptions Load(string dataDirectory, IDictionary<string, string?>? overrides = null)
    {
        var config = Zhongtai.Hosting.ZhongtaiConfiguration.Build(dataDirectory, overrides);
        var options = new PipelineOptions();
        config.GetSection(Section).Bind(options);
        return options;
    }

    internal void Validate()
    {
        Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);
        Samples.Validate();
    }
}
