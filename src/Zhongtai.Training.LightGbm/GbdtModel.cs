using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.LightGbm;

namespace Zhongtai.Training.LightGbm;

/// <summary>
/// Gradient-boosted trees trained by LightGBM through ML.NET, on dense numeric features, with a binary (click) or
/// LambdaRank objective. Saved as an ML.NET model zip.
/// </summary>
/// <remarks>
/// Warm start: ML.NET 5 does not expose LightGBM's continued training (no initial model, no init-score column),
/// and training is not cancellable once it starts in native code, so a refresh is a full retrain on the new window; the realtime layer that follows fresh data is
/// <c>Zhongtai.Training.Ranking.FtrlModel</c>. <see cref="Predict"/> may be called from several threads: each call
/// runs the transformer over its own data view and cursor (no shared PredictionEngine).
/// </remarks>
public sealed class GbdtModel
{
    private const string FeaturesColumn = "Features";
    private const string LabelColumn = "Label";
    private const string WeightColumn = "Weight";
    private const string GroupColumn = "GroupId";

    private readonly MLContext _ml;
    private readonly ITransformer _transformer;

    private GbdtModel(MLContext ml, ITransformer transformer, GbdtObjective objective, int featureCount)
    {
        _ml = ml;
        _transformer = transformer;
        Objective = objective;
        FeatureCount = featureCount;
    }

    public GbdtObjective Objective { get; }

    public int FeatureCount { get; }

