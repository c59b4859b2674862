using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Zhongtai.Events.Log;
using Zhongtai.Meta;

namespace Zhongtai.Registry;

/// <summary>
/// A project's models: immutable versions whose artifacts are files addressed by SHA-256 under
/// <c>projects/P/models/</c>, and aliases (production, candidate, previous, or any name) that point at versions.
/// Promotion and rollback move aliases in one transaction; artifacts are never changed in place.
/// </summary>
public sealed class ModelRegistry
{
    private readonly MetaStore _meta;
    private readonly string _project;
    private readonly string _directory;
    private readonly TimeProvider _time;

    public ModelRegistry(MetaStore meta, string project, string directory, TimeProvider time)
    {
        _meta = meta;
        _project = project;
        _directory = directory;
        _time = time;
        Directory.CreateDirectory(directory);
    }

    /// <summary>Stores the artifact (if new) and registers the next version of the model.</summary>
    public ModelVersion Register(ModelRegistration registration, ReadOnlySpan<byte> artifact)
    {
        ValidateName(registration.Name);
        var checksum = Convert.ToHexStringLower(SHA256.HashData(artifact));
        var path = ArtifactPath(checksum);
        if (!File.Exists(path))
        {
            var tmp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
            {
                fs.Write(artifact);
                fs.Flush(flushToDisk: true);
            }

            File.Move(tmp, path, overwrite: true);
            Zhongtai.Storage.Durable.SyncDirectory(_directory);
        }

        using var c = _meta.Connect();
        using var tx = c.BeginTransaction();
        if (registration.ParentVersion is { } parent && Find(c, tx, registration.Name, parent) is null)
        {
            throw new RegistryException("version_not_found", $"Parent version {parent} of '{registration.Name}' does not exist.");
        }

        var version = 1 + Convert.ToInt32(Scalar(c, tx, "SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE project=$p AND name=$n", ("$n", registration.Name)), CultureInfo.InvariantCulture);
        using (var cmd = Command(c, tx, """
            INSERT INTO model_versions(project, name, version, checksum, size, format, trainer, config, datasets, parent_version, metrics, created_by, created_at, status, status_reasons)
            VALUES ($p, $n, $v, $c, $s, $f, $t, $cfg, $d, $pv, $m, $by, $at, 'registered', '[]')
            """))
        {
            cmd.Parameters.AddWithValue("$n", registration.Name);
            cmd.Parameters.AddWithValue("$v", version);
            cmd.Parameters.AddWithValue("$c", checksum);
            cmd.Parameters.AddWithValue("$s", artifact.Length);
            cmd.Parameters.AddWithValue("$f", registration.Format);
            cmd.Parameters.AddWithValue("$t", registration.Trainer);
            cmd.Parameters.AddWithValue("$cfg", registration.Config);
            cmd.Parameters.AddWithValue("$d", JsonSerializer.Serialize(registration.Datasets, RegistryJson.Default.IReadOnlyListString));
            cmd.Parameters.AddWithValue("$pv", registration.ParentVersion is { } pv ? pv : DBNull.Value);
            cmd.Parameters.AddWithValue("$m", JsonSerializer.Serialize(registration.Metrics, RegistryJson.Default.IReadOnlyDictionaryStringDouble));
            cmd.Parameters.AddWithValue("$by", registration.CreatedBy);
            cmd.Parameters.AddWithValue("$at", Now());
            cmd.ExecuteNonQuery();
        }

        tx.Commit();
        return Get(registration.Name, version);
    }

    /// <summary>The model names with at least one version.</summary>
    public IReadOnlyList<string> Names()
    {
        using var c = _meta.Connect();
        using var cmd = Command(c, null, "SELECT DISTINCT name FROM model_versions WHERE project=$p ORDER BY name");
        using var r = cmd.ExecuteReader();
        var names = new List<string>();
        while (r.Read())
        {
            names.Add(r.GetString(0));
        }

        return names;
    }

    /// <summary>Every version of <paramref name="name"/>, newest first.</summary>
    public IReadOnlyList<ModelVersion> Versions(string name)
    {
        using var c = _meta.Connect();
        using var cmd = Command(c, null, $"SELECT {Columns} FROM model_versions WHERE project=$p AND name=$n ORDER BY version DESC");
        cmd.Parameters.AddWithValue("$n", name);
        var aliases = Aliases(c, null, name);
        return ReadVersions(cmd, aliases);
    }

