namespace Zhongtai.Demo;

/// <summary>Options of <see cref="DemoWorld"/>. Counts scale linearly with <see cref="Scale"/>.</summary>
public sealed class DemoWorldOptions
{
    /// <summary>Seed of every random choice; the same options give the same events. Default 42.</summary>
    public long Seed { get; set; } = 42;

    /// <summary>Size multiplier: 1 ≈ 2,000 items, 1,000 users, ~200k events over 7 days. Default 1.</summary>
    public double Scale { get; set; } = 1.0;

    /// <summary>First instant of the world (UTC). Default 2026-01-05T00:00:00Z.</summary>
    public DateTimeOffset Start { get; set; } = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Days of behaviour. Default 7.</summary>
    public int Days { get; set; } = 7;

    /// <summary>Items per unit of scale. Default 2,000.</summary>
    public int ItemsPerScale { get; set; } = 2_000;

    /// <summary>Genuine users per unit of scale. Default 1,000.</summary>
    public int UsersPerScale { get; set; } = 1_000;

    /// <summary>Dimension of the latent taste vectors of users and items. Default 16.</summary>
    public int LatentDim { get; set; } = 16;

    /// <summary>Mean sessions per user per day (scaled by each user's activity). Default 1.0.</summary>
    public double SessionsPerUserPerDay { get; set; } = 1.0;

    /// <summary>Mean list requests per session. Default 2.5.</summary>
    public double RequestsPerSession { get; set; } = 2.5;

    /// <summary>Items per served list. Default 10.</summary>
    public int ListSize { get; set; } = 10;

    /// <summary>Share of a served list drawn from the user's own categories (the rest by popularity). Default 0.5.</summary>
    public double PersonalizedShare { get; set; } = 0.5;

    /// <summary>Fraud is injected when true. Default true.</summary>
    public bool InjectFraud { get; set; } = true;

    /// <summary>Click-farm accounts per unit of scale (all clicking the same few items). Default 12.</summary>
    public int ClickFarmAccountsPerScale { get; set; } = 12;

    /// <summary>Items a click farm promotes. Default 5.</summary>
    public int ClickFarmTargets { get; set; } = 5;

    /// <summary>Bots with inhuman click rates per unit of scale. Default 4.</summary>
    public int BotsPerScale { get; set; } = 4;

    /// <summary>Accounts with a bot user agent (scripts, crawlers) per unit of scale. Default 5.</summary>
    public int BotUserAgentAccountsPerScale { get; set; } = 5;

    /// <summary>Rings of coordinated accounts sharing one device and IP, per unit of scale. Default 3.</summary>
    public int CoordinatedRingsPerScale { get; set; } = 3;

    /// <summary>Accounts in each coordinated ring. Default 6.</summary>
    public int CoordinatedRingSize { get; set; } = 6;

    /// <summary>Probability that a genuine session also sends a click no list ever exposed. Default 0.03.</summary>
    public double ClickWithoutExposureRate { get; set; } = 0.03;

    /// <summary>Probability that a genuine session's click is replayed as a burst of identical events. Default 0.03.</summary>
    public double DuplicateBurstRate { get; set; } = 0.03;

    internal void Validate()
    {
        if (Scale <= 0 || Days < 1 || ItemsPerScale < 1 || UsersPerScale < 1 || LatentDim < 1 || ListSize < 1
            || ClickFarmTargets < 1 || CoordinatedRingSize < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(DemoWorldOptions), "Demo world sizes must be positive.");
        }
    }
}
