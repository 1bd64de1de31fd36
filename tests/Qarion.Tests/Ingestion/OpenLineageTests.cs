using System.Text.Json;
using Qarion.Core.Ingestion;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Ingestion;

/// <summary>
/// POST /spaces/{space}/openlineage with RunEvents in the spec's own camelCase shape (sent as raw JSON, since
/// <see cref="ApiClient.PostAsync"/> writes snake_case): what COMPLETE events record, how datasets are matched to
/// products that already exist, what other event types and bad bodies leave behind (nothing), and who may post.
/// </summary>
public sealed class OpenLineageTests(IngestionFixture app) : IClassFixture<IngestionFixture>
{
    private const string Producer = "https://github.com/OpenLineage/OpenLineage/tree/1.18.0/integration/spark";
    private const string RunEventSchema = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
    private const string SchemaFacetUrl = "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet";

    // ---- arranging ---------------------------------------------------------------------------------------

    private static string Url(string space) => $"/api/v1/spaces/{space}/openlineage";

    /// <summary>Serialized with the default options: dictionary keys and anonymous members keep their exact (camelCase) names.</summary>
    private static Task<ApiResponse> PostEventAsync(ApiClient client, string space, object runEvent)
        => client.SendRawAsync("POST", Url(space), runEvent as string ?? JsonSerializer.Serialize(runEvent));

    private async Task<(string Space, TestUser Editor)> ArrangeAsync()
    {
        var editor = await app.CreateUserAsync("Editor");
        var space = await app.CreateSpaceAsync(null, (editor, "editor"));
        return (space, editor);
    }

    private static Dictionary<string, object?> Dataset(string ns, string name, params (string Name, string? Type, string? Description)[] fields)
    {
        var facets = new Dictionary<string, object?>();
        if (fields.Length > 0)
            facets["schema"] = new Dictionary<string, object?>
            {
                ["_producer"] = Producer,
                ["_schemaURL"] = SchemaFacetUrl,
                ["fields"] = fields.Select(f =>
                {
                    var field = new Dictionary<string, object?> { ["name"] = f.Name };
                    if (f.Type is not null) field["type"] = f.Type;
                    if (f.Description is not null) field["description"] = f.Description;
                    return field;
                }).ToList(),
            };
        return new Dictionary<string, object?> { ["namespace"] = ns, ["name"] = name, ["facets"] = facets };
    }

    /// <summary>A minimal, valid RunEvent (as an Airflow task would send it) whose parts a test may change.</summary>
    private static Dictionary<string, object?> Event(string? eventType, IEnumerable<Dictionary<string, object?>> inputs, IEnumerable<Dictionary<string, object?>> outputs, string? runId = null)
    {
        var e = new Dictionary<string, object?>
        {
            ["eventTime"] = "2026-02-28T23:15:42.123456+00:00",
            ["run"] = new Dictionary<string, object?> { ["runId"] = runId ?? Guid.NewGuid().ToString() },
            ["job"] = new Dictionary<string, object?> { ["namespace"] = "airflow-prod", ["name"] = "daily_sales.build" },
            ["inputs"] = inputs.ToList(),
            ["outputs"] = outputs.ToList(),
            ["producer"] = Producer,
            ["schemaURL"] = RunEventSchema,
        };
        if (eventType is not null) e["eventType"] = eventType;
        return e;
    }

    private static Dictionary<string, object?> Part(Dictionary<string, object?> e, string name) => (Dictionary<string, object?>)e[name]!;

    private static List<Dictionary<string, object?>> Datasets(Dictionary<string, object?> e, string name) => (List<Dictionary<string, object?>>)e[name]!;