    public ModelVersion Get(string name, int version)
    {
        using var c = _meta.Connect();
        return Find(c, null, name, version) ?? throw new RegistryException("version_not_found", $"Model '{name}' has no version {version}.");
    }

    /// <summary>The version an alias points at, or null.</summary>
    public ModelVersion? Resolve(string name, string alias)
    {
        using var c = _meta.Connect();
        var aliases = Aliases(c, null, name);
        return aliases.TryGetValue(alias, out var v) ? Find(c, null, name, v) : null;
    }

    /// <summary>Points <paramref name="alias"/> at a version (or removes it when <paramref name="version"/> is null).</summary>
    public void SetAlias(string name, string alias, int? version, string reason = "set")
    {
        ValidateName(alias);
        using var c = _meta.Connect();
        using var tx = c.BeginTransaction();
        if (version is { } v && Find(c, tx, name, v) is null)
        {
            throw new RegistryException("version_not_found", $"Model '{name}' has no version {v}.");
        }

        MoveAlias(c, tx, name, alias, version, reason);
        tx.Commit();
    }

    /// <summary>Makes <paramref name="version"/> production; the old production becomes previous. One transaction.</summary>
    public ModelVersion Promote(string name, int version, string reason = "promote")
    {
        using var c = _meta.Connect();
        using var tx = c.BeginTransaction();
        var target = Find(c, tx, name, version) ?? throw new RegistryException("version_not_found", $"Model '{name}' has no version {version}.");
        if (target.Status == ModelStatus.Rejected)
        {
            throw new RegistryException("version_rejected", $"Version {version} of '{name}' was rejected: {string.Join("; ", target.StatusReasons)}.");
        }

        var aliases = Aliases(c, tx, name);
        if (aliases.TryGetValue(ModelAliases.Production, out var current) && current == version)
        {
            return target;
        }

        if (aliases.TryGetValue(ModelAliases.Production, out current))
        {
            MoveAlias(c, tx, name, ModelAliases.Previous, current, reason);
        }

        MoveAlias(c, tx, name, ModelAliases.Production, version, reason);
        if (aliases.TryGetValue(ModelAliases.Candidate, out var candidate) && candidate == version)
        {
            MoveAlias(c, tx, name, ModelAliases.Candidate, null, reason);
        }

        tx.Commit();
        return Get(name, version);
    }

    /// <summary>Production goes back to previous; previous goes back to the production before that (or is removed).</summary>
    public ModelVersion Rollback(string name)
    {
        using var c = _meta.Connect();
        using var tx = c.BeginTransaction();
        var aliases = Aliases(c, tx, name);
        if (!aliases.TryGetValue(ModelAliases.Previous, out var previous))
        {
            throw new RegistryException("nothing_to_roll_back", $"Model '{name}' has no previous version.");
        }

        // The production history, newest first: [current, previous, the one before, ...] without repeats in a row.
        var history = ProductionHistory(c, tx, name);
        var index = history.IndexOf(previous);
        int? before = index >= 0 && index + 1 < history.Count ? history[index + 1] : null;
        MoveAlias(c, tx, name, ModelAliases.Production, previous, "rollback");
        MoveAlias(c, tx, name, ModelAliases.Previous, before, "rollback");
        tx.Commit();
        return Get(name, previous);
    }

    /// <summary>Records a judgement (the admission gate's, or a person's).</summary>
    public void SetStatus(string name, int version, string status, IReadOnlyList<string> reasons)
    {
        using var c = _meta.Connect();
        using var cmd = Command(c, null, "UPDATE model_versions SET status=$s, status_reasons=$r WHERE project=$p AND name=$n AND version=$v");
        cmd.Parameters.AddWithValue("$s", status);
        cmd.Parameters.AddWithValue("$r", JsonSerializer.Serialize(reasons, RegistryJson.Default.IReadOnlyListString));
        cmd.Parameters.AddWithValue("$n", name);
        cmd.Parameters.AddWithValue("$v", version);
        if (cmd.ExecuteNonQuery() == 0)
        {
            throw new RegistryException("version_not_found", $"Model '{name}' has no version {version}.");
        }
    }

    /// <summary>The artifact's bytes, verified against the checksum; a corrupt or truncated file is refused.</summary>
    public byte[] ReadArtifact(ModelVersion version)
    {
        var path = ArtifactPath(version.Checksum);
        if (!File.Exists(path))
        {
            throw new CorruptArtifactException($"The artifact of '{version.Name}' v{version.Version} ({path}) is missing.");
        }

        var bytes = File.ReadAllBytes(path);
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (bytes.Length != version.Size || actual != version.Checksum)
        {
            throw new CorruptArtifactException($"The artifact of '{version.Name}' v{version.Version} ({path}) is corrupt: {bytes.Length} bytes with SHA-256 {actual}, expected {version.Size} bytes with {version.Checksum}.");
        }

        return bytes;
    }

