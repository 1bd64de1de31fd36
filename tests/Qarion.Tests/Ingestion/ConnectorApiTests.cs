using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Qarion.Core.Ingestion;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Ingestion;

/// <summary>
/// Connectors over the HTTP API: their lifecycle, per-platform config validation, write-only encrypted
/// credentials, connection tests, roles, schedules and the rules that keep a sync from starting.
/// </summary>
public sealed class ConnectorApiTests(IngestionFixture app) : IClassFixture<IngestionFixture>
{
    private const string Password = "Pw-Quokka-7781!secret";
    private const string Username = "quokka_reader_user";

    private static string Connectors(string space) => $"/api/v1/spaces/{space}/connectors";

    private async Task<(string Space, TestUser Admin)> ArrangeAsync()
    {
        var admin = await app.CreateUserAsync("Admin");
        return (await app.CreateSpaceAsync(null, (admin, "admin")), admin);
    }

    private static object Postgres(string name, object? config = null, object? filters = null, string? schedule = null, bool? isActive = null)
    {
        var body = new Dictionary<string, object?>
        {
            ["name"] = name, ["platform"] = "postgresql", ["config"] = config ?? new { host = "db.example.internal", database = "sales" },
        };
        if (filters is not null) body["filters"] = filters;
        if (schedule is not null) body["schedule"] = schedule;
        if (isActive is not null) body["is_active"] = isActive;
        return body;
    }

    /// <summary>Every (loc, type) of a 422 in a stable order, asserting the status.</summary>
    private static List<(string Loc, string Type)> Errors(ApiResponse r)
    {
        Assert.True(r.Status == 422, r.ToString());
        Assert.Equal("validation_failed", r.Code());
        return Sorted(r.Json.GetProperty("errors").EnumerateArray()
            .Select(e => (string.Join('.', e.GetProperty("loc").EnumerateArray().Select(x => x.ToString())), e.Str("type"))));
    }

    private static List<(string Loc, string Type)> Sorted(IEnumerable<(string Loc, string Type)> errors)
        => [.. errors.OrderBy(e => e.Loc, StringComparer.Ordinal).ThenBy(e => e.Type, StringComparer.Ordinal)];

    private Task<long> CountAsync(string sql) => app.Database.ScalarAsync<long>(sql);

