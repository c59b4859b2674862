using System.Numerics.Tensors;

namespace Zhongtai.Training.Recall;

/// <summary>How a user's items are turned into scores by a <see cref="SkipGramItemModel"/>.</summary>
public enum SkipGramScoring
{
    /// <summary>Sum over the history of the cosine between input vectors (item-to-item similarity).</summary>
    Cosine,

    /// <summary>Mean input vector of the history dotted with each item's output (context) vector: the SGNS prediction.</summary>
    InputOutput,
}

/// <summary>Skip-gram with negative sampling hyperparameters (shared by item2vec and DeepWalk).</summary>
public class SkipGramOptions
{
    /// <summary>Vector dimension. Default 64.</summary>
    public int Dimension { get; set; } = 64;

    /// <summary>Maximum context distance; each position draws its window uniformly from 1..Window (as word2vec/fastText). Default 5.</summary>
    public int Window { get; set; } = 5;

    /// <summary>Negatives per positive, drawn from the unigram^0.75 table. Default 5.</summary>
    public int Negatives { get; set; } = 5;

    /// <summary>Passes over the sequences. Default 5.</summary>
    public int Epochs { get; set; } = 5;

    /// <summary>Starting learning rate, decayed linearly to 0 over all epochs. Default 0.025.</summary>
    public double LearningRate { get; set; } = 0.025;

    /// <summary>
    /// Sub-sampling threshold t: a token of frequency f is kept with probability <c>sqrt(t/f) + t/f</c> (fastText's rule);
    /// 0 disables sub-sampling. Default 1e-4.
    /// </summary>
    public double SubSample { get; set; } = 1e-4;

    /// <summary>Hogwild threads. Default 1 (deterministic for a seed).</summary>
    public int Threads { get; set; } = 1;

    /// <summary>Seed. Default 42.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>How users are scored from their history. Default <see cref="SkipGramScoring.InputOutput"/>.</summary>
    public SkipGramScoring Scoring { get; set; } = SkipGramScoring.InputOutput;

    /// <summary>
    /// With <see cref="SkipGramScoring.InputOutput"/>, <c>PopularityPrior·log(1 + count_j)</c> is added to item j's score.
    /// SGNS learns <c>in_i·out_j ≈ PMI(i, j) - log k</c> against the unigram^0.75 noise, which removes popularity; adding
    /// 0.75·log count turns it back into a conditional log-probability, which ranks far better. Default 0.75.
    /// </summary>
    public double PopularityPrior { get; set; } = 0.75;

    /// <summary>Throws <see cref="ArgumentException"/> on invalid values.</summary>
    public virtual void Validate()
    {
        if (Dimension < 1 || Dimension > 4096)
        {
            throw new ArgumentException($"Dimension must be in [1, 4096]; got {Dimension}.", nameof(Dimension));
        }

        if (Window < 1)
        {
            throw new ArgumentException($"Window must be >= 1; got {Window}.", nameof(Window));
        }

        if (Negatives < 1)
        {
            throw new ArgumentException($"Negatives must be >= 1; got {Negatives}.", nameof(Negatives));
        }

        if (Epochs < 0)
        {
            throw new ArgumentException($"Epochs must be >= 0; got {Epochs}.", nameof(Epochs));
        }

        if (!(LearningRate > 0) || double.IsInfinity(LearningRate))
        {
            throw new ArgumentException($"LearningRate must be a finite number > 0; got {LearningRate}.", nameof(LearningRate));
        }

        if (!(SubSample >= 0) || SubSample >= 1)
        {
            throw new ArgumentException($"SubSample must be in [0, 1); got {SubSample}.", nameof(SubSample));
        }

        if (Threads < 1)
        {
            throw new ArgumentException($"Threads must be >= 1; got {Threads}.", nameof(Threads));
        }

        if (!(PopularityPrior >= 0) || double.IsInfinity(PopularityPrior))
        {
            throw new ArgumentException($"PopularityPrior must be a finite number >= 0; got {PopularityPrior}.", nameof(PopularityPrior));
        }
    }
}

