using System.Data.Common;
using System.Globalization;
using DuckDB.NET.Data;

namespace Zhongtai.Lake;

/// <summary>
/// DuckDB as the embedded SQL engine over the lake: an in-memory connection with the view <c>events</c> over
/// <c>read_parquet('&lt;lake&gt;/events/**/*.parquet', hive_partitioning = true)</c>, restricted to the committed
/// offsets (<c>offset &lt;= checkpoint</c>), with the partition columns <c>date</c> (DATE) and <c>hour</c> (INTEGER).
/// An unreadable Parquet file is reported as a <see cref="LakeCorruptFileException"/> naming the file.
/// Not thread-safe: one instance per thread of work.
/// </summary>
public sealed class LakeQuery : IDisposable
{
    private readonly DuckDBConnection _connection;
    private readonly string _eventsDir;

    private LakeQuery(DuckDBConnection connection, string eventsDir, LakeCheckpoint checkpoint)
    {
        _connection = connection;
        _eventsDir = eventsDir;
        Checkpoint = checkpoint;
    }

    /// <summary>The checkpoint the <c>events</c> view was bounded by when opened.</summary>
    public LakeCheckpoint Checkpoint { get; }

    /// <summary>The underlying connection, for callers that need DuckDB directly (e.g. COPY ... TO).</summary>
    public DuckDBConnection Connection => _connection;

