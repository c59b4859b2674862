using Microsoft.Data.Sqlite;

namespace Zhongtai.Meta;

/// <summary>
/// The metadata store: projects, apps and (later) datasets, models, jobs, usage. Embedded SQLite in
/// <c>meta.db</c> (WAL, synchronous=FULL), with numbered migrations applied on open.
/// </summary>
public sealed class MetaStore
{
    /// <summary>Schema migrations, in order; each runs once (tracked by PRAGMA user_version).</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE projects (
            name TEXT PRIMARY KEY,
            created_at TEXT NOT NULL
        );
        CREATE TABLE apps (
            app_key TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            project TEXT NOT NULL REFERENCES projects(name),
            scopes TEXT NOT NULL,
            sealed_secret BLOB NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            expires_at TEXT NULL
        );
        """,
        """
        CREATE TABLE model_versions (
            project TEXT NOT NULL REFERENCES projects(name),
            name TEXT NOT NULL,
            version INTEGER NOT NULL,
            checksum TEXT NOT NULL,
            size INTEGER NOT NULL,
            format TEXT NOT NULL,
            trainer TEXT NOT NULL,
            config TEXT NOT NULL,
            datasets TEXT NOT NULL,
            parent_version INTEGER NULL,
            metrics TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            status TEXT NOT NULL,
            status_reasons TEXT NOT NULL,
            PRIMARY KEY (project, name, version)
        );
        CREATE TABLE model_aliases (
            project TEXT NOT NULL,
            name TEXT NOT NULL,
            alias TEXT NOT NULL,
            version INTEGER NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (project, name, alias)
        );
        CREATE TABLE model_alias_history (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            project TEXT NOT NULL,
            name TEXT NOT NULL,
            alias TEXT NOT NULL,
            version INTEGER NULL,
            changed_at TEXT NOT NULL,
            reason TEXT NOT NULL
        );
        """,
        """
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            project TEXT NOT NULL,
            kind TEXT NOT NULL,
            args TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            started_at TEXT NULL,
            finished_at TEXT NULL,
            heartbeat_at TEXT NULL,
            worker TEXT NULL,
            result TEXT NULL,
            error TEXT NULL,
            trigger TEXT NOT NULL
        );
        CREATE INDEX jobs_status ON jobs(status, created_at);
        """,
        """
        CREATE TABLE datasets (
            project TEXT NOT NULL,
            name TEXT NOT NULL,
            version INTEGER NOT NULL,
            kind TEXT NOT NULL,
            checksum TEXT NOT NULL,
            config_hash TEXT NOT NULL,
            code_version TEXT NOT NULL,
            rows INTEGER NOT NULL,
            path TEXT NOT NULL,
            manifest TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (project, name, version),
            UNIQUE (project, name, checksum)
        );
        """,
    ];

    private readonly string _connectionString;

    private MetaStore(string connectionString) => _connectionString = connectionString;

    /// <summary>Opens (creating and migrating) the store at <paramref name="path"/>.</summary>
    public static MetaStore Open(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var store = new MetaStore(new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString());
        using var connection = store.Connect();
        Execute(connection, "PRAGMA journal_mode=WAL;");
        using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = "PRAGMA user_version;";
            var version = Convert.ToInt32(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            for (var v = version; v < Migrations.Length; v++)
            {
                using var tx = connection.BeginTransaction();
                Execute(connection, Migrations[v], tx);
                Execute(connection, $"PRAGMA user_version = {v + 1};", tx);
                tx.Commit();
            }
        }

        return store;
    }

    /// <summary>A new open connection (pooled); dispose it after use.</summary>
    public SqliteConnection Connect()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;");
        return connection;
    }

    internal static void Execute(SqliteConnection connection, string sql, SqliteTransaction? tx = null)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        cmd.ExecuteNonQuery();
    }
}
