using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Zhongtai.Events;

namespace Zhongtai.Demo;

/// <summary>
/// A deterministic synthetic world for demos, tests and benchmarks: a catalog, users with latent tastes, a week of
/// sessions (exposures, clicks driven by taste × position bias, dwell, likes, shares, purchases) and planted fraud,
/// with the ground truth of what was planted. <see cref="Events"/> streams (one day in memory at a time) and gives
/// the same events, with the same ids (<c>d-1</c>, <c>d-2</c>, ...), for the same options.
/// </summary>
public sealed class DemoWorld
{
    private const long TicksPerMs = TimeSpan.TicksPerMillisecond;
    private const long TicksPerSecond = TimeSpan.TicksPerSecond;

    private readonly DemoWorldOptions _o;
    private readonly DemoItem[] _items;
    private readonly DemoUser[] _users;
    private readonly int[][] _itemsByCategory;
    private readonly double[] _popularityCdf;
    private readonly int[] _farmTargets;
    private readonly int[][] _ringItems;
    private readonly double[] _hourCdf;

    private DemoWorld(DemoWorldOptions options)
    {
        options.Validate();
        _o = options;
        Truth = new GroundTruth();
        var rng = DemoRng.For(options.Seed, 0);
        int dim = options.LatentDim;
        int categories = DemoVocabulary.Categories.Length;

        var centroids = new float[categories][];
        for (int c = 0; c < categories; c++)
        {
            centroids[c] = RandomUnit(ref rng, dim);
        }

        int itemCount = Math.Max(categories, (int)Math.Round(options.ItemsPerScale * options.Scale));
        _items = new DemoItem[itemCount];
        var ranks = Enumerable.Range(0, itemCount).ToArray();
        Shuffle(ref rng, ranks);
        _popularityCdf = new double[itemCount];
        double total = 0;
        for (int j = 0; j < itemCount; j++)
        {
            int c = j % categories;
            _items[j] = NewItem(ref rng, j, c, centroids[c]);
            total += 1.0 / Math.Pow(ranks[j] + 20, 0.9);
            _popularityCdf[j] = total;
            Truth.ItemCategory[_items[j].Id] = DemoVocabulary.Categories[c].Name;
        }

        _itemsByCategory = Enumerable.Range(0, categories)
            .Select(c => Enumerable.Range(0, itemCount).Where(j => _items[j].Category == c).ToArray())
            .ToArray();

        var users = new List<DemoUser>();
        int genuine = Math.Max(1, (int)Math.Round(options.UsersPerScale * options.Scale));
        for (int u = 0; u < genuine; u++)
        {
            users.Add(NewGenuineUser(ref rng, users.Count, centroids));
        }

        _farmTargets = [];
        _ringItems = [];
        if (options.InjectFraud)
        {
            _farmTargets = Enumerable.Range(0, options.ClickFarmTargets).Select(_ => rng.Next(itemCount)).Distinct().ToArray();
            Truth.ClickFarmTargets.AddRange(_farmTargets.Select(j => _items[j].Id));
            string[] farmIps = [.. Enumerable.Range(0, 3).Select(i => "203.0.113." + (10 + i).ToString(CultureInfo.InvariantCulture))];
            int rings = ScaledCount(options.CoordinatedRingsPerScale);
            _ringItems = new int[rings][];
            var planned = new List<(FraudKind Kind, int Ring)>();
            planned.AddRange(Enumerable.Repeat((FraudKind.ClickFarm, -1), ScaledCount(options.ClickFarmAccountsPerScale)));
            planned.AddRange(Enumerable.Repeat((FraudKind.Bot, -1), ScaledCount(options.BotsPerScale)));
            planned.AddRange(Enumerable.Repeat((FraudKind.BotUserAgent, -1), ScaledCount(options.BotUserAgentAccountsPerScale)));
            for (int r = 0; r < rings; r++)
            {
                _ringItems[r] = Enumerable.Range(0, 8).Select(_ => rng.Next(itemCount)).Distinct().ToArray();
                planned.AddRange(Enumerable.Repeat((FraudKind.CoordinatedAccounts, r), options.CoordinatedRingSize));
            }

            // Fraud accounts are interleaved with genuine ones so that ids give nothing away.
            foreach (var (kind, ring) in planned)
            {
                var user = NewGenuineUser(ref rng, users.Count, centroids);
                user.Kind = kind;
                user.Ring = ring;
                switch (kind)
                {
                    case FraudKind.ClickFarm:
                        user.Ip = rng.Pick(farmIps);
                        break;
                    case FraudKind.Bot:
                        user.Ip = "198.51.100." + rng.Next(1, 250).ToString(CultureInfo.InvariantCulture);
                        user.Devices = [user.Devices[0]];
                        break;
                    case FraudKind.BotUserAgent:
                        user.UserAgent = rng.Pick(DemoVocabulary.BotUserAgents);
                        break;
                    case FraudKind.CoordinatedAccounts:
                        user.Devices = ["dev-ring-" + ring.ToString(CultureInfo.InvariantCulture)];
                        user.Ip = "192.0.2." + (20 + ring % 200).ToString(CultureInfo.InvariantCulture);
                        break;
                }

                users.Add(user);
            }

            var order = users.ToArray();
            Shuffle(ref rng, order);
            users = [.. order];
        }

        _users = [.. users];
        for (int u = 0; u < _users.Length; u++)
        {
            var user = _users[u];
            user.Id = "u-" + (u + 1).ToString(CultureInfo.InvariantCulture);
            if (user.Kind == FraudKind.None)
            {
                Truth.UserTopCategories[user.Id] = [.. user.Categories.Select(c => DemoVocabulary.Categories[c].Name)];
                Truth.UserTopItems[user.Id] = TopItems(user, 20);
            }
            else
            {
                Truth.FraudUsers[user.Id] = user.Kind;
            }
        }

        // Sessions start more often in the evening (UTC hours 0..22, so no session crosses midnight).
        double[] weights = [.. Enumerable.Range(0, 23).Select(h => 1.0 + 2.0 * Math.Exp(-Math.Pow((h - 20) / 3.0, 2)) + Math.Exp(-Math.Pow((h - 12) / 2.0, 2)))];
        _hourCdf = new double[weights.Length];
        double acc = 0;
        for (int h = 0; h < weights.Length; h++)
        {
            acc += weights[h];
            _hourCdf[h] = acc;
        }
    }

