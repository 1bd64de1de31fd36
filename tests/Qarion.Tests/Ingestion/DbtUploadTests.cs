using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Ingestion;

/// <summary>
/// Uploading a dbt manifest through <c>POST …/connectors/{id}/manifest</c>: the real Fivetran dbt_jira manifest
/// (shared/data/dbt, see SOURCE.md) lands in the catalog exactly as its JSON says, a re-upload writes nothing,
/// and every rejected upload leaves the catalog and the job history as they were.
/// </summary>
public sealed class DbtUploadTests(IngestionFixture app) : IClassFixture<IngestionFixture>
{
    private async Task<(string Space, ApiClient Admin, Guid SpaceId)> ArrangeAsync()
    {
        var admin = await app.CreateUserAsync("Admin");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"));
        var spaceId = (await admin.Client.GetAsync($"/api/v1/spaces/{space}")).Json.Id();
        return (space, admin.Client, spaceId);
    }

    private static async Task<Guid> DbtConnectorAsync(ApiClient admin, string space, string name = "jira-docs", object? config = null, object? filters = null, string? mergeStrategy = null)
    {
        var body = new Dictionary<string, object?> { ["name"] = name, ["platform"] = "dbt_manifest" };
        if (config is not null) body["config"] = config;
        if (filters is not null) body["filters"] = filters;
        if (mergeStrategy is not null) body["merge_strategy"] = mergeStrategy;
        return (await IngestionFixture.CreateConnectorAsync(admin, space, body)).Id();
    }

    internal static Task<ApiResponse> UploadAsync(ApiClient client, string space, Guid connector, byte[]? body, string? contentType = "application/json")
        => client.SendAsync("POST", $"/api/v1/spaces/{space}/connectors/{connector}/manifest", body, contentType, null);

    private static async Task<JsonElement> UploadOkAsync(ApiClient client, string space, Guid connector, byte[] body)
    {
        var response = await UploadAsync(client, space, connector, body);
        Assert.True(response.Status == 200, response.ToString());
        Assert.Equal("succeeded", response.Json.Str("status"));
        Assert.Equal("upload", response.Json.Str("trigger"));
        return response.Json.Clone();
    }

    private static (int Added, int Updated, int MarkedStale, int Unchanged) Counts(JsonElement job)
        => (job.GetProperty("added").GetInt32(), job.GetProperty("updated").GetInt32(), job.GetProperty("marked_stale").GetInt32(), job.GetProperty("unchanged").GetInt32());

    private static void SameSet(IEnumerable<string> expected, IEnumerable<string> actual)
        => Assert.Equal(expected.Order(StringComparer.Ordinal).ToList(), actual.Order(StringComparer.Ordinal).ToList());

    private Task<long> CountAsync(string sql) => app.Database.ScalarAsync<long>(sql);