    private async Task<byte[]?> CiphertextAsync(Guid connector)
    {
        await using var connection = new NpgsqlConnection(app.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT encrypted_credentials FROM connectors WHERE id = '{connector}'", connection);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull or null ? null : (byte[])value;
    }

    private static bool Contains(byte[] haystack, string needle) => haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0;

    /// <summary>A connector on this fixture's own database, with its real credentials.</summary>
    private Task<Guid> OwnDatabaseConnectorAsync(ApiClient admin, string space, string name)
        => IngestionFixture.CreatePostgresConnectorAsync(admin, space, app.Database.ConnectionString, name: name);

    private static string? Text(JsonElement e) => e.ValueKind == JsonValueKind.Null ? null : e.GetString();

    // ----- lifecycle -----

    [Fact]
    public async Task A_connector_is_created_read_listed_patched_under_If_Match_and_deleted()
    {
        var (space, admin) = await ArrangeAsync();
        var c = Connectors(space);

        var created = await admin.Client.PostAsync(c, Postgres("warehouse"));
        Assert.True(created.Status == 201, created.ToString());
        var id = created.Json.Id();
        var version = created.Json.GetProperty("version").GetUInt32();
        Assert.Equal($"{c}/{id}", created.Header("Location"));
        Assert.Equal($"\"{version}\"", created.Header("ETag"));
        Assert.Equal(("warehouse", "postgresql", "additive", true, false),
            (created.Json.Str("name"), created.Json.Str("platform"), created.Json.Str("merge_strategy"),
             created.Json.GetProperty("is_active").GetBoolean(), created.Json.GetProperty("has_credentials").GetBoolean()));
        Assert.Equal(JsonValueKind.Null, created.Json.GetProperty("last_sync").ValueKind);
        Assert.Equal(JsonValueKind.Null, created.Json.GetProperty("next_run_at").ValueKind);

        // The stored config is the normalised object: what was sent plus every default.
        var expectedConfig = new Dictionary<string, string>
        {
            ["host"] = "db.example.internal", ["port"] = "5432", ["database"] = "sales", ["ssl_mode"] = "prefer",
            ["connect_timeout_seconds"] = "10", ["statement_timeout_seconds"] = "60",
        };
        Dictionary<string, string> Flatten(JsonElement config) => config.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString());
        Assert.Equal(expectedConfig, Flatten(created.Json.GetProperty("config")));
        using (var stored = JsonDocument.Parse(await app.Database.ScalarAsync<string>($"SELECT config::text FROM connectors WHERE id = '{id}'")))
            Assert.Equal(expectedConfig, Flatten(stored.RootElement));

        var got = await admin.Client.GetAsync($"{c}/{id}");
        Assert.Equal(200, got.Status);
        Assert.Equal($"\"{version}\"", got.Header("ETag"));
        Assert.Equal(created.Json.GetRawText(), got.Json.GetRawText());

        var docs = await IngestionFixture.CreateConnectorAsync(admin.Client, space, new { name = "docs", platform = "dbt_manifest", config = new { resource_types = new[] { "model", "source", "model" } } });
        Assert.Equal(["model", "source"], docs.GetProperty("config").GetProperty("resource_types").EnumerateArray().Select(x => x.GetString()));
        var bare = await IngestionFixture.CreateConnectorAsync(admin.Client, space, new { name = "bare-docs", platform = "dbt_manifest" });
        Assert.Equal(0, bare.GetProperty("config").GetProperty("resource_types").GetArrayLength());

        List<string> Names(ApiResponse r) => r.Items().Select(x => x.Str("name")).ToList();
        var all = await admin.Client.GetAsync(c);
        Assert.Equal(["bare-docs", "docs", "warehouse"], Names(all));
        Assert.Equal(3, all.Json.GetProperty("total").GetInt32());
        Assert.Equal(["warehouse"], Names(await admin.Client.GetAsync($"{c}?platform=postgresql")));
        Assert.Equal(["bare-docs", "docs"], Names(await admin.Client.GetAsync($"{c}?platform=dbt_manifest")));
        Assert.Empty(Names(await admin.Client.GetAsync($"{c}?platform=oracle")));

        var duplicate = await admin.Client.PostAsync(c, Postgres("warehouse"));
        Assert.Equal(409, duplicate.Status);
        Assert.Equal("duplicate", duplicate.Code());
        var renameClash = await admin.Client.PatchAsync($"{c}/{docs.Id()}", new { name = "warehouse" });
        Assert.Equal(409, renameClash.Status);
        Assert.Equal(3, await CountAsync($"SELECT count(*) FROM connectors WHERE space_id = '{created.Json.GetProperty("space_id").GetGuid()}'"));

        var patched = await admin.Client.PatchAsync($"{c}/{id}",
            new { name = "warehouse-eu", config = new { host = "db.example.internal", database = "sales", port = 6543 }, merge_strategy = "refresh" },
            CatalogTestSupport.IfMatch(created.Header("ETag")));
        Assert.True(patched.Status == 200, patched.ToString());
        Assert.Equal(("warehouse-eu", 6543, "refresh"), (patched.Json.Str("name"), patched.Json.GetProperty("config").GetProperty("port").GetInt32(), patched.Json.Str("merge_strategy")));
        Assert.NotEqual(version, patched.Json.GetProperty("version").GetUInt32());
        Assert.Equal($"\"{patched.Json.GetProperty("version").GetUInt32()}\"", patched.Header("ETag"));

        // The first ETag is stale now, in the header and in the body alike.
        var stale = await admin.Client.PatchAsync($"{c}/{id}", new { name = "lost-update" }, CatalogTestSupport.IfMatch(created.Header("ETag")));
        Assert.Equal(409, stale.Status);
        Assert.Equal("version_conflict", stale.Code());
        var staleBody = await admin.Client.PatchAsync($"{c}/{id}", new { name = "lost-update", version });
        Assert.Equal(409, staleBody.Status);
        Assert.Equal("version_conflict", staleBody.Code());
        Assert.Equal("warehouse-eu", (await admin.Client.GetAsync($"{c}/{id}")).Json.Str("name"));

        Assert.Equal(204, (await admin.Client.DeleteAsync($"{c}/{id}")).Status);
        Assert.Equal(404, (await admin.Client.GetAsync($"{c}/{id}")).Status);
        Assert.Equal(404, (await admin.Client.DeleteAsync($"{c}/{id}")).Status);
        Assert.Equal(["bare-docs", "docs"], Names(await admin.Client.GetAsync(c)));
    }

    // ----- config validation -----