    /// <summary>The options the world was built from.</summary>
    public DemoWorldOptions Options => _o;

    /// <summary>Items in the catalog.</summary>
    public int ItemCount => _items.Length;

    /// <summary>Accounts, genuine and fraudulent.</summary>
    public int UserCount => _users.Length;

    /// <summary>What was planted; <see cref="GroundTruth.FraudEvents"/> fills as <see cref="Events"/> is enumerated.</summary>
    public GroundTruth Truth { get; }

    /// <summary>Builds the catalog, users and fraud rings (cheap); the events come from <see cref="Events"/>.</summary>
    public static DemoWorld Generate(DemoWorldOptions options) => new(options ?? throw new ArgumentNullException(nameof(options)));

    /// <summary>
    /// The latent affinity (cosine of taste vectors, in [-1, 1]) of a user and an item, e.g. <c>Affinity("u-3", "i-17")</c>;
    /// what drives clicks, for quality checks of trained models.
    /// </summary>
    public double Affinity(string userId, string itemId) =>
        Dot(_users[IndexOf(userId, "u-", _users.Length)].Vector, _items[IndexOf(itemId, "i-", _items.Length)].Vector);

    private static int IndexOf(string id, string prefix, int count)
    {
        if (id.StartsWith(prefix, StringComparison.Ordinal)
            && int.TryParse(id.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            && n >= 1 && n <= count)
        {
            return n - 1;
        }

        throw new ArgumentException($"'{id}' is not an id of this demo world.", nameof(id));
    }

    /// <summary>The event stream: catalog upserts first, then the days in time order.</summary>
    public IEnumerable<Event> Events(CancellationToken ct = default) => LabelledEvents(ct).Select(x => x.Event);

    /// <summary>
    /// The event stream with each event's planted fraud kind (<see cref="FraudKind.None"/> for genuine events).
    /// Each enumeration starts the ground truth's fraud events afresh.
    /// </summary>
    public IEnumerable<(Event Event, FraudKind Fraud)> LabelledEvents(CancellationToken ct = default)
    {
        Truth.FraudEvents.Clear();
        Truth.TotalEvents = 0;
        long id = 0;
        var start = _o.Start.ToUniversalTime();

        long tick = 0;
        foreach (var item in _items)
        {
            var e = ItemEvent(item, start.AddTicks(tick += 10));
            e.Id = NextId(ref id);
            Truth.TotalEvents++;
            yield return (e, FraudKind.None);
        }

        foreach (var user in _users)
        {
            var e = UserEvent(user, start.AddTicks(tick += 10));
            e.Id = NextId(ref id);
            Truth.TotalEvents++;
            yield return (e, FraudKind.None);
        }

        // A session that runs past midnight carries its late events into the next day's batch, so the stream stays
        // in time order; past the end of the window they are dropped.
        var carry = new List<Pending>();
        long seq = 0;
        for (int day = 0; day < _o.Days; day++)
        {
            ct.ThrowIfCancellationRequested();
            long nextDay = start.AddDays(day + 1).UtcTicks;
            var batch = Day(day, start.AddDays(day).UtcTicks, carry, ref seq);
            carry = [];
            foreach (var p in batch)
            {
                if (p.Ticks >= nextDay)
                {
                    carry.Add(p);
                    continue;
                }

                p.Event.Id = NextId(ref id);
                Truth.TotalEvents++;
                if (p.Fraud != FraudKind.None)
                {
                    Truth.FraudEvents[p.Event.Id] = p.Fraud;
                }

                yield return (p.Event, p.Fraud);
            }
        }
    }

    /// <summary>
    /// Writes the event stream as JSON lines (the ingest format) to <paramref name="eventsPath"/> and, when given,
    /// the fraud labels to <paramref name="labelsPath"/> (see <see cref="GroundTruth.WriteFraudLabels"/>). Returns the event count.
    /// </summary>
    public long WriteJsonl(string eventsPath, string? labelsPath = null, CancellationToken ct = default)
    {
        long count = 0;
        using (var stream = new FileStream(eventsPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        using (var writer = new Utf8JsonWriter(stream))
        {
            foreach (var e in Events(ct))
            {
                JsonSerializer.Serialize(writer, e, EventJsonContext.Default.Event);
                writer.Flush();
                stream.WriteByte((byte)'\n');
                writer.Reset();
                count++;
            }
        }

        if (labelsPath is not null)
        {
            Truth.WriteFraudLabels(labelsPath);
        }

        return count;
    }

    private static string NextId(ref long id) => "d-" + (++id).ToString(CultureInfo.InvariantCulture);

    private int ScaledCount(int perScale) => perScale <= 0 ? 0 : Math.Max(1, (int)Math.Round(perScale * _o.Scale));

    // ---------------------------------------------------------------- one day

    private readonly record struct Pending(long Ticks, long Seq, Event Event, FraudKind Fraud);

    private sealed class DayBuffer(int day, List<Pending> carried, long seq)
    {
        public int Day { get; } = day;
        public List<Pending> Events { get; } = [.. carried];
        private long _seq = seq;

        public long Seq => _seq;

        public Event Add(long ticks, Event e, FraudKind fraud)
        {
            e.Timestamp = new DateTimeOffset(ticks, TimeSpan.Zero);
            Events.Add(new Pending(ticks, _seq++, e, fraud));
            return e;
        }
    }

    private List<Pending> Day(int day, long dayStart, List<Pending> carried, ref long seq)
    {
        var buffer = new DayBuffer(day, carried, seq);
        for (int u = 0; u < _users.Length; u++)
        {
            var user = _users[u];
            var rng = DemoRng.For(_o.Seed, 1, day, u);
            switch (user.Kind)
            {
                case FraudKind.None:
                    int sessions = rng.Poisson(_o.SessionsPerUserPerDay * user.Activity);
                    for (int s = 0; s < sessions; s++)
                    {
                        GenuineSession(ref rng, buffer, u, s, SessionStart(ref rng, dayStart), FraudKind.None);
                    }

                    break;
                case FraudKind.BotUserAgent:
                    for (int s = 0, n = rng.Next(1, 4); s < n; s++)
                    {
                        GenuineSession(ref rng, buffer, u, s, SessionStart(ref rng, dayStart), FraudKind.BotUserAgent);
                    }

                    break;
                case FraudKind.ClickFarm:
                    for (int s = 0, n = rng.Next(1, 4); s < n; s++)
                    {
                        ClickFarmSession(ref rng, buffer, u, s, SessionStart(ref rng, dayStart));
                    }

                    break;
                case FraudKind.Bot:
                    BotSession(ref rng, buffer, u, SessionStart(ref rng, dayStart));
                    break;
                case FraudKind.CoordinatedAccounts:
                    // The ring acts together: the same hour for everyone in it, a few minutes apart.
                    var ringRng = DemoRng.For(_o.Seed, 2, day, user.Ring);
                    long ringStart = SessionStart(ref ringRng, dayStart);
                    RingSession(ref rng, buffer, u, ringStart + (long)(rng.NextDouble() * 10 * 60 * TicksPerSecond));
                    break;
            }
        }

        seq = buffer.Seq;
        buffer.Events.Sort(static (a, b) => a.Ticks != b.Ticks ? a.Ticks.CompareTo(b.Ticks) : a.Seq.CompareTo(b.Seq));
        return buffer.Events;
    }

    private long SessionStart(ref DemoRng rng, long dayStart)
    {
        double x = rng.NextDouble() * _hourCdf[^1];
        int hour = Array.BinarySearch(_hourCdf, x);
        hour = hour < 0 ? ~hour : hour;
        return dayStart + hour * TimeSpan.TicksPerHour + TimeSpan.TicksPerMinute + (long)(rng.NextDouble() * 58 * TimeSpan.TicksPerMinute);
    }

    private void GenuineSession(ref DemoRng rng, DayBuffer buf, int u, int s, long t, FraudKind label)
    {
        var user = _users[u];
        var ctx = new Context(user, rng.Pick(user.Devices));
        int requests = 1 + rng.Poisson(_o.RequestsPerSession - 1);
        Event? lastClick = null;
        long lastClickTicks = 0;
        var list = ArrayPool<int>.Shared.Rent(_o.ListSize);
        for (int r = 0; r < requests; r++)
        {
            string scene = rng.Chance(0.6) ? DemoVocabulary.Scenes[0] : rng.Chance(0.6) ? DemoVocabulary.Scenes[1] : DemoVocabulary.Scenes[2];
            string request = RequestId(buf.Day, u, s, r);
            ServeList(ref rng, user, list.AsSpan(0, _o.ListSize));
            for (int pos = 0; pos < _o.ListSize; pos++)
            {
                buf.Add(t + pos * TicksPerMs, Behaviour(EventTypes.Exposure, ctx, list[pos], scene, pos, request), label);
            }

            t += _o.ListSize * TicksPerMs + TicksPerSecond;
            for (int pos = 0; pos < _o.ListSize; pos++)
            {
                var item = _items[list[pos]];
                double attract = label == FraudKind.BotUserAgent ? 0.3 : Attractiveness(user, item);
                if (!rng.Chance(Examination(pos) * attract))
                {
                    continue;
                }

                t += (long)((1 + rng.Exponential(5)) * TicksPerSecond);
                lastClick = buf.Add(t, Behaviour(EventTypes.Click, ctx, list[pos], scene, pos, request), label);
                lastClickTicks = t;
                double dwell = Math.Round(Math.Exp(2.5 + 1.5 * attract + 0.6 * rng.Normal()), 1);
                t += (long)(dwell * TicksPerSecond);
                var dwellEvent = Behaviour(EventTypes.Dwell, ctx, list[pos], scene, pos, request);
                dwellEvent.Value = dwell;
                buf.Add(t, dwellEvent, label);
                if (rng.Chance(0.25 * attract))
                {
                    buf.Add(t += TicksPerSecond, Behaviour(EventTypes.Like, ctx, list[pos], scene, pos, request), label);
                }

                if (rng.Chance(0.03 * attract))
                {
                    buf.Add(t += 2 * TicksPerSecond, Behaviour(EventTypes.Share, ctx, list[pos], scene, pos, request), label);
                }

                if (rng.Chance(0.06 * attract))
                {
                    var purchase = Behaviour(EventTypes.Purchase, ctx, list[pos], scene, pos, request);
                    purchase.Value = item.Price;
                    buf.Add(t += (long)(rng.Exponential(30) * TicksPerSecond), purchase, label);
                }
            }

            t += (long)((2 + rng.Exponential(20)) * TicksPerSecond);
        }

        ArrayPool<int>.Shared.Return(list);
        if (label != FraudKind.None)
        {
            return;
        }

        if (rng.Chance(_o.ClickWithoutExposureRate))
        {
            // A click on something no list showed, under a request id that was never served.
            int item = rng.Next(_items.Length);
            buf.Add(t + TicksPerSecond, Behaviour(EventTypes.Click, ctx, item, DemoVocabulary.Scenes[0], rng.Next(_o.ListSize), RequestId(buf.Day, u, s, 900 + rng.Next(99))), FraudKind.ClickWithoutExposure);
        }

        if (lastClick is not null && rng.Chance(_o.DuplicateBurstRate))
        {
            for (int k = 0, copies = rng.Next(3, 9); k < copies; k++)
            {
                var copy = Behaviour(lastClick.Type, ctx, 0, lastClick.Scene!, lastClick.Position ?? 0, lastClick.RequestId!);
                copy.ItemId = lastClick.ItemId;
                buf.Add(lastClickTicks + (k + 1) * 3 * TicksPerMs, copy, FraudKind.DuplicateBurst);
            }
        }
    }

    private void ClickFarmSession(ref DemoRng rng, DayBuffer buf, int u, int s, long t)
    {
        var ctx = new Context(_users[u], rng.Pick(_users[u].Devices));
        var list = new int[_o.ListSize];
        for (int r = 0, requests = rng.Next(2, 5); r < requests; r++)
        {
            string request = RequestId(buf.Day, u, s, r);
            for (int pos = 0; pos < list.Length; pos++)
            {
                list[pos] = pos < _farmTargets.Length ? _farmTargets[pos] : SamplePopular(ref rng);
            }

            Shuffle(ref rng, list);
            for (int pos = 0; pos < list.Length; pos++)
            {
                buf.Add(t + pos * TicksPerMs, Behaviour(EventTypes.Exposure, ctx, list[pos], "search", pos, request), FraudKind.ClickFarm);
            }

            t += TicksPerSecond;
            for (int pos = 0; pos < list.Length; pos++)
            {
                if (Array.IndexOf(_farmTargets, list[pos]) < 0)
                {
                    continue;
                }

                t += (long)((2 + 2 * rng.NextDouble()) * TicksPerSecond);
                buf.Add(t, Behaviour(EventTypes.Click, ctx, list[pos], "search", pos, request), FraudKind.ClickFarm);
                var dwell = Behaviour(EventTypes.Dwell, ctx, list[pos], "search", pos, request);
                dwell.Value = Math.Round(2 + 3 * rng.NextDouble(), 1);
                buf.Add(t += (long)(dwell.Value.Value * TicksPerSecond), dwell, FraudKind.ClickFarm);
                if (rng.Chance(0.5))
                {
                    buf.Add(t += TicksPerSecond, Behaviour(EventTypes.Like, ctx, list[pos], "search", pos, request), FraudKind.ClickFarm);
                }
            }

            t += (long)(rng.Exponential(10) * TicksPerSecond);
        }
    }

    private void BotSession(ref DemoRng rng, DayBuffer buf, int u, long t)
    {
        var ctx = new Context(_users[u], _users[u].Devices[0]);
        var list = new int[_o.ListSize];
        string request = "";
        for (int action = 0, actions = rng.Next(100, 250); action < actions; action++)
        {
            if (action % _o.ListSize == 0)
            {
                request = RequestId(buf.Day, u, 0, action / _o.ListSize);
                for (int pos = 0; pos < list.Length; pos++)
                {
                    list[pos] = rng.Next(_items.Length);
                    buf.Add(t + pos * TicksPerMs, Behaviour(EventTypes.Exposure, ctx, list[pos], "home_feed", pos, request), FraudKind.Bot);
                }
            }

            int p = action % _o.ListSize;
            t += (long)((0.3 + 0.9 * rng.NextDouble()) * TicksPerSecond); // inhuman: a click every ~0.75 s, for minutes
            buf.Add(t, Behaviour(EventTypes.Click, ctx, list[p], "home_feed", p, request), FraudKind.Bot);
        }
    }

    private void RingSession(ref DemoRng rng, DayBuffer buf, int u, long t)
    {
        var user = _users[u];
        var ctx = new Context(user, user.Devices[0]);
        var targets = _ringItems[user.Ring];
        string request = RequestId(buf.Day, u, 0, 0);
        for (int pos = 0; pos < targets.Length; pos++)
        {
            buf.Add(t + pos * TicksPerMs, Behaviour(EventTypes.Exposure, ctx, targets[pos], "home_feed", pos, request), FraudKind.CoordinatedAccounts);
        }

        for (int pos = 0; pos < targets.Length; pos++)
        {
            if (!rng.Chance(0.6))
            {
                continue;
            }

            t += (long)((3 + 5 * rng.NextDouble()) * TicksPerSecond);
            buf.Add(t, Behaviour(EventTypes.Click, ctx, targets[pos], "home_feed", pos, request), FraudKind.CoordinatedAccounts);
            buf.Add(t += 2 * TicksPerSecond, Behaviour(EventTypes.Like, ctx, targets[pos], "home_feed", pos, request), FraudKind.CoordinatedAccounts);
            if (rng.Chance(0.3))
            {
                var purchase = Behaviour(EventTypes.Purchase, ctx, targets[pos], "home_feed", pos, request);
                purchase.Value = _items[targets[pos]].Price;
                buf.Add(t += 20 * TicksPerSecond, purchase, FraudKind.CoordinatedAccounts);
            }
        }
    }

    // ---------------------------------------------------------------- behaviour model

    /// <summary>Probability the user looks at a position (position bias).</summary>
    internal static double Examination(int position) => 1.0 / Math.Pow(1 + position, 0.7);

    /// <summary>Probability the user clicks an item they looked at: a logistic function of latent affinity.</summary>
    private static double Attractiveness(DemoUser user, DemoItem item) =>
        0.6 / (1 + Math.Exp(-8 * (Dot(user.Vector, item.Vector) - 0.45)));

    private void ServeList(ref DemoRng rng, DemoUser user, Span<int> list)
    {
        for (int pos = 0; pos < list.Length; pos++)
        {
            int pick;
            int tries = 0;
            do
            {
                if (rng.Chance(_o.PersonalizedShare))
                {
                    // Stronger categories first: 50% the top one, the rest shared.
                    int c = rng.Chance(0.5) ? user.Categories[0] : user.Categories[rng.Next(user.Categories.Length)];
                    pick = rng.Pick(_itemsByCategory[c]);
                }
                else
                {
                    pick = SamplePopular(ref rng);
                }
            }
            while (list[..pos].Contains(pick) && ++tries < 20);
            list[pos] = pick;
        }
    }

    private int SamplePopular(ref DemoRng rng)
    {
        int j = Array.BinarySearch(_popularityCdf, rng.NextDouble() * _popularityCdf[^1]);
        return Math.Min(j < 0 ? ~j : j, _items.Length - 1);
    }

    private string[] TopItems(DemoUser user, int k) =>
        [.. user.Categories.SelectMany(c => _itemsByCategory[c])
            .Select(j => (Item: j, Score: Dot(user.Vector, _items[j].Vector)))
            .OrderByDescending(x => x.Score).ThenBy(x => x.Item)
            .Take(k)
            .Select(x => _items[x.Item].Id)];

    private static string RequestId(int day, int u, int s, int r) =>
        string.Create(CultureInfo.InvariantCulture, $"r-{day}-{u}-{s}-{r}");

    private readonly record struct Context(DemoUser User, string Device);

    private Event Behaviour(string type, Context ctx, int item, string scene, int position, string request) => new()
    {
        Type = type,
        UserId = ctx.User.Id,
        ItemId = _items[item].Id,
        Scene = scene,
        Position = position,
        RequestId = request,
        Device = ctx.Device,
        Ip = ctx.User.Ip,
        UserAgent = ctx.User.UserAgent,
    };

    // ---------------------------------------------------------------- catalog

    private sealed class DemoItem
    {
        public required string Id { get; init; }
        public required int Category { get; init; }
        public required float[] Vector { get; init; }
        public required double Price { get; init; }
        public required string Title { get; init; }
        public required string Text { get; init; }
        public required string[] Tags { get; init; }
        public required string Brand { get; init; }
        public required double Rating { get; init; }
        public required string Language { get; init; }
    }

    private sealed class DemoUser
    {
        public string Id { get; set; } = "";
        public required int[] Categories { get; init; }
        public required float[] Vector { get; init; }
        public required double Activity { get; init; }
        public required string[] Devices { get; set; }
        public required string Ip { get; set; }
        public required string UserAgent { get; set; }
        public required int Age { get; init; }
        public required string Gender { get; init; }
        public required string City { get; init; }
        public FraudKind Kind { get; set; }
        public int Ring { get; set; } = -1;
    }

    private static DemoItem NewItem(ref DemoRng rng, int index, int category, float[] centroid)
    {
        var cat = DemoVocabulary.Categories[category];
        var vector = new float[centroid.Length];
        for (int d = 0; d < vector.Length; d++)
        {
            vector[d] = centroid[d] + 0.35f * (float)rng.Normal() / MathF.Sqrt(vector.Length);
        }

        Normalize(vector);
        string adjective = rng.Pick(DemoVocabulary.Adjectives);
        string noun = rng.Pick(cat.Nouns);
        string brand = rng.Pick(DemoVocabulary.Brands);
        bool chinese = rng.Chance(0.15);
        string title = chinese
            ? brand + " " + rng.Pick(DemoVocabulary.ZhAdjectives) + rng.Pick(cat.ZhNouns)
            : string.Create(CultureInfo.InvariantCulture, $"{brand} {char.ToUpperInvariant(adjective[0])}{adjective[1..]} {noun}");
        string text = chinese
            ? string.Create(CultureInfo.InvariantCulture, $"{cat.Zh}精选：{title}，品质可靠，适合日常使用。")
            : string.Create(CultureInfo.InvariantCulture, $"A {adjective} {noun} by {brand} for {rng.Pick(DemoVocabulary.Audiences)}. Part of our {cat.Name} range; rated {3 + rng.Next(3)} stars by early buyers.");
        var tags = new List<string> { cat.Name };
        for (int k = 0, n = rng.Next(1, 4); k < n; k++)
        {
            var tag = rng.Pick(cat.Tags);
            if (!tags.Contains(tag))
            {
                tags.Add(tag);
            }
        }

        if (rng.Chance(0.2))
        {
            tags.Add(rng.Chance(0.5) ? "new" : "sale");
        }

        return new DemoItem
        {
            Id = "i-" + (index + 1).ToString(CultureInfo.InvariantCulture),
            Category = category,
            Vector = vector,
            Price = Math.Round(Math.Exp(3 + 0.08 * category + 0.8 * rng.Normal()), 2),
            Title = title,
            Text = text,
            Tags = [.. tags],
            Brand = brand,
            Rating = Math.Round(3 + 2 * rng.NextDouble(), 1),
            Language = chinese ? "zh" : "en",
        };
    }

    private static DemoUser NewGenuineUser(ref DemoRng rng, int index, float[][] centroids)
    {
        int n = rng.Chance(0.5) ? 2 : 3;
        var cats = new List<int>();
        while (cats.Count < n)
        {
            int c = rng.Next(centroids.Length);
            if (!cats.Contains(c))
            {
                cats.Add(c);
            }
        }

        int dim = centroids[0].Length;
        var vector = new float[dim];
        for (int k = 0; k < cats.Count; k++)
        {
            float w = k == 0 ? 1.0f : 0.8f;
            for (int d = 0; d < dim; d++)
            {
                vector[d] += w * centroids[cats[k]][d];
            }
        }

        for (int d = 0; d < dim; d++)
        {
            vector[d] += 0.2f * (float)rng.Normal() / MathF.Sqrt(dim);
        }

        Normalize(vector);
        var devices = new string[rng.Chance(0.3) ? 2 : 1];
        for (int k = 0; k < devices.Length; k++)
        {
            devices[k] = string.Create(CultureInfo.InvariantCulture, $"dev-{index:x}-{rng.NextULong() % 100_000:x}");
        }

        return new DemoUser
        {
            Categories = [.. cats],
            Vector = vector,
            Activity = Math.Exp(0.5 * rng.Normal() - 0.125),
            Devices = devices,
            Ip = string.Create(CultureInfo.InvariantCulture, $"{rng.Next(1, 224)}.{rng.Next(256)}.{rng.Next(256)}.{rng.Next(1, 255)}"),
            UserAgent = rng.Pick(DemoVocabulary.HumanUserAgents),
            Age = rng.Next(16, 70),
            Gender = rng.Chance(0.5) ? "f" : "m",
            City = rng.Pick(DemoVocabulary.Cities),
        };
    }

    private static Event ItemEvent(DemoItem item, DateTimeOffset ts) => new()
    {
        Type = EventTypes.Item,
        ItemId = item.Id,
        Timestamp = ts,
        Title = item.Title,
        Text = item.Text,
        Category = DemoVocabulary.Categories[item.Category].Name,
        Tags = item.Tags,
        Attributes = JsonObject(w =>
        {
            w.WriteNumber("price", item.Price);
            w.WriteString("brand", item.Brand);
            w.WriteNumber("rating", item.Rating);
            w.WriteString("lang", item.Language);
        }),
    };

    private static Event UserEvent(DemoUser user, DateTimeOffset ts) => new()
    {
        Type = EventTypes.User,
        UserId = user.Id,
        Timestamp = ts,
        Attributes = JsonObject(w =>
        {
            w.WriteNumber("age", user.Age);
            w.WriteString("gender", user.Gender);
            w.WriteString("city", user.City);
        }),
    };

    private static Dictionary<string, JsonElement> JsonObject(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }

        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
    }

    // ---------------------------------------------------------------- vectors

    private static float[] RandomUnit(ref DemoRng rng, int dim)
    {
        var v = new float[dim];
        for (int d = 0; d < dim; d++)
        {
            v[d] = (float)rng.Normal();
        }

        Normalize(v);
        return v;
    }

    private static void Normalize(float[] v)
    {
        float norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares<float>(v));
        if (norm > 0)
        {
            System.Numerics.Tensors.TensorPrimitives.Divide(v, norm, v);
        }
    }

    private static double Dot(float[] a, float[] b) => System.Numerics.Tensors.TensorPrimitives.Dot<float>(a, b);

    private static void Shuffle<T>(ref DemoRng rng, T[] array)
    {
        for (int i = array.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (array[i], array[j]) = (array[j], array[i]);
        }
    }
}
