using System.Globalization;
using Zhongtai.Training.Evaluation;
using Zhongtai.Training.Recall;

namespace Zhongtai.Bench.Recall;

/// <summary>
/// Grid search on a validation split carved from the train part of the random split (seed 7), never on test:
/// <c>recall-tune --data ml-100k --model ease</c>.
/// </summary>
internal static class RecallTuning
{
    public static int Run(Dictionary<string, string> opts)
    {
        string only = opts.GetValueOrDefault("model", "all");
        int k = 10;
        foreach (var (name, data) in RecallBenchCommands.Datasets(opts))
        {
            var outer = new EvalProtocol { TestRatio = 0.25, Seed = 42 }.Split(data);
            var seeds = opts.GetValueOrDefault("val-seeds", "7").Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            var vals = seeds.Select(seed => new EvalProtocol { TestRatio = 0.25, Seed = seed }.Split(outer.Train)).ToArray();
            Console.WriteLine($"## {name} validation (train of the test split, re-split 0.25 with seeds {string.Join(",", seeds)}; mean over seeds)");
            foreach (var (model, label, settings) in Grid(only, opts))
            {
                var rs = vals.Select(val => RecallEvaluation.TrainAndEvaluate(model, val, "validation", k, settings)).ToArray();
                var each = string.Join(" ", rs.Select(r => r.Ndcg.ToString("F4", CultureInfo.InvariantCulture)));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{model,-9} {label,-60} ndcg {rs.Average(r => r.Ndcg):F4} recall {rs.Average(r => r.Recall):F4} map {rs.Average(r => r.Map):F4} train {rs.Average(r => r.TrainSeconds):F2}s [{each}]"));
            }
        }

        return 0;
    }

