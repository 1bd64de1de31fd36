using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Quality;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;
using Qarion.Tests.Ingestion;
using static Qarion.Tests.Quality.CheckTestSupport;

namespace Qarion.Tests.Quality;

/// <summary>
/// <c>POST …/connectors/{dbt}/tests/import</c> with the real dbt_jira manifest (40 generic tests, all not_null or unique)
/// and a PostgreSQL source where four of its models exist: exact counts, the generated configs, idempotence, updates,
/// and accepted_values and relationships tests added to the manifest, whose checks run on the source.
/// </summary>
public sealed class DbtTestImportTests(IngestionFixture app) : IClassFixture<IngestionFixture>, IAsyncLifetime
{
    private ScratchDatabase _warehouse = null!;

    private const string WarehouseDdl = """
        CREATE SCHEMA public_jira_dev;
        CREATE TABLE public_jira_dev.jira__issue_enhanced (issue_id bigint, status text, assignee_user_id bigint);
        CREATE TABLE public_jira_dev.stg_jira__user (user_id bigint);
        CREATE TABLE public_jira_dev.int_jira__issue_calendar_spine (issue_day_id text);
        -- The model exists but lacks the tested column.
        CREATE TABLE public_jira_dev.jira__daily_issue_field_history (other text);
        INSERT INTO public_jira_dev.stg_jira__user VALUES (1), (2);
        INSERT INTO public_jira_dev.jira__issue_enhanced VALUES (10, 'open', 1), (11, 'closed', 3), (12, 'weird', NULL), (NULL, 'open', 2);
        """;

    public async Task InitializeAsync()
    {
        _warehouse = await SourceDatabases.CreateScratchAsync();
        await _warehouse.ExecuteAsync(WarehouseDdl);
    }

    public async Task DisposeAsync() => await _warehouse.DisposeAsync();

    private static string Table(string name) => $$"""{"schema":"public_jira_dev","name":"{{name}}"}""";

