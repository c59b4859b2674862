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
            var val = new EvalProtocol { TestRatio = 0.25, Seed = 7 }.Split(outer.Train);
            Console.WriteLine($"## {name} validation (train of the test split, re-split 0.25 with seed 7)");
            foreach (var (model, label, settings) in Grid(only))
            {
                var r = RecallEvaluation.TrainAndEvaluate(model, val, "validation", k, settings);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{model,-9} {label,-60} ndcg {r.Ndcg:F4} recall {r.Recall:F4} map {r.Map:F4} train {r.TrainSeconds:F2}s"));
            }
        }

        return 0;
    }

    private static IEnumerable<(string Model, string Label, RecallModelSettings Settings)> Grid(string only)
    {
        bool Want(string m) => only == "all" || only.Split(',').Contains(m);
        if (Want("ease"))
        {
            foreach (double l in new[] { 50.0, 100, 200, 300 })
            {
                foreach (double rho in new[] { 0.0, 1, 2, 3, 5 })
                {
                    foreach (double gamma in new[] { 0.0, 0.5 })
                    {
                        yield return ("ease", $"lambda={l} rho={rho} gamma={gamma}", new RecallModelSettings { Ease = new EaseOptions { Lambda = l, DropoutRegularization = rho, UserWeightExponent = gamma } });
                    }
                }
            }
        }

        if (Want("blend"))
        {
            foreach (string other in new[] { "als" })
            {
                foreach (double w in new[] { 0.3, 0.6, 1, 1.5 })
                {
                    var s = new RecallModelSettings();
                    s.BlendWeights[other] = w;
                    yield return ("ease+" + other, $"weight={w}", s);
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
            foreach (int f in new[] { 200, 300, 400 })
            {
                foreach (double reg in new[] { 50.0, 75 })
                {
                    yield return ("als", $"f={f} reg={reg} alpha=7 nu=0.5", new RecallModelSettings { Als = new AlsOptions { Factors = f, Regularization = reg, Alpha = 7, RegularizationExponent = 0.5 } });
                }
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