    /// <summary>
    /// A COMPLETE event the way the Spark integration (run by an Airflow task) sends it: parent run, engine and
    /// job-type facets, a SQL job facet, dataset facets for the data source, symlinks, column lineage, storage,
    /// lifecycle and statistics, a company's own custom facet, and a struct column with nested fields.
    /// </summary>
    private static string SparkComplete(string runId) => $$"""
        {
          "eventType": "COMPLETE",
          "eventTime": "2026-02-28T23:15:42.123Z",
          "run": {
            "runId": "{{runId}}",
            "facets": {
              "parent": {
                "_producer": "https://github.com/apache/airflow/tree/providers-openlineage/1.8.0",
                "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/ParentRunFacet.json#/$defs/ParentRunFacet",
                "run": { "runId": "01912e0c-5bb5-7c8d-9d0e-3a2c6c2a6f11" },
                "job": { "namespace": "airflow-prod", "name": "daily_sales.build_order_facts" }
              },
              "spark_version": { "_producer": "{{Producer}}", "_schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunFacet", "spark-version": "3.5.1" },
              "processing_engine": {
                "_producer": "{{Producer}}",
                "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/ProcessingEngineRunFacet.json#/$defs/ProcessingEngineRunFacet",
                "version": "3.5.1", "name": "spark", "openlineageAdapterVersion": "1.18.0"
              },
              "spark_properties": { "properties": { "spark.master": "yarn", "spark.app.name": "build_order_facts" } }
            }
          },
          "job": {
            "namespace": "spark-prod",
            "name": "build_order_facts.execute_insert_into_hadoop_fs_relation_command.warehouse_order_facts",
            "facets": {
              "jobType": {
                "_producer": "{{Producer}}", "_schemaURL": "https://openlineage.io/spec/facets/2-0-2/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
                "processingType": "BATCH", "integration": "SPARK", "jobType": "SQL_JOB"
              },
              "sql": {
                "_producer": "{{Producer}}", "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/SQLJobFacet.json#/$defs/SQLJobFacet",
                "query": "INSERT OVERWRITE TABLE warehouse.order_facts\nSELECT o.order_id, c.region, o.total\n\tFROM shop.public.orders o JOIN shop.public.customers c USING (customer_id)"
              }
            }
          },
          "inputs": [
            {
              "namespace": "postgres://pg.internal:5432",
              "name": "shop.public.orders",
              "facets": {
                "dataSource": {
                  "_producer": "{{Producer}}", "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/DatasourceDatasetFacet.json#/$defs/DatasourceDatasetFacet",
                  "name": "postgres://pg.internal:5432", "uri": "postgres://pg.internal:5432/shop"
                },
                "schema": {
                  "_producer": "{{Producer}}", "_schemaURL": "{{SchemaFacetUrl}}",
                  "fields": [
                    { "name": "order_id", "type": "bigint", "description": "Surrogate key" },
                    { "name": "customer_id", "type": "bigint" },
                    { "name": "total", "type": "decimal(12,2)", "description": "Gross order value" }
                  ]
                },
                "symlinks": { "identifiers": [ { "namespace": "hive://metastore:9083", "name": "shop.orders", "type": "TABLE" } ] },
                "acme_retention": { "_producer": "https://lineage.acme.example", "_schemaURL": "https://lineage.acme.example/retention.json", "days": 400, "tiers": [ "hot", { "cold": true } ] }
              },
              "inputFacets": { "dataQualityMetrics": { "rowCount": 1200, "columnMetrics": { "total": { "nullCount": 0, "min": 0.5 } } } }
            },
            {
              "namespace": "postgres://pg.internal:5432",
              "name": "shop.public.customers",
              "facets": {
                "schema": {
                  "_producer": "{{Producer}}", "_schemaURL": "{{SchemaFacetUrl}}",
                  "fields": [
                    { "name": "customer_id", "type": "bigint" },
                    { "name": "region", "type": "string", "description": "Sales region" },
                    { "name": "address", "type": "struct", "fields": [ { "name": "city", "type": "string" }, { "name": "zip", "type": "string" } ] }
                  ]
                },
                "version": { "datasetVersion": "42" }
              },
              "inputFacets": {}
            }
          ],
          "outputs": [
            {
              "namespace": "s3://acme-lake",
              "name": "warehouse.order_facts",
              "facets": {
                "schema": {
                  "_producer": "{{Producer}}", "_schemaURL": "{{SchemaFacetUrl}}",
                  "fields": [
                    { "name": "order_id", "type": "bigint" },
                    { "name": "region", "type": "string", "description": "Sales region of the customer" },
                    { "name": "total", "type": "decimal(12,2)" }
                  ]
                },
                "columnLineage": {
                  "_producer": "{{Producer}}", "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet",
                  "fields": {
                    "total": { "inputFields": [ { "namespace": "postgres://pg.internal:5432", "name": "shop.public.orders", "field": "total", "transformations": [ { "type": "DIRECT", "subtype": "IDENTITY" } ] } ] },
                    "region": { "inputFields": [ { "namespace": "postgres://pg.internal:5432", "name": "shop.public.customers", "field": "region" } ] }
                  }
                },
                "lifecycleStateChange": { "lifecycleStateChange": "OVERWRITE" },
                "storage": { "storageLayer": "iceberg", "fileFormat": "parquet" },
                "acme_retention": { "days": 30 }
              },
              "outputFacets": { "outputStatistics": { "rowCount": 1150, "size": 48213 } }
            }
          ],
          "producer": "{{Producer}}",
          "schemaURL": "{{RunEventSchema}}"
        }
        """;

    // ---- asserting ---------------------------------------------------------------------------------------

    private static JsonElement Ok(ApiResponse r)
    {
        Assert.True(r.Status == 200, r.ToString());
        return r.Json.Clone();
    }

    private static async Task<JsonElement> ProductAsync(ApiClient client, string space, string slug)
        => Ok(await client.GetAsync($"/api/v1/spaces/{space}/products/{slug}"));

    private static async Task<List<JsonElement>> FieldsAsync(ApiClient client, string space, string slug)
        => Ok(await client.GetAsync($"/api/v1/spaces/{space}/products/{slug}/fields")).EnumerateArray().ToList();

    private static (string Name, string? Type, string? Description) Shape(JsonElement field)
        => (field.Str("name"), field.GetProperty("data_type").GetString(), field.GetProperty("description").GetString());

    private static List<(Guid Up, Guid Down)> Edges(JsonElement graph)
        => graph.GetProperty("edges").EnumerateArray()
            .Select(e => (e.GetProperty("upstream_id").GetGuid(), e.GetProperty("downstream_id").GetGuid())).Order().ToList();

    private static Guid ProductId(JsonElement result, string list, int index) => result.GetProperty(list)[index].GetProperty("product_id").GetGuid();

    private Task<long> CountAsync(string sql) => app.Database.ScalarAsync<long>(sql);

    /// <summary>Everything an event may write in the space, with row versions, so "nothing written" is exact.</summary>
    private async Task<string> FingerprintAsync(string space)
    {
        var s = $"(SELECT id FROM spaces WHERE slug = '{space}')";
        return string.Join("|",
            await app.Database.ScalarAsync<string>($"SELECT coalesce(string_agg(id::text || ':' || xmin::text, ',' ORDER BY id), '') FROM data_products WHERE space_id = {s}"),
            await app.Database.ScalarAsync<string>($"SELECT coalesce(string_agg(id::text || ':' || xmin::text, ',' ORDER BY id), '') FROM product_fields WHERE space_id = {s}"),
            await app.Database.ScalarAsync<string>($"SELECT coalesce(string_agg(id::text || ':' || xmin::text, ',' ORDER BY id), '') FROM lineage_edges WHERE space_id = {s}"),
            await app.Database.ScalarAsync<string>($"SELECT coalesce(string_agg(product_id::text || ':' || xmin::text, ',' ORDER BY product_id), '') FROM data_product_search WHERE space_id = {s}"),
            await CountAsync($"SELECT count(*) FROM audit_log WHERE space_id = {s}"));
    }