    [Fact]
    public async Task Config_filters_schedule_and_strategy_are_validated_per_platform_and_nothing_invalid_is_stored()
    {
        var (space, admin) = await ArrangeAsync();
        var c = Connectors(space);
        async Task<List<(string Loc, string Type)>> Create(object body) => Errors(await admin.Client.PostAsync(c, body));

        Assert.Equal([("body.config.host", "missing")], await Create(Postgres("a", new { database = "sales" })));
        Assert.Equal([("body.config.hots", "unknown_key")], await Create(Postgres("a", new { host = "h", database = "d", hots = "h" })));
        Assert.Equal([("body.config.port", "range")], await Create(Postgres("a", new { host = "h", database = "d", port = 0 })));
        Assert.Equal([("body.config.port", "range")], await Create(Postgres("a", new { host = "h", database = "d", port = 65536 })));
        Assert.Equal([("body.config.port", "int_type")], await Create(Postgres("a", new { host = "h", database = "d", port = "5432" })));
        Assert.Equal([("body.config.ssl_mode", "enum")], await Create(Postgres("a", new { host = "h", database = "d", ssl_mode = "sometimes" })));
        Assert.Equal([("body.config.connect_timeout_seconds", "range")], await Create(Postgres("a", new { host = "h", database = "d", connect_timeout_seconds = 61 })));
        Assert.Contains(("body.config", "object_type"), await Create(Postgres("a", new[] { "h" })));
        // Every problem in one answer.
        Assert.Equal(
            Sorted([("body.config.host", "missing"), ("body.config.database", "missing"), ("body.config.port", "range"), ("body.config.ssl_mode", "enum"), ("body.config.colour", "unknown_key")]),
            await Create(Postgres("a", new { port = 70000, ssl_mode = "bogus", colour = "red" })));
        Assert.Equal(Sorted([("body.config.host", "missing"), ("body.config.database", "missing")]),
            await Create(new { name = "a", platform = "postgresql" }));

        Assert.Equal([("body.config.resource_types.1", "enum")],
            await Create(new { name = "a", platform = "dbt_manifest", config = new { resource_types = new[] { "model", "bogus" } } }));
        Assert.Equal([("body.config.host", "unknown_key")],
            await Create(new { name = "a", platform = "dbt_manifest", config = new { host = "h" } }));
        Assert.Equal([("body.config.resource_types", "list_type")],
            await Create(new { name = "a", platform = "dbt_manifest", config = new { resource_types = "model" } }));

        var platform = await Create(new { name = "a", platform = "oracle", config = new { host = "h" } });
        Assert.Contains(platform, e => e.Item1 == "body.platform");
        Assert.Contains(("body.schedule", "cron_invalid"), await Create(Postgres("a", schedule: "every day at three")));
        // Five fields is the classic cron; the timer's format has seconds first.
        Assert.Contains(("body.schedule", "cron_invalid"), await Create(Postgres("a", schedule: "0 3 * * *")));
        Assert.Equal([("body.filters.table_regex", "regex_invalid")], await Create(Postgres("a", filters: new { table_regex = "([a-z" })));
        // A dbt connector syncs on upload: a schedule would start nothing, so it is refused rather than ignored.
        Assert.Equal([("body.schedule", "not_applicable")], await Create(new { name = "a", platform = "dbt_manifest", schedule = "0 0 3 * * *" }));
        Assert.Equal([("body.filters.schema_include.1", "value_error")], await Create(Postgres("a", filters: new { schema_include = new[] { "public", " " } })));
        Assert.Contains(await Create(new { name = "a", platform = "postgresql", config = new { host = "h", database = "d" }, merge_strategy = "bogus" }),
            e => e.Item1 == "body.merge_strategy");

        Assert.Empty((await admin.Client.GetAsync(c)).Items());

        // A PATCH is held to the same rules, and a refused one changes nothing.
        var id = (await IngestionFixture.CreateConnectorAsync(admin.Client, space, Postgres("valid"))).Id();
        var before = (await admin.Client.GetAsync($"{c}/{id}")).Json.GetRawText();
        Assert.Equal([("body.config.port", "range")], Errors(await admin.Client.PatchAsync($"{c}/{id}", new { config = new { host = "h", database = "d", port = -1 } })));
        Assert.Equal([("body.filters.table_regex", "regex_invalid")], Errors(await admin.Client.PatchAsync($"{c}/{id}", new { filters = new { table_regex = "*" } })));
        Assert.Contains(("body.schedule", "cron_invalid"), Errors(await admin.Client.PatchAsync($"{c}/{id}", new { schedule = "daily" })));
        Assert.Contains(Errors(await admin.Client.PatchAsync($"{c}/{id}", new { merge_strategy = "bogus" })), e => e.Item1 == "body.merge_strategy");
        Assert.Equal(before, (await admin.Client.GetAsync($"{c}/{id}")).Json.GetRawText());
    }

    // ----- credentials -----

    [Fact]
    public async Task Credentials_are_write_only_encrypted_at_rest_and_redacted_in_the_audit_log()
    {
        var (space, admin) = await ArrangeAsync();
        var c = Connectors(space);
        var responses = new List<(string What, ApiResponse Response)>();
        async Task<ApiResponse> Keep(string what, Task<ApiResponse> call)
        {
            var response = await call;
            responses.Add((what, response));
            return response;
        }

        // Unreachable on purpose: the test and the sync fail fast, and their messages are checked too.
        var created = await Keep("create", admin.Client.PostAsync(c, Postgres("leaky", new { host = "127.0.0.1", port = 1, database = "sales", ssl_mode = "disable" })));
        var id = created.Json.Id();
        var set = await Keep("put credentials", admin.Client.PutAsync($"{c}/{id}/credentials", new { username = Username, password = Password }));
        Assert.True(set.Status == 200, set.ToString());
        Assert.True(set.Json.GetProperty("has_credentials").GetBoolean());

        Assert.True((await Keep("get", admin.Client.GetAsync($"{c}/{id}"))).Json.GetProperty("has_credentials").GetBoolean());
        Assert.True((await Keep("list", admin.Client.GetAsync(c))).Items().Single().GetProperty("has_credentials").GetBoolean());
        Assert.Equal(200, (await Keep("patch", admin.Client.PatchAsync($"{c}/{id}", new { name = "leaky-2" }))).Status);
        var test = await Keep("test", admin.Client.PostAsync($"{c}/{id}/test", new { }));
        Assert.False(test.Json.GetProperty("success").GetBoolean());
        var job = await app.SyncAsync(admin.Client, space, id);
        Assert.Equal("failed", job.Str("status"));
        Assert.DoesNotContain(Password, job.GetRawText(), StringComparison.Ordinal);
        var history = await Keep("history", admin.Client.GetAsync($"{c}/{id}/sync-history"));
        Assert.Single(history.Items());
        await Keep("job", admin.Client.GetAsync($"/api/v1/spaces/{space}/sync-jobs/{job.Id()}"));

        // At rest: ciphertext, neither the password nor the username in clear, and it opens only as this connector.
        var ciphertext = await CiphertextAsync(id);
        Assert.NotNull(ciphertext);
        Assert.False(Contains(ciphertext, Password));
        Assert.False(Contains(ciphertext, Username));
        var protector = app.Services.GetRequiredService<CredentialProtector>();
        using (var opened = JsonDocument.Parse(protector.Unprotect(id, ciphertext)))
            Assert.Equal((Username, Password), (opened.RootElement.Str("username"), opened.RootElement.Str("password")));
        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(Guid.NewGuid(), ciphertext));

