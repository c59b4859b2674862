using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;
using Zhongtai.Datasets;
using Zhongtai.Hosting;
using Zhongtai.Registry;
using Zhongtai.Samples;
using Zhongtai.Training.Ranking;

namespace Zhongtai.Training;

/// <summary>
/// Trains a ranking model (<c>ftrl</c> or <c>fm</c>) on the newest ranking split dataset of a project and puts it through
/// the admission gate: candidate and production are scored on the same test split (the newest samples, which neither
/// trained on). Full runs start from scratch on the train split; incremental runs warm-start from the production version
/// and learn only the train rows newer than those it saw. The candidate is registered either way, with the dataset it
/// learned from; a rejected run leaves production untouched.
/// </summary>
public static class RankerTraining
{
    public static readonly IReadOnlyList<string> Models = ["ftrl", "fm"];

    public static TrainingOutcome Run(Project project, DatasetRegistry datasets, string model, bool incremental, RankerTrainingOptions options, int k,
        IReadOnlyDictionary<string, double>? overrides, Action<string> log, CancellationToken ct)
    {
        if (!Models.Contains(model, StringComparer.Ordinal))
        {
            throw new ArgumentException($"Ranker training supports {string.Join(", ", Models)}; got '{model}'.", nameof(model));
        }

        var splits = datasets.List(options.SplitsDataset).MaxBy(d => d.Version)
            ?? throw new InvalidOperationException($"No '{options.SplitsDataset}' dataset yet: run the pipeline first (zt pipeline run).");
        var production = project.Models.Resolve(model, ModelAliases.Production);
        var parent = incremental && production is not null ? Config.Parse(production.Config) : null;
        if (incremental && production is null)
        {
            log("no production version yet: the incremental run trains from scratch");
        }

        var bits = parent?.Bits ?? Positive(overrides, "bits") ?? options.Bits;
        var featurizer = new RankingFeaturizer(bits, 0, parent?.Identities ?? options.Identities);
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        var since = parent?.TrainedUntil ?? long.MinValue;
        var (train, trainTimes) = featurizer.Read(duck, $"SELECT * FROM read_parquet({SampleSql.Literal(splits.TablePath("train"))})" +
            (parent is null ? "" : $" WHERE epoch_us(ts) > {since.ToString(CultureInfo.InvariantCulture)}") + " ORDER BY ts", ct);
        var (test, _) = featurizer.Read(duck, $"SELECT * FROM read_parquet({SampleSql.Literal(splits.TablePath("test"))}) ORDER BY ts", ct);
        if (test.Count == 0)
        {
            throw new InvalidOperationException($"Dataset {splits.Id} has an empty test split: nothing to judge the candidate on.");
        }

        log($"{splits.Id}: {train.Count:N0} training rows{(parent is null ? "" : " newer than the parent's")}, {test.Count:N0} test rows, 2^{bits} features");
        var epochs = Positive(overrides, "epochs") ?? (parent is not null ? options.IncrementalEpochs : options.Epochs);
        var previous = parent is null ? null : Decode(model, project.Models.ReadArtifact(production!));
        var candidate = previous ?? Create(model, options, bits, overrides);
        if (train.Count > 0)
        {
            for (var epoch = 0; epoch < epochs; epoch++)
            {
                var loss = candidate.Train(train, ct);
                log($"{model} epoch {epoch + 1}/{epochs}: train log-loss {loss:F4}");
            }
        }

        var metrics = Metrics(candidate, test);
        var productionMetrics = production is null ? null : Metrics(Decode(model, project.Models.ReadArtifact(production)), test);
        var decision = AdmissionGate.Evaluate(metrics, productionMetrics, options.Gate);
        log($"candidate auc={metrics["auc"]:F4} logloss={metrics["logloss"]:F4}" + (productionMetrics is null ? " (no production yet)"
            : $", production v{production!.Version} auc={productionMetrics["auc"]:F4} logloss={productionMetrics["logloss"]:F4}"));

        var trainedUntil = trainTimes.Length > 0 ? trainTimes.Max() : since;
        var config = new Config(bits, featurizer.Identities, epochs, trainedUntil, model == "ftrl" ? JsonSerializer.Serialize(options.Ftrl) : JsonSerializer.Serialize(options.Fm));
        var version = project.Models.Register(
            new ModelRegistration(model, model == "ftrl" ? "FtrlProximal" : "FactorizationMachine", candidate.Format, config.ToJson(), [splits.Id],
                metrics, incremental ? production?.Version : null, incremental ? "train-incremental" : "train-full"),
            candidate.Serialize());
        var promoted = AdmissionGate.Apply(project.Models, model, version.Version, decision, options.Gate.AutoPromote);
        log(decision.Passed ? $"v{version.Version} passed the gate{(promoted ? " and is production" : "")}" : $"v{version.Version} rejected: {string.Join("; ", decision.Reasons)}");
        return new TrainingOutcome(model, incremental, version.Version, version.ParentVersion, metrics, productionMetrics, decision.Passed, decision.Reasons, promoted);
    }

    private static int? Positive(IReadOnlyDictionary<string, double>? overrides, string name) =>
        overrides is not null && overrides.TryGetValue(name, out var v) && v >= 1 ? (int)v : null;

    private static Dictionary<string, double> Metrics(Ranker model, SparseBatch test)
    {
        var p = model.Predict(test);
        var mean = p.Average(x => (double)x);
        return new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["auc"] = RankingMetrics.Auc(p, test.Labels),
            ["logloss"] = RankingMetrics.LogLoss(p, test.Labels),
            ["testRows"] = test.Count,
            ["testPositiveRate"] = test.Labels.ToArray().Average(x => (double)x),
            ["meanPrediction"] = mean,
            [AdmissionGate.PredictionStd] = Math.Sqrt(p.Average(x => (x - mean) * (x - mean))),
            [AdmissionGate.NonFiniteParameters] = p.Count(x => !float.IsFinite(x)),
        };
    }