    private async Task<long> ProductCountAsync(string space)
        => await CountAsync($"SELECT count(*) FROM data_products WHERE space_id = (SELECT id FROM spaces WHERE slug = '{space}')");

    // ---- COMPLETE events ---------------------------------------------------------------------------------

    [Fact]
    public async Task A_complete_spark_event_with_extra_facets_creates_discovered_datasets_lineage_and_fields()
    {
        var (space, editor) = await ArrangeAsync();
        var c = editor.Client;

        var result = Ok(await PostEventAsync(c, space, SparkComplete(Guid.NewGuid().ToString())));

        Assert.True(result.GetProperty("recorded").GetBoolean());
        Assert.Equal("COMPLETE", result.Str("event_type"));
        Assert.Equal(2, result.GetProperty("edges_added").GetInt32());
        Assert.Equal(9, result.GetProperty("fields_added").GetInt32());
        var inputs = result.GetProperty("inputs").EnumerateArray().ToList();
        Assert.Equal([("postgres://pg.internal:5432", "shop.public.orders", "orders", true), ("postgres://pg.internal:5432", "shop.public.customers", "customers", true)],
            inputs.Select(i => (i.Str("namespace"), i.Str("name"), i.Str("slug"), i.GetProperty("created").GetBoolean())).ToArray());
        var output = result.GetProperty("outputs").EnumerateArray().Single();
        Assert.Equal(("s3://acme-lake", "warehouse.order_facts", "order-facts", true),
            (output.Str("namespace"), output.Str("name"), output.Str("slug"), output.GetProperty("created").GetBoolean()));
        Assert.Equal(3, await ProductCountAsync(space));

        foreach (var (slug, name, hosting, provider) in new[]
                 {
                     ("orders", "orders", "shop.public.orders", "postgres"),
                     ("customers", "customers", "shop.public.customers", "postgres"),
                     ("order-facts", "order_facts", "warehouse.order_facts", "s3"),
                 })
        {
            var p = await ProductAsync(c, space, slug);
            Assert.True(p.GetProperty("is_discovered").GetBoolean(), slug);
            Assert.Equal(("dataset", name, hosting, provider), (p.Str("product_type"), p.Str("name"), p.Str("hosting_location"), p.Str("provider")));
            Assert.Equal(3, p.GetProperty("field_count").GetInt32());
            Assert.Empty(p.GetProperty("manual_attributes").EnumerateArray());
            // Unknown facets are ignored, not stored somewhere unexpected.
            Assert.Equal(JsonValueKind.Null, p.GetProperty("description").ValueKind);
            Assert.Equal(JsonValueKind.Null, p.GetProperty("documentation").ValueKind);
        }
        Assert.Equal(ProductId(result, "inputs", 0), (await ProductAsync(c, space, "orders")).Id());

        var orders = ProductId(result, "inputs", 0);
        var customers = ProductId(result, "inputs", 1);
        var facts = ProductId(result, "outputs", 0);
        var upstream = Ok(await c.GetAsync($"/api/v1/spaces/{space}/products/order-facts/lineage?direction=upstream&depth=1"));
        Assert.Equal(new[] { (customers, facts), (orders, facts) }.Order().ToList(), Edges(upstream));
        Assert.All(upstream.GetProperty("edges").EnumerateArray(), e => Assert.Equal("transforms", e.Str("relationship")));
        var downstream = Ok(await c.GetAsync($"/api/v1/spaces/{space}/products/orders/lineage?direction=downstream&depth=5"));
        Assert.Equal([(orders, facts)], Edges(downstream));

        Assert.Equal([("order_id", "bigint", "Surrogate key"), ("customer_id", "bigint", null), ("total", "decimal(12,2)", "Gross order value")],
            (await FieldsAsync(c, space, "orders")).Select(Shape).ToArray());
        // A struct's nested fields are not columns of the dataset.
        Assert.Equal([("customer_id", "bigint", null), ("region", "string", "Sales region"), ("address", "struct", null)],
            (await FieldsAsync(c, space, "customers")).Select(Shape).ToArray());
        Assert.Equal([("order_id", "bigint", null), ("region", "string", "Sales region of the customer"), ("total", "decimal(12,2)", null)],
            (await FieldsAsync(c, space, "order-facts")).Select(Shape).ToArray());
    }

    [Fact]
    public async Task Posting_the_same_event_again_creates_and_rewrites_nothing()
    {
        var (space, editor) = await ArrangeAsync();
        var body = SparkComplete(Guid.NewGuid().ToString());
        var first = Ok(await PostEventAsync(editor.Client, space, body));
        var before = await FingerprintAsync(space);
        var counts = (await CountAsync("SELECT count(*) FROM data_products"), await CountAsync("SELECT count(*) FROM lineage_edges"));

        var again = Ok(await PostEventAsync(editor.Client, space, body));

        Assert.True(again.GetProperty("recorded").GetBoolean());
        Assert.Equal((0, 0), (again.GetProperty("edges_added").GetInt32(), again.GetProperty("fields_added").GetInt32()));
        foreach (var list in new[] { "inputs", "outputs" })
        {
            Assert.Equal(first.GetProperty(list).EnumerateArray().Select(d => d.GetProperty("product_id").GetGuid()),
                again.GetProperty(list).EnumerateArray().Select(d => d.GetProperty("product_id").GetGuid()));
            Assert.All(again.GetProperty(list).EnumerateArray(), d => Assert.False(d.GetProperty("created").GetBoolean()));
        }
        Assert.Equal(counts, (await CountAsync("SELECT count(*) FROM data_products"), await CountAsync("SELECT count(*) FROM lineage_edges")));
        Assert.Equal(before, await FingerprintAsync(space));
    }