        var cleared = await Keep("delete credentials", admin.Client.DeleteAsync($"{c}/{id}/credentials"));
        Assert.Equal(200, cleared.Status);
        Assert.False(cleared.Json.GetProperty("has_credentials").GetBoolean());
        Assert.Null(await CiphertextAsync(id));
        Assert.False((await Keep("get after clear", admin.Client.GetAsync($"{c}/{id}"))).Json.GetProperty("has_credentials").GetBoolean());

        foreach (var (what, response) in responses)
        {
            Assert.True(response.Status is >= 200 and < 300, $"{what}: {response}");
            Assert.DoesNotContain(Password, response.Body, StringComparison.Ordinal);
            Assert.DoesNotContain(Username, response.Body, StringComparison.Ordinal);
        }

        // The audit log says the credentials changed, never what they are, not even encrypted.
        var export = await admin.Client.GetAsync($"/api/v1/spaces/{space}/audit/export?format=json");
        Assert.Equal(200, export.Status);
        Assert.DoesNotContain(Password, export.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(Username, export.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(ciphertext), export.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(ciphertext[^16..]), export.Body, StringComparison.Ordinal);
        var credentialChanges = export.Json.EnumerateArray()
            .Where(e => e.GetProperty("resource_id").GetGuid() == id && e.GetProperty("changes").TryGetProperty("encrypted_credentials", out _))
            .Select(e => (Action: e.Str("action"), Change: e.GetProperty("changes").GetProperty("encrypted_credentials")))
            .Select(x => (x.Action, Before: Text(x.Change.GetProperty("before")), After: Text(x.Change.GetProperty("after"))))
            .OrderBy(x => x.Action, StringComparer.Ordinal).ThenBy(x => x.Before, StringComparer.Ordinal)
            .ToList();
        // Created without credentials, then set, then cleared: each step visible, no value in any of them.
        Assert.Equal([("create", null, null), ("update", null, "(redacted)"), ("update", "(redacted)", null)], credentialChanges);
        Assert.All(export.Json.EnumerateArray().Where(e => e.GetProperty("resource_id").GetGuid() == id),
            e => Assert.Equal("connector", e.Str("resource_type")));
    }

    [Fact]
    public async Task Credentials_are_validated_per_platform()
    {
        var (space, admin) = await ArrangeAsync();
        var c = Connectors(space);
        var pg = (await IngestionFixture.CreateConnectorAsync(admin.Client, space, Postgres("pg"))).Id();
        var dbt = (await IngestionFixture.CreateConnectorAsync(admin.Client, space, new { name = "dbt", platform = "dbt_manifest" })).Id();

        Assert.Equal([("body.role", "unknown_key")], Errors(await admin.Client.PutAsync($"{c}/{pg}/credentials", new { username = "u", password = "p", role = "admin" })));
        Assert.Equal([("body.username", "missing")], Errors(await admin.Client.PutAsync($"{c}/{pg}/credentials", new { password = "p" })));
        Assert.Equal([("body.username", "string_type")], Errors(await admin.Client.PutAsync($"{c}/{pg}/credentials", new { username = 42 })));
        Assert.Equal([("body", "model_attributes_type")], Errors(await admin.Client.SendRawAsync("PUT", $"{c}/{pg}/credentials", "[{\"username\":\"u\"}]")));
        Assert.Equal([("body", "json_invalid")], Errors(await admin.Client.SendRawAsync("PUT", $"{c}/{pg}/credentials", "{\"username\":")));
        Assert.Equal(415, (await admin.Client.SendRawAsync("PUT", $"{c}/{pg}/credentials", "username=u", "application/x-www-form-urlencoded")).Status);
        Assert.Equal([("body.credentials", "not_applicable")], Errors(await admin.Client.PutAsync($"{c}/{dbt}/credentials", new { username = "u", password = "p" })));
        Assert.Equal(404, (await admin.Client.PutAsync($"{c}/{Guid.NewGuid()}/credentials", new { username = "u", password = "p" })).Status);

        Assert.All((await admin.Client.GetAsync(c)).Items(), x => Assert.False(x.GetProperty("has_credentials").GetBoolean()));
        Assert.Equal(0, await CountAsync($"SELECT count(*) FROM connectors WHERE id IN ('{pg}', '{dbt}') AND encrypted_credentials IS NOT NULL"));
        // A password is optional (trust or peer authentication), the username is not.
        var noPassword = await admin.Client.PutAsync($"{c}/{pg}/credentials", new { username = "u" });
        Assert.True(noPassword.Json.GetProperty("has_credentials").GetBoolean());
    }

