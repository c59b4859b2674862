using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Zhongtai.Gateway;

/// <summary>What a request presents to authenticate.</summary>
/// <param name="Authorization">The Authorization header: <c>Bearer TOKEN</c> or <c>ZT-HMAC-SHA256 Key=..., Timestamp=..., Nonce=..., Signature=...</c>.</param>
public sealed record AuthRequest(string Method, string PathAndQuery, string? Authorization, ReadOnlyMemory<byte> Body);

/// <summary>The outcome: an app, or a reason code with a message that leaks nothing about other apps.</summary>
public sealed record AuthResult(App? App, string? Code, string? Message)
{
    public bool Succeeded => App is not null;

    public static AuthResult Fail(string code, string message) => new(null, code, message);
}

/// <summary>
/// Authenticates requests by bearer token or by HMAC-SHA256 request signing with bounded clock skew and
/// nonce replay rejection. Unknown keys and wrong secrets get the same answer.
/// </summary>
public sealed class AppAuthenticator(AppService apps, GatewayOptions options, TimeProvider time)
{
    public const string HmacScheme = "ZT-HMAC-SHA256";
    private static readonly TimeSpan CacheTtl = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<string, (App App, byte[] Secret, long LoadedAt)> _cache = new(StringComparer.Ordinal);
    private readonly NonceCache _nonces = new(options.MaxNonces);

    public AuthResult Authenticate(AuthRequest request)
    {
        var header = request.Authorization;
        if (string.IsNullOrWhiteSpace(header))
        {
            return AuthResult.Fail("missing_credentials", "Send 'Authorization: Bearer <token>' or a ZT-HMAC-SHA256 signature.");
        }

        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Bearer(header.AsSpan(7).Trim());
        }

        if (header.StartsWith(HmacScheme + " ", StringComparison.Ordinal))
        {
            return Signed(header[(HmacScheme.Length + 1)..], request);
        }

        return AuthResult.Fail("malformed_credentials", $"Unsupported Authorization scheme; use Bearer or {HmacScheme}.");
    }

    /// <summary>Checks <c>appKey.appSecret</c> without a string per request (the cache is looked up by span).</summary>
    private AuthResult Bearer(ReadOnlySpan<char> token)
    {
        var dot = token.IndexOf('.');
        if (dot <= 0 || dot == token.Length - 1)
        {
            return AuthResult.Fail("malformed_credentials", "A token is '<appKey>.<appSecret>'.");
        }

        var entry = Load(token[..dot]);
        if (entry is null || !SecretEquals(entry.Value.Secret, token[(dot + 1)..]))
        {
            return InvalidCredentials();
        }

        return CheckState(entry.Value.App);
    }

    private static bool SecretEquals(byte[] secret, ReadOnlySpan<char> given)
    {
        var max = Encoding.UTF8.GetMaxByteCount(given.Length);
        var bytes = max <= 512 ? stackalloc byte[max] : new byte[max];
        var n = Encoding.UTF8.GetBytes(given, bytes);
        return CryptographicOperations.FixedTimeEquals(secret, bytes[..n]);
    }

    private AuthResult Signed(string parameters, AuthRequest request)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in parameters.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                fields[part[..eq]] = part[(eq + 1)..];
            }
        }

        if (!fields.TryGetValue("Key", out var key) || !fields.TryGetValue("Timestamp", out var ts) ||
            !fields.TryGetValue("Nonce", out var nonce) || !fields.TryGetValue("Signature", out var signature) ||
            !long.TryParse(ts, NumberStyles.None, CultureInfo.InvariantCulture, out var unix) || nonce.Length is < 8 or > 128)
        {
            return AuthResult.Fail("malformed_credentials", $"{HmacScheme} needs Key, Timestamp (Unix seconds), Nonce (8-128 chars) and Signature (hex).");
        }

        var entry = Load(key);
        if (entry is null)
        {
            return InvalidCredentials();
        }

        var expected = RequestSigner.Signature(entry.Value.Secret, request.Method, request.PathAndQuery, ts, nonce, request.Body.Span);
        byte[] given;
        try
        {
            given = Convert.FromHexString(signature);
        }
        catch (FormatException)
        {
            return InvalidCredentials();
        }

        if (!CryptographicOperations.FixedTimeEquals(expected, given))
        {
            return InvalidCredentials();
        }

        var now = time.GetUtcNow();
        if (Math.Abs(now.ToUnixTimeSeconds() - unix) > options.MaxClockSkewSeconds)
        {
            return AuthResult.Fail("timestamp_out_of_window", $"The signed timestamp differs from the server clock by more than {options.MaxClockSkewSeconds}s.");
        }

        var state = CheckState(entry.Value.App);
        if (!state.Succeeded)
        {
            return state;
        }

        var expiry = now.AddSeconds(2 * options.MaxClockSkewSeconds).ToUnixTimeMilliseconds();
        return _nonces.TryAdd(key + ":" + nonce, expiry, now.ToUnixTimeMilliseconds())
            ? state
            : AuthResult.Fail("replayed_request", "This nonce was already used.");
    }

    private AuthResult CheckState(App app)
    {
        if (!app.IsActive)
        {
            return AuthResult.Fail("app_disabled", "This app is disabled.");
        }

        if (app.ExpiresAt is { } expires && expires <= time.GetUtcNow())
        {
            return AuthResult.Fail("credentials_expired", "This app's credentials have expired.");
        }

        return new AuthResult(app, null, null);
    }

    private (App App, byte[] Secret)? Load(ReadOnlySpan<char> appKey)
    {
        var now = time.GetTimestamp();
        if (_cache.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(appKey, out var hit) && time.GetElapsedTime(hit.LoadedAt, now) < CacheTtl)
        {
            return (hit.App, hit.Secret);
        }

        return Load(appKey.ToString(), now);
    }

    private (App App, byte[] Secret)? Load(string appKey, long now)
    {
        var found = apps.FindWithSecret(appKey);
        if (found is null)
        {
            _cache.TryRemove(appKey, out _);
            return null;
        }

        var entry = (found.Value.App, Encoding.UTF8.GetBytes(found.Value.Secret), now);
        _cache[appKey] = entry;
        return (entry.App, entry.Item2);
    }

    private static AuthResult InvalidCredentials() => AuthResult.Fail("invalid_credentials", "The app key or secret is wrong.");
}

