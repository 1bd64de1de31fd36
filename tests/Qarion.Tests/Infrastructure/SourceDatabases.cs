using Npgsql;

namespace Qarion.Tests.Infrastructure;

/// <summary>
/// Databases that stand in for a customer's source, on the test cluster: the Chinook sample (built once per
/// test run, read-only by convention) and empty scratch databases a test fills with its own DDL. Names follow
/// <see cref="TestDatabase"/>'s <c>qt_{pid}_…</c> scheme, so leftovers of a dead run are swept by TestDatabase with its own.
/// </summary>
public static class SourceDatabases
{
    private static readonly int ProcessId = Environment.ProcessId;
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _chinook;

    /// <summary>The statements that make the script create and switch to its own database; the loader has one already.</summary>
    private static readonly HashSet<string> SkippedLines = new(StringComparer.Ordinal)
    {
        "DROP DATABASE IF EXISTS chinook;",
        "CREATE DATABASE chinook;",
        @"\c chinook;",
    };

    /// <summary>The name of <c>qt_{pid}_chinook</c>, created and loaded on first use.</summary>
    public static async Task<string> ChinookAsync()
    {
        await Gate.WaitAsync();
        try
        {
            return _chinook ??= await CreateChinookAsync();
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>A new empty database; disposing it drops it.</summary>
    public static async Task<ScratchDatabase> CreateScratchAsync()
    {
        var name = $"qt_{ProcessId}_src_{Guid.NewGuid():N}";
        await TestDatabase.ExecuteAdminAsync($"CREATE DATABASE \"{name}\"");
        return new ScratchDatabase(name);
    }

    private static readonly Lazy<byte[]> Manifest = new(() => File.ReadAllBytes(Path.Combine(SharedDataDirectory(), "dbt", "manifest.json")));

    /// <summary>The real dbt manifest of the shared test data (read once).</summary>
    public static byte[] DbtManifest => Manifest.Value;

    /// <summary>The <c>data</c> folder of the shared test data (the Chinook script lives under it).</summary>
    public static string SharedDataDirectory()
    {
        if (Environment.GetEnvironmentVariable("QARION_SHARED_DATA") is { Length: > 0 } configured) return configured;
        var relative = Path.Combine("shared", "data", "chinook", "Chinook_PostgreSql.sql");
        // The shared folder sits next to the checkout (or a worktree of it), so each ancestor's parent is a candidate too.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            foreach (var candidate in new[] { dir, dir.Parent })
                if (candidate is not null && File.Exists(Path.Combine(candidate.FullName, relative)))
                    return Path.Combine(candidate.FullName, "shared", "data");
        return "/work/shared/data";
    }

    private static async Task<string> CreateChinookAsync()
    {
        var name = $"qt_{ProcessId}_chinook";
        await TestDatabase.ExecuteAdminAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        await TestDatabase.ExecuteAdminAsync($"CREATE DATABASE \"{name}\"");

        var path = Path.Combine(SharedDataDirectory(), "chinook", "Chinook_PostgreSql.sql");
        var lines = await File.ReadAllLinesAsync(path);
        var script = string.Join('\n', lines.Where(line => !SkippedLines.Contains(line)));

        await using var connection = new NpgsqlConnection(TestEnvironment.ConnectionStringFor(name));
        await connection.OpenAsync();
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            // Without parameters Npgsql splits the script into its statements and sends them in one batch.
            await using var load = new NpgsqlCommand(script, connection, transaction) { CommandTimeout = 300 };
            await load.ExecuteNonQueryAsync();
            await transaction.CommitAsync();
        }
        // The scraper's row estimates come from reltuples, which only ANALYZE fills in.
        await using (var analyze = new NpgsqlCommand("ANALYZE", connection))
            await analyze.ExecuteNonQueryAsync();
        return name;
    }

}

/// <summary>An empty database of the test cluster that a test fills with whatever source it needs.</summary>
public sealed class ScratchDatabase(string name) : IAsyncDisposable
{
    public string Name { get; } = name;
    public string ConnectionString { get; } = TestEnvironment.ConnectionStringFor(name);

    /// <summary>Runs <paramref name="sql"/> (any number of statements, no parameters) in one transaction.</summary>
    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        // The pool of this connection string would otherwise hold connections to a database that no longer exists.
        await using (var connection = new NpgsqlConnection(ConnectionString)) NpgsqlConnection.ClearPool(connection);
        await TestDatabase.ExecuteAdminAsync($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
    }
}