    private async Task<HashSet<string>> SetAsync(string sql)
        => (await app.Database.ScalarAsync<string>($"SELECT coalesce(string_agg(x, E'\\n'), '') FROM ({sql}) AS q(x)"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);

    /// <summary>Row versions of everything an upload may write in the space, plus the audit log's size.</summary>
    private async Task<string> FingerprintAsync(Guid spaceId)
    {
        var s = spaceId.ToString();
        return string.Join("|",
            await app.Database.ScalarAsync<string>($"SELECT coalesce(string_agg(id::text || ':' || xmin::text, ',' ORDER BY id), '') FROM data_products WHERE space_id = '{s}'"),
            await app.Database.ScalarAsync<string>($"SELECT coalesce(string_agg(f.id::text || ':' || f.xmin::text, ',' ORDER BY f.id), '') FROM product_fields f JOIN data_products p ON p.id = f.product_id WHERE p.space_id = '{s}'"),
            await app.Database.ScalarAsync<string>($"SELECT coalesce(string_agg(id::text || ':' || xmin::text, ',' ORDER BY id), '') FROM lineage_edges WHERE space_id = '{s}'"),
            await app.Database.ScalarAsync<string>($"SELECT coalesce(string_agg(id::text || ':' || xmin::text, ',' ORDER BY id), '') FROM source_tests WHERE space_id = '{s}'"),
            await CountAsync("SELECT count(*) FROM audit_log"),
            await CountAsync("SELECT count(*) FROM schema_changes"),
            await CountAsync("SELECT count(*) FROM product_tags"));
    }

    // ----- the real manifest -----

    [Fact]
    public async Task The_real_manifest_lands_in_the_catalog_exactly_as_its_json_says_and_a_re_upload_writes_nothing()
    {
        var facts = ManifestFacts.Of(SourceDatabases.DbtManifest);
        // The independent count agrees with SOURCE.md, so neither can drift unnoticed.
        Assert.Equal((61, 22, 18, 0), (facts.Count("model"), facts.Count("seed"), facts.Count("source"), facts.Count("snapshot")));
        Assert.Equal((101, 108, 40), (facts.Products.Count, facts.Edges.Count, facts.Tests.Count));
        var (space, admin, spaceId) = await ArrangeAsync();
        var connector = await DbtConnectorAsync(admin, space);

        var job = await UploadOkAsync(admin, space, connector, SourceDatabases.DbtManifest);

        Assert.Equal((facts.Products.Count, 0, 0, 0), Counts(job));
        Assert.Equal(0, job.GetProperty("warnings").GetArrayLength());
        var inSpace = $"space_id = '{spaceId}'";
        SameSet(facts.Products.Keys.ToHashSet(), await SetAsync($"SELECT external_id FROM data_products WHERE {inSpace} AND source_connector_id = '{connector}'"));
        Assert.Equal(facts.Products.Count, await CountAsync($"SELECT count(*) FROM data_products WHERE {inSpace}"));
        Assert.Equal(facts.Count("source"), await CountAsync($"SELECT count(*) FROM data_products WHERE {inSpace} AND product_type = 'dbt_source'"));
        Assert.Equal(facts.Count("model") + facts.Count("seed"), await CountAsync($"SELECT count(*) FROM data_products WHERE {inSpace} AND product_type = 'dbt_model'"));
        Assert.Equal(facts.ColumnCount, await CountAsync($"SELECT count(*) FROM product_fields f JOIN data_products p ON p.id = f.product_id WHERE p.{inSpace}"));
        SameSet(facts.Edges, await SetAsync(
            $"SELECT u.external_id || ' -> ' || d.external_id FROM lineage_edges l JOIN data_products u ON u.id = l.upstream_id JOIN data_products d ON d.id = l.downstream_id WHERE l.{inSpace}"));
        Assert.Equal(facts.Edges.Count, await CountAsync($"SELECT count(*) FROM lineage_edges WHERE {inSpace} AND source_connector_id = '{connector}'"));
        SameSet(facts.Tests, await SetAsync($"SELECT external_id FROM source_tests WHERE connector_id = '{connector}'"));
        // The same tests through the API, each with the product it tests.
        var listed = new List<System.Text.Json.JsonElement>();
        for (var page = 1; ; page++)
        {
            var items = (await admin.GetAsync($"/api/v1/spaces/{space}/connectors/{connector}/tests?size=100&page={page}")).Items();
            listed.AddRange(items);
            if (items.Count < 100) break;
        }
        SameSet(facts.Tests, listed.Select(t => t.Str("external_id")).ToHashSet(StringComparer.Ordinal));
        var externalIdOf = (await SetAsync($"SELECT id::text || ' ' || external_id FROM data_products WHERE source_connector_id = '{connector}'"))
            .Select(x => x.Split(' ', 2)).ToDictionary(x => Guid.Parse(x[0]), x => x[1]);
        Assert.All(listed, t => Assert.Equal(facts.TestProducts[t.Str("external_id")], externalIdOf[t.GetProperty("product_id").GetGuid()]));

        // One model, checked attribute by attribute against its JSON.
        const string modelId = "model.jira.jira__user_enhanced";
        var model = facts.Products[modelId];
        var slug = await app.Database.ScalarAsync<string>($"SELECT slug FROM data_products WHERE {inSpace} AND external_id = '{modelId}'");
        var product = (await admin.GetAsync($"/api/v1/spaces/{space}/products/{slug}")).Json;
        Assert.Equal(((string)model["name"]!, ((string)model["description"]!).Trim(), "dbt_model", "dbt"),
            (product.Str("name"), product.Str("description"), product.Str("product_type"), product.Str("provider")));
        Assert.Equal($"{model["database"]}.{model["schema"]}.{model["alias"]}", product.Str("hosting_location"));
        Assert.False(product.GetProperty("is_stale").GetBoolean());
        var columns = model["columns"]!.AsObject();
        Assert.Equal(columns.Count, product.GetProperty("field_count").GetInt32());
        var fields = (await admin.GetAsync($"/api/v1/spaces/{space}/products/{slug}/fields")).Json.EnumerateArray().ToDictionary(f => f.Str("name"));
        SameSet(columns.Select(c => c.Key), fields.Keys);
        foreach (var (name, column) in columns)
            Assert.Equal(((string)column!["description"]!).Trim(), fields[name].Str("description"));

        // Its lineage, through the API: exactly the products its depends_on names.
        var ids = (await SetAsync($"SELECT external_id || '=' || id::text FROM data_products WHERE {inSpace}"))
            .Select(x => x.Split('=')).ToDictionary(x => x[0], x => Guid.Parse(x[1]));
        var lineage = await admin.GetAsync($"/api/v1/spaces/{space}/products/{slug}/lineage?direction=upstream&depth=1");
        Assert.True(lineage.Status == 200, lineage.ToString());
        var upstream = lineage.Json.GetProperty("edges").EnumerateArray()
            .Where(e => e.GetProperty("downstream_id").GetGuid() == product.Id()).Select(e => e.GetProperty("upstream_id").GetGuid()).ToHashSet();
        var dependsOn = model["depends_on"]!["nodes"]!.AsArray().Select(n => (string)n!).ToList();
        Assert.NotEmpty(dependsOn);
        Assert.Equal(dependsOn.Select(n => ids[n]).Order().ToList(), upstream.Order().ToList());

        // The same file again: nothing to do, and nothing written.
        var before = await FingerprintAsync(spaceId);
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var again = await UploadOkAsync(admin, space, connector, SourceDatabases.DbtManifest);
        Assert.Equal((0, 0, 0, facts.Products.Count), Counts(again));
        Assert.Equal(before, await FingerprintAsync(spaceId));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM sync_snapshots"));
        var history = (await admin.GetAsync($"/api/v1/spaces/{space}/connectors/{connector}/sync-history")).Items();
        Assert.Equal([again.Id(), job.Id()], history.Select(h => h.Id()));
    }

    // ----- rejected uploads -----

    [Fact]
    public async Task Rejected_manifests_get_a_machine_readable_4xx_and_leave_the_catalog_and_the_job_history_unchanged()
    {
        var (space, admin, spaceId) = await ArrangeAsync();
        var connector = await DbtConnectorAsync(admin, space);
        await UploadOkAsync(admin, space, connector, SourceDatabases.DbtManifest);
        var pg = (await IngestionFixture.CreateConnectorAsync(admin, space, new { name = "pg", platform = "postgresql", config = new { host = "db.invalid", database = "d" } })).Id();
        var paused = await DbtConnectorAsync(admin, space, "paused");
        Assert.Equal(200, (await admin.PatchAsync($"/api/v1/spaces/{space}/connectors/{paused}", new { is_active = false })).Status);
        var catalog = await FingerprintAsync(spaceId);
        var products = await CountAsync($"SELECT count(*) FROM data_products WHERE space_id = '{spaceId}'");
        var edges = await CountAsync($"SELECT count(*) FROM lineage_edges WHERE space_id = '{spaceId}'");
        var jobs = await app.Database.ScalarAsync<string>($"SELECT string_agg(id::text || ':' || status, ',' ORDER BY id) FROM sync_jobs WHERE space_id = '{spaceId}'");
        var real = SourceDatabases.DbtManifest;

        var cases = new (string What, Guid Connector, byte[]? Body, string? ContentType, int Status, string Code, string? ErrorType)[]
        {
            ("truncated", connector, real[..(real.Length / 2)], "application/json", 422, "validation_failed", "manifest_invalid_json"),
            ("v5", connector, Utf8("""{"metadata":{"dbt_schema_version":"https://schemas.getdbt.com/dbt/manifest/v5.json"},"nodes":{}}"""), "application/json", 422, "validation_failed", "manifest_unsupported_version"),
            ("v13", connector, Utf8("""{"metadata":{"dbt_schema_version":"https://schemas.getdbt.com/dbt/manifest/v13.json"},"nodes":{}}"""), "application/json", 422, "validation_failed", "manifest_unsupported_version"),
            ("not json", connector, Utf8("not json"), "application/json", 422, "validation_failed", "manifest_invalid_json"),
            ("empty", connector, [], "application/json", 422, "validation_failed", "missing"),
            ("no body", connector, null, null, 422, "validation_failed", "missing"),
            ("array", connector, Utf8("[]"), "application/json", 422, "validation_failed", "manifest_invalid"),
            ("no nodes", connector, Utf8("""{"metadata":{"dbt_schema_version":"https://schemas.getdbt.com/dbt/manifest/v12.json"}}"""), "application/json", 422, "validation_failed", "manifest_invalid"),
            ("catalog.json", connector, Utf8("""{"metadata":{"dbt_schema_version":"https://schemas.getdbt.com/dbt/catalog/v1.json"},"nodes":{}}"""), "application/json", 422, "validation_failed", "manifest_invalid"),
            ("text/plain", connector, real, "text/plain", 415, "unsupported_media_type", null),
            ("postgresql connector", pg, real, "application/json", 409, "wrong_platform", null),
            ("inactive connector", paused, real, "application/json", 409, "connector_inactive", null),
            ("unknown connector", Guid.NewGuid(), real, "application/json", 404, "not_found", null),
        };
        foreach (var (what, target, body, contentType, status, code, errorType) in cases)
        {
            var response = await UploadAsync(admin, space, target, body, contentType);
            Assert.True(response.Status == status, $"{what}: {response}");
            Assert.StartsWith("application/problem+json", response.Header("Content-Type"));
            Assert.True(response.Json.Str("code") == code, $"{what}: {response}");
            Assert.False(string.IsNullOrWhiteSpace(response.Json.Str("detail")));
            if (errorType is not null)
            {
                var error = response.Json.GetProperty("errors")[0];
                Assert.True(error.Str("type") == errorType, $"{what}: {response}");
                Assert.Equal(["body"], error.GetProperty("loc").EnumerateArray().Select(x => x.GetString()));
            }
            Assert.True(catalog == await FingerprintAsync(spaceId), $"{what} changed the catalog");
            Assert.Equal(products, await CountAsync($"SELECT count(*) FROM data_products WHERE space_id = '{spaceId}'"));
            Assert.Equal(edges, await CountAsync($"SELECT count(*) FROM lineage_edges WHERE space_id = '{spaceId}'"));
            // Parsing comes before the job: a rejected upload leaves no job behind, not even a failed one.
            Assert.True(jobs == await app.Database.ScalarAsync<string>($"SELECT string_agg(id::text || ':' || status, ',' ORDER BY id) FROM sync_jobs WHERE space_id = '{spaceId}'"), what);
        }

        var truncated = await UploadAsync(admin, space, connector, real[..(real.Length / 2)]);
        Assert.Matches(@"line \d+, byte \d+", truncated.Json.GetProperty("errors")[0].Str("msg"));
        var unsupported = await UploadAsync(admin, space, connector, cases[1].Body);
        Assert.Contains("v5", unsupported.Json.GetProperty("errors")[0].Str("msg"), StringComparison.Ordinal);
    }

    // ----- what a connector imports -----

    [Fact]
    public async Task Resource_types_and_a_table_regex_decide_which_nodes_become_products()
    {
        var facts = ManifestFacts.Of(SourceDatabases.DbtManifest);

        var (sourcesSpace, admin, sourcesSpaceId) = await ArrangeAsync();
        var sourcesOnly = await DbtConnectorAsync(admin, sourcesSpace, config: new { resource_types = new[] { "source" } });
        var job = await UploadOkAsync(admin, sourcesSpace, sourcesOnly, SourceDatabases.DbtManifest);
        var sources = facts.Products.Where(p => p.Value["resource_type"]!.GetValue<string>() == "source").Select(p => p.Key).ToHashSet();
        Assert.Equal(18, sources.Count);
        Assert.Equal(sources.Count, Counts(job).Added);
        SameSet(sources, await SetAsync($"SELECT external_id FROM data_products WHERE space_id = '{sourcesSpaceId}'"));
        Assert.Equal(0, await CountAsync($"SELECT count(*) FROM data_products WHERE space_id = '{sourcesSpaceId}' AND product_type <> 'dbt_source'"));
        Assert.Equal(facts.EdgesWithin(sources).Count, await CountAsync($"SELECT count(*) FROM lineage_edges WHERE space_id = '{sourcesSpaceId}'"));
        Assert.Equal(0, await CountAsync($"SELECT count(*) FROM lineage_edges WHERE space_id = '{sourcesSpaceId}'"));
        Assert.Equal(facts.TestsOn(sources).Count, await CountAsync($"SELECT count(*) FROM source_tests WHERE connector_id = '{sourcesOnly}'"));

        var (stagingSpace, stagingAdmin, stagingSpaceId) = await ArrangeAsync();
        var staging = await DbtConnectorAsync(stagingAdmin, stagingSpace, filters: new { table_regex = "^stg_" });
        var stagingJob = await UploadOkAsync(stagingAdmin, stagingSpace, staging, SourceDatabases.DbtManifest);
        var regex = new Regex("^stg_");
        var matching = facts.Products.Where(p => regex.IsMatch(p.Value["name"]!.GetValue<string>())).Select(p => p.Key).ToHashSet();
        Assert.Equal(facts.Count("model", name => name.StartsWith("stg_", StringComparison.Ordinal)), matching.Count);
        Assert.InRange(matching.Count, 1, facts.Products.Count - 1);
        Assert.Equal(matching.Count, Counts(stagingJob).Added);
        SameSet(matching, await SetAsync($"SELECT external_id FROM data_products WHERE space_id = '{stagingSpaceId}'"));
        SameSet(facts.EdgesWithin(matching), await SetAsync(
            $"SELECT u.external_id || ' -> ' || d.external_id FROM lineage_edges l JOIN data_products u ON u.id = l.upstream_id JOIN data_products d ON d.id = l.downstream_id WHERE l.space_id = '{stagingSpaceId}'"));
        SameSet(facts.TestsOn(matching), await SetAsync($"SELECT external_id FROM source_tests WHERE connector_id = '{staging}'"));
    }

    [Fact]
    public async Task With_refresh_a_model_gone_from_the_manifest_is_marked_stale_and_loses_its_lineage_and_tests()
    {
        var (space, admin, spaceId) = await ArrangeAsync();
        var connector = await DbtConnectorAsync(admin, space, mergeStrategy: "refresh");
        await UploadOkAsync(admin, space, connector, SourceDatabases.DbtManifest);

        // A model in the middle of the graph: it has parents, children and a test.
        const string removed = "model.jira.stg_jira__issue";
        var manifest = JsonNode.Parse(SourceDatabases.DbtManifest)!.AsObject();
        var nodes = manifest["nodes"]!.AsObject();
        Assert.True(nodes.Remove(removed));
        foreach (var (_, node) in nodes)
            if (node!["depends_on"]?["nodes"] is JsonArray dependsOn)
                foreach (var reference in dependsOn.Where(n => (string)n! == removed).ToList()) dependsOn.Remove(reference);
        var modified = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        var original = ManifestFacts.Of(SourceDatabases.DbtManifest);
        var after = ManifestFacts.Of(modified);
        Assert.Equal(original.Products.Count - 1, after.Products.Count);
        Assert.True(original.Edges.Count > after.Edges.Count, "the removed model should have carried lineage");
        Assert.True(original.Tests.Count > after.Tests.Count, "the removed model should have had tests");

        var job = await UploadOkAsync(admin, space, connector, modified);

        Assert.Equal((0, 0, 1, after.Products.Count), Counts(job));
        var slug = await app.Database.ScalarAsync<string>($"SELECT slug FROM data_products WHERE space_id = '{spaceId}' AND external_id = '{removed}'");
        var product = (await admin.GetAsync($"/api/v1/spaces/{space}/products/{slug}")).Json;
        Assert.True(product.GetProperty("is_stale").GetBoolean());
        Assert.Equal(app.Clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture), product.Str("stale_since"));
        SameSet([removed], await SetAsync($"SELECT external_id FROM data_products WHERE space_id = '{spaceId}' AND is_stale"));
        // Stale, not deleted; its fields stay with it.
        Assert.Equal(original.Products.Count, await CountAsync($"SELECT count(*) FROM data_products WHERE space_id = '{spaceId}'"));
        SameSet(after.Edges, await SetAsync(
            $"SELECT u.external_id || ' -> ' || d.external_id FROM lineage_edges l JOIN data_products u ON u.id = l.upstream_id JOIN data_products d ON d.id = l.downstream_id WHERE l.space_id = '{spaceId}'"));
        SameSet(after.Tests, await SetAsync($"SELECT external_id FROM source_tests WHERE connector_id = '{connector}'"));

        // Back in the manifest, it is live again.
        var restored = await UploadOkAsync(admin, space, connector, SourceDatabases.DbtManifest);
        Assert.Equal((0, 1, 0, after.Products.Count), Counts(restored));
        Assert.Equal(0, await CountAsync($"SELECT count(*) FROM data_products WHERE space_id = '{spaceId}' AND is_stale"));
        Assert.Equal(original.Edges.Count, await CountAsync($"SELECT count(*) FROM lineage_edges WHERE space_id = '{spaceId}'"));

        // Deleting the connector keeps the catalog it built (no longer maintained by it) and drops the tests it imported.
        Assert.Equal(204, (await admin.DeleteAsync($"/api/v1/spaces/{space}/connectors/{connector}")).Status);
        Assert.Equal(original.Products.Count, await CountAsync($"SELECT count(*) FROM data_products WHERE space_id = '{spaceId}' AND source_connector_id IS NULL"));
        Assert.Equal(original.Edges.Count, await CountAsync($"SELECT count(*) FROM lineage_edges WHERE space_id = '{spaceId}'"));
        Assert.Equal(0, await CountAsync($"SELECT count(*) FROM source_tests WHERE space_id = '{spaceId}'"));
        Assert.Equal(200, (await admin.GetAsync($"/api/v1/spaces/{space}/products/{slug}")).Status);
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}

/// <summary>An operator who caps manifests far below the default.</summary>
public sealed class SmallManifestLimitFixture : IngestionFixture
{
    public const int Limit = 200_000;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Qarion:Ingestion:MaxManifestBytes"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture) };
}

public sealed class DbtUploadLimitTests(SmallManifestLimitFixture app) : IClassFixture<SmallManifestLimitFixture>
{
    private const int Limit = SmallManifestLimitFixture.Limit;