    [Fact]
    public async Task Equal_credentials_encrypt_differently_and_a_ciphertext_copied_to_another_connector_does_not_open()
    {
        var (space, admin) = await ArrangeAsync();
        var c = Connectors(space);
        var first = await OwnDatabaseConnectorAsync(admin.Client, space, "first");
        var second = await OwnDatabaseConnectorAsync(admin.Client, space, "second");

        var a = (await CiphertextAsync(first))!;
        var b = (await CiphertextAsync(second))!;
        Assert.False(a.AsSpan().SequenceEqual(b));
        // Even one connector's credentials saved twice: a fresh nonce every time.
        var cs = new NpgsqlConnectionStringBuilder(app.Database.ConnectionString);
        Assert.Equal(200, (await admin.Client.PutAsync($"{c}/{first}/credentials", new { username = cs.Username, password = cs.Password })).Status);
        var again = (await CiphertextAsync(first))!;
        Assert.False(a.AsSpan().SequenceEqual(again));
        Assert.True((await admin.Client.PostAsync($"{c}/{first}/test", new { })).Json.GetProperty("success").GetBoolean());
        Assert.True((await admin.Client.PostAsync($"{c}/{second}/test", new { })).Json.GetProperty("success").GetBoolean());

        await app.Database.ExecuteAsync($"UPDATE connectors SET encrypted_credentials = (SELECT encrypted_credentials FROM connectors WHERE id = '{first}') WHERE id = '{second}'");

        var test = await admin.Client.PostAsync($"{c}/{second}/test", new { });
        Assert.True(test.Status == 200, test.ToString());
        Assert.False(test.Json.GetProperty("success").GetBoolean());
        Assert.Contains("credentials cannot be read", test.Json.Str("message"), StringComparison.Ordinal);
        Assert.Contains("set them again", test.Json.Str("message"), StringComparison.Ordinal);

        var job = await app.SyncAsync(admin.Client, space, second);
        Assert.Equal("failed", job.Str("status"));
        Assert.Contains("credentials cannot be read", job.Str("error"), StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync($"SELECT count(*) FROM data_products WHERE source_connector_id = '{second}'"));

        // The original is untouched, and saving the credentials again repairs the copy.
        Assert.True((await admin.Client.PostAsync($"{c}/{first}/test", new { })).Json.GetProperty("success").GetBoolean());
        Assert.Equal(200, (await admin.Client.PutAsync($"{c}/{second}/credentials", new { username = cs.Username, password = cs.Password })).Status);
        Assert.True((await admin.Client.PostAsync($"{c}/{second}/test", new { })).Json.GetProperty("success").GetBoolean());
    }

    // ----- connection test -----

    [Fact]
    public async Task Testing_a_connection_reports_success_or_a_readable_failure_and_never_the_password()
    {
        var (space, admin) = await ArrangeAsync();
        var c = Connectors(space);
        var own = new NpgsqlConnectionStringBuilder(app.Database.ConnectionString);

        var reachable = await OwnDatabaseConnectorAsync(admin.Client, space, "reachable");
        var ok = await admin.Client.PostAsync($"{c}/{reachable}/test", new { });
        Assert.True(ok.Status == 200, ok.ToString());
        Assert.True(ok.Json.GetProperty("success").GetBoolean(), ok.ToString());
        Assert.True(ok.Json.GetProperty("latency_ms").GetInt64() >= 0);
        Assert.Contains(own.Database!, ok.Json.Str("message"), StringComparison.Ordinal);
        Assert.Contains("PostgreSQL", ok.Json.Str("message"), StringComparison.Ordinal);

        var closedPort = new NpgsqlConnectionStringBuilder(own.ConnectionString) { Host = "127.0.0.1", Port = 1, Password = Password };
        var unreachable = await IngestionFixture.CreatePostgresConnectorAsync(admin.Client, space, closedPort.ConnectionString, name: "unreachable");
        var refused = await admin.Client.PostAsync($"{c}/{unreachable}/test", new { });
        Assert.True(refused.Status == 200, refused.ToString());
        Assert.False(refused.Json.GetProperty("success").GetBoolean());
        Assert.Contains("127.0.0.1:1", refused.Json.Str("message"), StringComparison.Ordinal);

        var missingDatabase = new NpgsqlConnectionStringBuilder(own.ConnectionString) { Database = "qt_no_such_database_here" };
        var wrongDb = await IngestionFixture.CreatePostgresConnectorAsync(admin.Client, space, missingDatabase.ConnectionString, name: "wrong-db");
        var missing = await admin.Client.PostAsync($"{c}/{wrongDb}/test", new { });
        Assert.True(missing.Status == 200, missing.ToString());
        Assert.False(missing.Json.GetProperty("success").GetBoolean());
        Assert.Contains("qt_no_such_database_here", missing.Json.Str("message"), StringComparison.Ordinal);

        var bare = (await IngestionFixture.CreateConnectorAsync(admin.Client, space, Postgres("bare", new { host = own.Host, port = own.Port, database = own.Database, ssl_mode = "disable" }))).Id();
        var noCredentials = await admin.Client.PostAsync($"{c}/{bare}/test", new { });
        Assert.True(noCredentials.Status == 200, noCredentials.ToString());
        Assert.False(noCredentials.Json.GetProperty("success").GetBoolean());
        Assert.Contains("no credentials", noCredentials.Json.Str("message"), StringComparison.Ordinal);

        Assert.Equal(404, (await admin.Client.PostAsync($"{c}/{Guid.NewGuid()}/test", new { })).Status);
        foreach (var response in new[] { ok, refused, missing, noCredentials })
        {
            Assert.False(string.IsNullOrWhiteSpace(response.Json.Str("message")));
            Assert.DoesNotContain(Password, response.Body, StringComparison.Ordinal);
            Assert.DoesNotContain($"Password={own.Password}", response.Body, StringComparison.OrdinalIgnoreCase);
        }
    }