/// <summary>Item vectors learned by skip-gram: input vectors are the item embeddings, output vectors the context side.</summary>
public sealed class SkipGramItemModel : IRecallModel, IItemEmbeddingModel, ISimilarItemsModel
{
    private readonly float[] _normalized;
    private readonly float[] _prior;

    internal SkipGramItemModel(string name, int userCount, int itemCount, int dim, float[] input, float[] output, SkipGramOptions options, int[] itemCounts)
    {
        SkipGramScoring scoring = options.Scoring;
        _prior = new float[itemCount];
        if (scoring == SkipGramScoring.InputOutput)
        {
            for (int i = 0; i < Math.Min(itemCount, itemCounts.Length); i++)
            {
                _prior[i] = (float)(options.PopularityPrior * Math.Log(1 + itemCounts[i]));
            }
        }

        Name = name;
        UserCount = userCount;
        ItemCount = itemCount;
        Dimension = dim;
        Input = input;
        Output = output;
        Scoring = scoring;
        _normalized = Embeddings.Normalized(input, dim);
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public int UserCount { get; }

    /// <inheritdoc/>
    public int ItemCount { get; }

    /// <inheritdoc/>
    public int Dimension { get; }

    /// <summary>How users are scored.</summary>
    public SkipGramScoring Scoring { get; }

    internal float[] Input { get; }

    internal float[] Output { get; }

    /// <summary>Tokens processed per second per thread in the last training (all tokens read, before sub-sampling, as fastText counts).</summary>
    public double TokensPerSecondPerThread { get; internal set; }

    /// <inheritdoc/>
    public float[] GetItemVector(int item) => Input.AsSpan(item * Dimension, Dimension).ToArray();

    /// <inheritdoc/>
    public void ScoreItems(int user, ReadOnlySpan<int> history, Span<float> scores)
    {
        int d = Dimension;
        Span<float> q = d <= 512 ? stackalloc float[d] : new float[d];
        q.Clear();
        int n = 0;
        var table = Scoring == SkipGramScoring.Cosine ? _normalized : Input;
        foreach (int i in history)
        {
            if ((uint)i < (uint)ItemCount)
            {
                TensorPrimitives.Add(q, table.AsSpan(i * d, d), q);
                n++;
            }
        }

        var target = Scoring == SkipGramScoring.Cosine ? _normalized : Output;
        if (n > 0 && Scoring == SkipGramScoring.InputOutput)
        {
            TensorPrimitives.Divide(q, n, q);
        }

        for (int j = 0; j < ItemCount; j++)
        {
            scores[j] = (n == 0 ? 0f : TensorPrimitives.Dot(q, target.AsSpan(j * d, d))) + _prior[j];
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<(int Item, float Score)> SimilarItems(int item, int k) => Embeddings.NearestByCosine(_normalized, Dimension, item, k);
}

/// <summary>
/// Skip-gram with negative sampling over integer sequences (the word2vec/fastText algorithm): unigram^0.75 negative table,
/// linear learning-rate decay, frequent-token sub-sampling, Hogwild threads, SIMD dot products.
/// </summary>
internal static class SkipGramEngine
{
    private const int SigmoidTableSize = 512;
    private const float MaxSigmoid = 8f;
    private static readonly float[] SigmoidTable = BuildSigmoid();

    public static (float[] Input, float[] Output, double TokensPerSecondPerThread) Train(
        IReadOnlyList<int[]> sequences, int vocab, SkipGramOptions o, float[]? prevInput, float[]? prevOutput, CancellationToken cancellationToken)
    {
        int d = o.Dimension;
        var counts = new long[vocab];
        long total = 0;
        foreach (var s in sequences)
        {
            foreach (int w in s)
            {
                counts[w]++;
            }

            total += s.Length;
        }

        if (total == 0)
        {
            throw new ArgumentException("No tokens to train on: every sequence is empty.");
        }

        var rng = new Random(o.Seed);
        var input = new float[vocab * d];
        var output = new float[vocab * d];
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (float)((rng.NextDouble() * 2) - 1) / d;
        }

        if (prevInput is not null && prevOutput is not null)
        {
            prevInput.AsSpan(0, Math.Min(prevInput.Length, input.Length)).CopyTo(input);
            prevOutput.AsSpan(0, Math.Min(prevOutput.Length, output.Length)).CopyTo(output);
        }

        // keep probabilities (fastText: sqrt(t/f) + t/f)
        var keep = new float[vocab];
        for (int w = 0; w < vocab; w++)
        {
            double f = (double)counts[w] / total;
            keep[w] = o.SubSample <= 0 || f == 0 ? 1f : (float)(Math.Sqrt(o.SubSample / f) + (o.SubSample / f));
        }

        int[] negTable = BuildNegativeTable(counts, rng);
        int threads = o.Threads;
        long budget = (long)o.Epochs * total;
        long processed = 0;
        float lr0 = (float)o.LearningRate;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken }, t =>
        {
            ulong state = SplitMix((ulong)(uint)o.Seed, (ulong)t) | 1UL; // not HashCode: that is randomised per process
            var kept = new int[16];
            var grad = new float[d];
            int from = (int)((long)sequences.Count * t / threads), to = (int)((long)sequences.Count * (t + 1) / threads);
            long local = 0;
            float lr = lr0;
            for (int epoch = 0; epoch < o.Epochs; epoch++)
            {
                for (int si = from; si < to; si++)
                {
                    var seq = sequences[si];
                    if (kept.Length < seq.Length)
                    {
                        kept = new int[seq.Length * 2];
                    }

                    int n = 0;
                    foreach (int w in seq)
                    {
                        if (keep[w] >= 1f || NextFloat(ref state) < keep[w])
                        {
                            kept[n++] = w;
                        }
                    }

                    for (int p = 0; p < n; p++)
                    {
                        int b = 1 + (int)(NextU32(ref state) % (uint)o.Window);
                        int center = kept[p];
                        var h = input.AsSpan(center * d, d);
                        for (int c = Math.Max(0, p - b); c <= Math.Min(n - 1, p + b); c++)
                        {
                            if (c == p)
                            {
                                continue;
                            }

                            grad.AsSpan().Clear();
                            int target = kept[c];
                            Step(h, output.AsSpan(target * d, d), grad, 1f, lr);
                            for (int neg = 0; neg < o.Negatives; neg++)
                            {
                                int nw;
                                do
                                {
                                    nw = negTable[NextU32(ref state) % (uint)negTable.Length];
                                }
                                while (nw == target);
                                Step(h, output.AsSpan(nw * d, d), grad, 0f, lr);
                            }

                            TensorPrimitives.Add(h, grad, h);
                        }
                    }

                    local += seq.Length;
                    if (local >= 4096)
                    {
                        long done = Interlocked.Add(ref processed, local);
                        local = 0;
                        lr = lr0 * Math.Max(1e-4f, 1f - ((float)done / budget));
                    }
                }
            }

            Interlocked.Add(ref processed, local);
        });

        double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        return (input, output, budget / Math.Max(seconds, 1e-9) / threads);
    }

