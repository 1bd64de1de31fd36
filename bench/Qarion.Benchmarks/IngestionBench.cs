// Benchmark of a connector sync: scripts/bench ingestion [--tables N] [--columns N] [--schemas N].
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.DurableTask.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Qarion.Core.Identity;
using Qarion.Core.Ingestion;
using Qarion.Core.Ingestion.Postgres;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;
using Qarion.Functions;

namespace Qarion.Benchmarks;

/// <summary>
/// Generates a source database (tables × columns spread over schemas, with views over some tables and a
/// foreign key per table), then syncs it into an empty space through the real orchestration (Durable
/// in-process engine, real activities, real merge) and re-syncs it unchanged. Each sync is reported beside
/// the time of the bare catalog queries the scraper must run, measured in the same process.
/// </summary>
internal static class IngestionBench
{
    private const string SourceDb = "qarion_bench_source";
    private const string CatalogDb = "qarion_bench_ingest";
    private const string SpaceSlug = "ingest";
    private static readonly TimeSpan FirstTarget = TimeSpan.FromSeconds(10), ResyncTarget = TimeSpan.FromSeconds(3);

    public static async Task<int> RunAsync(string[] args, string adminCs, string storage)
    {
        int tables = 2000, columns = 25, schemas = 10;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--tables" when i + 1 < args.Length: tables = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--columns" when i + 1 < args.Length: columns = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--schemas" when i + 1 < args.Length: schemas = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine("usage: scripts/bench ingestion [--tables N (2000)] [--columns N (25)] [--schemas N (10)]");
                    return 2;
            }
        }
        Report.Line("Qarion ingestion benchmark");
        Report.Line("==========================");
        await Machine.PrintAsync(adminCs);
        var sourceCs = new NpgsqlConnectionStringBuilder(adminCs) { Database = SourceDb }.ConnectionString;
        var catalogCs = new NpgsqlConnectionStringBuilder(adminCs) { Database = CatalogDb }.ConnectionString;

        Report.Line();
        var sw = Stopwatch.StartNew();
        var views = await CreateSourceAsync(adminCs, sourceCs, tables, columns, schemas);
        Report.Line($"Source: {tables:N0} tables × {columns} columns ({tables * columns:N0} columns) in {schemas} schemas, {views:N0} views, {tables - schemas:N0} foreign keys — generated in {sw.Elapsed.TotalSeconds:F1} s");

        sw.Restart();
        await RecreateAsync(adminCs, CatalogDb);
        var builder = FunctionsApplication.CreateBuilder([]);
        QarionApp.Configure(builder);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Qarion"] = catalogCs,
            ["AzureWebJobsStorage"] = storage,
            ["Qarion:Telemetry:Enabled"] = "false",
            ["Qarion:Ingestion:CredentialKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["Logging:LogLevel:Default"] = "Warning",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        using var host = builder.Build();
        var me = await ArrangeCatalogAsync(host.Services, sourceCs);
        Report.Line($"Catalog: database {CatalogDb} migrated, space '{SpaceSlug}' with one postgresql connector — {sw.Elapsed.TotalSeconds:F1} s");

        var activity = new Dictionary<string, TimeSpan>();
        var started = new AsyncLocal<long>();
        // The hook runs synchronously in the activity's own flow, so the AsyncLocal set before is seen after.
        var timeline = new List<(double Ms, bool End, string Name)>();
        long origin = 0;
        Task Hook(string name, bool after)
        {
            lock (timeline) timeline.Add((Stopwatch.GetElapsedTime(origin).TotalMilliseconds, after, name.Replace("ConnectorSync_", "", StringComparison.Ordinal)));
            if (!after) started.Value = Stopwatch.GetTimestamp();
            else lock (activity) activity[name] = activity.GetValueOrDefault(name) + Stopwatch.GetElapsedTime(started.Value);
            return Task.CompletedTask;
        }
        await using var durable = await DurableTaskTestHost.StartAsync(registry => SyncOrchestration.Register(registry, host.Services, Hook),
            new DurableTaskTestHostOptions { LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance });

        // The scraper alone, outside any orchestration: one schema, then all of them in one call.
        var scraper = host.Services.GetRequiredService<PostgresScraper>();
        var pgConfig = new PostgresSourceConfig(new NpgsqlConnectionStringBuilder(sourceCs).Host!, new NpgsqlConnectionStringBuilder(sourceCs).Port, SourceDb, "disable");
        var pgCreds = new PostgresCredentials(new NpgsqlConnectionStringBuilder(sourceCs).Username!, new NpgsqlConnectionStringBuilder(sourceCs).Password);
        for (var i = 0; i < 2; i++)
        {
            var t0 = Stopwatch.StartNew();
            var listed = await scraper.ListSchemasAsync(pgConfig, pgCreds, SourceFilters.None, default);
            var t1 = t0.Elapsed;
            await scraper.ExtractAsync(pgConfig, pgCreds, [listed[0]], SourceFilters.None, default);
            var t2 = t0.Elapsed - t1;
            var all = await scraper.ExtractAsync(pgConfig, pgCreds, listed, SourceFilters.None, default);
            Report.Line($"Scraper alone (run {i + 1}): list schemas {t1.TotalMilliseconds:F0} ms, extract one schema {t2.TotalMilliseconds:F0} ms, extract all {all.Products.Count:N0} relations {(t0.Elapsed - t1 - t2).TotalMilliseconds:F0} ms");
        }

        // Baseline: the catalog queries the scraper has to run, bare (one connection, all schemas, rows drained).
        var schemaNames = Enumerable.Range(0, schemas).Select(SchemaName).ToArray();
        var bare = new List<double>();
        for (var i = 0; i < 3; i++) bare.Add(await BareCatalogReadAsync(sourceCs, schemaNames));
        var baseline = bare.Order().ElementAt(1);
        Report.Line();
        Report.Line($"Baseline: bare catalog queries (relations, columns, keys, view dependencies) for all schemas: {baseline:F0} ms (median of 3)");

        Report.Line();
        Report.Line("| run | end to end | ratio to bare queries | target | added / updated / unchanged | catalog writes |");
        Report.Line("|---|---:|---:|---:|---|---|");
        var failures = 0;
        foreach (var (label, target) in new[] { ("first sync (empty space)", FirstTarget), ("re-sync, nothing changed", ResyncTarget) })
        {
            activity.Clear();
            timeline.Clear();
            var before = await FingerprintAsync(catalogCs);
            var clock = Stopwatch.StartNew();
            origin = Stopwatch.GetTimestamp();
            var job = await SyncAsync(host.Services, me, durable);
            var elapsed = clock.Elapsed;
            var after = await FingerprintAsync(catalogCs);
            var writes = before == after ? "none" : label.StartsWith("re-sync", StringComparison.Ordinal) ? "SOME (expected none)" : "yes";
            var ok = job.Status == SyncStatus.Succeeded && elapsed <= target && !writes.StartsWith("SOME", StringComparison.Ordinal);
            if (!ok) failures++;
            Report.Line($"| {label} | {elapsed.TotalSeconds:F2} s | {elapsed.TotalMilliseconds / baseline:F1}× | ≤ {target.TotalSeconds:F0} s {(ok ? "met" : "MISSED")} | {job.Added:N0} / {job.Updated:N0} / {job.Unchanged:N0} | {writes} |");
            // Time with at least one activity running, versus time the engine spent dispatching between them.
            double busy = 0, since = 0;
            var running = 0;
            foreach (var (ms, end, _) in timeline.OrderBy(t => t.Ms))
            {
                if (!end && running++ == 0) since = ms;
                if (end && --running == 0) busy += ms - since;
            }
            Report.Line($"|   activities (summed) | {string.Join(", ", activity.OrderBy(a => a.Key).Select(a => $"{a.Key.Replace("ConnectorSync_", "", StringComparison.Ordinal)} {a.Value.TotalMilliseconds:F0} ms"))}; some activity running {busy / 1000:F2} s, engine between activities {(elapsed.TotalMilliseconds - busy) / 1000:F2} s | | | | |");
            if (job.Status != SyncStatus.Succeeded) Report.Line($"  job failed: {job.Error}");
            if (Environment.GetEnvironmentVariable("QARION_BENCH_TIMELINE") == "1") foreach (var t in timeline) Console.Error.WriteLine($"    {t.Ms,6:F0} {(t.End ? "end  " : "start")} {t.Name}");
        }
        await using (var conn = new NpgsqlConnection(catalogCs))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT (SELECT count(*) FROM data_products), (SELECT count(*) FROM product_fields), (SELECT count(*) FROM lineage_edges)", conn);
            await using var r = await cmd.ExecuteReaderAsync();
            await r.ReadAsync();
            Report.Line();
            Report.Line($"Catalog after: {r.GetInt64(0):N0} products, {r.GetInt64(1):N0} fields, {r.GetInt64(2):N0} lineage edges");
        }
        return failures == 0 ? 0 : 1;
    }

    private static string SchemaName(int i) => $"src_{i:D2}";

    private static async Task<int> CreateSourceAsync(string adminCs, string sourceCs, int tables, int columns, int schemas)
    {
        await RecreateAsync(adminCs, SourceDb);
        var ddl = new StringBuilder();
        var views = 0;
        for (var s = 0; s < schemas; s++) ddl.Append(CultureInfo.InvariantCulture, $"CREATE SCHEMA {SchemaName(s)};\n");
        for (var t = 0; t < tables; t++)
        {
            var schema = SchemaName(t % schemas);
            var table = $"{schema}.table_{t:D5}";
            ddl.Append(CultureInfo.InvariantCulture, $"CREATE TABLE {table} (id bigint PRIMARY KEY");
            for (var c = 1; c < columns; c++)
            {
                var type = (c % 5) switch { 0 => "text", 1 => "integer", 2 => "numeric(12,2)", 3 => "timestamptz", _ => "varchar(200)" };
                ddl.Append(CultureInfo.InvariantCulture, $", col_{c:D2} {type}{(c % 3 == 0 ? " NOT NULL" : "")}");
            }
            ddl.Append(");\n");
            ddl.Append(CultureInfo.InvariantCulture, $"COMMENT ON TABLE {table} IS 'Generated table {t}';\n");
            // A foreign key to the table before it in the same schema.
            if (t >= schemas)
                ddl.Append(CultureInfo.InvariantCulture, $"ALTER TABLE {table} ADD FOREIGN KEY (col_01) REFERENCES {schema}.table_{t - schemas:D5}(id);\n");
            if (t % 20 == 0)
            {
                ddl.Append(CultureInfo.InvariantCulture, $"CREATE VIEW {schema}.view_{t:D5} AS SELECT id, col_01 FROM {table};\n");
                views++;
            }
        }
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(sourceCs) { CommandTimeout = 0 }.ConnectionString);
        await conn.OpenAsync();
        await using (var cmd = new NpgsqlCommand(ddl.ToString(), conn)) await cmd.ExecuteNonQueryAsync();
        await using (var cmd = new NpgsqlCommand("ANALYZE", conn)) await cmd.ExecuteNonQueryAsync();
        return views;
    }

    private static async Task RecreateAsync(string adminCs, string database)
    {
        await using var admin = new NpgsqlConnection(adminCs);
        await admin.OpenAsync();
        await using (var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", admin)) await drop.ExecuteNonQueryAsync();
        await using (var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", admin)) await create.ExecuteNonQueryAsync();
    }

    private static async Task<AuthenticatedUser> ArrangeCatalogAsync(IServiceProvider services, string sourceCs)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<QarionDbContext>();
        await db.Database.MigrateAsync();
        var user = new User { Email = "bench@example.com", DisplayName = "Bench", IsSuperadmin = true };
        db.Users.Add(user);
        db.Spaces.Add(new Space { Slug = SpaceSlug, Name = "Ingestion benchmark" });
        await db.SaveChangesAsync();
        var me = new AuthenticatedUser(user.Id, user.Email, user.DisplayName, true, AuthMethod.ApiKey);
        scope.ServiceProvider.GetRequiredService<CurrentUser>().SignIn(me);
        var connectors = scope.ServiceProvider.GetRequiredService<ConnectorService>();
        var cs = new NpgsqlConnectionStringBuilder(sourceCs);
        var config = System.Text.Json.JsonSerializer.SerializeToElement(new { host = cs.Host, port = cs.Port, database = cs.Database, ssl_mode = "disable" });
        var connector = await connectors.CreateAsync(SpaceSlug, new CreateConnectorRequest { Name = "source", Platform = "postgresql", Config = config, MergeStrategy = MergeStrategy.Refresh }, default);
        var credentials = System.Text.Json.JsonSerializer.SerializeToElement(new { username = cs.Username, password = cs.Password });
        await connectors.SetCredentialsAsync(SpaceSlug, connector.Id, credentials, default);
        _connectorId = connector.Id;
        return me;
    }

    private static Guid _connectorId;

    private static async Task<SyncJobResponse> SyncAsync(IServiceProvider services, AuthenticatedUser me, DurableTaskTestHost durable)
    {
        await using var scope = services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentUser>().SignIn(me);
        var started = await scope.ServiceProvider.GetRequiredService<SyncService>().StartAsync(SpaceSlug, _connectorId, durable.Client, default);
        await durable.Client.WaitForInstanceCompletionAsync(SyncOrchestration.InstanceId(_connectorId));
        return await scope.ServiceProvider.GetRequiredService<ConnectorService>().GetJobAsync(SpaceSlug, started.JobId, default);
    }

    private static async Task<double> BareCatalogReadAsync(string sourceCs, string[] schemas)
    {
        var sw = Stopwatch.StartNew();
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(sourceCs) { Pooling = false }.ConnectionString);
        await conn.OpenAsync();
        foreach (var sql in new[] { PostgresCatalogSql.Relations, PostgresCatalogSql.Columns, PostgresCatalogSql.Keys, PostgresCatalogSql.ViewDependencies })
        {
            await using var cmd = new NpgsqlCommand(sql, conn) { Parameters = { new NpgsqlParameter<string[]> { TypedValue = schemas } } };
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync()) for (var c = 0; c < r.FieldCount; c++) r.GetValue(c);
        }
        return sw.Elapsed.TotalMilliseconds;
    }

    /// <summary>Row versions and counts of everything a sync may write in the catalog.</summary>
    private static async Task<string> FingerprintAsync(string catalogCs)
    {
        await using var conn = new NpgsqlConnection(catalogCs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT (SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM data_products)
                || '|' || (SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM product_fields)
                || '|' || (SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM lineage_edges)
                || '|' || (SELECT count(*) FROM audit_log) || '|' || (SELECT count(*) FROM schema_changes)
                || '|' || (SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM data_product_search)
            """, conn);
        return (string)(await cmd.ExecuteScalarAsync())!;
    }
}
