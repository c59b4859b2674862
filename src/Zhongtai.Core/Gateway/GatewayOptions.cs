using System.ComponentModel.DataAnnotations;

namespace Zhongtai.Gateway;

/// <summary>App authentication (configuration section <c>Gateway</c>).</summary>
public sealed class GatewayOptions
{
    /// <summary>
    /// Base64 of the 32-byte key that seals app secrets at rest. Default empty: a key is generated into
    /// <c>DATA/master.key</c> (mode 600) on first use. Set it (e.g. <c>ZT__GATEWAY__MASTERKEY</c>) to keep the key off the data disk.
    /// </summary>
    public string MasterKey { get; set; } = "";

    /// <summary>Signed requests whose timestamp differs from the server clock by more are rejected. Default 300 s.</summary>
    [Range(1, 3600)]
    public int MaxClockSkewSeconds { get; set; } = 300;

    /// <summary>At most this many nonces are remembered for replay rejection. Default 1,000,000.</summary>
    [Range(1000, 100_000_000)]
    public int MaxNonces { get; set; } = 1_000_000;
}