/// <summary>Signs requests the way <see cref="AppAuthenticator"/> verifies them (for clients and tests).</summary>
public static class RequestSigner
{
    /// <summary>HMAC-SHA256(secret, METHOD \n pathAndQuery \n timestamp \n nonce \n hex(SHA-256(body))).</summary>
    public static byte[] Signature(byte[] secret, string method, string pathAndQuery, string timestamp, string nonce, ReadOnlySpan<byte> body)
    {
        var bodyHash = Convert.ToHexStringLower(SHA256.HashData(body));
        var canonical = $"{method.ToUpperInvariant()}\n{pathAndQuery}\n{timestamp}\n{nonce}\n{bodyHash}";
        return HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(canonical));
    }

    /// <summary>The Authorization header value for a signed request.</summary>
    public static string Header(string appKey, string appSecret, string method, string pathAndQuery, DateTimeOffset now, string nonce, ReadOnlySpan<byte> body)
    {
        var ts = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var sig = Convert.ToHexStringLower(Signature(Encoding.UTF8.GetBytes(appSecret), method, pathAndQuery, ts, nonce, body));
        return $"{AppAuthenticator.HmacScheme} Key={appKey}, Timestamp={ts}, Nonce={nonce}, Signature={sig}";
    }
}

/// <summary>Remembers nonces until they expire, bounded in count.</summary>
internal sealed class NonceCache(int max)
{
    private readonly Dictionary<string, long> _expiry = new(StringComparer.Ordinal);
    private readonly Queue<(string Nonce, long Expiry)> _order = new();
    private readonly Lock _lock = new();

    public bool TryAdd(string nonce, long expiryMs, long nowMs)
    {
        lock (_lock)
        {
            while (_order.TryPeek(out var head) && (head.Expiry <= nowMs || _order.Count > max))
            {
                _order.Dequeue();
                _expiry.Remove(head.Nonce);
            }

            if (!_expiry.TryAdd(nonce, expiryMs))
            {
                return false;
            }

            _order.Enqueue((nonce, expiryMs));
            return true;
        }
    }
}
