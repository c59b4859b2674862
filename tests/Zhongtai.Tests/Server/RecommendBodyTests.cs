using System.Text;
using System.Text.Json;
using Zhongtai.Server.Api;
using Zhongtai.Serving;

namespace Zhongtai.Tests.Server;

/// <summary><see cref="RecommendBody"/> reads what the serializer would (with <see cref="ApiJsonContext"/>), and refuses what it refuses.</summary>
public sealed class RecommendBodyTests
{
    [Theory]
    [InlineData("""{"userId":"u1"}""")]
    [InlineData("""{"userId":"用户\u0031","scene":"bench","count":10,"context":{"device":"ios"}}""")]
    [InlineData("""{"unknown":{"a":[1,{"b":2}]},"userId":"u","query":"red shoes","count":null,"scene":null}""")]
    [InlineData("""{"userId":"u","exclude":["i1","i2"],"filters":{"category":"books","attributes":{"color":"red","size":42,"new":true,"price":1.50}}}""")]
    [InlineData("""{"userId":"u","filters":null,"context":null,"exclude":null}""")]
    [InlineData("""{"userId":"a","userId":"b","filters":{"category":"x","other":[1]},"context":{"os":"x","device":"web"}}""")]
    [InlineData("""{"UserId":"u"}""")]
    [InlineData("""  {"userId":"u"}  """)]
    public void Parse_ReadsWhatTheSerializerReads(string json)
    {
        var expected = JsonSerializer.Deserialize(json, ApiJsonContext.Default.RecommendHttpRequest)!;
        var actual = RecommendBody.Parse(Encoding.UTF8.GetBytes(json), out var errors);
        Assert.Null(errors);
        Assert.Equal(expected.UserId ?? "", actual.UserId);
        Assert.Equal(expected.Scene ?? "home", actual.Scene);
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.Query, actual.Query);
        Assert.Equal(expected.Filters?.Category, actual.Category);
        Assert.Equal(expected.Exclude, actual.Exclude);
        Assert.Equal(expected.Context?.Device, actual.Device);
        var attributes = expected.Filters?.Attributes?.ToDictionary(a => a.Key, a => a.Value.ValueKind == JsonValueKind.String ? a.Value.GetString()! : a.Value.GetRawText());
        Assert.Equal(attributes, actual.Attributes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("""{"userId":""")]
    [InlineData("""{"userId":1}""")]
    [InlineData("""{"userId":"u","count":"10"}""")]
    [InlineData("""{"userId":"u","count":1.5}""")]
    [InlineData("""{"userId":"u","count":3000000000}""")]
    [InlineData("""{"userId":"u","exclude":"i1"}""")]
    [InlineData("""{"userId":"u","exclude":["i1",null]}""")]
    [InlineData("""{"userId":"u","filters":[]}""")]
    [InlineData("""{"userId":"u","context":{"device":7}}""")]
    [InlineData("""{"userId":"u"} x""")]
    [InlineData("""{"userId":"u",}""")]
    public void Parse_RefusesMalformedBodies(string json) =>
        Assert.ThrowsAny<JsonException>(() => RecommendBody.Parse(Encoding.UTF8.GetBytes(json), out _));

    [Fact]
    public void Parse_ReportsEveryAttributeFilterThatIsNotAScalar()
    {
        var request = RecommendBody.Parse("""{"userId":"u","filters":{"attributes":{"a":[1],"b":"ok","c":{"d":1},"e":null}}}"""u8, out var errors);
        Assert.Equal(["filters.attributes.a", "filters.attributes.c", "filters.attributes.e"], errors!.Select(e => e.Field));
        Assert.Equal("ok", request.Attributes!["b"]);
    }
}