    /// <summary>A valid one-model manifest padded with trailing whitespace to exactly <paramref name="size"/> bytes.</summary>
    private static byte[] PaddedManifest(int size)
    {
        var json = Encoding.UTF8.GetBytes("""
            {"metadata":{"dbt_schema_version":"https://schemas.getdbt.com/dbt/manifest/v12.json"},
             "nodes":{"model.shop.orders":{"unique_id":"model.shop.orders","resource_type":"model","name":"orders","database":"db","schema":"shop","alias":"orders","columns":{}}},
             "sources":{}}
            """);
        var padded = new byte[size];
        json.CopyTo(padded, 0);
        padded.AsSpan(json.Length).Fill((byte)' ');
        return padded;
    }

    [Fact]
    public async Task A_manifest_above_the_configured_limit_is_413_and_one_at_the_limit_is_accepted()
    {
        var admin = await app.CreateUserAsync("Admin");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"));
        var connector = (await IngestionFixture.CreateConnectorAsync(admin.Client, space, new { name = "docs", platform = "dbt_manifest" })).Id();
        var real = SourceDatabases.DbtManifest;
        Assert.True(real.Length > Limit);

        foreach (var body in new[] { real, PaddedManifest(Limit + 1) })
        {
            var tooLarge = await DbtUploadTests.UploadAsync(admin.Client, space, connector, body);
            Assert.True(tooLarge.Status == 413, tooLarge.ToString());
            Assert.Equal("payload_too_large", tooLarge.Code());
            // The message states the limit that applies, whatever its size.
            Assert.Contains("200000 bytes", tooLarge.Json.Str("detail"), StringComparison.Ordinal);
            Assert.Equal(0, await app.Database.ScalarAsync<long>("SELECT count(*) FROM data_products"));
            Assert.Equal(0, await app.Database.ScalarAsync<long>("SELECT count(*) FROM sync_jobs"));
        }

        var atLimit = await DbtUploadTests.UploadAsync(admin.Client, space, connector, PaddedManifest(Limit));
        Assert.True(atLimit.Status == 200, atLimit.ToString());
        Assert.Equal(("succeeded", 1), (atLimit.Json.Str("status"), atLimit.Json.GetProperty("added").GetInt32()));
        Assert.Equal("db.shop.orders", await app.Database.ScalarAsync<string>("SELECT hosting_location FROM data_products WHERE external_id = 'model.shop.orders'"));
    }
}

/// <summary>The shared real manifest (shared/data/dbt/manifest.json, found the way the Chinook script is).</summary>
/// <summary>
/// What a manifest should produce, computed straight from its JSON with nothing of the parser: products are
/// models, seeds, snapshots and sources; fields their column entries; edges the <c>depends_on.nodes</c> between
/// products; tests the generic not_null/unique/accepted_values/relationships tests attached to a product.
/// </summary>
internal sealed record ManifestFacts(Dictionary<string, JsonObject> Products, HashSet<string> Edges, Dictionary<string, string> TestProducts)
{
    private static readonly string[] ProductKinds = ["model", "seed", "snapshot"];
    private static readonly string[] TestTypes = ["not_null", "unique", "accepted_values", "relationships"];

