using Qarion.Tests.Infrastructure;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Qarion.Core.Ingestion;
using Qarion.Core.Ingestion.Dbt;

namespace Qarion.Tests.Ingestion;

/// <summary>
/// The dbt manifest parser against a real v12 manifest (Fivetran's dbt_jira, see shared/data/dbt/SOURCE.md) and
/// small hand-written manifests for the older schema versions and for what the real one does not contain.
/// </summary>
public sealed class DbtManifestParserTests
{
    private static readonly DbtParseOptions All = new(SourceFilters.None);

    // ----- the real manifest -----

    [Fact]
    public void The_real_manifest_maps_to_the_counts_in_SOURCE_md()
    {
        var snapshot = DbtManifestParser.Parse(SourceDatabases.DbtManifest.AsMemory(), All);

        Assert.Equal(101, snapshot.Products.Count);
        Assert.Equal(61, snapshot.Products.Count(p => p.ExternalId.StartsWith("model.", StringComparison.Ordinal)));
        Assert.Equal(22, snapshot.Products.Count(p => p.ExternalId.StartsWith("seed.", StringComparison.Ordinal)));
        Assert.Equal(18, snapshot.Products.Count(p => p.ExternalId.StartsWith("source.", StringComparison.Ordinal)));
        Assert.Equal(0, snapshot.Products.Count(p => p.ExternalId.StartsWith("snapshot.", StringComparison.Ordinal)));
        Assert.Equal(83, snapshot.Products.Count(p => p.ProductType == "dbt_model"));
        Assert.Equal(18, snapshot.Products.Count(p => p.ProductType == "dbt_source"));
        Assert.All(snapshot.Products, p => Assert.Equal("dbt", p.Provider));

        Assert.Equal(108, snapshot.Edges.Count);
        Assert.Equal(18, snapshot.Edges.Count(e => e.UpstreamExternalId.StartsWith("source.", StringComparison.Ordinal)));
        Assert.Equal(90, snapshot.Edges.Count(e => e.UpstreamExternalId.StartsWith("model.", StringComparison.Ordinal)));

        Assert.Equal(668, snapshot.Products.Where(p => !p.ExternalId.StartsWith("seed.", StringComparison.Ordinal)).Sum(p => p.Fields.Count));
        Assert.All(snapshot.Products.SelectMany(p => p.Fields), f => Assert.NotNull(f.Description));

        Assert.Equal(40, snapshot.Tests.Count);
        Assert.Equal(34, snapshot.Tests.Count(t => t.TestType == "not_null"));
        Assert.Equal(6, snapshot.Tests.Count(t => t.TestType == "unique"));
        Assert.All(snapshot.Tests, t =>
        {
            Assert.StartsWith("model.", t.ProductExternalId, StringComparison.Ordinal);
            Assert.NotNull(t.Column);
            Assert.Equal("{}", t.Config);
        });
        Assert.Empty(snapshot.Warnings);
    }

    [Fact]
    public void The_real_manifest_agrees_with_counts_made_independently_from_the_json()
    {
        var root = JsonNode.Parse(SourceDatabases.DbtManifest.AsMemory().Span)!.AsObject();
        var nodes = root["nodes"]!.AsObject().Select(n => n.Value!.AsObject()).ToList();
        var sources = root["sources"]!.AsObject().Select(n => n.Value!.AsObject()).ToList();
        var products = nodes.Where(n => (string?)n["resource_type"] is "model" or "seed" or "snapshot").Concat(sources).ToList();
        var productIds = products.Select(n => (string)n["unique_id"]!).ToHashSet();
        var expectedFields = products.Sum(n => n["columns"]?.AsObject().Count ?? 0);
        var expectedEdges = products
            .SelectMany(n => (n["depends_on"]?["nodes"]?.AsArray() ?? new JsonArray()).Select(u => ((string)u!, (string)n["unique_id"]!)))
            .Where(e => productIds.Contains(e.Item1)).Distinct().Count();
        var testedColumns = nodes.Where(n => (string?)n["resource_type"] == "test")
            .Select(n => ((string?)n["test_metadata"]?["name"], (string?)n["attached_node"], (string?)n["column_name"])).ToList();
        var notNull = testedColumns.Where(t => t.Item1 == "not_null").Select(t => (t.Item2, t.Item3)).ToHashSet();
        var expectedKeys = testedColumns.Where(t => t.Item1 == "unique").Select(t => (t.Item2, t.Item3)).Distinct().Count(notNull.Contains);
        var seedColumns = nodes.Where(n => (string?)n["resource_type"] == "seed").Sum(n => n["columns"]?.AsObject().Count ?? 0);

        var snapshot = DbtManifestParser.Parse(SourceDatabases.DbtManifest.AsMemory(), All);

        var fields = snapshot.Products.SelectMany(p => p.Fields.Select(f => (Product: p.ExternalId, Field: f))).ToList();
        Assert.Equal(expectedFields, fields.Count);
        Assert.Equal(668 + seedColumns, fields.Count);
        Assert.Equal(seedColumns, fields.Count(f => f.Product.StartsWith("seed.", StringComparison.Ordinal)));
        Assert.Equal(expectedEdges, snapshot.Edges.Count);
        Assert.Equal(expectedKeys, fields.Count(f => f.Field.IsPrimaryKey));
        Assert.True(expectedKeys > 0, "the real manifest should have columns tested both unique and not_null");
        Assert.Equal(notNull.Count, fields.Count(f => !f.Field.IsNullable));
        Assert.All(fields, f => Assert.Null(f.Field.ForeignKeyTarget));
        // Ordinals follow the JSON order of each product's columns.
        Assert.All(snapshot.Products, p => Assert.Equal(Enumerable.Range(1, p.Fields.Count), p.Fields.Select(f => f.Ordinal)));
    }

