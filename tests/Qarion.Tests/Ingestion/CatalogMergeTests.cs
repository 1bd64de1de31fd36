using System.Text.Json;
using Qarion.Core.Ingestion;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;

using Qarion.Tests.Issues;

namespace Qarion.Tests.Ingestion;

/// <summary>The merge rules, driven with hand-made snapshots so every case is exact.</summary>
public sealed class CatalogMergeTests(IngestionFixture app) : IClassFixture<IngestionFixture>
{
    private static SnapshotField F(string name, string type = "integer", int ordinal = 1, string? description = null, bool pk = false, string? fk = null)
        => new(name, type, !pk, description, ordinal, pk, fk, null);

    private static SnapshotProduct P(string externalId, string? description = null, string type = "table", params SnapshotField[] fields)
    {
        var name = externalId.Split('.')[^1];
        return new SnapshotProduct(externalId, name, type, externalId.Split('.')[0], description, $"db.{externalId}", "postgresql", 10, [], null, fields);
    }

    private static CatalogSnapshot S(IEnumerable<SnapshotProduct> products, IEnumerable<SnapshotEdge>? edges = null, IEnumerable<ImportedTest>? tests = null)
        => new([.. products], [.. edges ?? []], [], [.. tests ?? []]);

    private async Task<(string Space, ApiClient Admin, Guid Connector)> ArrangeAsync(string strategy = "additive")
    {
        var admin = await app.CreateUserAsync("Admin");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"));
        var connector = await IngestionFixture.CreateConnectorAsync(admin.Client, space, new
        {
            name = "src", platform = "postgresql", config = new { host = "db.invalid", database = "db" }, merge_strategy = strategy,
        });
        return (space, admin.Client, connector.Id());
    }

    private Task<long> CountAsync(string sql) => app.Database.ScalarAsync<long>(sql);

    /// <summary>Row versions (xmin) of everything a merge may write, to prove that nothing was rewritten.</summary>
    private async Task<string> FingerprintAsync(Guid connector)
    {
        var c = connector.ToString();
        return string.Join("|",
            await app.Database.ScalarAsync<string>($"SELECT coalesce(string_agg(id::text || ':' || xmin::text, ',' ORDER BY id), '') FROM data_products WHERE source_connector_id = '{c}'"),
            await app.Database.ScalarAsync<string>($"SELECT coalesce(string_agg(f.id::text || ':' || f.xmin::text, ',' ORDER BY f.id), '') FROM product_fields f JOIN data_products p ON p.id = f.product_id WHERE p.source_connector_id = '{c}'"),
            await app.Database.ScalarAsync<string>($"SELECT coalesce(string_agg(id::text || ':' || xmin::text, ',' ORDER BY id), '') FROM lineage_edges WHERE source_connector_id = '{c}'"),
            await app.Database.ScalarAsync<long>("SELECT count(*) FROM audit_log"),
            await app.Database.ScalarAsync<long>("SELECT count(*) FROM product_tags"),
            await app.Database.ScalarAsync<long>("SELECT count(*) FROM schema_changes"),
            await app.Database.ScalarAsync<string>($"SELECT coalesce(string_agg(id::text || ':' || xmin::text, ',' ORDER BY id), '') FROM source_tests WHERE connector_id = '{c}'"));
    }

    private static CatalogSnapshot Sales() => S(
        [
            P("sales.customers", "People who buy", "table", F("id", pk: true), F("email", "text", 2, "Contact")),
            P("sales.orders", "Orders", "table", F("id", pk: true), F("customer_id", ordinal: 2, fk: "sales.customers.id"), F("total", "numeric(10,2)", 3)),
            P("sales.order_totals", null, "view", F("customer_id"), F("total", "numeric", 2)),
        ],
        [new SnapshotEdge("sales.orders", "sales.order_totals"), new SnapshotEdge("sales.customers", "sales.order_totals")],
        [new ImportedTest("test.not_null_orders_id", "not_null_orders_id", "not_null", "sales.orders", "id", "{}")]);