    [Fact]
    public async Task Datasets_are_matched_to_connector_and_person_products_by_hosting_location_and_their_fields_are_left_alone()
    {
        var admin = await app.CreateUserAsync("Admin");
        var editor = await app.CreateUserAsync("Editor");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"), (editor, "editor"));
        var connector = (await IngestionFixture.CreateConnectorAsync(admin.Client, space, new
        {
            name = "warehouse", platform = "postgresql", config = new { host = "db.invalid", database = "db" },
        })).Id();
        await app.MergeSnapshotAsync(connector, new CatalogSnapshot(
            [
                new SnapshotProduct("sales.orders", "orders", "table", "sales", "Orders", "db.sales.orders", "postgresql", 10, [], null,
                [
                    new SnapshotField("id", "integer", false, null, 1, true, null, null),
                    new SnapshotField("total", "numeric(10,2)", true, "Gross", 2, false, null, null),
                ]),
            ], [], [], []));
        var scraped = await ProductAsync(editor.Client, space, "orders");
        Assert.False(scraped.GetProperty("is_discovered").GetBoolean());
        var person = await editor.Client.CreateProductAsync(space, "invoice-ledger", new
        {
            name = "Invoice ledger", hosting_location = "finance.billing.invoices", fields = new object[] { new { name = "invoice_id", data_type = "uuid" } },
        });
        var fieldsBefore = await FingerprintAsync(space);
        var products = await ProductCountAsync(space);

        var runEvent = Event("COMPLETE",
            [Dataset("postgres://db.internal:5432", "db.sales.orders", ("id", "string", "From the facet"), ("total", "double", null), ("discount", "double", null))],
            [Dataset("snowflake://acme.eu-west-1", "finance.billing.invoices", ("invoice_id", "varchar", null), ("amount", "number", null))]);
        var result = Ok(await PostEventAsync(editor.Client, space, runEvent));

        Assert.Equal(products, await ProductCountAsync(space));
        Assert.Equal((scraped.Id(), false), (ProductId(result, "inputs", 0), result.GetProperty("inputs")[0].GetProperty("created").GetBoolean()));
        Assert.Equal((person.Id(), false), (ProductId(result, "outputs", 0), result.GetProperty("outputs")[0].GetProperty("created").GetBoolean()));
        Assert.Equal((1, 0), (result.GetProperty("edges_added").GetInt32(), result.GetProperty("fields_added").GetInt32()));
        Assert.Equal([("id", "integer", null), ("total", "numeric(10,2)", "Gross")], (await FieldsAsync(editor.Client, space, "orders")).Select(Shape).ToArray());
        Assert.Equal([("invoice_id", "uuid", null)], (await FieldsAsync(editor.Client, space, "invoice-ledger")).Select(Shape).ToArray());
        Assert.False((await ProductAsync(editor.Client, space, "orders")).GetProperty("is_discovered").GetBoolean());
        Assert.False((await ProductAsync(editor.Client, space, "invoice-ledger")).GetProperty("is_discovered").GetBoolean());
        var graph = Ok(await editor.Client.GetAsync($"/api/v1/spaces/{space}/products/invoice-ledger/lineage?direction=upstream&depth=1"));
        Assert.Equal([(scraped.Id(), person.Id())], Edges(graph));
        // Only the edge is new: neither product's fields nor the products themselves were rewritten.
        Assert.Equal(fieldsBefore.Split('|')[..2], (await FingerprintAsync(space)).Split('|')[..2]);
    }

    [Fact]
    public async Task A_product_a_connector_maintains_wins_over_one_an_earlier_event_discovered()
    {
        var admin = await app.CreateUserAsync("Admin");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"));
        var first = Ok(await PostEventAsync(admin.Client, space, Event("COMPLETE", [], [Dataset("postgres://db:5432", "db.sales.refunds")])));
        var discovered = ProductId(first, "outputs", 0);
        var connector = (await IngestionFixture.CreateConnectorAsync(admin.Client, space, new
        {
            name = "warehouse", platform = "postgresql", config = new { host = "db.invalid", database = "db" },
        })).Id();
        await app.MergeSnapshotAsync(connector, new CatalogSnapshot(
            [new SnapshotProduct("sales.refunds", "refunds", "table", "sales", null, "db.sales.refunds", "postgresql", 1, [], null, [])], [], [], []));
        var scraped = await CountAsync($"SELECT count(*) FROM data_products WHERE source_connector_id = '{connector}'");
        Assert.Equal(1, scraped);

        var later = Ok(await PostEventAsync(admin.Client, space, Event("COMPLETE", [], [Dataset("postgres://db:5432", "db.sales.refunds")])));

        var matched = ProductId(later, "outputs", 0);
        Assert.NotEqual(discovered, matched);
        Assert.Equal(1, await CountAsync($"SELECT count(*) FROM data_products WHERE id = '{matched}' AND source_connector_id = '{connector}'"));
    }

