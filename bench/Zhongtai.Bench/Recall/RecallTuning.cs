namespace Zhongtai.Bench.Recall;

internal static class RecallTuning
{
    public static int Run(Dictionary<string, string> opts) => 0;
}