    [Fact]
    public void A_real_model_and_source_map_fully()
    {
        var snapshot = DbtManifestParser.Parse(SourceDatabases.DbtManifest.AsMemory(), All);

        var user = snapshot.Products.Single(p => p.ExternalId == "model.jira.jira__user_enhanced");
        Assert.Equal("jira__user_enhanced", user.Name);
        Assert.Equal("dbt_model", user.ProductType);
        Assert.Equal("public_jira_dev", user.Schema);
        Assert.Equal("postgres.public_jira_dev.jira__user_enhanced", user.HostingLocation);
        Assert.Equal("Table of users enriched with their projects, and the volume and velocity of their issues.", user.Description);
        Assert.Null(user.RowCountEstimate);
        Assert.Empty(user.Tags);
        Assert.Null(user.OwnerEmail);
        Assert.Equal(20, user.Fields.Count);
        Assert.Equal(new SnapshotField("source_relation", null, true, "Identifies the record's source.", 1, false, null, null), user.Fields[0]);
        Assert.Equal(new SnapshotField("email", null, true, "Email associated with the user acccount.", 4, false, null, null), user.Fields[3]);
        // user_id has a not_null test but no unique one.
        Assert.Equal(new SnapshotField("user_id", null, false, "Unique ID of the user.", 3, false, null, null), user.Fields[2]);
        Assert.Equal(
            ["model.jira.int_jira__user_metrics", "model.jira.jira__issue_enhanced", "model.jira.stg_jira__user"],
            snapshot.Edges.Where(e => e.DownstreamExternalId == user.ExternalId).Select(e => e.UpstreamExternalId));

        var daily = snapshot.Products.Single(p => p.ExternalId == "model.jira.jira__daily_issue_field_history");
        var key = Assert.Single(daily.Fields, f => f.IsPrimaryKey);
        Assert.Equal("issue_day_id", key.Name);
        Assert.False(key.IsNullable);

        var comment = snapshot.Products.Single(p => p.ExternalId == "source.jira.jira.comment");
        Assert.Equal(("comment", "dbt_source", "public", "postgres.public.comment", "Table of comments made on issues."),
            (comment.Name, comment.ProductType, comment.Schema, comment.HostingLocation, comment.Description));
        Assert.Equal(8, comment.Fields.Count);
        Assert.Equal(("id", "Unique ID of the comment.", 1), (comment.Fields[0].Name, comment.Fields[0].Description, comment.Fields[0].Ordinal));

        var seed = snapshot.Products.Single(p => p.ExternalId == "seed.jira_integration_tests.issue_type");
        Assert.Equal(("issue_type", "dbt_model", "postgres.public.issue_type", (string?)null),
            (seed.Name, seed.ProductType, seed.HostingLocation, seed.Description));
        Assert.DoesNotContain(snapshot.Edges, e => e.DownstreamExternalId == seed.ExternalId || e.UpstreamExternalId == seed.ExternalId);
    }

    [Fact]
    public void Output_is_sorted_whatever_the_file_order()
    {
        var snapshot = DbtManifestParser.Parse(SourceDatabases.DbtManifest.AsMemory(), All);

        Assert.Equal(snapshot.Products.Select(p => p.ExternalId).Order(StringComparer.Ordinal), snapshot.Products.Select(p => p.ExternalId));
        Assert.Equal(snapshot.Tests.Select(t => t.ExternalId).Order(StringComparer.Ordinal), snapshot.Tests.Select(t => t.ExternalId));
        Assert.Equal(
            snapshot.Edges.OrderBy(e => e.UpstreamExternalId, StringComparer.Ordinal).ThenBy(e => e.DownstreamExternalId, StringComparer.Ordinal),
            snapshot.Edges);
        Assert.Equal(snapshot.Edges.Count, snapshot.Edges.Distinct().Count());
    }

    // ----- older schema versions -----