    [Fact]
    public async Task A_later_event_adds_new_columns_and_follows_types_except_those_a_person_set()
    {
        var (space, editor) = await ArrangeAsync();
        var c = editor.Client;
        Ok(await PostEventAsync(c, space, Event("COMPLETE", [],
            [Dataset("s3://lake", "web.page_views", ("user_id", "string", null), ("url", "string", "Page URL"))])));
        var url = (await FieldsAsync(c, space, "page-views")).Single(f => f.Str("name") == "url");
        var patched = await c.PatchAsync($"/api/v1/spaces/{space}/products/page-views/fields/{url.Id()}", new { data_type = "varchar(2048)" });
        Assert.True(patched.Status == 200, patched.ToString());

        var later = Ok(await PostEventAsync(c, space, Event("COMPLETE", [],
            [Dataset("s3://lake", "web.page_views", ("user_id", "bigint", null), ("url", "string", "Full URL"), ("referrer", "string", "Where the visitor came from"))])));

        Assert.Equal(1, later.GetProperty("fields_added").GetInt32());
        Assert.False(later.GetProperty("outputs")[0].GetProperty("created").GetBoolean());
        var fields = await FieldsAsync(c, space, "page-views");
        Assert.Equal([("user_id", "bigint", null), ("url", "varchar(2048)", "Full URL"), ("referrer", "string", "Where the visitor came from")],
            fields.Select(Shape).ToArray());
        Assert.Equal(url.Id(), fields[1].Id());
        Assert.Equal(["data_type"], fields[1].GetProperty("manual_attributes").EnumerateArray().Select(a => a.GetString()!).ToArray());
        Assert.True(fields[2].GetProperty("ordinal").GetInt32() > fields[1].GetProperty("ordinal").GetInt32());
    }

    [Fact]
    public async Task A_later_event_that_omits_a_columns_type_keeps_the_known_type()
    {
        var (space, editor) = await ArrangeAsync();
        Ok(await PostEventAsync(editor.Client, space, Event("COMPLETE", [], [Dataset("s3://lake", "web.sessions", ("session_id", "uuid", "Session key"))])));

        // The spec makes a schema field's type optional: a producer that does not know it says nothing about it.
        Ok(await PostEventAsync(editor.Client, space, Event("COMPLETE", [], [Dataset("s3://lake", "web.sessions", ("session_id", null, null), ("ended_at", null, null))])));

        Assert.Equal([("session_id", "uuid", "Session key"), ("ended_at", null, null)], (await FieldsAsync(editor.Client, space, "sessions")).Select(Shape).ToArray());
    }

    [Fact]
    public async Task Schema_entries_that_are_null_or_nameless_are_skipped()
    {
        var (space, editor) = await ArrangeAsync();
        var output = Dataset("s3://lake", "web.bounces");
        ((Dictionary<string, object?>)output["facets"]!)["schema"] = new Dictionary<string, object?>
        {
            ["fields"] = new object?[] { null, new { name = "  " }, new { type = "int" }, new { name = "page", type = "string" } },
        };

        var result = Ok(await PostEventAsync(editor.Client, space, Event("COMPLETE", [], [output])));

        Assert.Equal(1, result.GetProperty("fields_added").GetInt32());
        Assert.Equal([("page", "string", null)], (await FieldsAsync(editor.Client, space, "bounces")).Select(Shape).ToArray());
    }

    [Fact]
    public async Task Two_datasets_with_the_same_last_segment_get_distinct_slugs()
    {
        var (space, editor) = await ArrangeAsync();

        var result = Ok(await PostEventAsync(editor.Client, space, Event("COMPLETE",
            [Dataset("postgres://a:5432", "shop.public.orders"), Dataset("postgres://b:5432", "archive.public.orders")],
            [Dataset("s3://lake", "warehouse/daily/orders")])));

        var slugs = result.GetProperty("inputs").EnumerateArray().Concat(result.GetProperty("outputs").EnumerateArray()).Select(d => d.Str("slug")).ToList();
        Assert.Equal(3, slugs.Distinct().Count());
        Assert.Equal("orders", slugs[0]);
        Assert.Equal(3, await ProductCountAsync(space));
        foreach (var slug in slugs) Assert.Equal("orders", (await ProductAsync(editor.Client, space, slug)).Str("name"));
        Assert.Equal("warehouse/daily/orders", (await ProductAsync(editor.Client, space, slugs[2])).Str("hosting_location"));
        Assert.Equal(2, result.GetProperty("edges_added").GetInt32());
    }

    [Fact]
    public async Task A_dataset_whose_discovered_product_was_archived_is_matched_to_it_not_refused()
    {
        var (space, editor) = await ArrangeAsync();
        var body = Event("COMPLETE", [Dataset("postgres://db:5432", "shop.public.carts")], [Dataset("s3://lake", "warehouse.cart_facts")]);
        var first = Ok(await PostEventAsync(editor.Client, space, body));
        var carts = ProductId(first, "inputs", 0);
        var archived = await editor.Client.PostAsync($"/api/v1/spaces/{space}/products/carts/archive", new { });
        Assert.True(archived.Status == 200, archived.ToString());

        Part(body, "run")["runId"] = Guid.NewGuid().ToString();
        var later = await PostEventAsync(editor.Client, space, body);

        var result = Ok(later);
        Assert.Equal((carts, false), (ProductId(result, "inputs", 0), result.GetProperty("inputs")[0].GetProperty("created").GetBoolean()));
        Assert.Equal(2, await ProductCountAsync(space));
        // The person's decision stands: the product stays archived.
        Assert.True((await ProductAsync(editor.Client, space, "carts")).GetProperty("is_archived").GetBoolean());
    }

