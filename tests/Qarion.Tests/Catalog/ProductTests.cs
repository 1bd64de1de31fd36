using System.Text.Json;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Catalog;

public sealed class ProductTests(AppFixture app) : IClassFixture<AppFixture>
{
    private async Task<(TestUser Admin, TestUser Editor, TestUser Viewer, string Space)> SpaceAsync()
    {
        var admin = await app.CreateUserAsync("SpaceAdmin");
        var editor = await app.CreateUserAsync("Editor");
        var viewer = await app.CreateUserAsync("Viewer");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"), (editor, "editor"), (viewer, "viewer"));
        return (admin, editor, viewer, space);
    }

    [Fact]
    public async Task Editor_creates_and_anyone_in_the_space_reads_by_id_and_by_slug()
    {
        var (_, editor, viewer, space) = await SpaceAsync();
        var created = await editor.Client.PostAsync($"/api/v1/spaces/{space}/products", new
        {
            slug = "orders", name = "  Orders  ", description = "All orders", product_type = "table",
            hosting_location = "warehouse.sales.orders", criticality = "high", sensitivity = "internal",
            owner_id = editor.Id, tags = new[] { "sales" },
            fields = new object[] { new { name = "id", data_type = "bigint", is_primary_key = true }, new { name = "amount" } },
        });
        Assert.Equal(201, created.Status);
        var id = created.Json.Id();
        Assert.Equal($"/api/v1/spaces/{space}/products/{id}", created.Header("Location"));
        Assert.Equal($"\"{created.Json.GetProperty("version").GetUInt32()}\"", created.Header("ETag"));
        Assert.Equal("Orders", created.Json.Str("name"));
        Assert.Equal("high", created.Json.Str("criticality"));
        Assert.Equal(2, created.Json.GetProperty("field_count").GetInt32());
        Assert.Equal(editor.Id, created.Json.GetProperty("governance").GetProperty("owner").Id());
        Assert.Equal(JsonValueKind.Null, created.Json.GetProperty("governance").GetProperty("steward").ValueKind);
        Assert.Equal(["sales"], created.Json.GetProperty("tags").EnumerateArray().Select(t => t.Str("name")));
        Assert.False(created.Json.GetProperty("is_archived").GetBoolean());
        Assert.Equal(app.Clock.GetUtcNow(), created.Json.GetProperty("created_at").GetDateTimeOffset());
        var manual = created.Json.GetProperty("manual_attributes").EnumerateArray().Select(x => x.GetString()).ToList();
        Assert.Equal(["criticality", "description", "hosting_location", "name", "product_type", "sensitivity"], manual);

        var byId = await viewer.Client.GetAsync($"/api/v1/spaces/{space}/products/{id}");
        var bySlug = await viewer.Client.GetAsync($"/api/v1/spaces/{space}/products/orders");
        Assert.Equal(200, byId.Status);
        Assert.Equal(200, bySlug.Status);
        Assert.Equal(byId.Body, bySlug.Body);
        Assert.Equal(created.Header("ETag"), byId.Header("ETag"));
        Assert.Equal(404, (await viewer.Client.GetAsync($"/api/v1/spaces/{space}/products/nope")).Status);
        Assert.Equal(404, (await viewer.Client.GetAsync($"/api/v1/spaces/{space}/products/{Guid.NewGuid()}")).Status);
    }

