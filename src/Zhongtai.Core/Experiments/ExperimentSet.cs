using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;

namespace Zhongtai.Experiments;

/// <summary>
/// A validated, compiled set of experiments: what <see cref="ExperimentAssigner"/> assigns from. Immutable; a reload
/// builds a new one. Hashing (stable across restarts, machines and versions; documented in docs/experiments.md):
/// <c>layerSlot = XxHash64(utf8(unit), seed: XxHash64(utf8("layer\0" + layer))) mod 10000</c> picks the experiment of
/// the layer whose slot range holds it; <c>bucketSlot = XxHash64(utf8(unit), seed: XxHash64(utf8("bucket\0" + salt))) mod 10000</c>
/// picks the bucket by cumulative weight.
/// </summary>
public sealed class ExperimentSet
{
    /// <summary>Hash slots per layer and per experiment: traffic shares and weights resolve to 1/10,000.</summary>
    public const int Slots = 10_000;

    /// <summary>The file name inside a project's directory.</summary>
    public const string FileName = "experiments.json";

    /// <summary>No experiments (the default).</summary>
    public static readonly ExperimentSet Empty = new([]);

    private readonly Dictionary<string, LayerPlan[]> _byScene;
    private readonly LayerPlan[] _otherScenes;
    private readonly ExperimentAssignment[] _byGlobalIndex;
    private readonly ConcurrentDictionary<ulong, ExperimentAssignments> _combinations = new();

    private ExperimentSet(List<ExperimentConfig> experiments)
    {
        Experiments = experiments;
        var compiled = Compile(experiments, out _byGlobalIndex);
        var scenes = experiments.SelectMany(e => e.Scenes).Where(s => s != "*").Distinct(StringComparer.Ordinal);
        _byScene = scenes.ToDictionary(s => s, s => Plan(compiled, s), StringComparer.Ordinal);
        _otherScenes = Plan(compiled, null);
    }

    /// <summary>The experiments as configured (do not mutate).</summary>
    public IReadOnlyList<ExperimentConfig> Experiments { get; }

    /// <summary><c>DIR/experiments.json</c> for a project directory.</summary>
    public static string PathFor(string projectDirectory) => Path.Combine(projectDirectory, FileName);

    /// <summary>The experiment with <paramref name="id"/>, or null.</summary>
    public ExperimentConfig? Find(string id) => Experiments.FirstOrDefault(e => e.Id == id);

    /// <summary>Loads a file; a missing file is <see cref="Empty"/>. Throws <see cref="ExperimentConfigException"/> listing every problem.</summary>
    public static ExperimentSet Load(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (FileNotFoundException)
        {
            return Empty;
        }
        catch (DirectoryNotFoundException)
        {
            return Empty;
        }

        return Parse(json, path);
    }

    /// <summary>Parses and validates JSON; throws <see cref="ExperimentConfigException"/> listing every problem.</summary>
    public static ExperimentSet Parse(string json, string source = ExperimentSet.FileName)
    {
        ExperimentsDocument? doc;
        try
        {
            doc = JsonSerializer.Deserialize(json, ExperimentJsonContext.Default.ExperimentsDocument);
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $" (line {line + 1}, column {e.BytePositionInLine + 1})" : "";
            throw new ExperimentConfigException(source, [$"not valid JSON{where}: {e.Message}"], e);
        }

        return From(doc?.Experiments ?? [], source);
    }

    /// <summary>Validates and compiles experiments; throws <see cref="ExperimentConfigException"/> listing every problem.</summary>
    public static ExperimentSet From(List<ExperimentConfig> experiments, string source = ExperimentSet.FileName)
    {
        var errors = Validate(experiments);
        if (errors.Count > 0)
        {
            throw new ExperimentConfigException(source, errors);
        }

        return experiments.Count == 0 ? Empty : new ExperimentSet(experiments);
    }