    private static void Step(ReadOnlySpan<float> h, Span<float> target, Span<float> grad, float label, float lr)
    {
        float f = TensorPrimitives.Dot(h, target);
        float g = lr * (label - Sigmoid(f));
        TensorPrimitives.MultiplyAdd(target, g, grad, grad);
        TensorPrimitives.MultiplyAdd(h, g, target, target);
    }

    private static float Sigmoid(float x)
    {
        if (x <= -MaxSigmoid)
        {
            return 0f;
        }

        if (x >= MaxSigmoid)
        {
            return 1f;
        }

        return SigmoidTable[(int)((x + MaxSigmoid) * (SigmoidTableSize / MaxSigmoid / 2))];
    }

    private static float[] BuildSigmoid()
    {
        var t = new float[SigmoidTableSize + 1];
        for (int i = 0; i <= SigmoidTableSize; i++)
        {
            double x = (i * 2.0 * MaxSigmoid / SigmoidTableSize) - MaxSigmoid;
            t[i] = (float)(1.0 / (1.0 + Math.Exp(-x)));
        }

        return t;
    }

    private static int[] BuildNegativeTable(long[] counts, Random rng)
    {
        const int Size = 1_000_000;
        double z = 0;
        foreach (long c in counts)
        {
            z += Math.Pow(c, 0.75);
        }

        var table = new List<int>(Size + counts.Length);
        for (int w = 0; w < counts.Length; w++)
        {
            double share = Math.Pow(counts[w], 0.75) * Size / z;
            for (int j = 0; j < share; j++)
            {
                table.Add(w);
            }
        }

        var arr = table.ToArray();
        rng.Shuffle(arr);
        return arr;
    }