    /// <summary>Trains a model on <paramref name="data"/>. LambdaRank needs group ids and integer labels 0..30.</summary>
    /// <exception cref="ArgumentException">Bad options, missing groups for LambdaRank, or labels the objective cannot use.</exception>
    public static GbdtModel Train(DenseDataset data, GbdtOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        CheckLabels(data, options.Objective);

        var ml = new MLContext(options.Seed);
        IDataView view = ToDataView(ml, data, options.Objective == GbdtObjective.LambdaRank, training: true);
        ITransformer transformer = options.Objective switch
        {
            GbdtObjective.Binary => ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
            {
                LabelColumnName = nameof(Row.Clicked),
                FeatureColumnName = FeaturesColumn,
                ExampleWeightColumnName = data.Weights is null ? null : WeightColumn,
                NumberOfIterations = options.NumberOfIterations,
                NumberOfLeaves = options.NumberOfLeaves,
                LearningRate = options.LearningRate,
                MinimumExampleCountPerLeaf = options.MinimumExampleCountPerLeaf,
                NumberOfThreads = options.NumberOfThreads,
                Seed = options.Seed,
                Verbose = false,
                Silent = true,
                Booster = new GradientBooster.Options { L2Regularization = options.L2Regularization },
            }).Fit(view),
            GbdtObjective.LambdaRank => ml.Ranking.Trainers.LightGbm(new LightGbmRankingTrainer.Options
            {
                LabelColumnName = LabelColumn,
                FeatureColumnName = FeaturesColumn,
                RowGroupColumnName = GroupColumn,
                ExampleWeightColumnName = data.Weights is null ? null : WeightColumn,
                NumberOfIterations = options.NumberOfIterations,
                NumberOfLeaves = options.NumberOfLeaves,
                LearningRate = options.LearningRate,
                MinimumExampleCountPerLeaf = options.MinimumExampleCountPerLeaf,
                NumberOfThreads = options.NumberOfThreads,
                Seed = options.Seed,
                Verbose = false,
                Silent = true,
                Booster = new GradientBooster.Options { L2Regularization = options.L2Regularization },
            }).Fit(view),
            _ => throw new ArgumentException($"Unknown objective {options.Objective}.", nameof(options)),
        };
        cancellationToken.ThrowIfCancellationRequested();
        return new GbdtModel(ml, transformer, options.Objective, data.FeatureCount);
    }

    /// <summary>
    /// Scores every row of <paramref name="data"/> (labels, weights and groups are ignored): probabilities for
    /// <see cref="GbdtObjective.Binary"/>, ranking scores for <see cref="GbdtObjective.LambdaRank"/>.
    /// </summary>
    public float[] Predict(DenseDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.FeatureCount != FeatureCount)
        {
            throw new ArgumentException($"The model expects {FeatureCount} features; the data has {data.FeatureCount}.", nameof(data));
        }

        IDataView scored = _transformer.Transform(ToDataView(_ml, data, withGroups: false, training: false));
        string column = Objective == GbdtObjective.Binary ? "Probability" : "Score";
        var result = new float[data.Count];
        int i = 0;
        foreach (float value in scored.GetColumn<float>(column))
        {
            result[i++] = value;
        }

        if (i != data.Count)
        {
            throw new InvalidOperationException($"ML.NET returned {i} predictions for {data.Count} rows.");
        }

        return result;
    }

    /// <summary>Writes an ML.NET model zip, with the objective and feature count in a small header before it.</summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(HeaderMagic);
        writer.Write((int)Objective);
        writer.Write(FeatureCount);
        writer.Flush();
        _ml.Model.Save(_transformer, InputSchema(_ml, FeatureCount), stream);
    }

    public void Save(string path)
    {
        using var stream = File.Create(path);
        Save(stream);
    }

    /// <summary>Reads a model written by <see cref="Save(Stream)"/>.</summary>
    /// <exception cref="InvalidDataException">Not a GBDT model file, or ML.NET cannot read its zip (corrupt).</exception>
    public static GbdtModel Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            if (reader.ReadInt64() != HeaderMagic)
            {
                throw new InvalidDataException("Not a GBDT model file: wrong magic bytes.");
            }

            var objective = (GbdtObjective)reader.ReadInt32();
            int featureCount = reader.ReadInt32();
            if (!Enum.IsDefined(objective) || featureCount < 1)
            {
                throw new InvalidDataException("GBDT model file is corrupt: bad header.");
            }

            var ml = new MLContext();
            ITransformer transformer = ml.Model.Load(stream, out _);
            return new GbdtModel(ml, transformer, objective, featureCount);
        }
        catch (Exception e) when (e is not (InvalidDataException or OutOfMemoryException or OperationCanceledException))
        {
            // ML.NET reports a damaged zip in many ways (format, argument, invalid-operation, its own exceptions).
            throw new InvalidDataException($"GBDT model file is corrupt: {e.Message}", e);
        }
    }

    public static GbdtModel Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Load(stream);
    }

    private const long HeaderMagic = 0x3130_5444_4247_545A; // "ZTGBDT01" little-endian

    private static void CheckLabels(DenseDataset data, GbdtObjective objective)
    {
        if (objective == GbdtObjective.LambdaRank)
        {
            if (data.Groups is null)
            {
                throw new ArgumentException("LambdaRank needs a group id per row (DenseDataset.Groups).", nameof(data));
            }

            foreach (float label in data.Labels)
            {
                if (label < 0 || label > 30 || label != MathF.Floor(label))
                {
                    throw new ArgumentException($"LambdaRank labels must be integer relevance grades 0..30 (found {label}).", nameof(data));
                }
            }
        }
        else
        {
            bool positive = false, negative = false;
            foreach (float label in data.Labels)
            {
                if (label is not (0f or 1f))
                {
                    throw new ArgumentException($"Binary labels must be 0 or 1 (found {label}).", nameof(data));
                }

                positive |= label == 1f;
                negative |= label == 0f;
            }

            if (!positive || !negative)
            {
                throw new ArgumentException("Binary training needs both positive and negative labels.", nameof(data));
            }
        }
    }

    private static SchemaDefinition RowSchema(int featureCount, int groupCount)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, featureCount);
        if (groupCount > 0)
        {
            schema[nameof(Row.GroupId)].ColumnType = new KeyDataViewType(typeof(uint), (ulong)groupCount);
        }
        else
        {
            schema[nameof(Row.GroupId)].ColumnType = NumberDataViewType.UInt32;
        }

        return schema;
    }

    private static DataViewSchema InputSchema(MLContext ml, int featureCount) =>
        ml.Data.LoadFromEnumerable(Array.Empty<Row>(), RowSchema(featureCount, 0)).Schema;

    private static IDataView ToDataView(MLContext ml, DenseDataset data, bool withGroups, bool training)
    {
        int n = data.Count;
        var rows = new Row[n];
        int[] order = Enumerable.Range(0, n).ToArray();
        int groupCount = 0;
        if (withGroups && data.Groups is not null)
        {
            // LightGBM reads a group as a run of consecutive rows: order rows by group, keeping their order within it.
            int[] groups = data.Groups;
            order = order.OrderBy(i => groups[i]).ToArray();
            var keys = new Dictionary<int, uint>();
            foreach (int i in order)
            {
                if (!keys.ContainsKey(groups[i]))
                {
                    keys[groups[i]] = (uint)keys.Count + 1; // key values are 1-based; 0 means missing
                }
            }

            groupCount = keys.Count;
            for (int r = 0; r < n; r++)
            {
                int i = order[r];
                rows[r] = new Row { Features = data.Row(i).ToArray(), Label = data.Labels[i], Clicked = data.Labels[i] > 0.5f, Weight = data.Weights?[i] ?? 1f, GroupId = keys[groups[i]] };
            }
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                rows[i] = new Row { Features = data.Row(i).ToArray(), Label = training ? data.Labels[i] : 0f, Clicked = training && data.Labels[i] > 0.5f, Weight = data.Weights?[i] ?? 1f };
            }
        }

        return ml.Data.LoadFromEnumerable(rows, RowSchema(data.FeatureCount, groupCount));
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = [];

        public float Label { get; set; }

        /// <summary>The binary label (ML.NET's binary trainers want a Boolean column).</summary>
        public bool Clicked { get; set; }

        public float Weight { get; set; }

        public uint GroupId { get; set; }
    }
}
