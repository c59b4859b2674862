using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Zhongtai.Meta;

namespace Zhongtai.Gateway;

/// <summary>What an app may do.</summary>
public static class Scopes
{
    public const string Ingest = "ingest";
    public const string Serve = "serve";
    public const string Manage = "manage";
    public const string Llm = "llm";

    public static readonly IReadOnlyList<string> All = [Ingest, Serve, Manage, Llm];
}

/// <summary>An app: a credential that belongs to one project and carries scopes.</summary>
public sealed record App(
    string AppKey,
    string Name,
    string Project,
    IReadOnlyList<string> Scopes,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? ExpiresAt)
{
    public bool IsActive => Status == "active";

    public bool HasScope(string scope) => Scopes.Contains(scope, StringComparer.Ordinal);
}

/// <summary>An app with its secret: shown once, at creation or rotation.</summary>
public sealed record AppCredentials(App App, string AppSecret)
{
    /// <summary>The bearer token: the value after <c>Bearer </c> in an Authorization header.</summary>
    public string Token => $"{App.AppKey}.{AppSecret}";
}

/// <summary>A request about apps that cannot be done, with a machine-readable code.</summary>
public sealed class AppException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>Creates, lists, disables and rotates apps in the metadata store.</summary>
public sealed class AppService(MetaStore meta, SecretSealer sealer, TimeProvider time)
{
    public const string DefaultProject = "default";

    /// <summary>Creates the project if it does not exist.</summary>
    public void EnsureProject(string project)
    {
        ValidateName(project, "project");
        using var c = meta.Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "INSERT OR IGNORE INTO projects(name, created_at) VALUES ($n, $t)";
        cmd.Parameters.AddWithValue("$n", project);
        cmd.Parameters.AddWithValue("$t", Now());
        cmd.ExecuteNonQuery();
    }

    public IReadOnlyList<string> ListProjects()
    {
        using var c = meta.Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT name FROM projects ORDER BY name";
        using var r = cmd.ExecuteReader();
        var result = new List<string>();
        while (r.Read())
        {
            result.Add(r.GetString(0));
        }

        return result;
    }

    public AppCredentials Create(string name, string project = DefaultProject, IEnumerable<string>? scopes = null, DateTimeOffset? expiresAt = null)
    {
        ValidateName(name, "app");
        var scopeList = (scopes ?? [Scopes.Ingest, Scopes.Serve]).Select(s => s.Trim()).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        var unknown = scopeList.Where(s => !Scopes.All.Contains(s, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0 || scopeList.Count == 0)
        {
            throw new AppException("invalid_scopes", $"Scopes must be a non-empty subset of {string.Join(",", Scopes.All)}; got '{string.Join(",", unknown)}'.");
        }

        EnsureProject(project);
        var key = "ak" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));
        var secret = NewSecret();
        var now = Now();
        using var c = meta.Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = """
            INSERT INTO apps(app_key, name, project, scopes, sealed_secret, status, created_at, updated_at, expires_at)
            VALUES ($k, $n, $p, $s, $sec, 'active', $t, $t, $e)
            """;
        cmd.Parameters.AddWithValue("$k", key);
        cmd.Parameters.AddWithValue("$n", name);
        cmd.Parameters.AddWithValue("$p", project);
        cmd.Parameters.AddWithValue("$s", string.Join(',', scopeList));
        cmd.Parameters.AddWithValue("$sec", sealer.Seal(secret, key));
        cmd.Parameters.AddWithValue("$t", now);
        cmd.Parameters.AddWithValue("$e", expiresAt is { } e ? e.UtcDateTime.ToString("O", CultureInfo.InvariantCulture) : DBNull.Value);
        try
        {
            cmd.ExecuteNonQuery();
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 19)
        {
            throw new AppException("app_exists", $"An app named '{name}' already exists.");
        }

        return new AppCredentials(Get(name), secret);
    }

    public IReadOnlyList<App> List()
    {
        using var c = meta.Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {Columns} FROM apps ORDER BY name";
        return ReadApps(cmd);
    }

    public App Get(string name) => Find("name", name) ?? throw new AppException("app_not_found", $"No app named '{name}'.");

    public App? FindByKey(string appKey) => Find("app_key", appKey);

    /// <summary>The app and its unsealed secret, for authentication.</summary>
    public (App App, string Secret)? FindWithSecret(string appKey)
    {
        using var c = meta.Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {Columns}, sealed_secret FROM apps WHERE app_key = $v";
        cmd.Parameters.AddWithValue("$v", appKey);
        using var r = cmd.ExecuteReader();
        if (!r.Read())
        {
            return null;
        }

        var app = ReadApp(r);
        return (app, sealer.Unseal((byte[])r["sealed_secret"], app.AppKey));
    }

    public App Disable(string name) => SetStatus(name, "disabled");

    public App Enable(string name) => SetStatus(name, "active");

    /// <summary>Replaces the secret; the old one stops working at once (within the server's credential cache time).</summary>
    public AppCredentials RotateSecret(string name)
    {
        var app = Get(name);
        var secret = NewSecret();
        using var c = meta.Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "UPDATE apps SET sealed_secret = $s, updated_at = $t WHERE app_key = $k";
        cmd.Parameters.AddWithValue("$s", sealer.Seal(secret, app.AppKey));
        cmd.Parameters.AddWithValue("$t", Now());
        cmd.Parameters.AddWithValue("$k", app.AppKey);
        cmd.ExecuteNonQuery();
        return new AppCredentials(Get(name), secret);
    }

    private App SetStatus(string name, string status)
    {
        var app = Get(name);
        using var c = meta.Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "UPDATE apps SET status = $s, updated_at = $t WHERE app_key = $k";
        cmd.Parameters.AddWithValue("$s", status);
        cmd.Parameters.AddWithValue("$t", Now());
        cmd.Parameters.AddWithValue("$k", app.AppKey);
        cmd.ExecuteNonQuery();
        return Get(name);
    }

    private const string Columns = "app_key, name, project, scopes, status, created_at, updated_at, expires_at";

    private App? Find(string column, string value)
    {
        using var c = meta.Connect();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {Columns} FROM apps WHERE {column} = $v";
        cmd.Parameters.AddWithValue("$v", value);
        return ReadApps(cmd).FirstOrDefault();
    }

    private static List<App> ReadApps(SqliteCommand cmd)
    {
        using var r = cmd.ExecuteReader();
        var apps = new List<App>();
        while (r.Read())
        {
            apps.Add(ReadApp(r));
        }

        return apps;
    }

    private static App ReadApp(SqliteDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        r.GetString(2),
        r.GetString(3).Split(',', StringSplitOptions.RemoveEmptyEntries),
        r.GetString(4),
        DateTimeOffset.Parse(r.GetString(5), CultureInfo.InvariantCulture),
        DateTimeOffset.Parse(r.GetString(6), CultureInfo.InvariantCulture),
        r.IsDBNull(7) ? null : DateTimeOffset.Parse(r.GetString(7), CultureInfo.InvariantCulture));

    private string Now() => time.GetUtcNow().UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static string NewSecret() => Base64Url(RandomNumberGenerator.GetBytes(32));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static void ValidateName(string name, string what)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 64 || !name.All(ch => char.IsAsciiLetterLower(ch) || char.IsAsciiDigit(ch) || ch is '-' or '_'))
        {
            throw new AppException("invalid_name", $"A {what} name is 1-64 characters of a-z, 0-9, '-' and '_'; got '{name}'.");
        }
    }
}
