using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;
using Microsoft.Data.Sqlite;
using Zhongtai.Meta;

namespace Zhongtai.Datasets;

/// <summary>
/// A staging directory a producer writes a dataset's tables into (<see cref="TablePath"/>), before
/// <see cref="DatasetRegistry.Commit"/> makes it an immutable, registered version. Disposing an uncommitted draft
/// deletes the staging directory: a failed build leaves nothing behind.
/// </summary>
public sealed class DatasetDraft : IDisposable
{
    internal DatasetDraft(string name, string kind, string directory)
    {
        Name = name;
        Kind = kind;
        Directory = directory;
    }

    public string Name { get; }

    public string Kind { get; }

    /// <summary>The staging directory (<c>datasets/&lt;name&gt;/.staging-&lt;guid&gt;</c>).</summary>
    public string Directory { get; }

    internal bool Committed { get; set; }

    /// <summary>Where to write table <paramref name="table"/>: <c>&lt;staging&gt;/&lt;table&gt;.parquet</c>.</summary>
    public string TablePath(string table)
    {
        DatasetRegistry.ValidateName(table);
        return Path.Combine(Directory, table + ".parquet");
    }

    public void Dispose()
    {
        if (!Committed && System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}

/// <summary>
/// The dataset registry of a project: immutable directories of Parquet files under
/// <c>projects/P/datasets/&lt;name&gt;/&lt;version&gt;/</c>, registered in <c>meta.db</c> (table <c>datasets</c>)
/// with lineage, the configuration and its hash, the code version, row counts, schema, column statistics and a
/// content checksum. A commit is atomic: the files are fsync'd in a staging directory, renamed into place, and only
/// then the row is inserted; a failure at any step leaves no registered dataset and no half directory.
/// Committing content that an existing version of the same name already has (same checksum) reuses that version.
/// </summary>
public sealed class DatasetRegistry
{
    private const string StagingPrefix = ".staging-";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly MetaStore _meta;
    private readonly string _project;
    private readonly TimeProvider _time;

    /// <param name="meta">The metadata store.</param>
    /// <param name="projectDirectory">The project's directory; datasets live in its <c>datasets/</c>.</param>
    /// <param name="project">The project name.</param>
    /// <param name="time">Clock of the created-at times.</param>
    public DatasetRegistry(MetaStore meta, string projectDirectory, string project, TimeProvider time)
    {
        _meta = meta ?? throw new ArgumentNullException(nameof(meta));
        _project = project;
        _time = time ?? TimeProvider.System;
        Root = Path.Combine(projectDirectory, "datasets");
    }

    /// <summary><c>projects/P/datasets</c>.</summary>
    public string Root { get; }

    /// <summary>The code version recorded with every dataset: the informational version of this assembly.</summary>
    public static string CodeVersion { get; } =
        typeof(DatasetRegistry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>Starts a dataset: a fresh staging directory to write tables into.</summary>
    public DatasetDraft Begin(string name, string kind)
    {
        ValidateName(name);
        var dir = Path.Combine(Root, name, StagingPrefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return new DatasetDraft(name, kind, dir);
    }

    /// <summary>
    /// Registers the draft's tables as the next version of its name, or returns the existing version with the same
    /// content checksum (<see cref="DatasetRecord.Reused"/>). <paramref name="config"/> is serialized to canonical JSON
    /// and hashed. Throws <see cref="DatasetException"/> naming the file when a table is not readable Parquet.
    /// </summary>
    public DatasetRecord Commit(DatasetDraft draft, object config, DatasetLineage lineage, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(draft);
        ArgumentNullException.ThrowIfNull(lineage);
        if (draft.Committed)
        {
            throw new InvalidOperationException($"The draft of '{draft.Name}' was already committed.");
        }

        var files = Directory.EnumerateFiles(draft.Directory, "*.parquet").Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
        {
            throw new DatasetException($"The draft of dataset '{draft.Name}' has no tables (no .parquet files in '{draft.Directory}').");
        }

        var configJson = CanonicalJson(config);
        var configHash = Sha256Hex(Encoding.UTF8.GetBytes(configJson));
        var tables = new List<DatasetTable>(files.Count);
        foreach (var file in files)
        {
            ct.ThrowIfCancellationRequested();
            tables.Add(Describe(file));
        }

        var checksum = Sha256Hex(Encoding.UTF8.GetBytes(string.Concat(tables.Select(t => t.Name + "\t" + t.Sha256 + "\n"))));
        Zhongtai.Storage.Durable.SyncDirectory(draft.Directory);

        using var c = _meta.Connect();
        using var tx = c.BeginTransaction(deferred: false);
        var existing = Query(c, tx, "name=$n AND checksum=$c", ("$n", draft.Name), ("$c", checksum)).FirstOrDefault();
        if (existing is not null)
        {
            tx.Rollback();
            draft.Dispose();
            draft.Committed = true;
            return existing with { Reused = true };
        }

        int version;
        using (var cmd = Command(c, tx, "SELECT COALESCE(MAX(version), 0) FROM datasets WHERE project=$p AND name=$n"))
        {
            cmd.Parameters.AddWithValue("$n", draft.Name);
            version = 1 + Convert.ToInt32(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        var final = Path.Combine(Root, draft.Name, version.ToString(CultureInfo.InvariantCulture));
        if (Directory.Exists(final))
        {
            // Left by a crash between the rename and the insert: never registered, so never read.
            Directory.Delete(final, recursive: true);
        }

        var record = new DatasetRecord
        {
            Id = draft.Name + "@" + version.ToString(CultureInfo.InvariantCulture),
            Project = _project,
            Name = draft.Name,
            Version = version,
            Kind = draft.Kind,
            CreatedAt = _time.GetUtcNow(),
            Checksum = checksum,
            ConfigHash = configHash,
            Config = configJson,
            CodeVersion = CodeVersion,
            Rows = tables.Sum(t => t.Rows),
            Path = Path.GetFullPath(final),
            Lineage = lineage,
            Tables = tables,
        };

        Directory.Move(draft.Directory, final);
        draft.Committed = true;
        try
        {
            Zhongtai.Storage.Durable.SyncDirectory(Path.GetDirectoryName(final)!);
            using (var cmd = Command(c, tx, """
                INSERT INTO datasets(project, name, version, kind, checksum, config_hash, code_version, rows, path, manifest, created_at)
                VALUES ($p, $n, $v, $k, $c, $h, $cv, $r, $path, $m, $at)
                """))
            {
                cmd.Parameters.AddWithValue("$n", record.Name);
                cmd.Parameters.AddWithValue("$v", record.Version);
                cmd.Parameters.AddWithValue("$k", record.Kind);
                cmd.Parameters.AddWithValue("$c", record.Checksum);
                cmd.Parameters.AddWithValue("$h", record.ConfigHash);
                cmd.Parameters.AddWithValue("$cv", record.CodeVersion);
                cmd.Parameters.AddWithValue("$r", record.Rows);
                cmd.Parameters.AddWithValue("$path", record.Path);
                cmd.Parameters.AddWithValue("$m", JsonSerializer.Serialize(new Manifest(record.Lineage, record.Tables, record.Config), Json));
                cmd.Parameters.AddWithValue("$at", record.CreatedAt.ToString("O", CultureInfo.InvariantCulture));
                cmd.ExecuteNonQuery();
            }

            tx.Commit();
        }
        catch
        {
            Directory.Delete(final, recursive: true);
            throw;
        }

        return record;
    }

    /// <summary>Every registered dataset (optionally of one name), newest first.</summary>
    public IReadOnlyList<DatasetRecord> List(string? name = null)
    {
        using var c = _meta.Connect();
        return name is null ? Query(c, null, "1=1") : Query(c, null, "name=$n", ("$n", name));
    }

    /// <summary>A dataset by <c>name@version</c>, or by <c>name</c> (its newest version); null when absent.</summary>
    public DatasetRecord? Find(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        using var c = _meta.Connect();
        int at = id.LastIndexOf('@');
        if (at < 0)
        {
            return Query(c, null, "name=$n", ("$n", id)).FirstOrDefault();
        }

        if (!int.TryParse(id.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int version))
        {
            throw new DatasetException($"'{id}' is not a dataset id (name@version or name).");
        }

        return Query(c, null, "name=$n AND version=$v", ("$n", id[..at]), ("$v", version)).FirstOrDefault();
    }

    /// <summary><see cref="Find"/>, throwing <see cref="DatasetException"/> when absent.</summary>
    public DatasetRecord Get(string id) => Find(id) ?? throw new DatasetException($"Dataset '{id}' is not registered in project '{_project}'.");

    /// <summary>
    /// Deletes what a crashed or failed build left: staging directories and version directories with no registered
    /// row. Call when no build of this project runs. Returns the directories removed.
    /// </summary>
    public int Recover()
    {
        if (!Directory.Exists(Root))
        {
            return 0;
        }

        var registered = new HashSet<string>(List().Select(d => Path.GetFullPath(d.Path)), StringComparer.Ordinal);
        int removed = 0;
        foreach (var nameDir in Directory.EnumerateDirectories(Root))
        {
            foreach (var dir in Directory.EnumerateDirectories(nameDir))
            {
                var leaf = Path.GetFileName(dir);
                bool orphan = leaf.StartsWith(StagingPrefix, StringComparison.Ordinal)
                    || (int.TryParse(leaf, NumberStyles.None, CultureInfo.InvariantCulture, out _) && !registered.Contains(Path.GetFullPath(dir)));
                if (orphan)
                {
                    Directory.Delete(dir, recursive: true);
                    removed++;
                }
            }
        }

        return removed;
    }

    /// <summary>Canonical JSON of a configuration object: web naming, object keys sorted ordinally, no whitespace.</summary>
    public static string CanonicalJson(object config)
    {
        var node = config as JsonNode ?? JsonSerializer.SerializeToNode(config, config.GetType(), Json);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteSorted(writer, node);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteSorted(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonObject obj:
                writer.WriteStartObject();
                foreach (var (key, value) in obj.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(key);
                    WriteSorted(writer, value);
                }

                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var item in array)
                {
                    WriteSorted(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }

    internal static void ValidateName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 100 || name[0] == '.'
            || !name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.'))
        {
            throw new DatasetException($"'{name}' is not a valid dataset or table name (ASCII letters, digits, '-', '_', '.'; not starting with '.').");
        }
    }

    private static string Sha256Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>fsyncs a table file, hashes it, and reads its schema and statistics through DuckDB.</summary>
    private static DatasetTable Describe(string file)
    {
        string sha;
        long bytes;
        using (var fs = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.Read))
        {
            fs.Flush(flushToDisk: true);
            bytes = fs.Length;
            sha = Convert.ToHexStringLower(SHA256.HashData(fs));
        }

        var columns = new List<ColumnStats>();
        long rows;
        try
        {
            using var duck = new DuckDBConnection("Data Source=:memory:");
            duck.Open();
            using var cmd = duck.CreateCommand();
            var source = "read_parquet('" + file.Replace("'", "''", StringComparison.Ordinal) + "')";
            var schema = new List<(string Name, string Type)>();
            cmd.CommandText = "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM " + source + ")";
            using (var r = cmd.ExecuteReader())
            {
                while (r.Read())
                {
                    schema.Add((r.GetString(0), r.GetString(1)));
                }
            }

            // One scan for every column's min, max, non-null count and approximate distinct count (SUMMARIZE also
            // computes quantiles, several times slower on wide tables).
            var aggregates = string.Concat(schema.Select(c =>
            {
                var q = "\"" + c.Name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
                return $", min({q})::VARCHAR, max({q})::VARCHAR, count({q}), approx_count_distinct({q})";
            }));
            cmd.CommandText = "SELECT count(*)" + aggregates + " FROM " + source;
            using (var r = cmd.ExecuteReader())
            {
                r.Read();
                rows = Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture);
                for (int i = 0; i < schema.Count; i++)
                {
                    int o = 1 + 4 * i;
                    columns.Add(new ColumnStats(
                        schema[i].Name,
                        schema[i].Type,
                        r.IsDBNull(o) ? null : r.GetString(o),
                        r.IsDBNull(o + 1) ? null : r.GetString(o + 1),
                        rows - Convert.ToInt64(r.GetValue(o + 2), CultureInfo.InvariantCulture),
                        Convert.ToInt64(r.GetValue(o + 3), CultureInfo.InvariantCulture)));
                }
            }
        }
        catch (DuckDBException e)
        {
            throw new DatasetException($"Dataset table '{file}' is not readable Parquet: {e.Message}", e);
        }

        return new DatasetTable(Path.GetFileNameWithoutExtension(file), Path.GetFileName(file), rows, bytes, sha, columns);
    }

    private sealed record Manifest(DatasetLineage Lineage, IReadOnlyList<DatasetTable> Tables, string Config);

    private List<DatasetRecord> Query(SqliteConnection c, SqliteTransaction? tx, string where, params (string Name, object Value)[] parameters)
    {
        using var cmd = Command(c, tx, $"""
            SELECT name, version, kind, checksum, config_hash, code_version, rows, path, manifest, created_at
            FROM datasets WHERE project=$p AND {where} ORDER BY name, version DESC
            """);
        foreach (var (n, v) in parameters)
        {
            cmd.Parameters.AddWithValue(n, v);
        }

        var list = new List<DatasetRecord>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var manifest = JsonSerializer.Deserialize<Manifest>(r.GetString(8), Json)
                ?? throw new DatasetException($"Dataset {r.GetString(0)}@{r.GetInt32(1)} has an empty manifest.");
            list.Add(new DatasetRecord
            {
                Id = r.GetString(0) + "@" + r.GetInt32(1).ToString(CultureInfo.InvariantCulture),
                Project = _project,
                Name = r.GetString(0),
                Version = r.GetInt32(1),
                Kind = r.GetString(2),
                Checksum = r.GetString(3),
                ConfigHash = r.GetString(4),
                CodeVersion = r.GetString(5),
                Rows = r.GetInt64(6),
                Path = r.GetString(7),
                Config = manifest.Config,
                Lineage = manifest.Lineage,
                Tables = manifest.Tables,
                CreatedAt = DateTimeOffset.Parse(r.GetString(9), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
            });
        }

        return list;
    }

    private SqliteCommand Command(SqliteConnection c, SqliteTransaction? tx, string sql)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        cmd.Parameters.AddWithValue("$p", _project);
        return cmd;
    }
}