    [Fact]
    public void A_v7_manifest_maps_tests_owners_tags_and_foreign_keys()
    {
        var snapshot = Parse(V7);

        Assert.Equal(["model.shop.customers", "model.shop.orders", "source.shop.raw.customers", "source.shop.raw.orders"],
            snapshot.Products.Select(p => p.ExternalId));

        var customers = snapshot.Products[0];
        Assert.Equal(("customers", "dbt_model", "analytics", "warehouse.analytics.dim_customers", "One row per customer."),
            (customers.Name, customers.ProductType, customers.Schema, customers.HostingLocation, customers.Description));
        Assert.Equal(["core", "pii"], customers.Tags);
        Assert.Equal("ana@example.com", customers.OwnerEmail);
        Assert.Equal(
            [
                new SnapshotField("customer_id", "integer", false, "The key.", 1, true, null, null),
                new SnapshotField("status", null, true, null, 2, false, null, null),
            ],
            customers.Fields);

        var orders = snapshot.Products[1];
        Assert.Equal("warehouse.analytics.orders", orders.HostingLocation); // alias null: the name
        Assert.Null(orders.OwnerEmail);
        Assert.Equal(new SnapshotField("customer_id", null, true, null, 2, false, "warehouse.analytics.dim_customers.customer_id", null), orders.Fields[1]);

        var rawCustomers = snapshot.Products[2];
        Assert.Equal(("customers", "dbt_source", "warehouse.raw.customers_v1", "data@example.com"),
            (rawCustomers.Name, rawCustomers.ProductType, rawCustomers.HostingLocation, rawCustomers.OwnerEmail));
        Assert.Empty(rawCustomers.Fields);
        Assert.Equal("raw.orders", snapshot.Products[3].HostingLocation); // no database, no identifier

        Assert.Equal(
            [
                new SnapshotEdge("model.shop.customers", "model.shop.orders"),
                new SnapshotEdge("source.shop.raw.customers", "model.shop.customers"),
                new SnapshotEdge("source.shop.raw.orders", "model.shop.orders"),
            ],
            snapshot.Edges);

        Assert.Equal(
            [
                new ImportedTest("test.shop.accepted_values_customers_status.a1", "accepted_values_customers_status", "accepted_values",
                    "model.shop.customers", "status", """{"values":["active","churned"],"quote":true}"""),
                new ImportedTest("test.shop.not_null_customers_customer_id.b2", "not_null_customers_customer_id", "not_null",
                    "model.shop.customers", "customer_id", "{}"),
                // No attached_node before v9, and the target is listed first: the model argument names the tested one.
                new ImportedTest("test.shop.relationships_orders_customer_id.c3", "relationships_orders_customer_id", "relationships",
                    "model.shop.orders", "customer_id", """{"to":"ref('customers')","field":"customer_id"}"""),
                new ImportedTest("test.shop.unique_customers_customer_id.d4", "unique_customers_customer_id", "unique",
                    "model.shop.customers", "customer_id", "{}"),
            ],
            snapshot.Tests);
        Assert.Equal(
            [
                "test 'assert_positive_totals' (type singular) is not imported: only not_null, unique, accepted_values and relationships are",
                "test 'dbt_utils_unique_combination_of_columns_orders' (type dbt_utils.unique_combination_of_columns) is not imported: only not_null, unique, accepted_values and relationships are",
            ],
            snapshot.Warnings);
    }

    [Fact]
    public void A_v9_manifest_names_versioned_models_and_resolves_a_self_reference()
    {
        var snapshot = Parse(V9);

        Assert.Equal(["model.shop.dim_customers.v1", "model.shop.dim_customers.v2", "snapshot.shop.customers_snapshot", "source.shop.raw.customers"],
            snapshot.Products.Select(p => p.ExternalId));
        var v1 = snapshot.Products[0];
        var v2 = snapshot.Products[1];
        Assert.Equal(("dim_customers_v1", "db.analytics.dim_customers_v1"), (v1.Name, v1.HostingLocation)); // alias falls back to the versioned name
        Assert.Equal(("dim_customers_v2", "db.analytics.dim_customers_v2"), (v2.Name, v2.HostingLocation));
        Assert.Equal(["finance"], v2.Tags);
        Assert.Equal("owner@example.com", v2.OwnerEmail); // from config.meta
        Assert.Equal(
            [
                new SnapshotField("id", "bigint", false, "Customer key.", 1, true, null, null),
                new SnapshotField("referred_by", "bigint", true, null, 2, false, "db.analytics.dim_customers_v2.id", null),
            ],
            v2.Fields);

        var snap = snapshot.Products[2];
        Assert.Equal(("customers_snapshot", "dbt_model", "db.snapshots.customers_snapshot"), (snap.Name, snap.ProductType, snap.HostingLocation));

        Assert.Equal(
            [
                new SnapshotEdge("model.shop.dim_customers.v1", "model.shop.dim_customers.v2"),
                new SnapshotEdge("source.shop.raw.customers", "model.shop.dim_customers.v1"),
                new SnapshotEdge("source.shop.raw.customers", "snapshot.shop.customers_snapshot"),
            ],
            snapshot.Edges);
        // Unique alone is not a key: a unique column may still hold nulls.
        Assert.Equal(new SnapshotField("id", "bigint", true, null, 1, false, null, null), Assert.Single(v1.Fields));
        Assert.Equal(
            [
                ("not_null", "model.shop.dim_customers.v2", "id"),
                ("relationships", "model.shop.dim_customers.v2", "referred_by"),
                ("unique", "model.shop.dim_customers.v1", "id"),
                ("unique", "model.shop.dim_customers.v2", "ID"),
            ],
            snapshot.Tests.Select(t => (t.TestType, t.ProductExternalId, t.Column)));
        Assert.Equal(["nodes entry 'model.shop.broken' is not an object; skipped"], snapshot.Warnings);
    }