    private static IEnumerable<(string Model, string Label, RecallModelSettings Settings)> Grid(string only, Dictionary<string, string> opts)
    {
        IEnumerable<double> Doubles(string key, string fallback) =>
            opts.GetValueOrDefault(key, fallback).Split(',').Select(x => double.Parse(x, CultureInfo.InvariantCulture));

        // EASE grid (for the blend's EASE) from --ease-lambda, --ease-rho, --ease-zerodiag (1/0); defaults alone.
        IEnumerable<(string Label, EaseOptions Ease)> EaseGrid()
        {
            var d = new EaseOptions();
            foreach (double l in Doubles("ease-lambda", d.Lambda.ToString(CultureInfo.InvariantCulture)))
            {
                foreach (double rho in Doubles("ease-rho", d.DropoutRegularization.ToString(CultureInfo.InvariantCulture)))
                {
                    foreach (double zd in Doubles("ease-zerodiag", d.ZeroDiagonal ? "1" : "0"))
                    {
                        yield return ($"lambda={l} rho={rho} zeroDiag={zd != 0}", new EaseOptions { Lambda = l, DropoutRegularization = rho, ZeroDiagonal = zd != 0 });
                    }
                }
            }
        }

        // ALS grid from --als-f, --als-reg, --als-alpha, --als-iters (each defaults to the AlsOptions default alone).
        IEnumerable<(string Label, AlsOptions Als)> AlsGrid()
        {
            var d = new AlsOptions();
            foreach (double f in Doubles("als-f", d.Factors.ToString(CultureInfo.InvariantCulture)))
            {
                foreach (double reg in Doubles("als-reg", d.Regularization.ToString(CultureInfo.InvariantCulture)))
                {
                    foreach (double alpha in Doubles("als-alpha", d.Alpha.ToString(CultureInfo.InvariantCulture)))
                    {
                        foreach (double it in Doubles("als-iters", d.Iterations.ToString(CultureInfo.InvariantCulture)))
                        {
                            yield return ($"f={f} reg={reg} alpha={alpha} iters={it}", new AlsOptions { Factors = (int)f, Regularization = reg, Alpha = alpha, Iterations = (int)it });
                        }
                    }
                }
            }
        }

        bool Want(string m) => only == "all" || only.Split(',').Contains(m);
        if (Want("ease"))
        {
            yield return ("ease", "defaults", new RecallModelSettings());
            foreach (double rho in new[] { 2.0, 3 })
            {
                foreach (double beta in new[] { 0.0, 0.1 })
                {
                    yield return ("ease", $"lambda=200 rho={rho} gamma=0.5 beta={beta} zeroDiag=False", new RecallModelSettings { Ease = new EaseOptions { Lambda = 200, DropoutRegularization = rho, PopularityExponent = beta, ZeroDiagonal = false } });
                }
            }
        }

        if (Want("blend"))
        {
            foreach (var (label, als) in AlsGrid())
            {
                foreach (var (easeLabel, ease) in EaseGrid())
                {
                    foreach (double w in Doubles("w-als", "0.5,1,2,3,5"))
                    {
                        var s = new RecallModelSettings { Als = als, BlendEase = ease };
                        s.BlendWeights.Clear();
                        s.BlendWeights["als"] = w;
                        yield return ("ease+als", $"weight={w} als: {label} ease: {easeLabel}", s);
                    }
                }
            }
        }

        if (Want("rp3beta"))
        {
            foreach (double a in Doubles("rp3-alpha", "0.6,0.8,1.0"))
            {
                foreach (double b in Doubles("rp3-beta", "0.2,0.3,0.4"))
                {
                    foreach (int n in Doubles("rp3-n", "100,200").Select(x => (int)x))
                    {
                        yield return ("rp3beta", $"alpha={a} beta={b} N={n}", new RecallModelSettings { Rp3Beta = new Rp3BetaOptions { Alpha = a, Beta = b, NeighborCount = n } });
                    }
                }
            }
        }

        if (Want("blend3"))
        {
            // ease + als + third: ALS weight and the third model's weight (EASE weighs 1).
            string third = opts.GetValueOrDefault("third", "rp3beta");
            foreach (var (label, als) in AlsGrid())
            {
                foreach (double wa in Doubles("w-als", "3,5"))
                {
                    foreach (double wt in Doubles("w-third", "0.5,1,2"))
                    {
                        // EASE as in the three-way runs of docs/quality.md: the EaseOptions defaults (zero diagonal)
                        var s = new RecallModelSettings { Als = als, BlendEase = new EaseOptions() };
                        s.BlendWeights.Clear();
                        s.BlendWeights["als"] = wa;
                        s.BlendWeights[third] = wt;
                        yield return ("ease+als+" + third, $"als={wa} {third}={wt} als: {label}", s);
                    }
                }
            }
        }

        if (Want("itemcf"))
        {
            foreach (int n in new[] { 20, 50, 100, 200, 400 })
            {
                yield return ("itemcf", $"cosine N={n}", new RecallModelSettings { ItemCf = new ItemCfOptions { NeighborCount = n } });
                foreach (double a in new[] { 0.3, 0.5, 0.7, 0.9 })
                {
                    yield return ("itemcf", $"condprob alpha={a} N={n}", new RecallModelSettings { ItemCf = new ItemCfOptions { NeighborCount = n, Similarity = ItemSimilarity.ConditionalProbability, Alpha = a } });
                }
            }
        }

        if (Want("als"))
        {
            foreach (var (label, als) in AlsGrid())
            {
                yield return ("als", label, new RecallModelSettings { Als = als });
            }
        }

        if (Want("bpr"))
        {
            foreach (int f in new[] { 64 })
            {
                foreach (double lr in new[] { 0.01, 0.02 })
                {
                    foreach (double reg in new[] { 0.03, 0.06, 0.1 })
                    {
                        foreach (int ep in new[] { 150 })
                        {
                            yield return ("bpr", $"f={f} lr={lr} reg={reg} epochs={ep}", new RecallModelSettings { Bpr = new BprOptions { Factors = f, LearningRate = lr, Regularization = reg, Epochs = ep, Threads = 2 } });
                        }
                    }
                }
            }
        }

        foreach (string m in new[] { "item2vec", "deepwalk" })
        {
            if (!Want(m))
            {
                continue;
            }

            foreach (double prior in new[] { 0.5, 0.75 })
            {
                foreach (int w in new[] { 5 })
                {
                    foreach (double sub in new[] { 0.0 })
                    {
                        foreach (int ep in new[] { 3, 10 })
                        {
                            var s = new RecallModelSettings
                            {
                                Item2Vec = new Item2VecOptions { PopularityPrior = prior, Window = w, SubSample = sub, Epochs = ep, Threads = 2 },
                                DeepWalk = new DeepWalkOptions { PopularityPrior = prior, Window = w, SubSample = sub, Epochs = ep, Threads = 2 },
                            };
                            yield return (m, $"prior={prior} window={w} subsample={sub} epochs={ep}", s);
                        }
                    }
                }
            }
        }
    }
}