    // ----- roles -----

    [Fact]
    public async Task Editors_read_connectors_and_their_history_viewers_see_nothing_and_only_admins_change_anything()
    {
        var admin = await app.CreateUserAsync("Admin");
        var editor = await app.CreateUserAsync("Editor");
        var viewer = await app.CreateUserAsync("Viewer");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"), (editor, "editor"), (viewer, "viewer"));
        var c = Connectors(space);
        var pg = await IngestionFixture.CreatePostgresConnectorAsync(admin.Client, space, "Host=db.invalid;Port=5432;Database=d;Username=u;Password=" + Password);
        var dbt = (await IngestionFixture.CreateConnectorAsync(admin.Client, space, new { name = "docs", platform = "dbt_manifest" })).Id();
        var spaceId = (await admin.Client.GetAsync($"{c}/{pg}")).Json.GetProperty("space_id").GetGuid();
        var job = Guid.CreateVersion7();
        await app.WithDbAsync(async db =>
        {
            db.SyncJobs.Add(new SyncJob { Id = job, SpaceId = spaceId, ConnectorId = pg, Status = SyncStatus.Failed, Trigger = SyncTrigger.Manual, MergeStrategy = MergeStrategy.Additive, Error = "unreachable" });
            return await db.SaveChangesAsync();
        });
        var before = (await admin.Client.GetAsync($"{c}/{pg}")).Json.GetRawText();
        var manifest = Encoding.UTF8.GetBytes("""{"metadata":{"dbt_schema_version":"https://schemas.getdbt.com/dbt/manifest/v12.json"},"nodes":{},"sources":{}}""");

        var reads = new[] { c, $"{c}/{pg}", $"{c}/{pg}/sync-history", $"/api/v1/spaces/{space}/sync-jobs/{job}" };
        var writes = new (string Method, string Path, byte[]? Body)[]
        {
            ("POST", c, Json(new { name = "intruder", platform = "dbt_manifest" })),
            ("PATCH", $"{c}/{pg}", Json(new { name = "renamed" })),
            ("DELETE", $"{c}/{pg}", null),
            ("PUT", $"{c}/{pg}/credentials", Json(new { username = "intruder", password = "x" })),
            ("DELETE", $"{c}/{pg}/credentials", null),
            ("POST", $"{c}/{pg}/test", Json(new { })),
            ("POST", $"{c}/{pg}/sync", Json(new { })),
            ("POST", $"{c}/{dbt}/manifest", manifest),
        };
        static byte[] Json(object body) => JsonSerializer.SerializeToUtf8Bytes(body);
        Task<ApiResponse> Send(ApiClient client, string method, string path, byte[]? body)
            => client.SendAsync(method, path, body, body is null ? null : "application/json", null);

        foreach (var path in reads)
        {
            var read = await editor.Client.GetAsync(path);
            Assert.True(read.Status == 200, $"editor GET {path} → {read}");
            Assert.DoesNotContain(Password, read.Body, StringComparison.Ordinal);
        }
        foreach (var (who, caller, expected, mayRead) in new[] { ("editor", editor.Client, 403, true), ("viewer", viewer.Client, 403, false), ("anonymous", app.Anonymous(), 401, false) })
        {
            foreach (var (method, path, body) in writes)
            {
                var response = await Send(caller, method, path, body);
                Assert.True(response.Status == expected, $"{who} {method} {path} → {response}");
            }
            if (mayRead) continue;
            foreach (var path in reads)
            {
                var response = await caller.GetAsync(path);
                Assert.True(response.Status == expected, $"{who} GET {path} → {response}");
            }
        }

        Assert.Equal(before, (await admin.Client.GetAsync($"{c}/{pg}")).Json.GetRawText());
        Assert.Equal(2, await CountAsync($"SELECT count(*) FROM connectors WHERE space_id = '{spaceId}'"));
        Assert.Equal(1, await CountAsync($"SELECT count(*) FROM sync_jobs WHERE space_id = '{spaceId}'"));
        Assert.Equal(0, await CountAsync($"SELECT count(*) FROM data_products WHERE space_id = '{spaceId}'"));
    }

    // ----- schedule -----