    [Fact]
    public async Task The_longest_namespace_and_name_the_rules_allow_are_recorded_and_matched_again()
    {
        var (space, editor) = await ArrangeAsync();
        var ns = "s3://" + new string('n', 495);
        var name = "warehouse." + new string('s', 883) + ".events";
        Assert.Equal((500, 900), (ns.Length, name.Length));
        var body = Event("COMPLETE", [], [Dataset(ns, name, ("event_id", "uuid", null))]);

        var first = Ok(await PostEventAsync(editor.Client, space, body));
        var again = Ok(await PostEventAsync(editor.Client, space, body));

        Assert.True(first.GetProperty("outputs")[0].GetProperty("created").GetBoolean());
        Assert.Equal((ProductId(first, "outputs", 0), false), (ProductId(again, "outputs", 0), again.GetProperty("outputs")[0].GetProperty("created").GetBoolean()));
        Assert.Equal(1, await ProductCountAsync(space));
        Assert.Equal("events", (await ProductAsync(editor.Client, space, first.GetProperty("outputs")[0].Str("slug"))).Str("name"));
    }

    // ---- other event types -------------------------------------------------------------------------------

    [Theory]
    [InlineData("START")]
    [InlineData("RUNNING")]
    [InlineData("FAIL")]
    [InlineData("ABORT")]
    [InlineData("OTHER")]
    [InlineData(null)]
    public async Task Events_other_than_complete_are_accepted_and_write_nothing(string? eventType)
    {
        var (space, editor) = await ArrangeAsync();
        Ok(await PostEventAsync(editor.Client, space, Event("COMPLETE", [Dataset("postgres://db:5432", "shop.public.known")], [])));
        var before = await FingerprintAsync(space);
        var audit = await CountAsync("SELECT count(*) FROM audit_log");

        var result = Ok(await PostEventAsync(editor.Client, space, Event(eventType,
            [Dataset("postgres://db:5432", "shop.public.known", ("id", "bigint", null)), Dataset("postgres://db:5432", "shop.public.fresh", ("id", "bigint", null))],
            [Dataset("s3://lake", "warehouse.fresh_facts", ("id", "bigint", null))])));

        Assert.False(result.GetProperty("recorded").GetBoolean());
        Assert.Equal(eventType ?? "OTHER", result.Str("event_type"));
        Assert.Empty(result.GetProperty("inputs").EnumerateArray());
        Assert.Empty(result.GetProperty("outputs").EnumerateArray());
        Assert.Equal((0, 0), (result.GetProperty("edges_added").GetInt32(), result.GetProperty("fields_added").GetInt32()));
        Assert.Equal(before, await FingerprintAsync(space));
        Assert.Equal(audit, await CountAsync("SELECT count(*) FROM audit_log"));
    }

    // ---- bad input ---------------------------------------------------------------------------------------

    [Theory]
    [InlineData("no run", "body.run", "missing")]
    [InlineData("run null", "body.run", "null_forbidden")]
    [InlineData("runId not a UUID", "body.run.runId", "uuid_parsing")]
    [InlineData("no runId", "body.run.runId", "uuid_parsing")]
    [InlineData("no job", "body.job", "missing")]
    [InlineData("job without name", "body.job.name", "missing")]
    [InlineData("job with a blank namespace", "body.job.namespace", "missing")]
    [InlineData("no producer", "body.producer", "missing")]
    [InlineData("eventType FINISHED", "body.eventType", "enum")]
    [InlineData("eventType in lower case", "body.eventType", "enum")]
    [InlineData("input without name", "body.inputs.0.name", "missing")]
    [InlineData("output without namespace", "body.outputs.1.namespace", "missing")]
    [InlineData("input null", "body.inputs.0", "model_attributes_type")]
    [InlineData("501 outputs", "body.outputs", "too_long")]
    [InlineData("inputs not a list", "body.inputs", "type_error")]
    [InlineData("no eventTime", "body.eventTime", "missing")]
    [InlineData("eventTime not a date", "body.eventTime", "type_error")]
    [InlineData("eventTime without an offset", "body.eventTime", "type_error")]
    [InlineData("snake_case names", "body.event_type", "extra_forbidden")]
    [InlineData("control character in a name", "body.outputs.0.name", "string_invalid_character")]
    public async Task A_bad_event_is_a_422_naming_the_field_and_writes_nothing(string change, string loc, string type)
    {
        var (space, editor) = await ArrangeAsync();
        var e = Event("COMPLETE", [Dataset("postgres://db:5432", "shop.public.orders", ("id", "bigint", null))],
            [Dataset("s3://lake", "warehouse.order_facts"), Dataset("s3://lake", "warehouse.order_totals")]);
        switch (change)
        {
            case "no run": e.Remove("run"); break;
            case "run null": e["run"] = null; break;
            case "runId not a UUID": Part(e, "run")["runId"] = "run-42"; break;
            case "no runId": Part(e, "run").Remove("runId"); break;
            case "no job": e.Remove("job"); break;
            case "job without name": Part(e, "job").Remove("name"); break;
            case "job with a blank namespace": Part(e, "job")["namespace"] = "  "; break;
            case "no producer": e.Remove("producer"); break;
            case "eventType FINISHED": e["eventType"] = "FINISHED"; break;
            case "eventType in lower case": e["eventType"] = "complete"; break;
            case "input without name": Datasets(e, "inputs")[0].Remove("name"); break;
            case "output without namespace": Datasets(e, "outputs")[1].Remove("namespace"); break;
            case "input null": e["inputs"] = new object?[] { null }; break;
            case "501 outputs": e["outputs"] = Enumerable.Range(0, 501).Select(i => Dataset("s3://lake", $"warehouse.part_{i}")).ToList(); break;
            case "inputs not a list": e["inputs"] = new { name = "shop.public.orders" }; break;
            case "no eventTime": e.Remove("eventTime"); break;
            case "eventTime not a date": e["eventTime"] = "yesterday at noon"; break;
            case "eventTime without an offset": e["eventTime"] = "2026-02-28T23:15:42"; break;
            case "snake_case names": e["event_type"] = "COMPLETE"; break;
            case "control character in a name": Datasets(e, "outputs")[0]["name"] = "warehouse.order\u0001facts"; break;
            default: throw new ArgumentOutOfRangeException(nameof(change), change, null);
        }
        var before = await FingerprintAsync(space);

        var response = await PostEventAsync(editor.Client, space, e);

        Assert.True(response.Status == 422, $"{change}: {response}");
        var errors = response.Json.GetProperty("errors").EnumerateArray()
            .Select(x => (Loc: string.Join('.', x.GetProperty("loc").EnumerateArray().Select(l => l.ToString())), Type: x.Str("type"))).ToList();
        Assert.True(errors.Count == 1 && errors[0] == (loc, type), $"{change}: expected {loc} {type}, got {response.Body}");
        Assert.False(string.IsNullOrWhiteSpace(response.Json.GetProperty("errors")[0].Str("msg")));
        Assert.Equal(before, await FingerprintAsync(space));
    }