    /// <summary>Every problem with <paramref name="experiments"/>, as sentences naming the experiment and field; empty when valid.</summary>
    public static List<string> Validate(List<ExperimentConfig> experiments)
    {
        var errors = new List<string>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < experiments.Count; i++)
        {
            var e = experiments[i];
            if (e is null)
            {
                errors.Add($"experiments[{i}] is null.");
                continue;
            }

            var name = string.IsNullOrEmpty(e.Id) ? $"experiments[{i}]" : $"experiment '{e.Id}'";
            if (!IsName(e.Id))
            {
                errors.Add($"{name}: id must be non-empty letters, digits, '_', '.' or '-' (it is logged as 'id:bucket').");
            }
            else if (!ids.Add(e.Id))
            {
                errors.Add($"{name}: the id is used by an earlier experiment; ids must be unique.");
            }

            if (e.Scenes is null || e.Scenes.Count == 0)
            {
                errors.Add($"{name}: scenes is empty; name the scenes it applies to, or \"*\" for all.");
            }
            else if (e.Scenes.Exists(string.IsNullOrWhiteSpace))
            {
                errors.Add($"{name}: scenes contains an empty name.");
            }

            if (e.Layer is not null && string.IsNullOrWhiteSpace(e.Layer))
            {
                errors.Add($"{name}: layer is blank; leave it out for a layer of its own.");
            }

            if (e.Salt is not null && string.IsNullOrWhiteSpace(e.Salt))
            {
                errors.Add($"{name}: salt is blank; leave it out to use the id.");
            }

            if (!(e.Traffic > 0 && e.Traffic <= 1) || RangeSize(e.Traffic) < 1)
            {
                errors.Add($"{name}: traffic is {Fmt(e.Traffic)}; it must be in (0, 1] and at least 1/{Slots}.");
            }

            if (e.SlotStart is { } start && start is < 0 or >= Slots)
            {
                errors.Add($"{name}: slotStart is {start}; it must be in 0..{Slots - 1}.");
            }

            ValidateBuckets(e, name, errors);
        }

        if (errors.Count == 0)
        {
            ValidateLayers(experiments, errors);
        }