    [Fact]
    public async Task Create_rejects_duplicates_unknown_references_and_low_roles()
    {
        var (_, editor, viewer, space) = await SpaceAsync();
        var outsider = await app.CreateUserAsync("Outsider");
        await editor.Client.CreateProductAsync(space, "dup");
        var url = $"/api/v1/spaces/{space}/products";

        var duplicate = await editor.Client.PostAsync(url, new { slug = "dup", name = "Another", product_type = "table" });
        Assert.Equal(409, duplicate.Status);
        Assert.Equal("duplicate", duplicate.Code());

        var unknownTag = await editor.Client.PostAsync(url, new { slug = "t1", name = "T1", product_type = "table", tag_ids = new[] { Guid.NewGuid() } });
        Assert.Equal("unknown_tag", unknownTag.ErrorType());
        Assert.Equal("body.tag_ids.0", unknownTag.Loc());

        var notMember = await editor.Client.PostAsync(url, new { slug = "t2", name = "T2", product_type = "table", steward_id = outsider.Id });
        Assert.Equal("not_a_member", notMember.ErrorType());
        Assert.Equal("body.steward_id", notMember.Loc());
        var ownerNotMember = await editor.Client.PostAsync(url, new { slug = "t2", name = "T2", product_type = "table", owner_id = outsider.Id });
        Assert.Equal("not_a_member", ownerNotMember.ErrorType());
        Assert.Equal("body.owner_id", ownerNotMember.Loc());

        var unknownType = await editor.Client.PostAsync(url, new { slug = "t3", name = "T3", product_type = "spreadsheet" });
        Assert.Equal("unknown_product_type", unknownType.ErrorType());
        Assert.Equal("body.product_type", unknownType.Loc());

        var dupFields = await editor.Client.PostAsync(url, new { slug = "t4", name = "T4", product_type = "table", fields = new[] { new { name = "a" }, new { name = "a" } } });
        Assert.Equal("duplicate", dupFields.ErrorType());
        Assert.Equal("body.fields.1.name", dupFields.Loc());

        var badSlug = await editor.Client.PostAsync(url, new { slug = "Bad Slug", name = "x", product_type = "table" });
        Assert.Equal(422, badSlug.Status);
        var missing = await editor.Client.PostAsync(url, new { slug = "t5" });
        Assert.Equal(422, missing.Status);
        var unknownProperty = await editor.Client.PostAsync(url, new { slug = "t6", name = "x", product_type = "table", colour = "red" });
        Assert.Equal(422, unknownProperty.Status);
        var badEnum = await editor.Client.PostAsync(url, new { slug = "t7", name = "x", product_type = "table", criticality = "extreme" });
        Assert.Equal(422, badEnum.Status);

        var byViewer = await viewer.Client.PostAsync(url, new { slug = "v1", name = "V1", product_type = "table" });
        Assert.Equal(403, byViewer.Status);

        Assert.Equal(1L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM data_products p JOIN spaces s ON s.id = p.space_id WHERE s.slug = '{space}'"));
        // Nothing half-created: no inline tags from the failed requests.
        Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM tags t JOIN spaces s ON s.id = t.space_id WHERE s.slug = '{space}'"));
    }

    [Fact]
    public async Task Patch_changes_only_what_is_sent_and_checks_the_version()
    {
        var (_, editor, viewer, space) = await SpaceAsync();
        var product = await editor.Client.CreateProductAsync(space, "ledger", new { description = "General ledger", provider = "sap" });
        var url = $"/api/v1/spaces/{space}/products/ledger";
        var etag = (await editor.Client.GetAsync(url)).Header("ETag");

        app.Clock.Advance(TimeSpan.FromMinutes(5));
        var patched = await editor.Client.PatchAsync(url, new { name = "Ledger", description = (string?)null, environment = "prod" }, CatalogTestSupport.IfMatch(etag));
        Assert.Equal(200, patched.Status);
        Assert.Equal("Ledger", patched.Json.Str("name"));
        Assert.Equal(JsonValueKind.Null, patched.Json.GetProperty("description").ValueKind);
        Assert.Equal("sap", patched.Json.Str("provider"));
        Assert.Equal("prod", patched.Json.Str("environment"));
        Assert.Equal(app.Clock.GetUtcNow(), patched.Json.GetProperty("updated_at").GetDateTimeOffset());
        Assert.NotEqual(etag, patched.Header("ETag"));
        var manual = patched.Json.GetProperty("manual_attributes").EnumerateArray().Select(x => x.GetString()).ToList();
        Assert.Contains("environment", manual);
        Assert.Contains("description", manual);
        Assert.Contains("provider", manual);

        var stale = await editor.Client.PatchAsync(url, new { name = "Stale" }, CatalogTestSupport.IfMatch(etag));
        Assert.Equal(409, stale.Status);
        Assert.Equal("version_conflict", stale.Code());
        var staleBody = await editor.Client.PatchAsync(url, new { name = "Stale", version = product.GetProperty("version").GetUInt32() });
        Assert.Equal(409, staleBody.Status);
        Assert.Equal("Ledger", (await editor.Client.GetAsync(url)).Json.Str("name"));

        Assert.Equal(403, (await viewer.Client.PatchAsync(url, new { name = "Viewer was here" })).Status);
        Assert.Equal("unknown_product_type", (await editor.Client.PatchAsync(url, new { product_type = "nope" })).ErrorType());
        Assert.Equal("unknown_tag", (await editor.Client.PatchAsync(url, new { tag_ids = new[] { Guid.NewGuid() } })).ErrorType());
        Assert.Equal(422, (await editor.Client.PatchAsync(url, new { name = "x" }, CatalogTestSupport.IfMatch("garbage"))).Status);

        await editor.Client.CreateProductAsync(space, "other");
        var clash = await editor.Client.PatchAsync(url, new { slug = "other" });
        Assert.Equal(409, clash.Status);
        var renamed = await editor.Client.PatchAsync(url, new { slug = "gl" });
        Assert.Equal(200, renamed.Status);
        Assert.Equal(200, (await viewer.Client.GetAsync($"/api/v1/spaces/{space}/products/gl")).Status);
        Assert.Equal(404, (await viewer.Client.GetAsync(url)).Status);
    }

    [Fact]
    public async Task Archive_hides_from_the_list_unless_asked_and_unarchive_restores()
    {
        var (_, editor, viewer, space) = await SpaceAsync();
        await editor.Client.CreateProductAsync(space, "keep");
        await editor.Client.CreateProductAsync(space, "old");
        var url = $"/api/v1/spaces/{space}/products";

        Assert.Equal(403, (await viewer.Client.PostAsync($"{url}/old/archive", new { })).Status);
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var archived = await editor.Client.PostAsync($"{url}/old/archive", new { });
        Assert.Equal(200, archived.Status);
        Assert.True(archived.Json.GetProperty("is_archived").GetBoolean());
        Assert.Equal(app.Clock.GetUtcNow(), archived.Json.GetProperty("archived_at").GetDateTimeOffset());

        Assert.Equal(["keep"], (await viewer.Client.GetAsync(url)).Slugs());
        Assert.Equal(["keep", "old"], (await viewer.Client.GetAsync(url + "?include_archived=true")).Slugs());
        Assert.Equal(200, (await viewer.Client.GetAsync($"{url}/old")).Status); // still readable directly

        var unarchived = await editor.Client.PostAsync($"{url}/old/unarchive", new { });
        Assert.Equal(200, unarchived.Status);
        Assert.False(unarchived.Json.GetProperty("is_archived").GetBoolean());
        Assert.Equal(JsonValueKind.Null, unarchived.Json.GetProperty("archived_at").ValueKind);
        Assert.Equal(["keep", "old"], (await viewer.Client.GetAsync(url)).Slugs());
        Assert.Equal(404, (await editor.Client.PostAsync($"{url}/missing/archive", new { })).Status);
    }

    [Fact]
    public async Task Only_admins_delete_and_the_product_goes_with_its_fields()
    {
        var (admin, editor, _, space) = await SpaceAsync();
        var product = await editor.Client.CreateProductAsync(space, "gone", new { fields = new[] { new { name = "a" } }, tags = new[] { "t" } });
        var url = $"/api/v1/spaces/{space}/products/gone";
        Assert.Equal(403, (await editor.Client.DeleteAsync(url)).Status);
        Assert.Equal(409, (await admin.Client.DeleteAsync(url, CatalogTestSupport.IfMatch("\"1\""))).Status);
        Assert.Equal(204, (await admin.Client.DeleteAsync(url)).Status);
        Assert.Equal(404, (await admin.Client.GetAsync(url)).Status);
        Assert.Equal(404, (await admin.Client.DeleteAsync(url)).Status);
        Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM product_fields WHERE product_id = '{product.Id()}'"));
        Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM data_product_search WHERE product_id = '{product.Id()}'"));
        // The tag stays in the library with no usage.
        var tags = (await admin.Client.GetAsync($"/api/v1/spaces/{space}/tags")).Items();
        Assert.Equal(0, Assert.Single(tags).GetProperty("usage_count").GetInt32());
    }

    [Fact]
    public async Task List_filters_combine_and_sorts_apply()
    {
        var (admin, editor, viewer, space) = await SpaceAsync();
        var pii = (await admin.Client.PostAsync($"/api/v1/spaces/{space}/tags", new { name = "pii" })).Json.Id();
        var gold = (await admin.Client.PostAsync($"/api/v1/spaces/{space}/tags", new { name = "gold" })).Json.Id();
        await editor.Client.CreateProductAsync(space, "customers", new { description = "People who buy", tag_ids = new[] { pii, gold }, owner_id = editor.Id });
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        await editor.Client.CreateProductAsync(space, "accounts", new { tag_ids = new[] { pii }, product_type = "view", steward_id = viewer.Id });
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        await editor.Client.CreateProductAsync(space, "revenue", new { name = "monthly revenue", tag_ids = new[] { gold }, product_type = "dashboard", custodian_id = viewer.Id });
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        await editor.Client.CreateProductAsync(space, "zeta", new { description = "nothing" });
        await editor.Client.PostAsync($"/api/v1/spaces/{space}/products/zeta/archive", new { });
        var url = $"/api/v1/spaces/{space}/products";

        var all = await viewer.Client.GetAsync(url);
        Assert.Equal(["accounts", "customers", "revenue"], all.Slugs());
        Assert.Equal(3, all.Json.GetProperty("total").GetInt32());
        Assert.Equal(["customers"], (await viewer.Client.GetAsync(url + "?search=BUY")).Slugs()); // description, case-insensitive
        Assert.Equal(["revenue"], (await viewer.Client.GetAsync(url + "?search=monthly")).Slugs()); // name
        Assert.Equal(["accounts"], (await viewer.Client.GetAsync(url + "?search=accou")).Slugs()); // slug
        Assert.Empty((await viewer.Client.GetAsync(url + "?search=%25")).Slugs()); // '%' is literal
        Assert.Equal(["accounts", "customers"], (await viewer.Client.GetAsync($"{url}?tags={pii}")).Slugs());
        Assert.Equal(["customers"], (await viewer.Client.GetAsync($"{url}?tags={pii},{gold}")).Slugs()); // AND
        Assert.Equal(["customers"], (await viewer.Client.GetAsync($"{url}?tags={pii}&tags={gold}")).Slugs());
        Assert.Equal(["accounts"], (await viewer.Client.GetAsync($"{url}?product_type=view")).Slugs());
        Assert.Equal(["customers"], (await viewer.Client.GetAsync($"{url}?owner_id={editor.Id}")).Slugs());
        Assert.Equal(["accounts", "revenue"], (await viewer.Client.GetAsync($"{url}?governed_by={viewer.Id}")).Slugs());
        Assert.Equal(["accounts", "customers", "revenue", "zeta"], (await viewer.Client.GetAsync($"{url}?include_archived=true")).Slugs());
        Assert.Equal(["zeta"], (await viewer.Client.GetAsync($"{url}?include_archived=true&search=nothing")).Slugs());

        Assert.Equal(["revenue", "customers", "accounts"], (await viewer.Client.GetAsync(url + "?sort=-name")).Slugs());
        Assert.Equal(["customers", "accounts", "revenue"], (await viewer.Client.GetAsync(url + "?sort=created_at")).Slugs());
        Assert.Equal(["revenue", "accounts", "customers"], (await viewer.Client.GetAsync(url + "?sort=-created_at")).Slugs());
        Assert.Equal(["customers", "accounts", "revenue"], (await viewer.Client.GetAsync(url + "?sort=updated_at")).Slugs());
        Assert.Equal(["revenue", "accounts", "customers"], (await viewer.Client.GetAsync(url + "?sort=-updated_at")).Slugs());
        var badSort = await viewer.Client.GetAsync(url + "?sort=popularity");
        Assert.Equal(422, badSort.Status);
        Assert.Equal("query.sort", badSort.Loc());
        Assert.Equal(422, (await viewer.Client.GetAsync(url + "?tags=not-a-uuid")).Status);
        Assert.Equal(422, (await viewer.Client.GetAsync(url + "?include_archived=maybe")).Status);
        Assert.Equal(422, (await viewer.Client.GetAsync(url + "?owner_id=zzz")).Status);

        var page = await viewer.Client.GetAsync(url + "?page=2&size=2");
        Assert.Equal(["revenue"], page.Slugs());
        Assert.Equal(3, page.Json.GetProperty("total").GetInt32());
        var first = page.Json.GetProperty("items")[0];
        Assert.Equal(["gold"], first.GetProperty("tags").EnumerateArray().Select(t => t.Str("name")));
    }

    [Fact]
    public async Task Governance_is_assigned_changed_and_cleared_and_listed_per_user()
    {
        var (admin, editor, viewer, space) = await SpaceAsync();
        var outsider = await app.CreateUserAsync("Outsider");
        await editor.Client.CreateProductAsync(space, "sales", new { name = "Sales" });
        await editor.Client.CreateProductAsync(space, "stock", new { name = "Stock" });
        var url = $"/api/v1/spaces/{space}/products/sales/governance";

        var assigned = await editor.Client.PatchAsync(url, new { owner_id = editor.Id, steward_id = viewer.Id, data_architect_id = viewer.Id });
        Assert.Equal(200, assigned.Status);
        var gov = assigned.Json.GetProperty("governance");
        Assert.Equal(editor.Id, gov.GetProperty("owner").Id());
        Assert.Equal(editor.Email, gov.GetProperty("owner").Str("email"));
        Assert.Equal(viewer.Id, gov.GetProperty("steward").Id());
        Assert.Equal(viewer.Id, gov.GetProperty("data_architect").Id());
        Assert.Equal(JsonValueKind.Null, gov.GetProperty("custodian").ValueKind);
        await editor.Client.PatchAsync($"/api/v1/spaces/{space}/products/stock/governance", new { custodian_id = viewer.Id });

        var changed = await editor.Client.PatchAsync(url, new { owner_id = admin.Id, steward_id = (Guid?)null });
        Assert.Equal(200, changed.Status);
        Assert.Equal(admin.Id, changed.Json.GetProperty("governance").GetProperty("owner").Id());
        Assert.Equal(JsonValueKind.Null, changed.Json.GetProperty("governance").GetProperty("steward").ValueKind);
        Assert.Equal(viewer.Id, changed.Json.GetProperty("governance").GetProperty("data_architect").Id()); // untouched

        var notMember = await editor.Client.PatchAsync(url, new { custodian_id = outsider.Id });
        Assert.Equal("not_a_member", notMember.ErrorType());
        Assert.Equal("body.custodian_id", notMember.Loc());
        Assert.Equal(403, (await viewer.Client.PatchAsync(url, new { owner_id = viewer.Id })).Status);
        Assert.Equal(422, (await editor.Client.PatchAsync(url, new { name = "not a governance field" })).Status);
        var etag = (await editor.Client.GetAsync($"/api/v1/spaces/{space}/products/sales")).Header("ETag");
        await editor.Client.PatchAsync(url, new { custodian_id = editor.Id });
        Assert.Equal(409, (await editor.Client.PatchAsync(url, new { custodian_id = (Guid?)null }, CatalogTestSupport.IfMatch(etag))).Status);
    }

    [Fact]
    public async Task Governed_products_lists_a_users_roles_in_the_spaces_the_caller_can_see()
    {
        var (admin, editor, viewer, space) = await SpaceAsync();
        var outsider = await app.CreateUserAsync("Outsider");
        await editor.Client.CreateProductAsync(space, "sales", new { name = "Sales", steward_id = viewer.Id, data_architect_id = viewer.Id, owner_id = editor.Id });
        await editor.Client.CreateProductAsync(space, "stock", new { name = "Stock", custodian_id = viewer.Id });
        await editor.Client.CreateProductAsync(space, "unrelated", new { owner_id = editor.Id });

        var governed = await viewer.Client.GetAsync($"/api/v1/users/{viewer.Id}/governed-products");
        var items = governed.Items();
        Assert.Equal(["sales", "stock"], items.Select(i => i.Str("slug")));
        Assert.Equal(["steward", "data_architect"], items[0].GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(["custodian"], items[1].GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(space, items[0].Str("space_slug"));
        Assert.Equal("Sales", items[0].Str("name"));

        await editor.Client.PatchAsync($"/api/v1/spaces/{space}/products/sales/governance", new { steward_id = (Guid?)null });
        var after = (await viewer.Client.GetAsync($"/api/v1/users/{viewer.Id}/governed-products")).Items();
        Assert.Equal(["data_architect"], after[0].GetProperty("roles").EnumerateArray().Select(r => r.GetString()));

        // A caller who shares no space with the products sees none of them; a superadmin sees all.
        Assert.Empty((await outsider.Client.GetAsync($"/api/v1/users/{viewer.Id}/governed-products")).Items());
        Assert.Equal(2, (await (await app.AdminAsync()).GetAsync($"/api/v1/users/{viewer.Id}/governed-products")).Items().Count);
        Assert.Equal(404, (await viewer.Client.GetAsync("/api/v1/users/not-a-uuid/governed-products")).Status);
    }

    [Fact]
    public async Task Product_types_are_built_in_or_custom_and_in_use_ones_cannot_be_deleted()
    {
        var (admin, editor, viewer, space) = await SpaceAsync();
        var url = $"/api/v1/spaces/{space}/product-types";
        var list = await viewer.Client.GetAsync(url);
        Assert.Equal(200, list.Status);
        var types = list.Json.EnumerateArray().ToList();
        Assert.Contains(types, t => t.Str("name") == "table" && t.GetProperty("built_in").GetBoolean());
        Assert.Contains(types, t => t.Str("name") == "dbt_model");

        Assert.Equal(403, (await editor.Client.PostAsync(url, new { name = "kafka_topic" })).Status);
        var created = await admin.Client.PostAsync(url, new { name = "kafka_topic", description = "A topic" });
        Assert.Equal(201, created.Status);
        Assert.False(created.Json.GetProperty("built_in").GetBoolean());
        Assert.Equal(409, (await admin.Client.PostAsync(url, new { name = "kafka_topic" })).Status);
        Assert.Equal(409, (await admin.Client.PostAsync(url, new { name = "table" })).Status);
        Assert.Equal(422, (await admin.Client.PostAsync(url, new { name = "Kafka Topic" })).Status);
        await admin.Client.PostAsync(url, new { name = "unused_type" });

        await editor.Client.CreateProductAsync(space, "events", new { product_type = "kafka_topic" });
        await editor.Client.CreateProductAsync(space, "t1");
        var withUsage = (await viewer.Client.GetAsync(url)).Json.EnumerateArray().ToList();
        var custom = withUsage.Single(t => t.Str("name") == "kafka_topic");
        Assert.Equal(1, custom.GetProperty("usage_count").GetInt32());
        Assert.Equal("A topic", custom.Str("description"));
        Assert.Equal(1, withUsage.Single(t => t.Str("name") == "table").GetProperty("usage_count").GetInt32());

        Assert.Equal(403, (await editor.Client.DeleteAsync($"{url}/unused_type")).Status);
        var inUse = await admin.Client.DeleteAsync($"{url}/kafka_topic");
        Assert.Equal(409, inUse.Status);
        Assert.Equal("in_use", inUse.Code());
        Assert.Equal(204, (await admin.Client.DeleteAsync($"{url}/unused_type")).Status);
        Assert.Equal(404, (await admin.Client.DeleteAsync($"{url}/unused_type")).Status);
        Assert.Equal(404, (await admin.Client.DeleteAsync($"{url}/table")).Status);
        Assert.DoesNotContain((await viewer.Client.GetAsync(url)).Json.EnumerateArray(), t => t.Str("name") == "unused_type");
        // The type is unknown now.
        Assert.Equal("unknown_product_type", (await editor.Client.PostAsync($"/api/v1/spaces/{space}/products", new { slug = "xx", name = "x", product_type = "unused_type" })).ErrorType());
    }
}