    [Fact]
    public async Task A_schedule_sets_the_next_run_and_deactivating_or_unscheduling_clears_it()
    {
        var (space, admin) = await ArrangeAsync();
        var c = Connectors(space);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 9, 30, 0, TimeSpan.Zero), app.Clock.GetUtcNow());
        string? NextRun(JsonElement connector) => connector.GetProperty("next_run_at").GetString();
        async Task<JsonElement> Patch(Guid id, object body)
        {
            var response = await admin.Client.PatchAsync($"{c}/{id}", body);
            Assert.True(response.Status == 200, response.ToString());
            return response.Json.Clone();
        }

        var daily = await IngestionFixture.CreateConnectorAsync(admin.Client, space, Postgres("daily", schedule: "0 0 3 * * *"));
        var id = daily.Id();
        Assert.Equal("0 0 3 * * *", daily.Str("schedule"));
        // 09:30 on 1 March: the next 03:00 is the following morning.
        Assert.Equal("2026-03-02T03:00:00.000000Z", NextRun(daily));
        Assert.Equal("2026-03-02T03:00:00.000000Z", NextRun((await admin.Client.GetAsync($"{c}/{id}")).Json));
        Assert.Equal(new DateTimeOffset(2026, 3, 2, 3, 0, 0, TimeSpan.Zero),
            await app.WithDbAsync(db => db.Connectors.Where(x => x.Id == id).Select(x => x.NextRunAt).SingleAsync()));

        var paused = await Patch(id, new { is_active = false });
        Assert.Null(NextRun(paused));
        Assert.Equal("0 0 3 * * *", paused.Str("schedule"));
        Assert.Null(await app.WithDbAsync(db => db.Connectors.Where(x => x.Id == id).Select(x => x.NextRunAt).SingleAsync()));
        // A paused connector's new schedule waits too.
        Assert.Null(NextRun(await Patch(id, new { schedule = "0 30 * * * *" })));
        Assert.Equal("2026-03-01T10:30:00.000000Z", NextRun(await Patch(id, new { is_active = true })));
        // A change that touches neither schedule nor activity leaves the next run alone.
        Assert.Equal("2026-03-01T10:30:00.000000Z", NextRun(await Patch(id, new { name = "hourly" })));

        var unscheduled = await Patch(id, new Dictionary<string, object?> { ["schedule"] = null });
        Assert.Equal(JsonValueKind.Null, unscheduled.GetProperty("schedule").ValueKind);
        Assert.Null(NextRun(unscheduled));
        Assert.Null(await app.WithDbAsync(db => db.Connectors.Where(x => x.Id == id).Select(x => x.NextRunAt).SingleAsync()));

        var inactive = await IngestionFixture.CreateConnectorAsync(admin.Client, space, Postgres("inactive", schedule: "0 0 3 * * *", isActive: false));
        Assert.Null(NextRun(inactive));
        Assert.Null(NextRun(await IngestionFixture.CreateConnectorAsync(admin.Client, space, Postgres("manual"))));
    }

    // ----- sync rules -----

    [Fact]
    public async Task A_connector_cannot_be_deleted_while_a_job_is_queued_or_running()
    {
        var (space, admin) = await ArrangeAsync();
        var c = Connectors(space);
        var connector = await IngestionFixture.CreateConnectorAsync(admin.Client, space, Postgres("busy"));
        var id = connector.Id();
        var job = Guid.CreateVersion7();
        await app.WithDbAsync(async db =>
        {
            db.SyncJobs.Add(new SyncJob
            {
                Id = job, SpaceId = connector.GetProperty("space_id").GetGuid(), ConnectorId = id, Status = SyncStatus.Running,
                Trigger = SyncTrigger.Manual, MergeStrategy = MergeStrategy.Additive, StartedAt = app.Clock.GetUtcNow(),
            });
            return await db.SaveChangesAsync();
        });
        Task SetStatusAsync(SyncStatus status)
            => app.WithDbAsync(db => db.SyncJobs.Where(j => j.Id == job).ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, status)));

        var running = await admin.Client.DeleteAsync($"{c}/{id}");
        Assert.Equal(409, running.Status);
        Assert.Equal("sync_in_progress", running.Code());
        await SetStatusAsync(SyncStatus.Queued);
        var queued = await admin.Client.DeleteAsync($"{c}/{id}");
        Assert.Equal(409, queued.Status);
        Assert.Equal("sync_in_progress", queued.Code());
        Assert.Equal(200, (await admin.Client.GetAsync($"{c}/{id}")).Status);
        var lastSync = (await admin.Client.GetAsync($"{c}/{id}")).Json.GetProperty("last_sync");
        Assert.Equal((job, "queued"), (lastSync.Id(), lastSync.Str("status")));

        await SetStatusAsync(SyncStatus.Failed);
        Assert.Equal(204, (await admin.Client.DeleteAsync($"{c}/{id}")).Status);
        Assert.Equal(404, (await admin.Client.GetAsync($"{c}/{id}")).Status);
        // Its history goes with it.
        Assert.Equal(0, await CountAsync($"SELECT count(*) FROM sync_jobs WHERE connector_id = '{id}'"));
    }

    [Fact]
    public async Task A_manifest_connector_syncs_by_upload_only_and_an_inactive_connector_does_not_sync()
    {
        var (space, admin) = await ArrangeAsync();
        var c = Connectors(space);
        var dbt = (await IngestionFixture.CreateConnectorAsync(admin.Client, space, new { name = "docs", platform = "dbt_manifest" })).Id();
        await using var source = await SourceDatabases.CreateScratchAsync();
        await source.ExecuteAsync("CREATE TABLE orders (id int PRIMARY KEY)");
        var inactive = await IngestionFixture.CreatePostgresConnectorAsync(admin.Client, space, source.ConnectionString, new { is_active = false }, name: "paused");

        var byUpload = await admin.Client.PostAsync($"{c}/{dbt}/sync", new { });
        Assert.Equal(409, byUpload.Status);
        Assert.Equal("sync_by_upload", byUpload.Code());
        Assert.Contains("manifest", byUpload.Json.Str("detail"), StringComparison.Ordinal);

        var paused = await admin.Client.PostAsync($"{c}/{inactive}/sync", new { });
        Assert.Equal(409, paused.Status);
        Assert.Equal("connector_inactive", paused.Code());

        Assert.Equal(404, (await admin.Client.PostAsync($"{c}/{Guid.NewGuid()}/sync", new { })).Status);
        Assert.Equal(0, await CountAsync($"SELECT count(*) FROM sync_jobs WHERE connector_id IN ('{dbt}', '{inactive}')"));

        // Activated, it syncs.
        Assert.Equal(200, (await admin.Client.PatchAsync($"{c}/{inactive}", new { is_active = true })).Status);
        var job = await app.SyncAsync(admin.Client, space, inactive);
        Assert.Equal(("succeeded", 1), (job.Str("status"), job.GetProperty("added").GetInt32()));
    }
}

