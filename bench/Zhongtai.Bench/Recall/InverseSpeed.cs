using System.Diagnostics;
using System.Globalization;
using Zhongtai.Training.Recall;

namespace Zhongtai.Bench.Recall;

/// <summary>
/// <c>recall-inverse</c>: the EASE dense SPD inverse against LAPACK (OpenBLAS <c>spotrf</c> + <c>spotri</c> through SciPy,
/// float32, same thread count) on random well-conditioned matrices; reports seconds and GFLOP/s counting n³ flops.
/// </summary>
internal static class InverseSpeed
{
    public static int Run(Dictionary<string, string> opts)
    {
        var sizes = opts.GetValueOrDefault("n", "2000,4000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture));
        Console.WriteLine("| n | threads | zhongtai s | zhongtai GFLOP/s | OpenBLAS spotrf+spotri s | OpenBLAS GFLOP/s | max abs(A·A⁻¹ - I) |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        var (warm, _) = RandomSpd(256, 1);
        DenseSpdInverse.Invert(warm, 256, 1, CancellationToken.None); // JIT warm-up
        foreach (int n in sizes)
        {
            foreach (int threads in new[] { 1, 2 })
            {
                var (a, ld) = RandomSpd(n, 11);
                var work = (float[])a.Clone();
                long t0 = Stopwatch.GetTimestamp();
                DenseSpdInverse.Invert(work, n, threads, CancellationToken.None);
                double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                double err = Residual(a, work, n, ld);
                double peer = Peer(n, threads);
                double flops = (double)n * n * n / 1e9;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {n} | {threads} | {s:F2} | {flops / s:F1} | {(peer > 0 ? peer.ToString("F2", CultureInfo.InvariantCulture) : "n/a")} | {(peer > 0 ? (flops / peer).ToString("F1", CultureInfo.InvariantCulture) : "n/a")} | {err:E1} |"));
            }
        }

        return 0;
    }

    private static (float[] A, int Ld) RandomSpd(int n, int seed)
    {
        // A = G + λI with G a co-occurrence-like Gram of a random sparse 0/1 matrix (like EASE's XᵀX)
        int ld = DenseSpdInverse.PaddedSize(n);
        var a = new float[(long)ld * ld];
        var rng = new Random(seed);
        int users = n / 2;
        var rows = new List<int>();
        for (int u = 0; u < users; u++)
        {
            rows.Clear();
            int len = 5 + rng.Next(60);
            for (int t = 0; t < len; t++)
            {
                rows.Add(rng.Next(n));
            }

            foreach (int i in rows.Distinct())
            {
                foreach (int j in rows.Distinct())
                {
                    a[((long)i * ld) + j] += 1f;
                }
            }
        }

        for (int i = 0; i < ld; i++)
        {
            a[((long)i * ld) + i] += i < n ? 50f : 1f;
        }

        return (a, ld);
    }

    private static double Residual(float[] a, float[] inv, int n, int ld)
    {
        // check 20 columns
        double max = 0;
        for (int c = 0; c < n; c += Math.Max(1, n / 20))
        {
            for (int r = 0; r < n; r++)
            {
                double s = 0;
                for (int t = 0; t < n; t++)
                {
                    s += (double)a[((long)r * ld) + t] * inv[((long)t * ld) + c];
                }

                max = Math.Max(max, Math.Abs(s - (r == c ? 1 : 0)));
            }
        }

        return max;
    }

    private static double Peer(int n, int threads)
    {
        const string Script = """
import sys, time, numpy as np
from scipy.linalg import lapack
n = int(sys.argv[1]); rng = np.random.default_rng(11)
g = np.zeros((n, n), dtype=np.float32)
for u in range(n // 2):
    idx = np.unique(rng.integers(0, n, 5 + rng.integers(0, 60)))
    g[np.ix_(idx, idx)] += 1
g += 50 * np.eye(n, dtype=np.float32)
t = time.perf_counter()
c, info = lapack.spotrf(g, lower=1)
inv, info2 = lapack.spotri(c, lower=1)
print(time.perf_counter() - t, info, info2)
""";
        try
        {
            string path = Path.Combine(Path.GetTempPath(), "zt-inverse-peer.py");
            File.WriteAllText(path, Script);
            var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add(path);
            psi.ArgumentList.Add(n.ToString(CultureInfo.InvariantCulture));
            psi.Environment["OPENBLAS_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
            using var p = Process.Start(psi)!;
            string o = p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? double.Parse(o.Split(' ')[0], CultureInfo.InvariantCulture) : -1;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1;
        }
    }
}