    private static ulong SplitMix(ulong seed, ulong stream)
    {
        ulong z = (seed * 0x9E3779B97F4A7C15UL) + ((stream + 1) * 0xBF58476D1CE4E5B9UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static uint NextU32(ref ulong s)
    {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return (uint)(s >> 32);
    }

    private static float NextFloat(ref ulong s) => (NextU32(ref s) >> 8) * (1f / (1 << 24));
}

/// <summary>
/// Options of <see cref="Item2Vec"/>. Defaults differ from the generic skip-gram ones where the ml-100k validation split
/// chose otherwise: <see cref="SkipGramOptions.Epochs"/> 20, <see cref="SkipGramOptions.SubSample"/> 0 (off),
/// <see cref="SkipGramOptions.PopularityPrior"/> 0.5.
/// </summary>
public sealed class Item2VecOptions : SkipGramOptions
{
    /// <summary>Creates options with the item2vec defaults.</summary>
    public Item2VecOptions()
    {
        Epochs = 20;
        SubSample = 0;
        PopularityPrior = 0.5;
    }
}

/// <summary>
/// item2vec (Barkan &amp; Koenigstein 2016): skip-gram with negative sampling over each user's items ordered by time.
/// Warm start: pass the previous model; existing items continue from their input and output vectors, new items get a
/// fresh init.
/// </summary>
public static class Item2Vec
{
    /// <summary>Trains (or continues) the model.</summary>
    public static SkipGramItemModel Train(InteractionMatrix data, Item2VecOptions? options = null, SkipGramItemModel? previous = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new Item2VecOptions();
        options.Validate();
        if (data.NonZeroCount == 0)
        {
            throw new ArgumentException("The interaction matrix is empty: item2vec needs user sequences.", nameof(data));
        }

        CheckWarmStart(previous, options.Dimension);
        var sequences = Sequences(data);
        int vocab = Math.Max(data.ItemCount, previous?.ItemCount ?? 0);
        if (sequences.Count == 0)
        {
            throw new ArgumentException("No user has two or more items: item2vec has no contexts to learn from.", nameof(data));
        }

        var (input, output, speed) = SkipGramEngine.Train(sequences, vocab, options, previous?.Input, previous?.Output, cancellationToken);
        return new SkipGramItemModel("item2vec", data.UserCount, vocab, options.Dimension, input, output, options, data.ItemCounts()) { TokensPerSecondPerThread = speed };
    }

    /// <summary>The time-ordered item sequences item2vec trains on (users with two or more items).</summary>
    public static IReadOnlyList<int[]> Sequences(InteractionMatrix data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var sequences = new List<int[]>(data.UserCount);
        for (int u = 0; u < data.UserCount; u++)
        {
            if (data.CountOf(u) > 1)
            {
                sequences.Add(data.SequenceOf(u));
            }
        }

        return sequences;
    }

    internal static void CheckWarmStart(SkipGramItemModel? previous, int dim)
    {
        if (previous is not null && previous.Dimension != dim)
        {
            throw new ArgumentException($"Warm start needs the same dimension: the previous model has {previous.Dimension}, the options ask for {dim}.");
        }
    }
}

/// <summary>
/// Options of <see cref="DeepWalk"/>. Skip-gram defaults differ where the ml-100k validation split chose otherwise:
/// <see cref="SkipGramOptions.Epochs"/> 3 and <see cref="SkipGramOptions.SubSample"/> 0 (off).
/// </summary>
public sealed class DeepWalkOptions : SkipGramOptions
{
    /// <summary>Creates options with the DeepWalk defaults.</summary>
    public DeepWalkOptions()
    {
        Epochs = 3;
        SubSample = 0;
    }

    /// <summary>Neighbours per item in the co-occurrence graph (cosine item-CF weights). Default 20.</summary>
    public int GraphNeighbors { get; set; } = 20;

    /// <summary>Random walks started from every item. Default 10.</summary>
    public int WalksPerItem { get; set; } = 10;

    /// <summary>Items per walk. Default 40.</summary>
    public int WalkLength { get; set; } = 40;

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        if (GraphNeighbors < 1)
        {
            throw new ArgumentException($"GraphNeighbors must be >= 1; got {GraphNeighbors}.", nameof(GraphNeighbors));
        }

        if (WalksPerItem < 1)
        {
            throw new ArgumentException($"WalksPerItem must be >= 1; got {WalksPerItem}.", nameof(WalksPerItem));
        }

        if (WalkLength < 2)
        {
            throw new ArgumentException($"WalkLength must be >= 2; got {WalkLength}.", nameof(WalkLength));
        }
    }
}

/// <summary>
/// DeepWalk (Perozzi et al. 2014) on the item co-occurrence graph: weighted random walks over the cosine item-CF neighbour
/// lists, then skip-gram with negative sampling over the walks. Warm start as <see cref="Item2Vec"/>.
/// </summary>
public static class DeepWalk
{
    /// <summary>Trains (or continues) the model.</summary>
    public static SkipGramItemModel Train(InteractionMatrix data, DeepWalkOptions? options = null, SkipGramItemModel? previous = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new DeepWalkOptions();
        options.Validate();
        if (data.NonZeroCount == 0)
        {
            throw new ArgumentException("The interaction matrix is empty: DeepWalk needs a co-occurrence graph.", nameof(data));
        }

        Item2Vec.CheckWarmStart(previous, options.Dimension);
        var graph = ItemCfModel.Train(data, new ItemCfOptions { NeighborCount = options.GraphNeighbors }, cancellationToken);
        var walks = Walks(graph, options.WalksPerItem, options.WalkLength, options.Seed);
        if (walks.Count == 0)
        {
            throw new ArgumentException("The co-occurrence graph has no edges: DeepWalk has nothing to walk.", nameof(data));
        }

        int vocab = Math.Max(data.ItemCount, previous?.ItemCount ?? 0);
        var (input, output, speed) = SkipGramEngine.Train(walks, vocab, options, previous?.Input, previous?.Output, cancellationToken);
        return new SkipGramItemModel("deepwalk", data.UserCount, vocab, options.Dimension, input, output, options, data.ItemCounts()) { TokensPerSecondPerThread = speed };
    }

