using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Core.Ingestion;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;

using Qarion.Tests.Issues;

namespace Qarion.Tests.Ingestion;

/// <summary>
/// Connector syncs end to end: the API starts the real orchestration in the Durable in-process engine, whose
/// activities scrape a real PostgreSQL database and merge into the catalog.
/// </summary>
public sealed class SyncTests(IngestionFixture app) : IClassFixture<IngestionFixture>
{
    private async Task<(string Space, ApiClient Admin)> ArrangeAsync()
    {
        var admin = await app.CreateUserAsync("Admin");
        return (await app.CreateSpaceAsync(null, (admin, "admin")), admin.Client);
    }

    private static async Task<string> ChinookAsync() => TestEnvironment.ConnectionStringFor(await SourceDatabases.ChinookAsync());

    [Fact]
    public async Task Syncing_Chinook_catalogues_every_table_with_its_columns_and_keys_and_a_re_sync_writes_nothing()
    {
        var (space, admin) = await ArrangeAsync();
        var connector = await IngestionFixture.CreatePostgresConnectorAsync(admin, space, await ChinookAsync());

        var job = await app.SyncAsync(admin, space, connector);

        Assert.Equal("succeeded", job.Str("status"));
        Assert.Equal((11, 0, 0, 0), (job.GetProperty("added").GetInt32(), job.GetProperty("updated").GetInt32(), job.GetProperty("marked_stale").GetInt32(), job.GetProperty("unchanged").GetInt32()));
        var products = (await admin.GetAsync($"/api/v1/spaces/{space}/products?size=100")).Items();
        Assert.Equal(11, products.Count);
        var track = (await admin.GetAsync($"/api/v1/spaces/{space}/products/track")).Json;
        Assert.Equal(3503, await app.Database.ScalarAsync<long>($"SELECT row_count_estimate FROM data_products WHERE id = '{track.Id()}'"));
        Assert.EndsWith(".public.track", track.Str("hosting_location"), StringComparison.Ordinal);
        var fields = (await admin.GetAsync($"/api/v1/spaces/{space}/products/track/fields")).Json.EnumerateArray().ToDictionary(f => f.Str("name"));
        Assert.Equal(9, fields.Count);
        Assert.True(fields["track_id"].GetProperty("is_primary_key").GetBoolean());
        Assert.Equal("public.album.album_id", fields["album_id"].Str("foreign_key_target"));
        Assert.Equal("character varying(200)", fields["name"].Str("data_type"));
        var history = (await admin.GetAsync($"/api/v1/spaces/{space}/connectors/{connector}/sync-history")).Items();
        Assert.Single(history);

        var audit = await app.Database.ScalarAsync<long>("SELECT count(*) FROM audit_log");
        var versions = await app.Database.ScalarAsync<string>("SELECT string_agg(xmin::text, ',' ORDER BY id) FROM data_products");
        var fieldVersions = await app.Database.ScalarAsync<string>("SELECT string_agg(xmin::text, ',' ORDER BY id) FROM product_fields");

        var again = await app.SyncAsync(admin, space, connector);

        Assert.Equal((0, 0, 0, 11), (again.GetProperty("added").GetInt32(), again.GetProperty("updated").GetInt32(), again.GetProperty("marked_stale").GetInt32(), again.GetProperty("unchanged").GetInt32()));
        Assert.Equal(audit, await app.Database.ScalarAsync<long>("SELECT count(*) FROM audit_log"));
        Assert.Equal(versions, await app.Database.ScalarAsync<string>("SELECT string_agg(xmin::text, ',' ORDER BY id) FROM data_products"));
        Assert.Equal(fieldVersions, await app.Database.ScalarAsync<string>("SELECT string_agg(xmin::text, ',' ORDER BY id) FROM product_fields"));
        Assert.Equal(0, await app.Database.ScalarAsync<long>("SELECT count(*) FROM sync_snapshots"));
    }

    [Fact]
    public async Task Views_bring_their_lineage_and_filters_decide_what_is_read()
    {
        var (space, admin) = await ArrangeAsync();
        await using var source = await SourceDatabases.CreateScratchAsync();
        await source.ExecuteAsync("""
            CREATE SCHEMA sales; CREATE SCHEMA tmp_scratch;
            CREATE TABLE sales.orders (id int PRIMARY KEY, amount numeric(10,2));
            CREATE TABLE sales.audit_trail (id int);
            CREATE VIEW sales.big_orders AS SELECT id, amount FROM sales.orders WHERE amount > 100;
            CREATE TABLE tmp_scratch.junk (id int);
            """);
        var connector = await IngestionFixture.CreatePostgresConnectorAsync(admin, space, source.ConnectionString,
            new { filters = new { schema_exclude = new[] { "tmp_*" }, table_regex = "^(orders|big_orders)$" } });

        var job = await app.SyncAsync(admin, space, connector);

        Assert.Equal("succeeded", job.Str("status"));
        var slugs = (await admin.GetAsync($"/api/v1/spaces/{space}/products?size=100")).Slugs();
        Assert.Equal(["big-orders", "orders"], slugs.Order().ToArray());
        var lineage = await admin.GetAsync($"/api/v1/spaces/{space}/products/big-orders/lineage?direction=upstream");
        var orders = (await admin.GetAsync($"/api/v1/spaces/{space}/products/orders")).Json.Id();
        Assert.Contains(lineage.Json.GetProperty("edges").EnumerateArray(), e => e.GetProperty("upstream_id").GetGuid() == orders);
        Assert.Equal("view", (await admin.GetAsync($"/api/v1/spaces/{space}/products/big-orders")).Json.Str("product_type"));
    }