    public HashSet<string> Tests => TestProducts.Keys.ToHashSet(StringComparer.Ordinal);

    public int ColumnCount => Products.Values.Sum(p => p["columns"] is JsonObject columns ? columns.Count : 0);

    public int Count(string kind, Func<string, bool>? name = null)
        => Products.Values.Count(p => (string?)p["resource_type"] == kind && (name?.Invoke((string)p["name"]!) ?? true));

    public HashSet<string> EdgesWithin(IReadOnlySet<string> ids)
        => Edges.Where(e => e.Split(" -> ") is [var up, var down] && ids.Contains(up) && ids.Contains(down)).ToHashSet(StringComparer.Ordinal);

    public HashSet<string> TestsOn(IReadOnlySet<string> ids)
        => TestProducts.Where(t => ids.Contains(t.Value)).Select(t => t.Key).ToHashSet(StringComparer.Ordinal);

    public static ManifestFacts Of(byte[] manifest)
    {
        var root = JsonNode.Parse(manifest)!.AsObject();
        var nodes = root["nodes"]!.AsObject().Select(n => n.Value!.AsObject()).ToList();
        var products = nodes.Where(n => ProductKinds.Contains((string?)n["resource_type"]))
            .Concat(root["sources"]!.AsObject().Select(n => n.Value!.AsObject()))
            .ToDictionary(n => (string)n["unique_id"]!, StringComparer.Ordinal);
        var edges = products.Values
            .SelectMany(n => (n["depends_on"]?["nodes"] as JsonArray ?? new JsonArray()).Select(u => (Up: (string)u!, Down: (string)n["unique_id"]!)))
            .Where(e => e.Up != e.Down && products.ContainsKey(e.Up))
            .Select(e => $"{e.Up} -> {e.Down}")
            .ToHashSet(StringComparer.Ordinal);
        var tests = nodes
            .Where(n => (string?)n["resource_type"] == "test" && TestTypes.Contains((string?)n["test_metadata"]?["name"])
                        && (string?)n["test_metadata"]?["namespace"] is null or "dbt"
                        && n["attached_node"] is JsonValue attached && products.ContainsKey((string)attached!))
            .ToDictionary(n => (string)n["unique_id"]!, n => (string)n["attached_node"]!, StringComparer.Ordinal);
        return new ManifestFacts(products, edges, tests);
    }
}