    [Fact]
    public async Task Tests_of_the_real_manifest_become_checks_once_and_follow_their_source()
    {
        var admin = await app.CreateUserAsync("Admin");
        var editor = await app.CreateUserAsync("Editor");
        var viewer = await app.CreateUserAsync("Viewer");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"), (editor, "editor"), (viewer, "viewer"));
        var dbt = (await IngestionFixture.CreateConnectorAsync(admin.Client, space, new { name = "jira dbt", platform = "dbt_manifest" })).Id();
        Assert.Equal(200, (await DbtUploadTests.UploadAsync(admin.Client, space, dbt, SourceDatabases.DbtManifest)).Status);
        var warehouse = await IngestionFixture.CreatePostgresConnectorAsync(admin.Client, space, _warehouse.ConnectionString, name: "warehouse");
        Assert.Equal("succeeded", (await app.SyncAsync(admin.Client, space, warehouse)).Str("status"));
        var import = $"/api/v1/spaces/{space}/connectors/{dbt}/tests/import";

        var first = await editor.Client.PostAsync(import, new { run_connector_id = warehouse, schedule = "0 0 3 * * *", severity = "high" });
        Assert.True(first.Status == 200, first.ToString());
        Assert.Equal((4, 0, 0, 36), Counts(first.Json));
        var skipped = first.Json.GetProperty("skipped").EnumerateArray().ToDictionary(x => x.Str("test"), x => x.Str("reason"));
        Assert.Equal(36, skipped.Count);
        var daily = await TestIdsAsync(dbt, "model.jira.jira__daily_issue_field_history");
        Assert.Equal(2, daily.Count);
        Assert.All(daily, t => Assert.Equal("'issue_day_id' is not a column of public_jira_dev.jira__daily_issue_field_history in the run connector's catalog", skipped[t]));
        var comment = Assert.Single(await TestIdsAsync(dbt, "model.jira.stg_jira__comment"));
        Assert.Equal("table public_jira_dev.stg_jira__comment is not in the catalog of the run connector (sync it, or check the dbt target schema)", skipped[comment]);

        // The four checks, one per test, exactly as the runner will read them.
        var expected = new Dictionary<string, (string Model, string Type, string Config)>
        {
            [Single(await TestIdsAsync(dbt, "model.jira.jira__issue_enhanced"))] = ("jira__issue_enhanced", "null_check",
                $$"""{"type":"null_check","table":{{Table("jira__issue_enhanced")}},"column":"issue_id"}"""),
            [Single(await TestIdsAsync(dbt, "model.jira.stg_jira__user"))] = ("stg_jira__user", "null_check",
                $$"""{"type":"null_check","table":{{Table("stg_jira__user")}},"column":"user_id"}"""),
            [Single(await TestIdsAsync(dbt, "model.jira.int_jira__issue_calendar_spine", "unique"))] = ("int_jira__issue_calendar_spine", "uniqueness",
                $$"""{"type":"uniqueness","table":{{Table("int_jira__issue_calendar_spine")}},"columns":["issue_day_id"]}"""),
            [Single(await TestIdsAsync(dbt, "model.jira.int_jira__issue_calendar_spine", "not_null"))] = ("int_jira__issue_calendar_spine", "null_check",
                $$"""{"type":"null_check","table":{{Table("int_jira__issue_calendar_spine")}},"column":"issue_day_id"}"""),
        };
        var checks = (await viewer.Client.GetAsync($"/api/v1/spaces/{space}/checks?size=100")).Items();
        Assert.Equal(4, checks.Count);
        foreach (var check in checks)
        {
            var testId = await app.Database.ScalarAsync<string>($"SELECT external_id FROM source_tests WHERE id = '{check.GetProperty("source_test_id").GetGuid()}'");
            var (model, type, config) = expected[testId];
            Assert.Equal(type, check.Str("check_type"));
            SameJson(config, check.GetProperty("config"));
            Assert.Equal((warehouse, "0 0 3 * * *", "2026-03-02T03:00:00.000000Z", "high", true),
                (check.GetProperty("connector_id").GetGuid(), check.Str("schedule"), check.Str("next_run_at"), check.Str("severity"), check.GetProperty("is_active").GetBoolean()));
            Assert.Equal(testId.Split('.')[2], check.Str("name"));
            Assert.Equal($"Imported from dbt test {testId}", check.Str("description"));
            // The dbt model first, then the warehouse table it is materialised as.
            var products = check.GetProperty("products").EnumerateArray().Select(p => p.Id()).ToList();
            Assert.Equal([await ProductAsync(dbt, $"model.jira.{model}"), await ProductAsync(warehouse, $"public_jira_dev.{model}")], products);
            var column = type == "uniqueness" ? "issue_day_id" : JsonDocument.Parse(config).RootElement.GetProperty("column").GetString()!;
            var dbtHasField = await app.Database.ScalarAsync<long>($"SELECT count(*) FROM product_fields WHERE product_id = '{products[0]}' AND name = '{column}'") == 1;
            Assert.Equal(dbtHasField ? column : null, check.GetProperty("field").GetString());
        }

        // Idempotent: the same import changes nothing.
        var versions = await VersionsAsync(space);
        var again = await editor.Client.PostAsync(import, new { run_connector_id = warehouse });
        Assert.Equal((0, 0, 4, 36), Counts(again.Json));
        Assert.Equal(versions, await VersionsAsync(space));

        // accepted_values and relationships tests (and one whose parent is unknown) added to the manifest.
        var manifest = JsonNode.Parse(SourceDatabases.DbtManifest)!;
        var nodes = manifest["nodes"]!.AsObject();
        const string issue = "model.jira.jira__issue_enhanced";
        nodes["test.jira.accepted_values_status"] = TestNode("accepted_values_status", "accepted_values", issue, "status",
            new JsonObject { ["values"] = new JsonArray("open", "closed", 3) }, [issue]);
        nodes["test.jira.relationships_assignee"] = TestNode("relationships_assignee", "relationships", issue, "assignee_user_id",
            new JsonObject { ["to"] = "ref('stg_jira__user')", ["field"] = "user_id" }, ["model.jira.stg_jira__user", issue]);
        nodes["test.jira.relationships_nowhere"] = TestNode("relationships_nowhere", "relationships", issue, "assignee_user_id",
            new JsonObject { ["to"] = "ref('nope')", ["field"] = "id" }, [issue]);
        Assert.Equal(200, (await DbtUploadTests.UploadAsync(admin.Client, space, dbt, JsonSerializer.SerializeToUtf8Bytes(manifest))).Status);
        var third = await editor.Client.PostAsync(import, new { run_connector_id = warehouse });
        Assert.Equal((2, 0, 4, 37), Counts(third.Json));
        Assert.Contains(third.Json.GetProperty("skipped").EnumerateArray(), x => x.Str("test") == "test.jira.relationships_nowhere"
            && x.Str("reason") == "cannot resolve the parent ref('nope') to a model, seed, snapshot or source of this connector");

        var accepted = await CheckOfTestAsync(viewer.Client, space, "test.jira.accepted_values_status");
        SameJson($$"""{"type":"accepted_values","table":{{Table("jira__issue_enhanced")}},"column":"status","values":["open","closed","3"]}""", accepted.GetProperty("config"));
        var relationship = await CheckOfTestAsync(viewer.Client, space, "test.jira.relationships_assignee");
        const string sql = "SELECT child.\"assignee_user_id\" FROM \"public_jira_dev\".\"jira__issue_enhanced\" AS child WHERE child.\"assignee_user_id\" IS NOT NULL AND NOT EXISTS " +
                           "(SELECT 1 FROM \"public_jira_dev\".\"stg_jira__user\" AS parent WHERE parent.\"user_id\" = child.\"assignee_user_id\")";
        SameJson(JsonSerializer.Serialize(new { type = "sql_condition", sql }), relationship.GetProperty("config"));
        // Both run on the warehouse: 'weird' is not accepted; assignee 3 has no user (the NULL assignee is no orphan).
        var (source, creds) = PostgresScraperFixture.Source(_warehouse.Name);
        var runner = new CheckRunner(TimeProvider.System);
        foreach (var (check, failing) in new[] { (accepted, 1.0), (relationship, 1.0) })
        {
            var stored = await app.WithDbAsync(db => db.QualityChecks.AsNoTracking().SingleAsync(c => c.Id == check.Id()));
            var outcome = await runner.RunAsync(PostgresCheckDialect.Instance.Compile(new CheckDefinition(CheckConfigJson.Read(stored.Config))), source, creds, default);
            Assert.Equal((CheckStatus.Fail, failing), (outcome.Status, outcome.Metric));
        }

        // Another connector on the same warehouse: every imported check moves to it (config unchanged, connector and table product new).
        var replica = await IngestionFixture.CreatePostgresConnectorAsync(admin.Client, space, _warehouse.ConnectionString, name: "replica");
        Assert.Equal("succeeded", (await app.SyncAsync(admin.Client, space, replica)).Str("status"));
        var moved = await editor.Client.PostAsync(import, new { run_connector_id = replica });
        Assert.Equal((0, 6, 0, 37), Counts(moved.Json));
        var movedCheck = await CheckOfTestAsync(viewer.Client, space, "test.jira.accepted_values_status");
        Assert.Equal(replica, movedCheck.GetProperty("connector_id").GetGuid());
        Assert.Equal([await ProductAsync(dbt, issue), await ProductAsync(replica, "public_jira_dev.jira__issue_enhanced")],
            movedCheck.GetProperty("products").EnumerateArray().Select(p => p.Id()));
        Assert.Equal((0, 0, 6, 37), Counts((await editor.Client.PostAsync(import, new { run_connector_id = replica })).Json));
        Assert.Equal(6L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM quality_checks WHERE source_test_id IS NOT NULL AND space_id = (SELECT id FROM spaces WHERE slug = '{space}')"));

        // Refusals.
        Assert.Equal(["body.run_connector_id connector_not_runnable"], (await editor.Client.PostAsync(import, new { run_connector_id = dbt })).Errors());
        Assert.Equal(["body.run_connector_id unknown_connector"], (await editor.Client.PostAsync(import, new { run_connector_id = Guid.NewGuid() })).Errors());
        Assert.Equal(["path.connector_id not_dbt_connector"],
            (await editor.Client.PostAsync($"/api/v1/spaces/{space}/connectors/{warehouse}/tests/import", new { run_connector_id = warehouse })).Errors());
        Assert.Equal(["body.run_connector_id missing"], (await editor.Client.PostAsync(import, new { })).Errors());
        Assert.Equal(["body.schedule cron_invalid"], (await editor.Client.PostAsync(import, new { run_connector_id = warehouse, schedule = "daily" })).Errors());
        Assert.Equal(403, (await viewer.Client.PostAsync(import, new { run_connector_id = warehouse })).Status);
        Assert.Equal(404, (await editor.Client.PostAsync($"/api/v1/spaces/{space}/connectors/{Guid.NewGuid()}/tests/import", new { run_connector_id = warehouse })).Status);
    }

    private static (int, int, int, int) Counts(JsonElement r)
        => (r.GetProperty("created").GetInt32(), r.GetProperty("updated").GetInt32(), r.GetProperty("unchanged").GetInt32(), r.GetProperty("skipped").GetArrayLength());

    private static string Single(List<string> ids) => Assert.Single(ids);

    private async Task<List<string>> TestIdsAsync(Guid connector, string productExternalId, string? type = null)
    {
        var rows = await app.Database.ScalarAsync<string>(
            $"SELECT coalesce(string_agg(t.external_id, ',' ORDER BY t.external_id), '') FROM source_tests t JOIN data_products p ON p.id = t.product_id " +
            $"WHERE t.connector_id = '{connector}' AND p.external_id = '{productExternalId}'" + (type is null ? "" : $" AND t.test_type = '{type}'"));
        return rows.Split(',', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    private async Task<Guid> ProductAsync(Guid connector, string externalId)
        => Guid.Parse(await app.Database.ScalarAsync<string>($"SELECT id::text FROM data_products WHERE source_connector_id = '{connector}' AND external_id = '{externalId}'"));

    private Task<string> VersionsAsync(string space)
        => app.Database.ScalarAsync<string>(
            $"SELECT string_agg(c.id::text || ':' || c.xmin::text, ',' ORDER BY c.id) FROM quality_checks c JOIN spaces s ON s.id = c.space_id WHERE s.slug = '{space}'");

    private async Task<JsonElement> CheckOfTestAsync(ApiClient client, string space, string testExternalId)
    {
        var id = await app.Database.ScalarAsync<string>(
            $"SELECT c.id::text FROM quality_checks c JOIN source_tests t ON t.id = c.source_test_id WHERE t.external_id = '{testExternalId}' AND c.space_id = (SELECT id FROM spaces WHERE slug = '{space}')");
        var response = await client.GetAsync($"/api/v1/spaces/{space}/checks/{id}");
        Assert.True(response.Status == 200, response.ToString());
        return response.Json.Clone();
    }

    private static JsonObject TestNode(string name, string type, string attached, string column, JsonObject kwargs, string[] dependsOn)
    {
        kwargs["column_name"] = column;
        kwargs["model"] = $"{{{{ get_where_subquery(ref('{attached.Split('.')[2]}')) }}}}";
        return new JsonObject
        {
            ["resource_type"] = "test",
            ["unique_id"] = $"test.jira.{name}",
            ["name"] = name,
            ["attached_node"] = attached,
            ["column_name"] = column,
            ["test_metadata"] = new JsonObject { ["name"] = type, ["namespace"] = null, ["kwargs"] = kwargs },
            ["depends_on"] = new JsonObject { ["nodes"] = new JsonArray(dependsOn.Select(d => (JsonNode)JsonValue.Create(d)!).ToArray()) },
            ["config"] = new JsonObject(),
        };
    }
}