    [Fact]
    public async Task An_activity_that_fails_after_its_work_is_retried_without_duplicating_anything()
    {
        var (space, admin) = await ArrangeAsync();
        var connector = await IngestionFixture.CreatePostgresConnectorAsync(admin, space, await ChinookAsync());
        var failures = new Dictionary<string, int>();
        app.ActivityHook = (name, after) =>
        {
            // The merge commits, then its acknowledgement is "lost": the engine runs it again. Extraction fails before its work once.
            var key = $"{name}:{after}";
            if ((key == $"{SyncOrchestration.Merge}:True" || key == $"{SyncOrchestration.ExtractSchema}:False") && failures.TryAdd(key, 1))
                throw new InvalidOperationException("injected failure");
            return Task.CompletedTask;
        };
        try
        {
            var job = await app.SyncAsync(admin, space, connector);

            Assert.Equal("succeeded", job.Str("status"));
            Assert.Equal(2, failures.Count);
            Assert.Equal(11, job.GetProperty("added").GetInt32());
            Assert.Equal(11, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM data_products WHERE source_connector_id = '{connector}'"));
            Assert.Equal(11, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM audit_log a JOIN data_products p ON p.id = a.resource_id WHERE p.source_connector_id = '{connector}'"));
            // Chinook has 64 columns: each stored once although extraction and merge each ran twice.
            Assert.Equal(64, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM product_fields f JOIN data_products p ON p.id = f.product_id WHERE p.source_connector_id = '{connector}'"));
        }
        finally
        {
            app.ActivityHook = null;
        }
    }

    [Fact]
    public async Task Source_failures_end_as_failed_jobs_with_readable_errors_and_leave_the_catalog_unchanged()
    {
        var (space, admin) = await ArrangeAsync();
        var chinook = new Npgsql.NpgsqlConnectionStringBuilder(await ChinookAsync());
        var missing = new Npgsql.NpgsqlConnectionStringBuilder(chinook.ConnectionString) { Database = "qt_no_such_database" };
        var unreachable = new Npgsql.NpgsqlConnectionStringBuilder(chinook.ConnectionString) { Host = "127.0.0.1", Port = 1 };
        // scripts/services makes this one role authenticate with a password (everything else is trusted locally).
        var wrongPassword = new Npgsql.NpgsqlConnectionStringBuilder(chinook.ConnectionString) { Username = "qarion_password_check", Password = "wrong-password" };
        var cases = new[]
        {
            (Name: "wrong-password", Cs: wrongPassword.ConnectionString, Expect: "28P01"),
            (Name: "missing-db", Cs: missing.ConnectionString, Expect: "does not exist"),
            (Name: "unreachable", Cs: unreachable.ConnectionString, Expect: "127.0.0.1:1"),
        };
        foreach (var (name, cs, expect) in cases)
        {
            var connector = await IngestionFixture.CreatePostgresConnectorAsync(admin, space, cs, name: name);
            var job = await app.SyncAsync(admin, space, connector);
            Assert.Equal("failed", job.Str("status"));
            Assert.Contains(expect, job.Str("error"), StringComparison.Ordinal);
            // (The trusted role's password "qarion" is also part of the password-checked role's name.)
            if (name != "wrong-password") Assert.DoesNotContain(chinook.Password!, job.Str("error"), StringComparison.Ordinal);
            Assert.DoesNotContain("wrong-password", job.Str("error"), StringComparison.Ordinal);
            // A source error is not retried: one attempt, so the job fails at once.
            Assert.Equal(0, job.GetProperty("added").GetInt32());
        }
        // Without credentials the sync fails the same way, saying what to do.
        var bare = await IngestionFixture.CreateConnectorAsync(admin, space, new { name = "bare", platform = "postgresql", config = new { host = "127.0.0.1", database = "x" } });
        var bareJob = await app.SyncAsync(admin, space, bare.Id());
        Assert.Contains("no credentials", bareJob.Str("error"), StringComparison.Ordinal);
        // Each failure wrote one sync.failed (with the error) in the transaction that failed the job.
        var failed = (await app.OutboxAsync(space)).Where(e => e.Type == "sync.failed").Select(e => e.Payload).ToList();
        Assert.Equal(4, failed.Count);
        Assert.Equal(["bare", "missing-db", "unreachable", "wrong-password"], failed.Select(f => f.GetProperty("connector_name").GetString()!).Order());
        Assert.Contains("no credentials", failed.Single(f => f.GetProperty("connector_name").GetString() == "bare").GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Empty((await admin.GetAsync($"/api/v1/spaces/{space}/products")).Items());
    }

    [Fact]
    public async Task The_connection_test_tells_a_right_password_from_a_wrong_one_without_showing_either()
    {
        var (space, admin) = await ArrangeAsync();
        var chinook = new Npgsql.NpgsqlConnectionStringBuilder(await ChinookAsync()) { Username = "qarion_password_check" };
        var right = await IngestionFixture.CreatePostgresConnectorAsync(admin, space, new Npgsql.NpgsqlConnectionStringBuilder(chinook.ConnectionString) { Password = "right-password" }.ConnectionString, name: "right");
        var wrong = await IngestionFixture.CreatePostgresConnectorAsync(admin, space, new Npgsql.NpgsqlConnectionStringBuilder(chinook.ConnectionString) { Password = "wrong-password" }.ConnectionString, name: "wrong");

        var ok = await admin.PostAsync($"/api/v1/spaces/{space}/connectors/{right}/test", new { });
        var refused = await admin.PostAsync($"/api/v1/spaces/{space}/connectors/{wrong}/test", new { });

        Assert.True(ok.Json.GetProperty("success").GetBoolean(), ok.ToString());
        Assert.False(refused.Json.GetProperty("success").GetBoolean(), refused.ToString());
        Assert.Contains("28P01", refused.Json.Str("message"), StringComparison.Ordinal);
        foreach (var body in new[] { ok.Body, refused.Body })
            Assert.DoesNotContain("-password", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_connector_never_syncs_twice_at_once()
    {
        var (space, admin) = await ArrangeAsync();
        var connector = await IngestionFixture.CreatePostgresConnectorAsync(admin, space, await ChinookAsync());
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.ActivityHook = async (name, after) =>
        {
            if (name != SyncOrchestration.ListSchemas || after) return;
            entered.TrySetResult();
            await release.Task;
        };
        try
        {
            var first = await admin.PostAsync($"/api/v1/spaces/{space}/connectors/{connector}/sync", new { });
            Assert.Equal(202, first.Status);
            await entered.Task.WaitAsync(TimeSpan.FromSeconds(30));

            var second = await admin.PostAsync($"/api/v1/spaces/{space}/connectors/{connector}/sync", new { });
            Assert.Equal(409, second.Status);
            Assert.Equal("sync_in_progress", second.Code());
            // The scheduler skips it too.
            await SetDueAsync(connector);
            Assert.Equal(0, await RunSchedulerAsync());

            release.SetResult();
            await app.Durable.WaitForInstanceCompletionAsync(SyncOrchestration.InstanceId(connector));
            Assert.Equal("succeeded", (await admin.GetAsync(first.Header("Location")!)).Json.Str("status"));
        }
        finally
        {
            release.TrySetResult();
            app.ActivityHook = null;
        }
    }

    [Fact]
    public async Task The_scheduler_starts_due_connectors_once_and_advances_their_next_run()
    {
        var (space, admin) = await ArrangeAsync();
        var connector = await IngestionFixture.CreatePostgresConnectorAsync(admin, space, await ChinookAsync(), new { schedule = "0 0 3 * * *" });
        var created = (await admin.GetAsync($"/api/v1/spaces/{space}/connectors/{connector}")).Json;
        Assert.Equal("2026-03-02T03:00:00.000000Z", created.Str("next_run_at"));
        Assert.Equal(0, await RunSchedulerAsync());

        await SetDueAsync(connector);
        Assert.Equal(1, await RunSchedulerAsync());
        Assert.Equal(0, await RunSchedulerAsync());
        await app.Durable.WaitForInstanceCompletionAsync(SyncOrchestration.InstanceId(connector));

        var jobs = (await admin.GetAsync($"/api/v1/spaces/{space}/connectors/{connector}/sync-history")).Items();
        Assert.Equal(("schedule", "succeeded"), (jobs.Single().Str("trigger"), jobs.Single().Str("status")));
        Assert.Equal("2026-03-02T03:00:00.000000Z", (await admin.GetAsync($"/api/v1/spaces/{space}/connectors/{connector}")).Json.Str("next_run_at"));
    }

    private Task SetDueAsync(Guid connector)
        => app.WithDbAsync(db => db.Connectors.Where(c => c.Id == connector)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.NextRunAt, app.Clock.GetUtcNow().AddMinutes(-1))));

    private async Task<int> RunSchedulerAsync()
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SyncService>().RunDueAsync(app.Durable, default);
    }
}