    [Fact]
    public async Task Every_rule_an_event_breaks_is_reported_at_once()
    {
        var (space, editor) = await ArrangeAsync();
        var e = Event("FINISHED", [Dataset("postgres://db:5432", "")], []);
        Part(e, "run")["runId"] = "nope";
        Part(e, "job").Remove("name");

        var response = await PostEventAsync(editor.Client, space, e);

        Assert.Equal(["body.eventType", "body.inputs.0.name", "body.job.name", "body.run.runId"],
            Enumerable.Range(0, response.Json.GetProperty("errors").GetArrayLength()).Select(i => response.Loc(i)).Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public async Task The_top_level_is_closed_but_facets_and_dataset_extras_are_open()
    {
        var (space, editor) = await ArrangeAsync();
        var closed = Event("COMPLETE", [], [Dataset("s3://lake", "warehouse.closed")]);
        closed["runFacets"] = new { anything = true };

        var refused = await PostEventAsync(editor.Client, space, closed);

        Assert.Equal("extra_forbidden", refused.ErrorType());
        Assert.Equal("body.runFacets", refused.Loc());
        Assert.Equal(0, await ProductCountAsync(space));

        var open = Event("COMPLETE", [], [Dataset("s3://lake", "warehouse.open", ("id", "bigint", null))]);
        Part(open, "run")["facets"] = new Dictionary<string, object?> { ["acme_cost"] = new { dollars = 1.25, tags = new[] { "a" } } };
        Part(open, "run")["acme_run_extra"] = "ignored";
        Part(open, "job")["facets"] = new Dictionary<string, object?> { ["ownership"] = new { owners = new[] { new { name = "team:data" } } } };
        Part(open, "job")["acme_job_extra"] = 7;
        var dataset = Datasets(open, "outputs")[0];
        var facets = (Dictionary<string, object?>)dataset["facets"]!;
        facets["acme_quality"] = new { score = 0.97 };
        facets["dataSource"] = new { name = "s3://lake", uri = "s3://lake/warehouse/open" };
        ((Dictionary<string, object?>)facets["schema"]!)["acme_schema_extra"] = new[] { 1, 2 };
        dataset["outputFacets"] = new { outputStatistics = new { rowCount = 3 } };
        dataset["acme_dataset_extra"] = new { nested = new { deeper = true } };

        var accepted = Ok(await PostEventAsync(editor.Client, space, open));

        Assert.True(accepted.GetProperty("recorded").GetBoolean());
        Assert.Equal([("id", "bigint", null)], (await FieldsAsync(editor.Client, space, "open")).Select(Shape).ToArray());
    }

    [Fact]
    public async Task Bodies_that_are_not_a_json_event_are_refused_before_anything_is_read()
    {
        var (space, editor) = await ArrangeAsync();
        var c = editor.Client;
        var valid = JsonSerializer.Serialize(Event("COMPLETE", [], [Dataset("s3://lake", "warehouse.raw")]));
        var before = await FingerprintAsync(space);

        var notJson = await c.SendRawAsync("POST", Url(space), "{\"eventType\": \"COMPLETE\",");
        Assert.Equal(("json_invalid", "body"), (notJson.ErrorType(), notJson.Loc()));
        var array = await c.SendRawAsync("POST", Url(space), $"[{valid}]");
        Assert.Equal(("model_attributes_type", "body"), (array.ErrorType(), array.Loc()));
        var empty = await c.SendRawAsync("POST", Url(space), "");
        Assert.Equal(("missing", "body"), (empty.ErrorType(), empty.Loc()));

        var text = await c.SendRawAsync("POST", Url(space), valid, "text/plain");
        Assert.Equal(415, text.Status);
        Assert.Equal("unsupported_media_type", text.Code());
        // application/*+json is JSON too.
        Ok(await c.SendRawAsync("POST", Url(space), JsonSerializer.Serialize(Event("START", [], [])), "application/vnd.openlineage+json"));

        var huge = Event("COMPLETE", [], [Dataset("s3://lake", "warehouse.huge")]);
        Part(huge, "job")["facets"] = new Dictionary<string, object?> { ["sql"] = new { query = new string('x', 1024 * 1024) } };
        var tooLarge = await PostEventAsync(c, space, huge);
        Assert.Equal(413, tooLarge.Status);
        Assert.Equal("payload_too_large", tooLarge.Code());

        Assert.Equal(before, await FingerprintAsync(space));
    }

    // ---- who may post ------------------------------------------------------------------------------------

    [Fact]
    public async Task Editors_may_post_viewers_may_not_other_spaces_do_not_exist_and_strangers_must_sign_in()
    {
        var editor = await app.CreateUserAsync("Editor");
        var viewer = await app.CreateUserAsync("Viewer");
        var outsider = await app.CreateUserAsync("Outsider");
        var space = await app.CreateSpaceAsync(null, (editor, "editor"), (viewer, "viewer"));
        await app.CreateSpaceAsync(null, (outsider, "admin"));
        object Body() => Event("COMPLETE", [Dataset("postgres://db:5432", "shop.public.orders")], [Dataset("s3://lake", "warehouse.order_facts")]);
        var before = await FingerprintAsync(space);

        var forbidden = await PostEventAsync(viewer.Client, space, Body());
        Assert.Equal(403, forbidden.Status);
        Assert.Equal("forbidden", forbidden.Code());
        var hidden = await PostEventAsync(outsider.Client, space, Body());
        Assert.Equal(404, hidden.Status);
        Assert.Equal("not_found", hidden.Code());
        Assert.Equal(401, (await PostEventAsync(app.Anonymous(), space, Body())).Status);
        Assert.Equal(404, (await PostEventAsync(editor.Client, "no-such-space", Body())).Status);
        Assert.Equal(before, await FingerprintAsync(space));

        var posted = Ok(await PostEventAsync(editor.Client, space, Body()));
        Assert.True(posted.GetProperty("recorded").GetBoolean());
        Assert.Equal(2, await ProductCountAsync(space));
        // A viewer can read what an editor recorded.
        Assert.True((await ProductAsync(viewer.Client, space, "order-facts")).GetProperty("is_discovered").GetBoolean());
    }

    // ---- concurrency -------------------------------------------------------------------------------------

    [Fact]
    public async Task Concurrent_events_naming_the_same_new_dataset_create_it_once()
    {
        var (space, editor) = await ArrangeAsync();
        for (var round = 0; round < 4; round++)
        {
            var shared = $"warehouse.daily_totals_{round}";
            var a = Event("COMPLETE", [Dataset("postgres://db:5432", $"shop.public.orders_{round}")], [Dataset("s3://lake", shared, ("day", "date", null))]);
            var b = Event("COMPLETE", [Dataset("postgres://db:5432", $"shop.public.refunds_{round}")], [Dataset("s3://lake", shared, ("day", "date", null))]);

            var responses = await Task.WhenAll(
                Task.Run(() => PostEventAsync(editor.Client, space, a)),
                Task.Run(() => PostEventAsync(editor.Client, space, b)));

            var results = responses.Select(Ok).ToList();
            var ids = results.Select(r => ProductId(r, "outputs", 0)).Distinct().ToList();
            Assert.Single(ids);
            Assert.Equal(1, results.Count(r => r.GetProperty("outputs")[0].GetProperty("created").GetBoolean()));
            Assert.Equal(1, results.Sum(r => r.GetProperty("fields_added").GetInt32()));
            Assert.Equal(1, await CountAsync($"SELECT count(*) FROM data_products WHERE hosting_location = '{shared}'"));
            Assert.Equal(1, await CountAsync($"SELECT count(*) FROM product_fields WHERE product_id = '{ids[0]}'"));
            Assert.Equal(2, await CountAsync($"SELECT count(*) FROM lineage_edges WHERE downstream_id = '{ids[0]}'"));
        }
        Assert.Equal(12, await ProductCountAsync(space));
    }

    // ---- search ------------------------------------------------------------------------------------------

    [Fact]
    public async Task Search_finds_discovered_products_by_name_and_by_what_later_events_say_about_their_columns()
    {
        var (space, editor) = await ArrangeAsync();
        var c = editor.Client;
        Ok(await PostEventAsync(c, space, Event("COMPLETE", [], [Dataset("s3://lake", "web.clickstream", ("session_duration", "int", "Seconds on site"))])));

        var byName = Ok(await c.GetAsync($"/api/v1/spaces/{space}/search?q=clickstream"));
        Assert.Equal("clickstream", byName.GetProperty("products")[0].Str("slug"));
        var byField = Ok(await c.GetAsync($"/api/v1/spaces/{space}/search?q=session_duration&types=fields"));
        Assert.Contains(byField.GetProperty("fields").EnumerateArray(), f => f.Str("name") == "session_duration" && f.Str("product_slug") == "clickstream");

        // A later event only re-describes a known column: the product's search document follows.
        Assert.Empty(Ok(await c.GetAsync($"/api/v1/spaces/{space}/search?q=gclid&types=products")).GetProperty("products").EnumerateArray());
        var later = Ok(await PostEventAsync(c, space, Event("COMPLETE", [], [Dataset("s3://lake", "web.clickstream", ("session_duration", "int", "Seconds on site, split by gclid"))])));
        Assert.Equal(0, later.GetProperty("fields_added").GetInt32());
        var byDescription = Ok(await c.GetAsync($"/api/v1/spaces/{space}/search?q=gclid&types=products"));
        Assert.Equal(["clickstream"], byDescription.GetProperty("products").EnumerateArray().Select(p => p.Str("slug")).ToArray());
    }
}