    [Fact]
    public async Task A_first_merge_creates_products_fields_lineage_tests_and_one_audit_entry_per_product()
    {
        var (space, admin, connector) = await ArrangeAsync();
        var auditBefore = await CountAsync("SELECT count(*) FROM audit_log WHERE resource_type = 'data_product'");

        var job = await app.MergeSnapshotAsync(connector, Sales());

        Assert.Equal((3, 0, 0, 0), (job.Added, job.Updated, job.MarkedStale, job.Unchanged));
        Assert.Equal(SyncStatus.Succeeded, job.Status);
        var products = (await admin.GetAsync($"/api/v1/spaces/{space}/products?size=100")).Items();
        Assert.Equal(["customers", "order-totals", "orders"], products.Select(p => p.Str("slug")).Order().ToArray());
        var orders = (await admin.GetAsync($"/api/v1/spaces/{space}/products/orders")).Json;
        Assert.Equal("db.sales.orders", orders.Str("hosting_location"));
        Assert.Equal(3, orders.GetProperty("field_count").GetInt32());
        Assert.Empty(orders.GetProperty("manual_attributes").EnumerateArray());
        var fields = (await admin.GetAsync($"/api/v1/spaces/{space}/products/orders/fields")).Json.EnumerateArray().ToList();
        Assert.Equal(["id", "customer_id", "total"], fields.Select(f => f.Str("name")).ToArray());
        Assert.True(fields[0].GetProperty("is_primary_key").GetBoolean());
        Assert.Equal("sales.customers.id", fields[1].Str("foreign_key_target"));
        var upstream = await admin.GetAsync($"/api/v1/spaces/{space}/products/order-totals/lineage?direction=upstream&depth=1");
        Assert.Equal(2, upstream.Json.GetProperty("nodes").GetArrayLength() - 1);
        Assert.Equal(1, await CountAsync($"SELECT count(*) FROM source_tests WHERE connector_id = '{connector}' AND test_type = 'not_null' AND \"column\" = 'id'"));
        Assert.Equal(auditBefore + 3, await CountAsync("SELECT count(*) FROM audit_log WHERE resource_type = 'data_product'"));
        var search = await admin.GetAsync($"/api/v1/spaces/{space}/search?q=customers");
        Assert.Contains("customers", search.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_re_merge_of_the_same_snapshot_writes_nothing_at_all()
    {
        var (_, _, connector) = await ArrangeAsync("refresh");
        await app.MergeSnapshotAsync(connector, Sales());
        var before = await FingerprintAsync(connector);

        var job = await app.MergeSnapshotAsync(connector, Sales());

        Assert.Equal((0, 0, 0, 3), (job.Added, job.Updated, job.MarkedStale, job.Unchanged));
        Assert.Equal(before, await FingerprintAsync(connector));
    }

    [Fact]
    public async Task Additive_updates_metadata_and_adds_fields_but_keeps_types_vanished_fields_and_vanished_products()
    {
        var (space, admin, connector) = await ArrangeAsync("additive");
        await app.MergeSnapshotAsync(connector, Sales());
        var changed = S(
        [
            P("sales.customers", "Buyers", "table", F("id", pk: true), F("email", "varchar(320)", 2, "Contact"), F("country", "text", 3)),
            P("sales.orders", "Orders", "table", F("id", pk: true)),
        ]);

        var job = await app.MergeSnapshotAsync(connector, changed);

        // Orders only lost columns, which additive keeps: unchanged.
        Assert.Equal((0, 1, 0, 1), (job.Added, job.Updated, job.MarkedStale, job.Unchanged));
        var customers = (await admin.GetAsync($"/api/v1/spaces/{space}/products/customers")).Json;
        Assert.Equal("Buyers", customers.Str("description"));
        var fields = (await admin.GetAsync($"/api/v1/spaces/{space}/products/customers/fields")).Json.EnumerateArray().ToDictionary(f => f.Str("name"));
        Assert.Equal("text", fields["email"].Str("data_type"));
        Assert.True(fields.ContainsKey("country"));
        Assert.Equal(3, (await admin.GetAsync($"/api/v1/spaces/{space}/products/orders/fields")).Json.GetArrayLength());
        Assert.False((await admin.GetAsync($"/api/v1/spaces/{space}/products/order-totals")).Json.GetProperty("is_stale").GetBoolean());
        Assert.Equal(1, await CountAsync($"SELECT count(*) FROM schema_changes WHERE job_id = '{job.Id}' AND kind = 'column_added' AND \"column\" = 'country'"));
        Assert.Equal(0, await CountAsync($"SELECT count(*) FROM schema_changes WHERE job_id = '{job.Id}' AND kind <> 'column_added'"));
    }

    [Fact]
    public async Task Refresh_updates_types_removes_vanished_fields_marks_vanished_products_stale_and_records_schema_changes()
    {
        var (space, admin, connector) = await ArrangeAsync("refresh");
        await app.MergeSnapshotAsync(connector, Sales());
        // A field a person added to a scraped product survives a refresh.
        var added = await admin.PostAsync($"/api/v1/spaces/{space}/products/orders/fields", new { name = "notes", data_type = "text" });
        Assert.Equal(201, added.Status);
        var changed = S(
        [
            P("sales.customers", "People who buy", "table", F("id", pk: true), F("email", "varchar(320)", 2, "Contact")),
            P("sales.orders", "Orders", "table", F("id", pk: true), F("customer_id", ordinal: 2, fk: "sales.customers.id")),
        ],
        [new SnapshotEdge("sales.customers", "sales.orders")]);

        var job = await app.MergeSnapshotAsync(connector, changed);

        Assert.Equal((0, 2, 1, 0), (job.Added, job.Updated, job.MarkedStale, job.Unchanged));
        var email = (await admin.GetAsync($"/api/v1/spaces/{space}/products/customers/fields")).Json.EnumerateArray().Single(f => f.Str("name") == "email");
        Assert.Equal("varchar(320)", email.Str("data_type"));
        var orderFields = (await admin.GetAsync($"/api/v1/spaces/{space}/products/orders/fields")).Json.EnumerateArray().Select(f => f.Str("name")).ToList();
        Assert.Equal(["customer_id", "id", "notes"], orderFields.Order().ToArray());
        var totals = (await admin.GetAsync($"/api/v1/spaces/{space}/products/order-totals")).Json;
        Assert.True(totals.GetProperty("is_stale").GetBoolean());
        Assert.Equal("2026-03-01T09:30:00.000000Z", totals.Str("stale_since"));
        var changes = (await admin.GetAsync($"/api/v1/spaces/{space}/products/customers/schema-changes")).Items();
        Assert.Equal(("type_changed", "email", "text", "varchar(320)"),
            (changes[0].Str("kind"), changes[0].Str("column"), changes[0].Str("old_type"), changes[0].Str("new_type")));
        var removed = (await admin.GetAsync($"/api/v1/spaces/{space}/products/orders/schema-changes")).Items();
        Assert.Equal(("column_removed", "total"), (removed.Single().Str("kind"), removed.Single().Str("column")));
        // The merge's unit of work wrote sync.completed and one schema.changed naming the changed products.
        var events = (await app.OutboxAsync(space)).Where(e => e.Payload.TryGetProperty("job_id", out var j) && j.GetGuid() == job.Id).ToList();
        Assert.Equal(["schema.changed", "sync.completed"], events.Select(e => e.Type).Order());
        var schema = events.Single(e => e.Type == "schema.changed").Payload;
        Assert.Equal(await CountAsync($"SELECT count(*) FROM schema_changes WHERE job_id = '{job.Id}'"), schema.GetProperty("change_count").GetInt32());
        var customersId = (await admin.GetAsync($"/api/v1/spaces/{space}/products/customers")).Json.Id();
        var ordersId = (await admin.GetAsync($"/api/v1/spaces/{space}/products/orders")).Json.Id();
        Assert.Equal(new[] { customersId, ordersId }.Order(), schema.GetProperty("product_ids").EnumerateArray().Select(x => x.GetGuid()).Order());
        Assert.Equal(["customers", "orders"], schema.GetProperty("product_names").EnumerateArray().Select(x => x.GetString()!).Order());
        Assert.Equal($"/spaces/{space}/connectors/{connector}", schema.GetProperty("link").GetString());
        Assert.Equal(2, events.Single(e => e.Type == "sync.completed").Payload.GetProperty("updated").GetInt32());
        // The connector's edges follow the source: the view's two edges vanished with it, the new one exists.
        Assert.Equal(1, await CountAsync($"SELECT count(*) FROM lineage_edges WHERE source_connector_id = '{connector}'"));

        // The stale product comes back: it is fresh again.
        var back = await app.MergeSnapshotAsync(connector, Sales());
        Assert.False((await admin.GetAsync($"/api/v1/spaces/{space}/products/order-totals")).Json.GetProperty("is_stale").GetBoolean());
        Assert.Equal(0, back.MarkedStale);
    }

    [Fact]
    public async Task Skip_creates_only_new_products_and_leaves_known_ones_alone()
    {
        var (space, admin, connector) = await ArrangeAsync("skip");
        await app.MergeSnapshotAsync(connector, Sales());
        var before = (await admin.GetAsync($"/api/v1/spaces/{space}/products/customers")).Json.GetProperty("version").GetUInt32();
        var changed = S([P("sales.customers", "Changed", "table", F("id", pk: true), F("other")), P("sales.refunds", "New", "table", F("id"))]);

        var job = await app.MergeSnapshotAsync(connector, changed);

        Assert.Equal((1, 0, 0, 1), (job.Added, job.Updated, job.MarkedStale, job.Unchanged));
        var customers = (await admin.GetAsync($"/api/v1/spaces/{space}/products/customers")).Json;
        Assert.Equal("People who buy", customers.Str("description"));
        Assert.Equal(before, customers.GetProperty("version").GetUInt32());
        Assert.Equal(200, (await admin.GetAsync($"/api/v1/spaces/{space}/products/refunds")).Status);
        Assert.False((await admin.GetAsync($"/api/v1/spaces/{space}/products/order-totals")).Json.GetProperty("is_stale").GetBoolean());
    }

    [Fact]
    public async Task Attributes_a_person_edited_are_never_overwritten()
    {
        var (space, admin, connector) = await ArrangeAsync("refresh");
        await app.MergeSnapshotAsync(connector, Sales());
        var patched = await admin.PatchAsync($"/api/v1/spaces/{space}/products/customers", new { description = "Curated by a person", name = "Customers" });
        Assert.Equal(200, patched.Status);
        var email = (await admin.GetAsync($"/api/v1/spaces/{space}/products/customers/fields")).Json.EnumerateArray().Single(f => f.Str("name") == "email");
        var fieldPatch = await admin.PatchAsync($"/api/v1/spaces/{space}/products/customers/fields/{email.Id()}", new { description = "Primary contact", data_type = "citext" });
        Assert.Equal(200, fieldPatch.Status);
        var changed = S([P("sales.customers", "Scraped text", "table", F("id", pk: true), F("email", "varchar(1)", 2, "Scraped"))]);

        await app.MergeSnapshotAsync(connector, changed);

        var customers = (await admin.GetAsync($"/api/v1/spaces/{space}/products/customers")).Json;
        Assert.Equal(("Curated by a person", "Customers"), (customers.Str("description"), customers.Str("name")));
        var after = (await admin.GetAsync($"/api/v1/spaces/{space}/products/customers/fields")).Json.EnumerateArray().Single(f => f.Str("name") == "email");
        Assert.Equal(("Primary contact", "citext"), (after.Str("description"), after.Str("data_type")));
    }

    [Fact]
    public async Task New_products_get_free_slugs_tags_and_owners_named_by_the_source()
    {
        var (space, admin, connector) = await ArrangeAsync();
        var owner = await app.CreateUserAsync("Owner");
        Assert.Equal(201, (await admin.PostAsync($"/api/v1/spaces/{space}/members", new { user_id = owner.Id, role = "viewer" })).Status);
        await admin.CreateProductAsync(space, "orders");
        var snapshot = S(
        [
            new SnapshotProduct("sales.orders", "orders", "table", "sales", null, null, "dbt", null, ["finance", "PII"], owner.Email.ToUpperInvariant(), []),
            new SnapshotProduct("archive.orders", "orders", "table", "archive", null, null, "dbt", null, ["pii"], "nobody@example.com", []),
        ]);

        await app.MergeSnapshotAsync(connector, snapshot);

        var sales = (await admin.GetAsync($"/api/v1/spaces/{space}/products/sales-orders")).Json;
        Assert.Equal(owner.Id, sales.GetProperty("governance").GetProperty("owner").GetProperty("id").GetGuid());
        Assert.Equal(["PII", "finance"], sales.GetProperty("tags").EnumerateArray().Select(t => t.Str("name")).Order(StringComparer.Ordinal).ToArray());
        var archive = (await admin.GetAsync($"/api/v1/spaces/{space}/products/archive-orders")).Json;
        Assert.Equal(JsonValueKind.Null, archive.GetProperty("governance").GetProperty("owner").ValueKind);
        // "pii" reuses the tag created as "PII" in the same merge: one tag, two products.
        Assert.Equal(1, await CountAsync($"SELECT count(*) FROM tags t JOIN spaces s ON s.id = t.space_id WHERE s.slug = '{space}' AND lower(t.name) = 'pii'"));
    }

    [Fact]
    public async Task Slugify_gives_valid_slugs_for_any_name()
    {
        foreach (var name in new[] { "Orders", "a", "", "Ünïcödé Tåble", new string('x', 100), "123e4567-e89b-12d3-a456-426614174000", "__tmp__" })
        {
            var slug = CatalogMerger.Slugify(name);
            Assert.Matches(Qarion.Core.Common.Validation.SlugPattern(), slug);
            Assert.False(Guid.TryParse(slug, out _), slug);
        }
        await Task.CompletedTask;
    }

    [Fact]
    public async Task A_manual_lineage_edge_survives_a_refresh_that_no_longer_reports_it()
    {
        var (space, admin, connector) = await ArrangeAsync("refresh");
        await app.MergeSnapshotAsync(connector, S([P("sales.alpha"), P("sales.beta")]));
        var a = (await admin.GetAsync($"/api/v1/spaces/{space}/products/alpha")).Json.Id();
        var added = await admin.PostAsync($"/api/v1/spaces/{space}/products/beta/lineage/upstream", new { upstream_id = a, relationship = "consumes" });
        Assert.True(added.Status is 200 or 201, added.ToString());

        await app.MergeSnapshotAsync(connector, S([P("sales.alpha"), P("sales.beta")]));

        Assert.Equal(1, await CountAsync("SELECT count(*) FROM lineage_edges WHERE source_connector_id IS NULL"));
    }
}