    private static Ranker Create(string model, RankerTrainingOptions options, int bits, IReadOnlyDictionary<string, double>? overrides)
    {
        double Get(string name, double value) => overrides is not null && overrides.TryGetValue(name, out var v) ? v : value;
        return model == "ftrl"
        ? new FtrlRanker(new FtrlModel(new FtrlOptions { Bits = bits, Alpha = Get("alpha", options.Ftrl.Alpha), Beta = Get("beta", options.Ftrl.Beta), L1 = Get("l1", options.Ftrl.L1), L2 = Get("l2", options.Ftrl.L2) }))
        : new FmRanker(new FactorizationMachine(new FactorizationMachineOptions
        {
            Bits = bits, Factors = (int)Get("factors", options.Fm.Factors), LearningRate = Get("learningRate", options.Fm.LearningRate), L2Linear = options.Fm.L2Linear,
            L2Factors = options.Fm.L2Factors, InitStd = options.Fm.InitStd, Seed = options.Fm.Seed,
        }));
    }

    private static Ranker Decode(string model, byte[] artifact)
    {
        using var stream = new MemoryStream(artifact, writable: false);
        return model == "ftrl" ? new FtrlRanker(FtrlModel.Load(stream)) : new FmRanker(FactorizationMachine.Load(stream));
    }

    /// <summary>What a ranker version records about how it was made: the featurizer to reproduce, and how far its data went.</summary>
    private sealed record Config(int Bits, bool Identities, int Epochs, long TrainedUntil, string Hyperparameters)
    {
        public string ToJson() => JsonSerializer.Serialize(this);

        public static Config? Parse(string json)
        {
            try
            {
                return JsonSerializer.Deserialize<Config>(json);
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    private abstract class Ranker
    {
        public abstract string Format { get; }
        public abstract double Train(SparseBatch batch, CancellationToken ct);
        public abstract float[] Predict(SparseBatch batch);
        protected abstract void Save(Stream stream);

        public byte[] Serialize()
        {
            using var stream = new MemoryStream();
            Save(stream);
            return stream.ToArray();
        }
    }

    private sealed class FtrlRanker(FtrlModel model) : Ranker
    {
        public override string Format => "zt-ftrl/1";
        public override double Train(SparseBatch batch, CancellationToken ct) => model.Train(batch, 1, ct);
        public override float[] Predict(SparseBatch batch) => model.Predict(batch);
        protected override void Save(Stream stream) => model.Save(stream);
    }

    private sealed class FmRanker(FactorizationMachine model) : Ranker
    {
        public override string Format => "zt-fm/1";
        public override double Train(SparseBatch batch, CancellationToken ct) => model.Train(batch, 1, ct);
        public override float[] Predict(SparseBatch batch) => model.Predict(batch);
        protected override void Save(Stream stream) => model.Save(stream);
    }
}