        return errors;
    }

    private static void ValidateBuckets(ExperimentConfig e, string name, List<string> errors)
    {
        if (e.Buckets is null || e.Buckets.Count == 0)
        {
            errors.Add($"{name}: buckets is empty; an experiment needs at least one bucket (usually 'control' and a treatment).");
            return;
        }

        if (e.Buckets.Count >= ushort.MaxValue)
        {
            errors.Add($"{name}: too many buckets.");
            return;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        double sum = 0;
        foreach (var b in e.Buckets)
        {
            if (b is null)
            {
                errors.Add($"{name}: a bucket is null.");
                return;
            }

            if (!IsName(b.Name))
            {
                errors.Add($"{name}: bucket name '{b.Name}' must be non-empty letters, digits, '_', '.' or '-'.");
            }
            else if (!names.Add(b.Name))
            {
                errors.Add($"{name}: bucket '{b.Name}' appears twice; bucket names must be unique.");
            }

            if (!(b.Weight > 0 && b.Weight <= 1))
            {
                errors.Add($"{name}: bucket '{b.Name}' has weight {Fmt(b.Weight)}; weights must be in (0, 1].");
            }

            if (b.ChannelQuotas is not null)
            {
                foreach (var (channel, quota) in b.ChannelQuotas)
                {
                    if (quota < 0)
                    {
                        errors.Add($"{name}: bucket '{b.Name}' gives channel '{channel}' quota {quota}; quotas must be >= 0.");
                    }
                }
            }

            if (b.ModelAlias is not null && string.IsNullOrWhiteSpace(b.ModelAlias))
            {
                errors.Add($"{name}: bucket '{b.Name}' has a blank modelAlias; leave it out for serving's default.");
            }

            sum += b.Weight;
        }

        if (Math.Abs(sum - 1) > 1e-6)
        {
            errors.Add($"{name}: bucket weights sum to {Fmt(sum)}; they must sum to 1.");
        }
        else if (e.Buckets.TrueForAll(b => b.Weight > 0))
        {
            var uppers = Uppers(e.Buckets);
            for (int i = 0; i < uppers.Length; i++)
            {
                if (uppers[i] <= (i == 0 ? 0 : uppers[i - 1]))
                {
                    errors.Add($"{name}: bucket '{e.Buckets[i].Name}' gets no slot (weight {Fmt(e.Buckets[i].Weight)} < 1/{Slots}).");
                }
            }
        }

        if (e.Control is not null && !names.Contains(e.Control))
        {
            errors.Add($"{name}: control '{e.Control}' is not one of its buckets.");
        }
    }

    private static void ValidateLayers(List<ExperimentConfig> experiments, List<string> errors)
    {
        foreach (var layer in experiments.GroupBy(e => e.EffectiveLayer, StringComparer.Ordinal))
        {
            var ranges = Ranges(layer).OrderBy(r => r.Start).ToList();
            foreach (var (e, start, end) in ranges)
            {
                if (end > Slots)
                {
                    errors.Add($"layer '{layer.Key}': experiment '{e.Id}' needs slots {start}..{end - 1} but a layer has {Slots} (0..{Slots - 1}); lower traffic or slotStart.");
                }
            }

            for (int i = 1; i < ranges.Count; i++)
            {
                var (a, _, aEnd) = ranges[i - 1];
                var (b, bStart, _) = ranges[i];
                if (bStart < aEnd)
                {
                    errors.Add($"layer '{layer.Key}': experiments '{a.Id}' and '{b.Id}' overlap at slots {bStart}..{aEnd - 1}; experiments of one layer must be mutually exclusive (their traffic shares can sum to at most 1).");
                }
            }
        }
    }

    /// <summary>Slot ranges of one layer's experiments in file order: explicit slotStart, else after the previous one.</summary>
    private static IEnumerable<(ExperimentConfig E, int Start, int End)> Ranges(IEnumerable<ExperimentConfig> layer)
    {
        int next = 0;
        foreach (var e in layer)
        {
            int start = e.SlotStart ?? next;
            int end = start + RangeSize(e.Traffic);
            next = end;
            yield return (e, start, end);
        }
    }

    private static int RangeSize(double traffic) => (int)Math.Round(traffic * Slots, MidpointRounding.AwayFromZero);

    /// <summary>Exclusive upper slot of each bucket: cumulative weights rounded, the last one exactly <see cref="Slots"/>.</summary>
    private static int[] Uppers(List<BucketConfig> buckets)
    {
        var uppers = new int[buckets.Count];
        double cumulative = 0;
        for (int i = 0; i < buckets.Count; i++)
        {
            cumulative += buckets[i].Weight;
            uppers[i] = i == buckets.Count - 1 ? Slots : (int)Math.Round(cumulative * Slots, MidpointRounding.AwayFromZero);
        }

        return uppers;
    }

    private static bool IsName(string? s)
    {
        if (string.IsNullOrEmpty(s) || s.Length > 128)
        {
            return false;
        }

        foreach (char c in s)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static string Fmt(double d) => d.ToString("0.######", CultureInfo.InvariantCulture);

    internal static long Seed(string domain, string value) =>
        unchecked((long)XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(domain + "\0" + value)));

    // ---- compiled form -------------------------------------------------------------------------------------------

    private sealed class CompiledExperiment
    {
        public required ExperimentConfig Config { get; init; }
        public required int Start { get; init; }
        public required int End { get; init; }
        public required long BucketSeed { get; init; }
        public required int[] Uppers { get; init; }
        public required ushort[] GlobalIndex { get; init; }
    }

    private sealed class CompiledLayer
    {
        public required string Name { get; init; }
        public required long Seed { get; init; }
        public required List<CompiledExperiment> Experiments { get; init; }
    }

    /// <summary>The layers a scene sees, each with the running experiments that apply to it, sorted by slot.</summary>
    internal sealed class LayerPlan
    {
        public required long Seed { get; init; }
        public required int[] Starts { get; init; }
        public required int[] Ends { get; init; }
        public required long[] BucketSeeds { get; init; }
        public required int[][] Uppers { get; init; }
        public required ushort[][] GlobalIndex { get; init; }
    }

    private static List<CompiledLayer> Compile(List<ExperimentConfig> experiments, out ExperimentAssignment[] byGlobalIndex)
    {
        var all = new List<ExperimentAssignment> { null! }; // global index 0 means "none"
        var layers = new List<CompiledLayer>();
        foreach (var group in experiments.GroupBy(e => e.EffectiveLayer, StringComparer.Ordinal))
        {
            var layer = new CompiledLayer { Name = group.Key, Seed = Seed("layer", group.Key), Experiments = [] };
            foreach (var (e, start, end) in Ranges(group))
            {
                var control = e.EffectiveControl;
                var global = new ushort[e.Buckets.Count];
                for (int i = 0; i < global.Length; i++)
                {
                    if (all.Count > ushort.MaxValue)
                    {
                        throw new ExperimentConfigException(FileName, [$"more than {ushort.MaxValue - 1} buckets in all."]);
                    }

                    global[i] = (ushort)all.Count;
                    all.Add(new ExperimentAssignment(e, e.Buckets[i], e.Buckets[i].Name == control));
                }

                layer.Experiments.Add(new CompiledExperiment
                {
                    Config = e, Start = start, End = end, BucketSeed = Seed("bucket", e.EffectiveSalt), Uppers = Uppers(e.Buckets), GlobalIndex = global,
                });
            }

            layers.Add(layer);
        }

        byGlobalIndex = [.. all];
        return layers;
    }

    private static LayerPlan[] Plan(List<CompiledLayer> layers, string? scene)
    {
        var plans = new List<LayerPlan>();
        foreach (var layer in layers)
        {
            var applying = layer.Experiments
                .Where(x => x.Config.Status == ExperimentStatus.Running
                    && x.Config.Scenes.Exists(s => s == "*" || (scene is not null && s == scene)))
                .OrderBy(x => x.Start)
                .ToList();
            if (applying.Count == 0)
            {
                continue;
            }

            plans.Add(new LayerPlan
            {
                Seed = layer.Seed,
                Starts = [.. applying.Select(x => x.Start)],
                Ends = [.. applying.Select(x => x.End)],
                BucketSeeds = [.. applying.Select(x => x.BucketSeed)],
                Uppers = [.. applying.Select(x => x.Uppers)],
                GlobalIndex = [.. applying.Select(x => x.GlobalIndex)],
            });
        }

        return [.. plans];
    }

    // ---- hot path ------------------------------------------------------------------------------------------------

    /// <summary>Assigns a unit (its UTF-8 bytes) in a scene. Allocation-free once the combination of buckets has been seen.</summary>
    internal ExperimentAssignments Assign(ReadOnlySpan<byte> unit, string scene)
    {
        var plans = _byScene.TryGetValue(scene, out var p) ? p : _otherScenes;
        ulong key = 0;
        int matched = 0;
        foreach (var plan in plans)
        {
            int slot = (int)(XxHash64.HashToUInt64(unit, plan.Seed) % Slots);
            var starts = plan.Starts;
            for (int x = 0; x < starts.Length; x++)
            {
                if (slot < starts[x] || slot >= plan.Ends[x])
                {
                    continue;
                }

                int bucketSlot = (int)(XxHash64.HashToUInt64(unit, plan.BucketSeeds[x]) % Slots);
                var uppers = plan.Uppers[x];
                int b = 0;
                while (bucketSlot >= uppers[b])
                {
                    b++;
                }

                if (matched == 4)
                {
                    return AssignSlow(unit, plans);
                }

                key = (key << 16) | plan.GlobalIndex[x][b];
                matched++;
                break;
            }
        }

        if (matched == 0)
        {
            return ExperimentAssignments.Empty;
        }

        return _combinations.TryGetValue(key, out var cached) ? cached : _combinations.GetOrAdd(key, Build(key));
    }

    private ExperimentAssignments Build(ulong key)
    {
        var items = new List<ExperimentAssignment>(4);
        for (; key != 0; key >>= 16)
        {
            items.Insert(0, _byGlobalIndex[(int)(key & 0xFFFF)]);
        }

        return new ExperimentAssignments([.. items]);
    }

    /// <summary>More than four layers matched: not cached, allocates.</summary>
    private ExperimentAssignments AssignSlow(ReadOnlySpan<byte> unit, LayerPlan[] plans)
    {
        var items = new List<ExperimentAssignment>();
        foreach (var plan in plans)
        {
            int slot = (int)(XxHash64.HashToUInt64(unit, plan.Seed) % Slots);
            for (int x = 0; x < plan.Starts.Length; x++)
            {
                if (slot >= plan.Starts[x] && slot < plan.Ends[x])
                {
                    int bucketSlot = (int)(XxHash64.HashToUInt64(unit, plan.BucketSeeds[x]) % Slots);
                    int b = 0;
                    while (bucketSlot >= plan.Uppers[x][b])
                    {
                        b++;
                    }

                    items.Add(_byGlobalIndex[plan.GlobalIndex[x][b]]);
                    break;
                }
            }
        }

        return new ExperimentAssignments([.. items]);
    }
}

/// <summary>An experiments file that cannot be used; <see cref="Errors"/> lists every problem.</summary>
public sealed class ExperimentConfigException : InvalidOperationException
{
    public ExperimentConfigException(string source, IReadOnlyList<string> errors, Exception? inner = null)
        : base($"{source} is invalid:{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", errors)}", inner)
    {
        SourceName = source;
        Errors = errors;
    }

    public ExperimentConfigException()
        : this(ExperimentSet.FileName, [])
    {
    }

    public ExperimentConfigException(string message)
        : this(ExperimentSet.FileName, [message])
    {
    }

    public ExperimentConfigException(string message, Exception inner)
        : this(ExperimentSet.FileName, [message], inner)
    {
    }

    /// <summary>The file (or text) that was read.</summary>
    public string SourceName { get; }

    public IReadOnlyList<string> Errors { get; }
}
