using System.Text;
using Zhongtai.Events.Log;

namespace Zhongtai.Tests.Events.Log;

public class Crc32CTests
{
    [Fact]
    public void Compute_StandardCheckValue_Matches() =>
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));

    [Fact]
    public void Compute_AllZeros32_MatchesRfc3720Vector() =>
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));

    [Fact]
    public void Append_InPieces_EqualsWhole()
    {
        var data = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();
        var piecewise = ~Crc32C.Append(Crc32C.Append(~0u, data.AsSpan(0, 333)), data.AsSpan(333));
        Assert.Equal(Crc32C.Compute(data), piecewise);
    }
}
