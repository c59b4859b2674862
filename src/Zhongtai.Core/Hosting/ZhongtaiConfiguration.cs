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
        var config = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "zhongtai.json"), optional: true)
            .AddJsonFile(Path.GetFullPath(Path.Combine(data, "zhongtai.json")), optional: true)
            .AddEnvironmentVariables("ZT__")
            .AddInMemoryCollection(overrides ?? new Dictionary<string, string?>())
            .AddInMemoryCollection(new Dictionary<string, string?> { ["DataDirectory"] = data })
            .Build();
        var options = new ZhongtaiOptions();
        config.Bind(options, o => o.ErrorOnUnknownConfiguration = false);
        return options;
    }
}
