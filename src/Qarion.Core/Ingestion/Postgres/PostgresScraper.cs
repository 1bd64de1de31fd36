using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Authentication;
using Npgsql;

namespace Qarion.Core.Ingestion.Postgres;

/// <summary>
/// Reads a customer's PostgreSQL catalog into a <see cref="CatalogSnapshot"/>. Every call opens its own
/// connection (no pool: a connector runs rarely and must not leave idle sessions in someone else's database),
/// works inside a read-only transaction with a statement timeout, and reads the whole catalog with a fixed
/// number of queries. Source failures become <see cref="SourceException"/> with a message a user can act on
/// and that never contains the password.
/// </summary>
public sealed class PostgresScraper(TimeProvider clock) : IAsyncDisposable
{
    /// <summary>
    /// Pools for syncs, one per source (connection string, password included, held in memory only). A sync
    /// runs a dozen extractions against one source in seconds; reusing a warm backend saves each of them a
    /// connection start and PostgreSQL's per-backend catalog cache fill (about half of a small schema's time).
    /// Idle connections close after 10 s, so nothing lingers in a customer's database between syncs.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (NpgsqlDataSource Source, long LastUsed)> _pools = new(StringComparer.Ordinal);
    private static readonly TimeSpan PoolUnusedFor = TimeSpan.FromMinutes(10);

    private const string Provider = "postgresql";
    private const string ReadingCatalog = "reading the catalog";