    [Fact]
    public void A_v11_manifest_tolerates_missing_and_wrong_typed_optional_values()
    {
        var snapshot = Parse(V11);

        Assert.Equal(["model.shop.bare", "model.shop.odd", "model.shop.with_code", "seed.shop.countries"], snapshot.Products.Select(p => p.ExternalId));
        foreach (var product in snapshot.Products.Take(2))
        {
            Assert.Null(product.Description);
            Assert.Empty(product.Tags);
            Assert.Null(product.OwnerEmail);
            Assert.Empty(product.Fields);
        }
        Assert.Equal("wh.main.bare", snapshot.Products[0].HostingLocation);

        var withCode = snapshot.Products[2];
        Assert.Equal(new SnapshotField("code", "text", true, "ISO code.", 1, false, null, null), withCode.Fields[0]);
        Assert.Equal(new SnapshotField("name", null, false, null, 2, false, null, null), withCode.Fields[1]);
        Assert.Equal("The only model with a description.", withCode.Description);

        var seed = snapshot.Products[3];
        Assert.Equal(new SnapshotField("code", "char(2)", true, null, 1, false, null, null), Assert.Single(seed.Fields));

        // Seeds in v11+ have no depends_on.nodes; bare has no depends_on at all; odd's is not an object.
        Assert.Equal([new SnapshotEdge("seed.shop.countries", "model.shop.with_code")], snapshot.Edges);

        // A test without kwargs keeps its node-level column; one with a where clause is imported but proves nothing.
        Assert.Equal(
            [
                new ImportedTest("test.shop.not_null_with_code_code.1", "not_null_with_code_code", "not_null", "model.shop.with_code", "code", "{}"),
                new ImportedTest("test.shop.not_null_with_code_name.2", "not_null_with_code_name", "not_null", "model.shop.with_code", "name", """{"where":"1=1"}"""),
            ],
            snapshot.Tests.Take(2));
        Assert.True(withCode.Fields[0].IsNullable);
        Assert.Empty(snapshot.Warnings);
    }

    [Fact]
    public void Raw_sql_and_raw_code_make_no_difference()
    {
        var withRawCode = Parse(V11);
        var withRawSql = Parse(V11.Replace("\"raw_code\"", "\"raw_sql\"", StringComparison.Ordinal));

        Assert.Equal(Describe(withRawCode), Describe(withRawSql));
    }

