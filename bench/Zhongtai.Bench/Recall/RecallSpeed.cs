namespace Zhongtai.Bench.Recall;

internal static class RecallSpeed
{
    public static int Run(Dictionary<string, string> opts) => 0;
}