    /// <summary>Opens a lake; throws <see cref="LakeException"/> when the directory does not exist.</summary>
    /// <param name="lakeDir">The lake directory (the one holding <c>events/</c>).</param>
    /// <param name="threads">DuckDB worker threads; null (default) lets DuckDB use every core.</param>
    /// <param name="memoryLimit">DuckDB memory limit such as <c>"2GB"</c>; null (default) is DuckDB's 80% of RAM.</param>
    public static LakeQuery Open(string lakeDir, int? threads = null, string? memoryLimit = null)
    {
        if (!Directory.Exists(lakeDir))
        {
            throw new LakeException($"The lake directory '{Path.GetFullPath(lakeDir)}' does not exist; export events to it first.");
        }

        var eventsDir = Path.GetFullPath(LakeLayout.EventsDir(lakeDir));
        var checkpoint = CheckpointFile.Read(lakeDir);
        var connection = new DuckDBConnection("Data Source=:memory:");
        try
        {
            connection.Open();
            using var cmd = connection.CreateCommand();
            if (threads is { } n)
            {
                ArgumentOutOfRangeException.ThrowIfLessThan(n, 1, nameof(threads));
                cmd.CommandText = string.Create(CultureInfo.InvariantCulture, $"SET threads = {n}");
                cmd.ExecuteNonQuery();
            }

            if (memoryLimit is not null)
            {
                cmd.CommandText = "SET memory_limit = '" + memoryLimit.Replace("'", "''", StringComparison.Ordinal) + "'";
                cmd.ExecuteNonQuery();
            }

            cmd.CommandText = EventsViewSql(eventsDir, checkpoint.LastOffset);
            cmd.ExecuteNonQuery();
            return new LakeQuery(connection, eventsDir, checkpoint);
        }
        catch (DuckDBException e)
        {
            connection.Dispose();
            throw new LakeException($"Cannot open the lake '{Path.GetFullPath(lakeDir)}': {e.Message}", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static string EventsViewSql(string eventsDir, long lastOffset)
    {
        bool anyFile = Directory.Exists(eventsDir)
            && Directory.EnumerateFiles(eventsDir, "*.parquet", SearchOption.AllDirectories).Any();
        if (!anyFile)
        {
            // An empty lake: the same columns, no rows.
            return """
                CREATE VIEW events AS SELECT
                  NULL::BIGINT AS "offset", NULL::VARCHAR AS id, NULL::VARCHAR AS type, NULL::VARCHAR AS user_id,
                  NULL::VARCHAR AS item_id, NULL::TIMESTAMPTZ AS ts, NULL::VARCHAR AS scene, NULL::INTEGER AS position,
                  NULL::VARCHAR AS request_id, NULL::VARCHAR AS device, NULL::VARCHAR AS ip, NULL::VARCHAR AS user_agent,
                  NULL::DOUBLE AS value, NULL::VARCHAR AS properties, NULL::VARCHAR AS title, NULL::VARCHAR AS text,
                  NULL::VARCHAR AS category, NULL::VARCHAR[] AS tags, NULL::VARCHAR AS attributes, NULL::BOOLEAN AS deleted,
                  NULL::VARCHAR AS session_id, NULL::VARCHAR AS model, NULL::VARCHAR AS turns, NULL::VARCHAR AS feedback,
                  NULL::DATE AS date, NULL::INTEGER AS hour
                WHERE false
                """;
        }

        var glob = Path.Combine(eventsDir, "**", "*.parquet").Replace("'", "''", StringComparison.Ordinal);
        return string.Create(CultureInfo.InvariantCulture, $$"""
            CREATE VIEW events AS SELECT * FROM read_parquet('{{glob}}',
              hive_partitioning = true, hive_types = {'date': DATE, 'hour': INTEGER})
            WHERE "offset" <= {{lastOffset}}
            """);
    }

    /// <summary>Runs SQL and returns every row as an array of values (DBNull becomes null).</summary>
    public IReadOnlyList<object?[]> Rows(string sql, params object?[] parameters)
    {
        var rows = new List<object?[]>();
        using var reader = Reader(sql, parameters);
        while (Read(reader))
        {
            var row = new object?[reader.FieldCount];
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    /// <summary>Runs SQL and returns the first column of the first row converted to <typeparamref name="T"/> (default when none or NULL).</summary>
    public T? Scalar<T>(string sql, params object?[] parameters)
    {
        using var cmd = Command(sql, parameters);
        object? value = Execute(() => cmd.ExecuteScalar());
        if (value is null or DBNull)
        {
            return default;
        }

        if (value is T t)
        {
            return t;
        }

        var target = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        if (value is System.Numerics.BigInteger big)
        {
            // HUGEINT, e.g. sum() of BIGINT: through decimal, which every numeric target converts from.
            value = (decimal)big;
        }

        return (T)Convert.ChangeType(value, target, CultureInfo.InvariantCulture);
    }

    /// <summary>Runs a statement that returns no rows (CREATE, COPY ...); returns DuckDB's affected-row count.</summary>
    public int Execute(string sql, params object?[] parameters)
    {
        using var cmd = Command(sql, parameters);
        return Execute(() => cmd.ExecuteNonQuery());
    }

    /// <summary>
    /// Runs SQL and streams the result. Errors raised while reading surface from <see cref="DbDataReader.Read"/>
    /// as DuckDB exceptions; use <see cref="Read"/> to have them translated like the other methods do.
    /// </summary>
    public DbDataReader Reader(string sql, params object?[] parameters)
    {
        var cmd = Command(sql, parameters);
        cmd.UseStreamingMode = true;
        return Execute(() => cmd.ExecuteReader(System.Data.CommandBehavior.Default));
    }

    /// <summary><see cref="DbDataReader.Read"/> with lake errors translated (a corrupt file is named).</summary>
    public bool Read(DbDataReader reader) => Execute(reader.Read);

    private DuckDBCommand Command(string sql, object?[] parameters)
    {
        var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        foreach (var p in parameters)
        {
            cmd.Parameters.Add(new DuckDBParameter(p ?? DBNull.Value));
        }

        return cmd;
    }

    private T Execute<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (DuckDBException e)
        {
            throw Translate(e);
        }
    }

    /// <summary>
    /// Turns a DuckDB error into a lake error: when a Parquet file under the lake cannot be read, the
    /// exception names it (found by checking every file's footer); otherwise the SQL error is passed on.
    /// </summary>
    private LakeException Translate(DuckDBException e)
    {
        // Errors in the SQL itself are reported as they are; anything else may come from a bad file.
        bool sqlError = e.Message.StartsWith("Parser Error", StringComparison.Ordinal)
            || e.Message.StartsWith("Binder Error", StringComparison.Ordinal)
            || e.Message.StartsWith("Catalog Error", StringComparison.Ordinal);
        if (!sqlError)
        {
            foreach (var file in FindCorruptFiles())
            {
                return new LakeCorruptFileException(file.Path, file.Reason, e);
            }
        }

        return new LakeException($"Lake query failed: {e.Message}", e);
    }

    /// <summary>Files under the events folder whose Parquet footer DuckDB cannot read.</summary>
    public IEnumerable<(string Path, string Reason)> FindCorruptFiles()
    {
        if (!Directory.Exists(_eventsDir))
        {
            yield break;
        }

        foreach (var path in Directory.EnumerateFiles(_eventsDir, "*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string? reason = null;
            using var cmd = _connection.CreateCommand();
            cmd.CommandText = "SELECT count(*) FROM parquet_file_metadata($1)";
            cmd.Parameters.Add(new DuckDBParameter(path));
            try
            {
                cmd.ExecuteScalar();
            }
            catch (DuckDBException inner)
            {
                reason = inner.Message;
            }

            if (reason is not null)
            {
                yield return (path, reason);
            }
        }
    }

    public void Dispose() => _connection.Dispose();
}