    public static string ConnectionString(PostgresSourceConfig c, PostgresCredentials creds)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(creds);
        return new NpgsqlConnectionStringBuilder
        {
            Host = c.Host,
            Port = c.Port,
            Database = c.Database,
            Username = creds.Username,
            Password = creds.Password,
            SslMode = ParseSslMode(c.SslMode),
            Timeout = c.ConnectTimeoutSeconds,
            // The server's statement_timeout fires first and says what happened; this only catches a dead link.
            CommandTimeout = c.StatementTimeoutSeconds + 5,
            Pooling = false,
            ApplicationName = "qarion-scraper",
            Timezone = "UTC",
        }.ConnectionString;
    }

    public async Task<ConnectionTestResult> TestAsync(PostgresSourceConfig c, PostgresCredentials creds, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(c);
        var started = clock.GetTimestamp();
        try
        {
            // A connection of its own, not a pooled one: the test must prove it can connect and sign in now.
            var version = await ReadAsync(c, creds, "testing the connection", async (connection, transaction, token) =>
            {
                await using var command = new NpgsqlCommand("SELECT pg_catalog.version()", connection, transaction);
                return (string?)await command.ExecuteScalarAsync(token) ?? "";
            }, ct, pooled: false);
            return new ConnectionTestResult(true, $"Connected to {ShortVersion(version)} (database {c.Database})", ElapsedMs(started));
        }
        catch (SourceException ex)
        {
            return new ConnectionTestResult(false, ex.Message, ElapsedMs(started));
        }
    }

    public Task<IReadOnlyList<string>> ListSchemasAsync(
        PostgresSourceConfig c, PostgresCredentials creds, SourceFilters filters, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(filters);
        return ReadAsync<IReadOnlyList<string>>(c, creds, "listing schemas", async (connection, transaction, token) =>
        {
            await using var command = new NpgsqlCommand(PostgresCatalogSql.Schemas, connection, transaction);
            await using var reader = await command.ExecuteReaderAsync(token);
            var schemas = new List<string>();
            while (await reader.ReadAsync(token))
            {
                var schema = reader.GetString(0);
                if (filters.IncludesSchema(schema)) schemas.Add(schema);
            }
            // Sorted here rather than by ORDER BY: the database's collation is not ours to depend on.
            schemas.Sort(StringComparer.Ordinal);
            return schemas;
        }, ct);
    }

    [SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "Part of the injected scraper's API, next to TestAsync.")]
    public async Task<CatalogSnapshot> ExtractAsync(
        PostgresSourceConfig c, PostgresCredentials creds, IReadOnlyList<string> schemas, SourceFilters filters, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(schemas);
        ArgumentNullException.ThrowIfNull(filters);
        // The schema filters hold even when a caller passes schemas it did not get from ListSchemasAsync.
        var extracted = schemas.Where(filters.IncludesSchema).Distinct(StringComparer.Ordinal).ToArray();
        if (extracted.Length == 0) return CatalogSnapshot.Empty;

        var rows = await ReadAsync(c, creds, ReadingCatalog, (connection, transaction, token) =>
            ReadCatalogAsync(connection, transaction, extracted, token), ct);
        return Assemble(c, rows, extracted, filters);
    }

    private sealed record CatalogRows(
        List<RelationRow> Relations, List<ColumnRow> Columns, List<KeyRow> Keys, List<DependencyRow> Dependencies);

    private sealed record RelationRow(uint Oid, string Schema, string Name, char Kind, string? Description, long? RowEstimate, bool DefinitionMissing)
    {
        public string ExternalId => Schema + "." + Name;
    }

    private sealed record ColumnRow(uint RelationOid, string Name, string DataType, bool IsNullable, string? DefaultValue, string? Description, int Ordinal);

    private sealed record KeyRow(uint RelationOid, char Type, string Column, string? TargetSchema, string? TargetTable, string? TargetColumn);

    private sealed record DependencyRow(uint ViewOid, string UpstreamSchema, string UpstreamName);

    /// <summary>The four catalog queries travel as one batch: one round trip, however many tables there are.</summary>
    private static async Task<CatalogRows> ReadCatalogAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string[] schemas, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                WithSchemas(PostgresCatalogSql.Relations, schemas),
                WithSchemas(PostgresCatalogSql.Columns, schemas),
                WithSchemas(PostgresCatalogSql.Keys, schemas),
                WithSchemas(PostgresCatalogSql.ViewDependencies, schemas),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(ct);

        var relations = await ReadRowsAsync(reader, r => new RelationRow(
            r.GetFieldValue<uint>(0), r.GetString(1), r.GetString(2), r.GetString(3)[0], NullableString(r, 4),
            r.IsDBNull(5) ? null : r.GetInt64(5), r.GetBoolean(6)), ct);
        await reader.NextResultAsync(ct);
        var columns = await ReadRowsAsync(reader, r => new ColumnRow(
            r.GetFieldValue<uint>(0), r.GetString(1), r.GetString(2), r.GetBoolean(3), NullableString(r, 4),
            NullableString(r, 5), r.GetInt32(6)), ct);
        await reader.NextResultAsync(ct);
        var keys = await ReadRowsAsync(reader, r => new KeyRow(
            r.GetFieldValue<uint>(0), r.GetString(1)[0], r.GetString(2), NullableString(r, 3), NullableString(r, 4),
            NullableString(r, 5)), ct);
        await reader.NextResultAsync(ct);
        var dependencies = await ReadRowsAsync(reader, r => new DependencyRow(
            r.GetFieldValue<uint>(0), r.GetString(1), r.GetString(2)), ct);
        return new CatalogRows(relations, columns, keys, dependencies);
    }

    private static NpgsqlBatchCommand WithSchemas(string sql, string[] schemas)
        => new(sql) { Parameters = { new NpgsqlParameter<string[]> { TypedValue = schemas } } };

    private static async Task<List<T>> ReadRowsAsync<T>(NpgsqlDataReader reader, Func<NpgsqlDataReader, T> map, CancellationToken ct)
    {
        var rows = new List<T>();
        while (await reader.ReadAsync(ct)) rows.Add(map(reader));
        return rows;
    }

    private static string? NullableString(NpgsqlDataReader reader, int ordinal)
        => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static CatalogSnapshot Assemble(PostgresSourceConfig c, CatalogRows rows, string[] extracted, SourceFilters filters)
    {
        var kept = rows.Relations.Where(r => filters.IncludesTable(r.Name)).ToDictionary(r => r.Oid);

        var primaryKeys = rows.Keys.Where(k => k.Type == 'p').Select(k => (k.RelationOid, k.Column)).ToHashSet();
        var foreignKeys = new Dictionary<(uint, string), string>();
        foreach (var key in rows.Keys.Where(k => k is { Type: 'f', TargetSchema: not null, TargetTable: not null, TargetColumn: not null }))
            // A column in two foreign keys keeps the first by constraint name (the query's order): one target per field.
            foreignKeys.TryAdd((key.RelationOid, key.Column), $"{key.TargetSchema}.{key.TargetTable}.{key.TargetColumn}");

        var columnsByRelation = rows.Columns.ToLookup(col => col.RelationOid);
        var products = kept.Values
            .Select(r => new SnapshotProduct(
                ExternalId: r.ExternalId,
                Name: r.Name,
                ProductType: r.Kind switch { 'v' => "view", 'm' => "materialized_view", _ => "table" },
                Schema: r.Schema,
                Description: r.Description,
                HostingLocation: $"{c.Database}.{r.Schema}.{r.Name}",
                Provider: Provider,
                RowCountEstimate: r.RowEstimate,
                Tags: [],
                OwnerEmail: null,
                Fields: columnsByRelation[r.Oid]
                    .OrderBy(col => col.Ordinal)
                    .Select(col => new SnapshotField(
                        col.Name, col.DataType, col.IsNullable, col.Description, col.Ordinal,
                        IsPrimaryKey: primaryKeys.Contains((r.Oid, col.Name)),
                        ForeignKeyTarget: foreignKeys.GetValueOrDefault((r.Oid, col.Name)),
                        DefaultValue: col.DefaultValue))
                    .ToList()))
            .OrderBy(p => p.ExternalId, StringComparer.Ordinal)
            .ToList();

        // An upstream in an extracted schema that is not a kept product was filtered out (or is not a product);
        // one in another schema is kept for the merge, which may know it from another connector.
        var keptIds = products.Select(p => p.ExternalId).ToHashSet(StringComparer.Ordinal);
        var extractedSchemas = extracted.ToHashSet(StringComparer.Ordinal);
        var edges = rows.Dependencies
            .Where(d => kept.ContainsKey(d.ViewOid))
            .Select(d => (d.UpstreamSchema, Edge: new SnapshotEdge($"{d.UpstreamSchema}.{d.UpstreamName}", kept[d.ViewOid].ExternalId)))
            .Where(x => keptIds.Contains(x.Edge.UpstreamExternalId) || !extractedSchemas.Contains(x.UpstreamSchema))
            .Select(x => x.Edge)
            .Distinct()
            .OrderBy(e => e.UpstreamExternalId, StringComparer.Ordinal)
            .ThenBy(e => e.DownstreamExternalId, StringComparer.Ordinal)
            .ToList();

        var warnings = kept.Values
            .Where(r => r.DefinitionMissing)
            .Select(r => r.ExternalId)
            .Order(StringComparer.Ordinal)
            .Select(id => $"The definition of {id} could not be read; its lineage is missing.")
            .ToList();

        return new CatalogSnapshot(products, edges, warnings, []);
    }

    /// <summary>
    /// One source access: its own connection, a read-only transaction (a scraper must be unable to write, whatever
    /// the role may do), a statement timeout local to that transaction, then <paramref name="read"/>, then commit.
    /// </summary>
    private async Task<T> ReadAsync<T>(
        PostgresSourceConfig c, PostgresCredentials creds, string activity,
        Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<T>> read, CancellationToken ct, bool pooled = true)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(creds);
        var connected = false;
        try
        {
            // A data source of our own rather than NpgsqlConnection(string), which would keep one per connection
            // string (password included) in a process-wide cache. Type loading is off: each fresh data source
            // would otherwise first run Npgsql's type-loading query, and the scraper reads built-in types only.
            await using var ownSource = pooled ? null : new NpgsqlDataSourceBuilder(ConnectionString(c, creds))
                .ConfigureTypeLoading(types => types.EnableTypeLoading(false))
                .Build();
            await using var connection = await (ownSource ?? PooledSource(c, creds)).OpenConnectionAsync(ct);
            connected = true;
            await using var transaction = await ReadOnlyTransaction.BeginAsync(connection, c.StatementTimeoutSeconds, ct);
            var result = await read(connection, transaction, ct);
            await transaction.CommitAsync(ct);
            return result;
        }
        catch (Exception ex) when (IsSourceFailure(ex, ct))
        {
            throw new SourceException(SourceErrors.Scrub(Describe(ex, c, creds, activity, connected), creds.Password), ex);
        }
    }

    private NpgsqlDataSource PooledSource(PostgresSourceConfig c, PostgresCredentials creds)
    {
        var now = clock.GetTimestamp();
        foreach (var (key, entry) in _pools)
            if (clock.GetElapsedTime(entry.LastUsed, now) > PoolUnusedFor && _pools.TryRemove(key, out var stale))
                _ = stale.Source.DisposeAsync().AsTask();
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString(c, creds))
        {
            Pooling = true,
            MinPoolSize = 0,
            MaxPoolSize = SyncOrchestration.Parallelism,
            ConnectionIdleLifetime = 10,
            ConnectionPruningInterval = 5,
        };
        var connectionString = builder.ConnectionString;
        var pool = _pools.AddOrUpdate(connectionString,
            cs => (new NpgsqlDataSourceBuilder(cs).ConfigureTypeLoading(types => types.EnableTypeLoading(false)).Build(), now),
            (_, existing) => (existing.Source, now));
        return pool.Source;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, entry) in _pools) await entry.Source.DisposeAsync();
        _pools.Clear();
    }

    /// <summary>
    /// Failures of the source or the network. A cancellation the caller asked for is not one of them and
    /// propagates; one nobody asked for is a timeout inside Npgsql.
    /// </summary>
    private static bool IsSourceFailure(Exception ex, CancellationToken ct) => ex switch
    {
        OperationCanceledException => !ct.IsCancellationRequested,
        NpgsqlException or SocketException or TimeoutException or IOException or AuthenticationException => true,
        _ => false,
    };

    private static string Describe(Exception ex, PostgresSourceConfig c, PostgresCredentials creds, string activity, bool connected)
    {
        var endpoint = c.Host.Contains(':', StringComparison.Ordinal) ? $"[{c.Host}]:{c.Port}" : $"{c.Host}:{c.Port}";
        var timeoutSeconds = connected ? c.StatementTimeoutSeconds + 5 : c.ConnectTimeoutSeconds;

        if (SourceErrors.Find<PostgresException>(ex) is { } pg)
        {
            return pg.SqlState switch
            {
                PostgresErrorCodes.InvalidPassword => $"Authentication failed for user \"{creds.Username}\" ({pg.SqlState})",
                PostgresErrorCodes.InvalidAuthorizationSpecification =>
                    $"Authentication failed for user \"{creds.Username}\" ({pg.SqlState}): {pg.MessageText}",
                PostgresErrorCodes.InvalidCatalogName => $"Database \"{c.Database}\" does not exist ({pg.SqlState})",
                PostgresErrorCodes.QueryCanceled when pg.MessageText.Contains("statement timeout", StringComparison.Ordinal) =>
                    $"Statement timeout ({c.StatementTimeoutSeconds} s) exceeded while {activity}",
                PostgresErrorCodes.InsufficientPrivilege => $"Permission denied while {activity}: {pg.MessageText} ({pg.SqlState})",
                _ when !connected => $"Could not connect to {endpoint}: {pg.MessageText} ({pg.SqlState})",
                _ => $"The server reported an error while {activity}: {pg.MessageText} ({pg.SqlState})",
            };
        }
        if (SourceErrors.Find<TimeoutException>(ex) is not null || ex is OperationCanceledException)
            return connected ? $"Timed out after {timeoutSeconds} s while {activity}" : $"Timed out after {timeoutSeconds} s connecting to {endpoint}";
        if (SourceErrors.Find<SocketException>(ex) is { } socket)
        {
            return socket.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => $"Could not connect to {endpoint}: connection refused",
                SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => $"Could not resolve host \"{c.Host}\"",
                SocketError.TimedOut => $"Timed out after {timeoutSeconds} s connecting to {endpoint}",
                SocketError.HostUnreachable or SocketError.NetworkUnreachable => $"Could not connect to {endpoint}: host unreachable",
                SocketError.ConnectionReset or SocketError.ConnectionAborted when connected => $"The connection to {endpoint} was lost while {activity}",
                _ => $"Could not connect to {endpoint}: {socket.Message}",
            };
        }
        if (SourceErrors.Find<AuthenticationException>(ex) is { } tls)
            return $"TLS negotiation with {endpoint} failed: {tls.Message}";
        return connected ? $"Error while {activity} on {endpoint}: {ex.Message}" : $"Could not connect to {endpoint}: {ex.Message}";
    }


    private static SslMode ParseSslMode(string mode) => mode switch
    {
        "disable" => SslMode.Disable,
        "prefer" => SslMode.Prefer,
        "require" => SslMode.Require,
        "verify-ca" => SslMode.VerifyCA,
        "verify-full" => SslMode.VerifyFull,
        _ => throw new SourceException($"Unknown SSL mode \"{mode}\" (expected disable, prefer, require, verify-ca or verify-full)"),
    };

    /// <summary>"PostgreSQL 15.18 (Debian …) on x86_64-pc-linux-gnu, …" → "PostgreSQL 15.18".</summary>
    private static string ShortVersion(string version)
    {
        var words = version.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        return words.Length >= 2 ? $"{words[0]} {words[1].TrimEnd(',')}" : version;
    }

    private long ElapsedMs(long started) => (long)clock.GetElapsedTime(started).TotalMilliseconds;
}