    [Fact]
    public void A_byte_order_mark_is_accepted()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(V7)).ToArray();

        Assert.Equal(4, DbtManifestParser.Parse(bytes, All).Products.Count);
    }

    [Fact]
    public void The_schema_version_is_read_from_the_metadata_url()
    {
        using var document = JsonDocument.Parse("""{"metadata":{"dbt_schema_version":"https://schemas.getdbt.com/dbt/manifest/v12.json"}}""");

        Assert.Equal(12, DbtManifestParser.SchemaVersionOf(document.RootElement));
    }

    // ----- errors -----

    [Fact]
    public void A_truncated_manifest_is_invalid_json_with_a_position()
    {
        var half = SourceDatabases.DbtManifest.AsMemory()[..(SourceDatabases.DbtManifest.AsMemory().Length / 2)];

        var error = Assert.Throws<ManifestException>(() => DbtManifestParser.Parse(half, All));
        Assert.Equal("manifest_invalid_json", error.Code);
        Assert.Contains("line ", error.Message, StringComparison.Ordinal);
        Assert.Contains("byte ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bytes_that_are_not_UTF8_are_invalid_json_with_a_position()
    {
        var bytes = Encoding.UTF8.GetBytes(V7);
        var at = Encoding.UTF8.GetBytes(V7[..V7.IndexOf("row per customer", StringComparison.Ordinal)]).Length;
        bytes[at] = 0xFF; // inside a string value, where JsonDocument does not look at it
        var line = bytes[..at].Count(b => b == (byte)'\n') + 1;
        var column = at - Array.LastIndexOf(bytes, (byte)'\n', at);

        var error = Assert.Throws<ManifestException>(() => DbtManifestParser.Parse(bytes, All));
        Assert.Equal("manifest_invalid_json", error.Code);
        Assert.Contains($"line {line}, byte {column}:", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json", "manifest_invalid_json")]
    [InlineData("", "manifest_invalid_json")]
    [InlineData("{\"metadata\": {\"dbt_schema_version\": \"https://schemas.getdbt.com/dbt/manifest/v12.json\"}, \"nodes\": {}", "manifest_invalid_json")]
    [InlineData("[]", "manifest_invalid")]
    [InlineData("\"manifest\"", "manifest_invalid")]
    [InlineData("{\"nodes\": {}}", "manifest_invalid")]
    [InlineData("{\"metadata\": {}, \"nodes\": {}}", "manifest_invalid")]
    [InlineData("{\"metadata\": {\"dbt_schema_version\": 12}, \"nodes\": {}}", "manifest_invalid")]
    [InlineData("{\"metadata\": {\"dbt_schema_version\": \"https://schemas.getdbt.com/dbt/manifest/v12.json\"}}", "manifest_invalid")]
    [InlineData("{\"metadata\": {\"dbt_schema_version\": \"https://schemas.getdbt.com/dbt/manifest/v12.json\"}, \"nodes\": []}", "manifest_invalid")]
    [InlineData("{\"metadata\": {\"dbt_schema_version\": \"https://schemas.getdbt.com/dbt/catalog/v1.json\"}, \"nodes\": {}}", "manifest_invalid")]
    [InlineData("{\"metadata\": {\"dbt_schema_version\": \"https://schemas.getdbt.com/dbt/manifest/v6.json\"}, \"nodes\": {}}", "manifest_unsupported_version")]
    [InlineData("{\"metadata\": {\"dbt_schema_version\": \"https://schemas.getdbt.com/dbt/manifest/v13.json\"}, \"nodes\": {}}", "manifest_unsupported_version")]
    [InlineData("{\"metadata\": {\"dbt_schema_version\": \"latest\"}, \"nodes\": {}}", "manifest_unsupported_version")]
    [InlineData("{\"metadata\": {\"dbt_schema_version\": \"https://schemas.getdbt.com/dbt/manifest/v99999999999.json\"}, \"nodes\": {}}", "manifest_unsupported_version")]
    public void Unreadable_manifests_fail_with_a_code(string json, string code)
    {
        var error = Assert.Throws<ManifestException>(() => Parse(json));

        Assert.Equal(code, error.Code);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Theory]
    [InlineData(6)]
    [InlineData(13)]
    public void An_unsupported_version_is_named_with_the_supported_range(int version)
    {
        var error = Assert.Throws<ManifestException>(() => Parse(V7.Replace("/v7.json", $"/v{version}.json", StringComparison.Ordinal)));

        Assert.Equal("manifest_unsupported_version", error.Code);
        Assert.Contains($"v{version}", error.Message, StringComparison.Ordinal);
        Assert.Contains("v7 to v12", error.Message, StringComparison.Ordinal);
    }

    // ----- filters -----

    [Fact]
    public void A_schema_exclude_glob_drops_products_and_their_edges()
    {
        var snapshot = Parse(V7, new DbtParseOptions(new SourceFilters([], ["r?w*"], null)));

        Assert.Equal(["model.shop.customers", "model.shop.orders"], snapshot.Products.Select(p => p.ExternalId));
        Assert.Equal([new SnapshotEdge("model.shop.customers", "model.shop.orders")], snapshot.Edges);
        Assert.Equal(4, snapshot.Tests.Count);
    }

    [Fact]
    public void A_table_regex_drops_products_and_their_edges_and_tests()
    {
        var snapshot = Parse(V7, new DbtParseOptions(new SourceFilters([], [], "^orders$")));

        Assert.Equal(["model.shop.orders", "source.shop.raw.orders"], snapshot.Products.Select(p => p.ExternalId));
        Assert.Equal([new SnapshotEdge("source.shop.raw.orders", "model.shop.orders")], snapshot.Edges);
        var test = Assert.Single(snapshot.Tests);
        Assert.Equal("relationships", test.TestType);
        // The referenced table is still a fact of the warehouse even though it is not imported.
        Assert.Equal("warehouse.analytics.dim_customers.customer_id", snapshot.Products[0].Fields[1].ForeignKeyTarget);
        // Only the unsupported test that touches an imported product is reported.
        Assert.Single(snapshot.Warnings);
    }

    [Fact]
    public void Filters_on_the_real_manifest_drop_products_edges_and_tests()
    {
        const string tables = "^(stg_|jira__)";
        var root = JsonNode.Parse(SourceDatabases.DbtManifest.AsMemory().Span)!.AsObject();
        var nodes = root["nodes"]!.AsObject();
        var expected = nodes.Concat(root["sources"]!.AsObject())
            .Where(n => (string?)n.Value!["resource_type"] is "model" or "seed" or "source")
            .Where(n => (string?)n.Value!["schema"] != "public" && Regex.IsMatch((string)n.Value!["name"]!, tables))
            .ToDictionary(n => n.Key, n => n.Value!);
        var expectedEdges = expected.Values
            .SelectMany(n => (n["depends_on"]?["nodes"]?.AsArray() ?? new JsonArray()).Select(u => (string)u!))
            .Count(expected.ContainsKey);
        var expectedTests = nodes.Count(n => (string?)n.Value!["resource_type"] == "test" && expected.ContainsKey((string)n.Value!["attached_node"]!));

        var snapshot = DbtManifestParser.Parse(SourceDatabases.DbtManifest.AsMemory(), new DbtParseOptions(new SourceFilters([], ["pub*c"], tables)));

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), snapshot.Products.Select(p => p.ExternalId));
        Assert.InRange(expected.Count, 1, 60); // some models are dropped by the regex, every seed and source by the glob
        Assert.Equal(expectedEdges, snapshot.Edges.Count);
        Assert.InRange(expectedEdges, 1, 89);
        Assert.All(snapshot.Edges, e => Assert.True(expected.ContainsKey(e.UpstreamExternalId) && expected.ContainsKey(e.DownstreamExternalId)));
        Assert.Equal(expectedTests, snapshot.Tests.Count);
        Assert.InRange(expectedTests, 1, 39);
        Assert.All(snapshot.Tests, t => Assert.True(expected.ContainsKey(t.ProductExternalId)));
    }

    [Fact]
    public void Only_sources_keeps_sources_and_no_edges()
    {
        var snapshot = DbtManifestParser.Parse(SourceDatabases.DbtManifest.AsMemory(), new DbtParseOptions(SourceFilters.None, new HashSet<string> { "source" }));

        Assert.Equal(18, snapshot.Products.Count);
        Assert.All(snapshot.Products, p => Assert.Equal("dbt_source", p.ProductType));
        Assert.Empty(snapshot.Edges);
        Assert.Empty(snapshot.Tests);
    }

    // ----- helpers -----

    private static CatalogSnapshot Parse(string json, DbtParseOptions? options = null)
        => DbtManifestParser.Parse(Encoding.UTF8.GetBytes(json), options ?? All);

    private static string Describe(CatalogSnapshot snapshot)
        => string.Join('\n', snapshot.Products.Select(p => $"{p with { Tags = [], Fields = [] }} [{string.Join(',', p.Tags)}] [{string.Join(',', p.Fields)}]"))
           + string.Join('\n', snapshot.Edges) + string.Join('\n', snapshot.Tests) + string.Join('\n', snapshot.Warnings);

    private const string V7 = """
        {
          "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v7.json", "dbt_version": "1.3.0"},
          "nodes": {
            "model.shop.customers": {
              "resource_type": "model", "unique_id": "model.shop.customers", "name": "customers",
              "database": "warehouse", "schema": "analytics", "alias": "dim_customers", "raw_sql": "select * from {{ source('raw', 'customers') }}",
              "description": "One row per customer.\n", "tags": ["core"], "meta": {"owner": "ana@example.com"},
              "config": {"materialized": "table", "tags": ["core", "pii"], "meta": {}},
              "columns": {
                "customer_id": {"name": "customer_id", "description": "The key.", "data_type": "integer", "meta": {}, "tags": []},
                "status": {"name": "status", "description": "", "data_type": ""}
              },
              "depends_on": {"macros": [], "nodes": ["source.shop.raw.customers"]}
            },
            "model.shop.orders": {
              "resource_type": "model", "unique_id": "model.shop.orders", "name": "orders",
              "database": "warehouse", "schema": "analytics", "alias": null, "raw_sql": "select 1",
              "description": "", "tags": [], "meta": {"owner": "the data team"}, "config": {"materialized": "view"},
              "columns": {"order_id": {"name": "order_id"}, "customer_id": {"name": "customer_id"}},
              "depends_on": {"macros": ["macro.shop.cents"], "nodes": ["model.shop.customers", "source.shop.raw.orders", "model.shop.customers"]}
            },
            "analysis.shop.revenue": {"resource_type": "analysis", "unique_id": "analysis.shop.revenue", "name": "revenue", "depends_on": {"nodes": ["model.shop.orders"]}},
            "test.shop.not_null_customers_customer_id.b2": {
              "resource_type": "test", "unique_id": "test.shop.not_null_customers_customer_id.b2", "name": "not_null_customers_customer_id",
              "column_name": "customer_id", "raw_sql": "{{ test_not_null(**_dbt_generic_test_kwargs) }}",
              "test_metadata": {"name": "not_null", "kwargs": {"column_name": "customer_id", "model": "{{ get_where_subquery(ref('customers')) }}"}, "namespace": null},
              "depends_on": {"macros": ["macro.dbt.test_not_null"], "nodes": ["model.shop.customers"]}
            },
            "test.shop.unique_customers_customer_id.d4": {
              "resource_type": "test", "unique_id": "test.shop.unique_customers_customer_id.d4", "name": "unique_customers_customer_id",
              "column_name": "customer_id",
              "test_metadata": {"name": "unique", "kwargs": {"column_name": "customer_id", "model": "{{ get_where_subquery(ref('customers')) }}"}},
              "depends_on": {"nodes": ["model.shop.customers"]}
            },
            "test.shop.accepted_values_customers_status.a1": {
              "resource_type": "test", "unique_id": "test.shop.accepted_values_customers_status.a1", "name": "accepted_values_customers_status",
              "column_name": "status",
              "test_metadata": {"name": "accepted_values", "kwargs": {"values": ["active", "churned"], "quote": true, "column_name": "status", "model": "{{ get_where_subquery(ref('customers')) }}"}},
              "depends_on": {"nodes": ["model.shop.customers"]}
            },
            "test.shop.relationships_orders_customer_id.c3": {
              "resource_type": "test", "unique_id": "test.shop.relationships_orders_customer_id.c3", "name": "relationships_orders_customer_id",
              "column_name": "customer_id",
              "test_metadata": {"name": "relationships", "kwargs": {"to": "ref('customers')", "field": "customer_id", "column_name": "customer_id", "model": "{{ get_where_subquery(ref('orders')) }}"}},
              "depends_on": {"nodes": ["model.shop.customers", "model.shop.orders"]}
            },
            "test.shop.assert_positive_totals": {
              "resource_type": "test", "unique_id": "test.shop.assert_positive_totals", "name": "assert_positive_totals",
              "raw_sql": "select * from {{ ref('orders') }} where total < 0", "depends_on": {"nodes": ["model.shop.orders"]}
            },
            "test.shop.dbt_utils_unique_combination_of_columns_orders.e5": {
              "resource_type": "test", "unique_id": "test.shop.dbt_utils_unique_combination_of_columns_orders.e5", "name": "dbt_utils_unique_combination_of_columns_orders",
              "test_metadata": {"name": "unique_combination_of_columns", "namespace": "dbt_utils", "kwargs": {"combination_of_columns": ["order_id"], "model": "{{ get_where_subquery(ref('customers')) }}"}},
              "depends_on": {"nodes": ["model.shop.customers"]}
            }
          },
          "sources": {
            "source.shop.raw.customers": {
              "resource_type": "source", "unique_id": "source.shop.raw.customers", "name": "customers", "source_name": "raw",
              "database": "warehouse", "schema": "raw", "identifier": "customers_v1", "description": "Customers as loaded.",
              "columns": {}, "meta": {"owner": "not-an-email"}, "config": {"meta": {"owner": "data@example.com"}}, "tags": []
            },
            "source.shop.raw.orders": {"resource_type": "source", "unique_id": "source.shop.raw.orders", "name": "orders", "source_name": "raw", "schema": "raw"}
          },
          "macros": {"macro.shop.cents": {"unique_id": "macro.shop.cents"}}
        }
        """;

    private const string V9 = """
        {
          "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v9.json", "dbt_version": "1.5.0"},
          "nodes": {
            "model.shop.dim_customers.v1": {
              "resource_type": "model", "unique_id": "model.shop.dim_customers.v1", "name": "dim_customers", "version": "1", "latest_version": 2,
              "database": "db", "schema": "analytics", "raw_code": "select 1", "description": "Old shape.",
              "columns": {"id": {"name": "id", "data_type": "bigint"}},
              "depends_on": {"nodes": ["source.shop.raw.customers"]}
            },
            "model.shop.dim_customers.v2": {
              "resource_type": "model", "unique_id": "model.shop.dim_customers.v2", "name": "dim_customers", "version": 2, "latest_version": 2,
              "database": "db", "schema": "analytics", "alias": "dim_customers_v2", "raw_code": "select 2",
              "config": {"tags": ["finance"], "meta": {"owner": "owner@example.com"}},
              "columns": {
                "id": {"name": "id", "data_type": "bigint", "description": "Customer key."},
                "referred_by": {"name": "referred_by", "data_type": "bigint"}
              },
              "depends_on": {"nodes": ["model.shop.dim_customers.v1", "macro.not.a.product"]}
            },
            "snapshot.shop.customers_snapshot": {
              "resource_type": "snapshot", "unique_id": "snapshot.shop.customers_snapshot", "name": "customers_snapshot",
              "database": "db", "schema": "snapshots", "alias": "customers_snapshot", "depends_on": {"nodes": ["source.shop.raw.customers"]}
            },
            "model.shop.broken": 42,
            "test.shop.not_null_dim_customers_v2_id.1": {
              "resource_type": "test", "unique_id": "test.shop.not_null_dim_customers_v2_id.1", "name": "not_null_dim_customers_v2_id",
              "attached_node": "model.shop.dim_customers.v2", "column_name": "id",
              "test_metadata": {"name": "not_null", "kwargs": {"column_name": "id", "model": "{{ get_where_subquery(ref('dim_customers', v=2)) }}"}},
              "depends_on": {"nodes": ["model.shop.dim_customers.v2"]}
            },
            "test.shop.unique_dim_customers_v2_id.2": {
              "resource_type": "test", "unique_id": "test.shop.unique_dim_customers_v2_id.2", "name": "unique_dim_customers_v2_id",
              "attached_node": "model.shop.dim_customers.v2", "column_name": "ID",
              "test_metadata": {"name": "unique", "kwargs": {"column_name": "ID"}},
              "depends_on": {"nodes": ["model.shop.dim_customers.v2"]}
            },
            "test.shop.unique_dim_customers_v1_id.4": {
              "resource_type": "test", "unique_id": "test.shop.unique_dim_customers_v1_id.4", "name": "unique_dim_customers_v1_id",
              "attached_node": "model.shop.dim_customers.v1", "column_name": "id",
              "test_metadata": {"name": "unique", "kwargs": {"column_name": "id"}},
              "depends_on": {"nodes": ["model.shop.dim_customers.v1"]}
            },
            "test.shop.relationships_dim_customers_v2_referred_by.3": {
              "resource_type": "test", "unique_id": "test.shop.relationships_dim_customers_v2_referred_by.3", "name": "relationships_dim_customers_v2_referred_by",
              "attached_node": "model.shop.dim_customers.v2", "column_name": "referred_by",
              "test_metadata": {"name": "relationships", "kwargs": {"to": "ref('dim_customers', v=2)", "field": "id", "column_name": "referred_by"}},
              "depends_on": {"nodes": ["model.shop.dim_customers.v2"]}
            }
          },
          "sources": {
            "source.shop.raw.customers": {"resource_type": "source", "unique_id": "source.shop.raw.customers", "name": "customers", "database": "db", "schema": "raw"}
          }
        }
        """;

    private const string V11 = """
        {
          "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v11.json", "dbt_version": "1.7.0"},
          "nodes": {
            "model.shop.bare": {"resource_type": "model", "unique_id": "model.shop.bare", "name": "bare", "database": "wh", "schema": "main", "raw_code": "select 1"},
            "model.shop.odd": {
              "resource_type": "model", "unique_id": "model.shop.odd", "name": "odd", "schema": "main", "raw_code": "select 1",
              "description": 5, "tags": "oops", "columns": [], "meta": "x", "config": null, "depends_on": ["seed.shop.countries"], "version": null
            },
            "model.shop.with_code": {
              "resource_type": "model", "unique_id": "model.shop.with_code", "name": "with_code", "database": "wh", "schema": "main",
              "raw_code": "select * from {{ ref('countries') }}", "description": "  The only model with a description.  ",
              "tags": [1, null], "config": {"tags": null, "meta": {"owner": 7}},
              "columns": {"code": {"name": "code", "data_type": "text", "description": "ISO code."}, "name": {"description": null}, "junk": "not a column"},
              "depends_on": {"nodes": ["seed.shop.countries", "model.shop.with_code"]}
            },
            "seed.shop.countries": {
              "resource_type": "seed", "unique_id": "seed.shop.countries", "name": "countries", "database": "wh", "schema": "main", "alias": "countries",
              "columns": {"code": {"name": "code", "data_type": "char(2)"}}, "depends_on": {"macros": []}
            },
            "test.shop.not_null_with_code_code.1": {
              "resource_type": "test", "unique_id": "test.shop.not_null_with_code_code.1", "name": "not_null_with_code_code",
              "attached_node": "model.shop.with_code", "column_name": "code", "config": {"where": "code <> ''"},
              "test_metadata": {"name": "not_null"}, "depends_on": {"nodes": ["model.shop.with_code"]}
            },
            "test.shop.not_null_with_code_name.2": {
              "resource_type": "test", "unique_id": "test.shop.not_null_with_code_name.2", "name": "not_null_with_code_name",
              "attached_node": "model.shop.with_code", "column_name": null,
              "test_metadata": {"name": "not_null", "kwargs": {"column_name": "name", "where": "1=1"}}, "depends_on": {}
            },
            "test.shop.orphan.3": {
              "resource_type": "test", "unique_id": "test.shop.orphan.3", "name": "orphan", "test_metadata": {"name": "not_null", "kwargs": []}
            }
          },
          "sources": {}
        }
        """;
}