    /// <summary>Weighted random walks (transition probability proportional to the edge weight), seeded.</summary>
    internal static List<int[]> Walks(ItemCfModel graph, int walksPerItem, int length, int seed)
    {
        var rng = new Random(seed);
        var walks = new List<int[]>(graph.ItemCount * walksPerItem);
        var cum = new float[graph.ItemCount][];
        for (int i = 0; i < graph.ItemCount; i++)
        {
            var w = graph.WeightsOf(i);
            var c = new float[w.Length];
            float s = 0;
            for (int t = 0; t < w.Length; t++)
            {
                s += Math.Max(w[t], 0f);
                c[t] = s;
            }

            cum[i] = c;
        }

        var buffer = new int[length];
        for (int r = 0; r < walksPerItem; r++)
        {
            for (int start = 0; start < graph.ItemCount; start++)
            {
                if (cum[start].Length == 0 || cum[start][^1] <= 0)
                {
                    continue;
                }

                int cur = start, n = 0;
                buffer[n++] = cur;
                while (n < length)
                {
                    var c = cum[cur];
                    if (c.Length == 0 || c[^1] <= 0)
                    {
                        break;
                    }

                    float x = (float)rng.NextDouble() * c[^1];
                    int pos = Array.BinarySearch(c, x);
                    pos = pos < 0 ? ~pos : pos + 1;
                    cur = graph.NeighborsOf(cur)[Math.Min(pos, c.Length - 1)];
                    buffer[n++] = cur;
                }

                walks.Add(buffer[..n]);
            }
        }

        return walks;
    }
}
