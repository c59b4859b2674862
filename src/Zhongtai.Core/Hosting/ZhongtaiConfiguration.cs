using Microsoft.Extensions.Configuration;

namespace Zhongtai.Hosting;

/// <summary>
/// Builds <see cref="ZhongtaiOptions"/> from, in increasing precedence: the commented default file
/// <c>zhongtai.json</c> beside the binary, <c>zhongtai.json</c> in the data directory, environment variables
/// <c>ZT__SECTION__KEY</c>, and overrides from the command line.
/// </summary>
public static class ZhongtaiConfiguration
{
    public static ZhongtaiOptions Load(string? dataDirectory = null, IDictionary<string, string?>? overrides = null)
    {
        var baseConfig = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "zhongtai.json"), optional: true)
            .AddEnvironmentVariables("ZT__")
            .Build();
        var data = dataDirectory ?? baseConfig["DataDirectory"] ?? "data";
        var config = Build(data, new Dictionary<string, string?>(overrides ?? new Dictionary<string, string?>()) { ["DataDirectory"] = data });
        var options = new ZhongtaiOptions();
        config.Bind(options, o => o.ErrorOnUnknownConfiguration = false);
        return options;
    }

    /// <summary>
    /// The layered configuration of a data directory, for modules that bind their own sections (e.g. <c>Pipeline</c>,
    /// <c>Risk</c>) from the same sources as the host's options.
    /// </summary>
    public static IConfiguration Build(string dataDirectory, IDictionary<string, string?>? overrides = null) =>
        new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "zhongtai.json"), optional: true)
            .AddJsonFile(Path.GetFullPath(Path.Combine(dataDirectory, "zhongtai.json")), optional: true)
            .AddEnvironmentVariables("ZT__")
            .AddInMemoryCollection(overrides ?? new Dictionary<string, string?>())
            .Build();
}
