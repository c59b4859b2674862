namespace Zhongtai.Cli;

internal static class ZtCommand
{
    public static Task<int> RunAsync(string[] args) => Task.FromResult(0);
}
