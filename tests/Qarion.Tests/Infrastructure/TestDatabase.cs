using Microsoft.EntityFrameworkCore;
using Npgsql;
using Qarion.Core.Persistence;

namespace Qarion.Tests.Infrastructure;

/// <summary>
/// One real PostgreSQL database per test class, copied from a template that the committed migrations
/// built once per run (CREATE DATABASE … TEMPLATE is a file copy: milliseconds, not a migration per class).
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    // Names carry the test process id, so concurrent test runs on one cluster never touch each other's databases.
    private static readonly int ProcessId = Environment.ProcessId;
    private static readonly string Template = $"qt_{ProcessId}_template";
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static bool _templateReady;

    private TestDatabase(string name)
    {
        Name = name;
        ConnectionString = TestEnvironment.ConnectionStringFor(name);
    }

    public string Name { get; }
    public string ConnectionString { get; }

    public static async Task<TestDatabase> CreateAsync(string label)
    {
        var name = $"qt_{ProcessId}_{Sanitize(label)}_{Guid.NewGuid():N}";
        await Gate.WaitAsync();
        try
        {
            if (!_templateReady)
            {
                await BuildTemplateAsync();
                _templateReady = true;
            }
            // Copies are serialised: PostgreSQL refuses a template that another CREATE DATABASE is reading.
            await ExecuteAdminAsync($"CREATE DATABASE \"{name}\" TEMPLATE {Template}");
        }
        finally
        {
            Gate.Release();
        }
        // A cheap guard: a fixture that silently ran against an unmigrated database once cost a CI run.
        var database = new TestDatabase(name);
        if (await database.ScalarAsync<long>("SELECT count(*) FROM __ef_migrations_history") == 0)
            throw new InvalidOperationException($"The copy {name} of {Template} has no applied migrations.");
        return database;
    }

    public async ValueTask DisposeAsync()
    {
        await ExecuteAdminAsync($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task BuildTemplateAsync()
    {
        // Leftovers of earlier runs whose process is gone.
        await using (var connection = new NpgsqlConnection(TestEnvironment.PostgresAdmin))
        {
            await connection.OpenAsync();
            var stale = new List<string>();
            await using (var list = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datname LIKE 'qt\\_%'", connection))
            await using (var reader = await list.ExecuteReaderAsync())
                while (await reader.ReadAsync())
                {
                    var db = reader.GetString(0);
                    var parts = db.Split('_');
                    if (parts.Length > 2 && int.TryParse(parts[1], out var pid) && !IsAlive(pid)) stale.Add(db);
                }
            foreach (var db in stale)
            {
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)", connection);
                await drop.ExecuteNonQueryAsync();
            }
        }

        await ExecuteAdminAsync($"DROP DATABASE IF EXISTS {Template} WITH (FORCE)");
        await ExecuteAdminAsync($"CREATE DATABASE {Template}");
        await using (var dataSource = PersistenceExtensions.CreateDataSource(TestEnvironment.ConnectionStringFor(Template)))
        {
            var options = new DbContextOptionsBuilder<QarionDbContext>();
            options.UseQarionPostgres(dataSource);
            await using var db = new QarionDbContext(options.Options, TimeProvider.System);
            await db.Database.MigrateAsync();
            if ((await db.Database.GetPendingMigrationsAsync()).Any())
                throw new InvalidOperationException("The test template still has pending migrations after MigrateAsync.");
        }
        NpgsqlConnection.ClearAllPools();
    }

    internal static async Task ExecuteAdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(TestEnvironment.PostgresAdmin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string Sanitize(string label)
    {
        var chars = label.ToLowerInvariant().Where(c => c is >= 'a' and <= 'z' or >= '0' and <= '9').Take(20).ToArray();
        return chars.Length == 0 ? "db" : new string(chars);
    }
}