/// <summary>A deployment whose operator has not configured a credential key.</summary>
public sealed class NoCredentialKeyFixture : IngestionFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Qarion:Ingestion:CredentialKey"] = "" };
}

public sealed class ConnectorWithoutCredentialKeyTests(NoCredentialKeyFixture app) : IClassFixture<NoCredentialKeyFixture>
{
    [Fact]
    public async Task Credentials_are_refused_with_503_when_no_key_is_configured_and_nothing_is_stored()
    {
        var admin = await app.CreateUserAsync("Admin");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"));
        var c = $"/api/v1/spaces/{space}/connectors";
        var id = (await IngestionFixture.CreateConnectorAsync(admin.Client, space,
            new { name = "pg", platform = "postgresql", config = new { host = "db.invalid", database = "d" } })).Id();

        var put = await admin.Client.PutAsync($"{c}/{id}/credentials", new { username = "u", password = "Pw-Never-Stored" });
        Assert.Equal(503, put.Status);
        Assert.Equal("credential_key_missing", put.Code());
        Assert.Contains("CredentialKey", put.Json.Str("detail"), StringComparison.Ordinal);
        Assert.DoesNotContain("Pw-Never-Stored", put.Body, StringComparison.Ordinal);
        Assert.False((await admin.Client.GetAsync($"{c}/{id}")).Json.GetProperty("has_credentials").GetBoolean());
        Assert.Equal(0, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM connectors WHERE id = '{id}' AND encrypted_credentials IS NOT NULL"));
        // Validation still comes first: a bad body is a 422, not a 503.
        Assert.Equal(422, (await admin.Client.PutAsync($"{c}/{id}/credentials", new { password = "p" })).Status);

        var test = await admin.Client.PostAsync($"{c}/{id}/test", new { });
        Assert.Equal(200, test.Status);
        Assert.False(test.Json.GetProperty("success").GetBoolean());
        Assert.Contains("no credentials", test.Json.Str("message"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Credentials_stored_under_a_key_that_was_then_removed_fail_the_test_and_the_sync_readably()
    {
        var admin = await app.CreateUserAsync("Admin");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"));
        var c = $"/api/v1/spaces/{space}/connectors";
        await using var source = await SourceDatabases.CreateScratchAsync();
        var cs = new NpgsqlConnectionStringBuilder(source.ConnectionString);
        var id = (await IngestionFixture.CreateConnectorAsync(admin.Client, space,
            new { name = "pg", platform = "postgresql", config = new { host = cs.Host, port = cs.Port, database = cs.Database, ssl_mode = "disable" } })).Id();
        // Sealed while the deployment still had its key (the test key), which the operator has since removed.
        var sealedWithOldKey = new CredentialProtector(Microsoft.Extensions.Options.Options.Create(new IngestionOptions { CredentialKey = AppFixture.CredentialKey }))
            .Protect(id, JsonSerializer.Serialize(new { username = cs.Username, password = cs.Password }));
        await app.Database.ExecuteAsync($"UPDATE connectors SET encrypted_credentials = '\\x{Convert.ToHexString(sealedWithOldKey)}'::bytea WHERE id = '{id}'");
        Assert.True((await admin.Client.GetAsync($"{c}/{id}")).Json.GetProperty("has_credentials").GetBoolean());

        var test = await admin.Client.PostAsync($"{c}/{id}/test", new { });
        Assert.True(test.Status == 200, test.ToString());
        Assert.False(test.Json.GetProperty("success").GetBoolean());
        Assert.Contains("CredentialKey", test.Json.Str("message"), StringComparison.Ordinal);

        var job = await app.SyncAsync(admin.Client, space, id);
        Assert.Equal("failed", job.Str("status"));
        Assert.Contains("CredentialKey", job.Str("error"), StringComparison.Ordinal);
        Assert.Contains("cannot be read", job.Str("error"), StringComparison.Ordinal);
        Assert.Equal(0, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM data_products WHERE source_connector_id = '{id}'"));
    }
}