    /// <summary>
    /// Deletes versions older than <paramref name="retention"/> that no alias points at and no kept version descends from,
    /// then artifact files no version references. Never removes an aliased version. Returns (versions, files) deleted.
    /// </summary>
    public (int Versions, int Files) CollectGarbage(TimeSpan retention)
    {
        var cutoff = _time.GetUtcNow() - retention;
        var deletedVersions = 0;
        using (var c = _meta.Connect())
        using (var tx = c.BeginTransaction())
        {
            foreach (var name in NamesIn(c, tx))
            {
                var aliased = Aliases(c, tx, name).Values.ToHashSet();
                var versions = ReadVersions(Versions(c, tx, name), new Dictionary<string, int>());
                var keep = versions.Where(v => aliased.Contains(v.Version) || v.CreatedAt >= cutoff).Select(v => v.Version).ToHashSet();
                // Keep the ancestors of kept versions: their lineage stays explainable.
                var byVersion = versions.ToDictionary(v => v.Version);
                foreach (var v in keep.ToList())
                {
                    var parent = byVersion[v].ParentVersion;
                    while (parent is { } p && byVersion.ContainsKey(p) && keep.Add(p))
                    {
                        parent = byVersion[p].ParentVersion;
                    }
                }

                foreach (var v in versions.Where(v => !keep.Contains(v.Version)))
                {
                    using var del = Command(c, tx, "DELETE FROM model_versions WHERE project=$p AND name=$n AND version=$v");
                    del.Parameters.AddWithValue("$n", name);
                    del.Parameters.AddWithValue("$v", v.Version);
                    deletedVersions += del.ExecuteNonQuery();
                }
            }

            tx.Commit();
        }

        var referenced = new HashSet<string>(StringComparer.Ordinal);
        using (var c = _meta.Connect())
        using (var cmd = Command(c, null, "SELECT checksum FROM model_versions WHERE project=$p"))
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read())
            {
                referenced.Add(r.GetString(0));
            }
        }

        var deletedFiles = 0;
        foreach (var file in Directory.EnumerateFiles(_directory))
        {
            var name = Path.GetFileName(file);
            var isArtifact = name.EndsWith(".bin", StringComparison.Ordinal) && !referenced.Contains(name[..^4]);
            var isStaleTemp = name.EndsWith(".tmp", StringComparison.Ordinal);
            if ((isArtifact || isStaleTemp) && File.GetLastWriteTimeUtc(file) < cutoff.UtcDateTime)
            {
                File.Delete(file);
                deletedFiles++;
            }
        }

        return (deletedVersions, deletedFiles);
    }

    private string ArtifactPath(string checksum) => Path.Combine(_directory, checksum + ".bin");

    private const string Columns = "name, version, checksum, size, format, trainer, config, datasets, parent_version, metrics, created_by, created_at, status, status_reasons";

    private ModelVersion? Find(SqliteConnection c, SqliteTransaction? tx, string name, int version)
    {
        using var cmd = Command(c, tx, $"SELECT {Columns} FROM model_versions WHERE project=$p AND name=$n AND version=$v");
        cmd.Parameters.AddWithValue("$n", name);
        cmd.Parameters.AddWithValue("$v", version);
        return ReadVersions(cmd, Aliases(c, tx, name)).FirstOrDefault();
    }

    private SqliteCommand Versions(SqliteConnection c, SqliteTransaction? tx, string name)
    {
        var cmd = Command(c, tx, $"SELECT {Columns} FROM model_versions WHERE project=$p AND name=$n ORDER BY version DESC");
        cmd.Parameters.AddWithValue("$n", name);
        return cmd;
    }

    private List<string> NamesIn(SqliteConnection c, SqliteTransaction tx)
    {
        using var cmd = Command(c, tx, "SELECT DISTINCT name FROM model_versions WHERE project=$p");
        using var r = cmd.ExecuteReader();
        var names = new List<string>();
        while (r.Read())
        {
            names.Add(r.GetString(0));
        }

        return names;
    }

    private List<ModelVersion> ReadVersions(SqliteCommand cmd, Dictionary<string, int> aliases)
    {
        using var _ = cmd;
        using var r = cmd.ExecuteReader();
        var result = new List<ModelVersion>();
        while (r.Read())
        {
            var version = r.GetInt32(1);
            result.Add(new ModelVersion(
                _project,
                r.GetString(0),
                version,
                r.GetString(2),
                r.GetInt64(3),
                r.GetString(4),
                r.GetString(5),
                r.GetString(6),
                JsonSerializer.Deserialize(r.GetString(7), RegistryJson.Default.IReadOnlyListString) ?? [],
                r.IsDBNull(8) ? null : r.GetInt32(8),
                JsonSerializer.Deserialize(r.GetString(9), RegistryJson.Default.IReadOnlyDictionaryStringDouble) ?? new Dictionary<string, double>(),
                r.GetString(10),
                DateTimeOffset.Parse(r.GetString(11), CultureInfo.InvariantCulture),
                r.GetString(12),
                JsonSerializer.Deserialize(r.GetString(13), RegistryJson.Default.IReadOnlyListString) ?? [],
                [.. aliases.Where(a => a.Value == version).Select(a => a.Key).Order(StringComparer.Ordinal)]));
        }

        return result;
    }

    private Dictionary<string, int> Aliases(SqliteConnection c, SqliteTransaction? tx, string name)
    {
        using var cmd = Command(c, tx, "SELECT alias, version FROM model_aliases WHERE project=$p AND name=$n");
        cmd.Parameters.AddWithValue("$n", name);
        using var r = cmd.ExecuteReader();
        var aliases = new Dictionary<string, int>(StringComparer.Ordinal);
        while (r.Read())
        {
            aliases[r.GetString(0)] = r.GetInt32(1);
        }

        return aliases;
    }

    private List<int> ProductionHistory(SqliteConnection c, SqliteTransaction tx, string name)
    {
        using var cmd = Command(c, tx, "SELECT version FROM model_alias_history WHERE project=$p AND name=$n AND alias='production' AND version IS NOT NULL ORDER BY id DESC");
        cmd.Parameters.AddWithValue("$n", name);
        using var r = cmd.ExecuteReader();
        var history = new List<int>();
        while (r.Read())
        {
            var v = r.GetInt32(0);
            if (history.Count == 0 || history[^1] != v)
            {
                history.Add(v);
            }
        }

        return history;
    }

    private void MoveAlias(SqliteConnection c, SqliteTransaction tx, string name, string alias, int? version, string reason)
    {
        using (var cmd = Command(c, tx, version is null
            ? "DELETE FROM model_aliases WHERE project=$p AND name=$n AND alias=$a"
            : "INSERT INTO model_aliases(project, name, alias, version, updated_at) VALUES ($p, $n, $a, $v, $t) ON CONFLICT(project, name, alias) DO UPDATE SET version=$v, updated_at=$t"))
        {
            cmd.Parameters.AddWithValue("$n", name);
            cmd.Parameters.AddWithValue("$a", alias);
            cmd.Parameters.AddWithValue("$v", version is { } v ? v : DBNull.Value);
            cmd.Parameters.AddWithValue("$t", Now());
            cmd.ExecuteNonQuery();
        }

        using var history = Command(c, tx, "INSERT INTO model_alias_history(project, name, alias, version, changed_at, reason) VALUES ($p, $n, $a, $v, $t, $r)");
        history.Parameters.AddWithValue("$n", name);
        history.Parameters.AddWithValue("$a", alias);
        history.Parameters.AddWithValue("$v", version is { } hv ? hv : DBNull.Value);
        history.Parameters.AddWithValue("$t", Now());
        history.Parameters.AddWithValue("$r", reason);
        history.ExecuteNonQuery();
    }

    private SqliteCommand Command(SqliteConnection c, SqliteTransaction? tx, string sql)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        cmd.Parameters.AddWithValue("$p", _project);
        return cmd;
    }

    private object? Scalar(SqliteConnection c, SqliteTransaction tx, string sql, params (string Name, object Value)[] parameters)
    {
        using var cmd = Command(c, tx, sql);
        foreach (var (n, v) in parameters)
        {
            cmd.Parameters.AddWithValue(n, v);
        }

        return cmd.ExecuteScalar();
    }

    private string Now() => _time.GetUtcNow().UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static void ValidateName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 64 || !name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.'))
        {
            throw new RegistryException("invalid_name", $"A model or alias name is 1-64 characters of letters, digits, '-', '_' and '.'; got '{name}'.");
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyList<string>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(IReadOnlyDictionary<string, double>))]
internal sealed partial class RegistryJson : System.Text.Json.Serialization.JsonSerializerContext;
