using System.Text.Json;
using Npgsql;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Catalog;

public sealed class AuditTests(AppFixture app) : IClassFixture<AppFixture>
{
    private async Task<(TestUser Admin, TestUser Editor, TestUser Viewer, string Space)> SpaceAsync()
    {
        var admin = await app.CreateUserAsync("AuditAdmin");
        var editor = await app.CreateUserAsync("Editor");
        var viewer = await app.CreateUserAsync("Viewer");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"), (editor, "editor"), (viewer, "viewer"));
        return (admin, editor, viewer, space);
    }

    /// <summary>Entries of the space (newest first) with the given query.</summary>
    private static async Task<List<JsonElement>> AuditAsync(TestUser admin, string space, string query = "")
        => (await admin.Client.GetAsync($"/api/v1/spaces/{space}/audit?size=100&{query}")).Items();

    private static List<string> ChangeKeys(JsonElement entry)
        => entry.GetProperty("changes").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToList();

    private static JsonElement Change(JsonElement entry, string field, string side) => entry.GetProperty("changes").GetProperty(field).GetProperty(side);

    private void AssertEntry(JsonElement e, string action, string type, Guid resource, string? name, Guid actor)
    {
        Assert.Equal(action, e.Str("action"));
        Assert.Equal(type, e.Str("resource_type"));
        Assert.Equal(resource, e.GetProperty("resource_id").GetGuid());
        if (name is not null) Assert.Equal(name, e.Str("resource_name"));
        Assert.Equal(actor, e.GetProperty("actor_user_id").GetGuid());
        Assert.Equal(app.Clock.GetUtcNow(), e.GetProperty("occurred_at").GetDateTimeOffset());
    }

    [Fact]
    public async Task Each_product_mutation_leaves_exactly_one_entry()
    {
        var (admin, editor, _, space) = await SpaceAsync();
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var product = await editor.Client.CreateProductAsync(space, "orders", new { name = "Orders", description = "old" });
        var id = product.Id();
        var url = $"/api/v1/spaces/{space}/products/orders";
        async Task<List<JsonElement>> History() => await AuditAsync(admin, space, $"resource_id={id}");

        var created = Assert.Single(await History());
        AssertEntry(created, "create", "data_product", id, "Orders", editor.Id);
        Assert.Equal(JsonValueKind.Null, Change(created, "name", "before").ValueKind);
        Assert.Equal("Orders", Change(created, "name", "after").GetString());
        Assert.Equal("orders", Change(created, "slug", "after").GetString());
        Assert.Equal("old", Change(created, "description", "after").GetString());
        Assert.DoesNotContain("version", ChangeKeys(created));
        Assert.DoesNotContain("updated_at", ChangeKeys(created));
        Assert.DoesNotContain("manual_attributes", ChangeKeys(created));
        Assert.Equal(editor.Email, created.Str("actor_email"));

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(200, (await editor.Client.PatchAsync(url, new { description = "new", name = "Orders" })).Status);
        var entries = await History();
        Assert.Equal(2, entries.Count);
        AssertEntry(entries[0], "update", "data_product", id, "Orders", editor.Id);
        Assert.Equal(["description"], ChangeKeys(entries[0]));
        Assert.Equal("old", Change(entries[0], "description", "before").GetString());
        Assert.Equal("new", Change(entries[0], "description", "after").GetString());

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(200, (await editor.Client.PostAsync(url + "/archive", new { })).Status);
        entries = await History();
        Assert.Equal(3, entries.Count);
        AssertEntry(entries[0], "archive", "data_product", id, "Orders", editor.Id);
        Assert.Equal(["archived_at", "is_archived"], ChangeKeys(entries[0]));
        Assert.False(Change(entries[0], "is_archived", "before").GetBoolean());
        Assert.True(Change(entries[0], "is_archived", "after").GetBoolean());

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(200, (await editor.Client.PostAsync(url + "/unarchive", new { })).Status);
        entries = await History();
        Assert.Equal(4, entries.Count);
        AssertEntry(entries[0], "unarchive", "data_product", id, "Orders", editor.Id);
        // Archiving an archived product again changes nothing and records nothing.
        Assert.Equal(200, (await editor.Client.PostAsync(url + "/unarchive", new { })).Status);
        Assert.Equal(4, (await History()).Count);

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(200, (await editor.Client.PatchAsync(url + "/governance", new { owner_id = editor.Id })).Status);
        entries = await History();
        Assert.Equal(5, entries.Count);
        AssertEntry(entries[0], "update", "data_product", id, "Orders", editor.Id);
        Assert.Equal(["owner_id"], ChangeKeys(entries[0]));
        Assert.Equal(editor.Id, Change(entries[0], "owner_id", "after").GetGuid());

        // A rename is recorded under the new name, with the old one in its changes.
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        await editor.Client.PatchAsync(url, new { name = "Sales orders" });
        entries = await History();
        Assert.Equal(6, entries.Count);
        Assert.Equal("Orders", Change(entries[0], "name", "before").GetString());
        Assert.Equal("Sales orders", entries[0].Str("resource_name"));

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(204, (await admin.Client.DeleteAsync(url)).Status);
        entries = await History();
        Assert.Equal(7, entries.Count);
        AssertEntry(entries[0], "delete", "data_product", id, "Sales orders", admin.Id);
        Assert.Equal("Sales orders", Change(entries[0], "name", "before").GetString());
        Assert.Equal(JsonValueKind.Null, Change(entries[0], "name", "after").ValueKind);
        Assert.Equal(["create", "update", "archive", "unarchive", "update", "update", "delete"],
            entries.AsEnumerable().Reverse().Select(e => e.Str("action")));
        // No entry anywhere with nothing in it.
        Assert.DoesNotContain(await AuditAsync(admin, space), e => ChangeKeys(e).Count == 0);
    }

    [Fact]
    public async Task Field_changes_are_audited_per_field()
    {
        var (admin, editor, _, space) = await SpaceAsync();
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var product = await editor.Client.CreateProductAsync(space, "users", new { fields = new[] { new { name = "id" }, new { name = "email" } } });
        var fieldEntries = await AuditAsync(admin, space, "resource_type=product_field");
        Assert.Equal(2, fieldEntries.Count);
        Assert.All(fieldEntries, e => Assert.Equal("create", e.Str("action")));
        Assert.Equal(["email", "id"], fieldEntries.Select(e => e.Str("resource_name")).Order());
        Assert.All(fieldEntries, e => Assert.Equal(product.Id(), Change(e, "product_id", "after").GetGuid()));

        var url = $"/api/v1/spaces/{space}/products/users/fields";
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var added = (await editor.Client.PostAsync(url, new { name = "age", data_type = "int" })).Json.Id();
        var entry = Assert.Single(await AuditAsync(admin, space, $"resource_id={added}"));
        AssertEntry(entry, "create", "product_field", added, "age", editor.Id);
        Assert.Equal("int", Change(entry, "data_type", "after").GetString());
        // Adding a field touches the product's updated_at but leaves no product entry.
        Assert.Single(await AuditAsync(admin, space, $"resource_id={product.Id()}"));

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        await editor.Client.PatchAsync($"{url}/{added}", new { data_type = "bigint" });
        var history = await AuditAsync(admin, space, $"resource_id={added}");
        Assert.Equal(2, history.Count);
        AssertEntry(history[0], "update", "product_field", added, "age", editor.Id);
        Assert.Equal(["data_type"], ChangeKeys(history[0]));
        Assert.Equal("int", Change(history[0], "data_type", "before").GetString());
        Assert.Equal("bigint", Change(history[0], "data_type", "after").GetString());

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(204, (await editor.Client.DeleteAsync($"{url}/{added}")).Status);
        history = await AuditAsync(admin, space, $"resource_id={added}");
        Assert.Equal(3, history.Count);
        AssertEntry(history[0], "delete", "product_field", added, "age", editor.Id);

        // Replace: one update, one add, one remove.
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var from = app.Clock.GetUtcNow();
        await editor.Client.PutAsync(url, new { fields = new object[] { new { name = "id", data_type = "uuid" }, new { name = "created_at" } } });
        var replace = await AuditAsync(admin, space, $"resource_type=product_field&from={Uri.EscapeDataString(from.ToString("O"))}");
        Assert.Equal(["create created_at", "delete email", "update id"], replace.Select(e => e.Str("action") + " " + e.Str("resource_name")).Order());
        Assert.Single(await AuditAsync(admin, space, $"resource_id={product.Id()}"));

        // Deleting the product records each of its fields' deletion too.
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        from = app.Clock.GetUtcNow();
        await admin.Client.DeleteAsync($"/api/v1/spaces/{space}/products/users");
        var deletion = await AuditAsync(admin, space, $"from={Uri.EscapeDataString(from.ToString("O"))}");
        Assert.Equal(["data_product users", "product_field created_at", "product_field id"],
            deletion.Select(e => e.Str("resource_type") + " " + e.Str("resource_name")).Order());
        Assert.All(deletion, e => Assert.Equal("delete", e.Str("action")));
    }

    [Fact]
    public async Task Tagging_a_product_is_one_update_of_the_product_naming_the_tags()
    {
        var (admin, editor, _, space) = await SpaceAsync();
        var product = (await editor.Client.CreateProductAsync(space, "tagged")).Id();
        var tag = (await admin.Client.PostAsync($"/api/v1/spaces/{space}/tags", new { name = "gold" })).Json.Id();

        app.Clock.Advance(TimeSpan.FromSeconds(1)); // entries of one instant have no defined order
        Assert.Equal(200, (await editor.Client.PostAsync($"/api/v1/spaces/{space}/products/tagged/tags", new { tag_id = tag })).Status);
        var attached = await AuditAsync(admin, space, $"resource_id={product}");
        AssertEntry(attached[0], "update", "data_product", product, "tagged", editor.Id);
        Assert.Equal(tag, attached[0].GetProperty("changes").GetProperty("tag_ids").GetProperty("added")[0].GetGuid());
        Assert.Equal(0, attached[0].GetProperty("changes").GetProperty("tag_ids").GetProperty("removed").GetArrayLength());

        app.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(204, (await editor.Client.DeleteAsync($"/api/v1/spaces/{space}/products/tagged/tags/{tag}")).Status);
        var detached = await AuditAsync(admin, space, $"resource_id={product}");
        Assert.Equal(attached.Count + 1, detached.Count);
        Assert.Equal(tag, detached[0].GetProperty("changes").GetProperty("tag_ids").GetProperty("removed")[0].GetGuid());
    }

    [Fact]
    public async Task Tag_library_changes_and_inline_creation_are_audited()
    {
        var (admin, editor, _, space) = await SpaceAsync();
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var tag = (await admin.Client.PostAsync($"/api/v1/spaces/{space}/tags", new { name = "pii", color = "#ff0000" })).Json.Id();
        var entry = Assert.Single(await AuditAsync(admin, space, $"resource_id={tag}"));
        AssertEntry(entry, "create", "tag", tag, "pii", admin.Id);
        Assert.Equal("#ff0000", Change(entry, "color", "after").GetString());

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        await admin.Client.PatchAsync($"/api/v1/spaces/{space}/tags/{tag}", new { name = "personal" });
        var history = await AuditAsync(admin, space, $"resource_id={tag}");
        Assert.Equal(2, history.Count);
        AssertEntry(history[0], "update", "tag", tag, "personal", admin.Id);
        Assert.Equal(["name"], ChangeKeys(history[0]));
        Assert.Equal("pii", Change(history[0], "name", "before").GetString());

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        await editor.Client.CreateProductAsync(space, "pp");
        await editor.Client.PostAsync($"/api/v1/spaces/{space}/products/pp/tags", new { name = "inline-made" });
        var inline = (await AuditAsync(admin, space, "resource_type=tag&action=create")).Single(e => e.Str("resource_name") == "inline-made");
        Assert.Equal(editor.Id, inline.GetProperty("actor_user_id").GetGuid());

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(204, (await admin.Client.DeleteAsync($"/api/v1/spaces/{space}/tags/{tag}")).Status);
        history = await AuditAsync(admin, space, $"resource_id={tag}");
        Assert.Equal(3, history.Count);
        AssertEntry(history[0], "delete", "tag", tag, "personal", admin.Id);
    }

    [Fact]
    public async Task Lineage_edges_are_audited_on_add_remove_and_replace()
    {
        var (admin, editor, _, space) = await SpaceAsync();
        var a = (await editor.Client.CreateProductAsync(space, "pa")).Id();
        var b = (await editor.Client.CreateProductAsync(space, "pb")).Id();
        var c = (await editor.Client.CreateProductAsync(space, "pc")).Id();
        var up = $"/api/v1/spaces/{space}/products/pc/lineage/upstream";

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var edge = (await editor.Client.PostAsync(up, new { upstream_id = a })).Json.Id();
        var entry = Assert.Single(await AuditAsync(admin, space, $"resource_id={edge}"));
        AssertEntry(entry, "create", "lineage_edge", edge, $"{a} -> {c}", editor.Id);
        Assert.Equal(a, Change(entry, "upstream_id", "after").GetGuid());
        Assert.Equal("transforms", Change(entry, "relationship", "after").GetString());

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(204, (await editor.Client.DeleteAsync($"{up}/{a}")).Status);
        var history = await AuditAsync(admin, space, $"resource_id={edge}");
        Assert.Equal(2, history.Count);
        AssertEntry(history[0], "delete", "lineage_edge", edge, $"{a} -> {c}", editor.Id);

        await editor.Client.PostAsync(up, new { upstream_id = a });
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var from = app.Clock.GetUtcNow();
        Assert.Equal(200, (await editor.Client.PutAsync(up, new { upstream = new[] { new { upstream_id = b } } })).Status);
        var replace = await AuditAsync(admin, space, $"resource_type=lineage_edge&from={Uri.EscapeDataString(from.ToString("O"))}");
        Assert.Equal([$"create {b} -> {c}", $"delete {a} -> {c}"], replace.Select(e => e.Str("action") + " " + e.Str("resource_name")).Order());
    }

    [Fact]
    public async Task Deleting_a_product_records_the_lineage_edges_that_go_with_it()
    {
        var (admin, editor, _, space) = await SpaceAsync();
        var a = (await editor.Client.CreateProductAsync(space, "src")).Id();
        var b = (await editor.Client.CreateProductAsync(space, "dst")).Id();
        var edge = (await editor.Client.PostAsync($"/api/v1/spaces/{space}/products/dst/lineage/upstream", new { upstream_id = a })).Json.Id();
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(204, (await admin.Client.DeleteAsync($"/api/v1/spaces/{space}/products/src")).Status);
        Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM lineage_edges WHERE id = '{edge}'"));
        var history = await AuditAsync(admin, space, $"resource_id={edge}");
        Assert.True(history.Count == 2 && history[0].Str("action") == "delete",
            $"the edge {a} -> {b} disappeared with its upstream product but its audit history ends at: {string.Join(", ", history.Select(h => h.Str("action")))}");
    }

    [Fact]
    public async Task Space_and_member_changes_are_audited()
    {
        var (admin, editor, viewer, space) = await SpaceAsync();
        var newcomer = await app.CreateUserAsync("Newcomer");
        var spaceId = (await admin.Client.GetAsync($"/api/v1/spaces/{space}")).Json.Id();

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(200, (await admin.Client.PatchAsync($"/api/v1/spaces/{space}", new { name = "Renamed" })).Status);
        var spaceEntries = await AuditAsync(admin, space, $"resource_id={spaceId}&action=update");
        var entry = Assert.Single(spaceEntries);
        AssertEntry(entry, "update", "space", spaceId, space, admin.Id);
        Assert.Equal(["name"], ChangeKeys(entry));
        Assert.Equal("Renamed", Change(entry, "name", "after").GetString());

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var added = await admin.Client.PostAsync($"/api/v1/spaces/{space}/members", new { user_id = newcomer.Id, role = "editor" });
        Assert.Equal(201, added.Status);
        var memberships = await AuditAsync(admin, space, $"resource_type=space_membership&user_id={admin.Id}");
        var create = Assert.Single(memberships);
        Assert.Equal("create", create.Str("action"));
        Assert.Equal(newcomer.Id, Change(create, "user_id", "after").GetGuid());
        Assert.Equal("editor", Change(create, "role", "after").GetString());
        var membershipId = create.GetProperty("resource_id").GetGuid();

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        await admin.Client.PatchAsync($"/api/v1/spaces/{space}/members/{newcomer.Id}", new { role = "admin" });
        var history = await AuditAsync(admin, space, $"resource_id={membershipId}");
        Assert.Equal(2, history.Count);
        AssertEntry(history[0], "update", "space_membership", membershipId, null, admin.Id);
        Assert.Equal(["role"], ChangeKeys(history[0]));
        Assert.Equal("editor", Change(history[0], "role", "before").GetString());
        Assert.Equal("admin", Change(history[0], "role", "after").GetString());

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        await admin.Client.DeleteAsync($"/api/v1/spaces/{space}/members/{newcomer.Id}");
        history = await AuditAsync(admin, space, $"resource_id={membershipId}");
        Assert.Equal(3, history.Count);
        AssertEntry(history[0], "delete", "space_membership", membershipId, null, admin.Id);
    }

    [Fact]
    public async Task The_space_log_is_for_admins_with_filters_and_history_is_for_viewers()
    {
        var (admin, editor, viewer, space) = await SpaceAsync();
        var t0 = app.Clock.GetUtcNow().AddSeconds(1);
        app.Clock.Advance(TimeSpan.FromMinutes(10));
        var p = (await editor.Client.CreateProductAsync(space, "p1")).Id();
        app.Clock.Advance(TimeSpan.FromMinutes(10));
        var t1 = app.Clock.GetUtcNow();
        await editor.Client.PatchAsync($"/api/v1/spaces/{space}/products/p1", new { description = "d" });
        var tag = (await admin.Client.PostAsync($"/api/v1/spaces/{space}/tags", new { name = "tg" })).Json.Id();
        app.Clock.Advance(TimeSpan.FromMinutes(10));
        var t2 = app.Clock.GetUtcNow();
        await editor.Client.PatchAsync($"/api/v1/spaces/{space}/products/p1", new { description = "e" });
        string Q(DateTimeOffset t) => Uri.EscapeDataString(t.ToString("O"));

        Assert.Equal(403, (await editor.Client.GetAsync($"/api/v1/spaces/{space}/audit")).Status);
        Assert.Equal(403, (await viewer.Client.GetAsync($"/api/v1/spaces/{space}/audit")).Status);
        Assert.Equal(403, (await editor.Client.GetAsync($"/api/v1/spaces/{space}/audit/export?format=csv")).Status);

        var all = await AuditAsync(admin, space);
        var times = all.Select(e => e.GetProperty("occurred_at").GetDateTimeOffset()).ToList();
        Assert.Equal(times.OrderDescending().ToList(), times);
        Assert.Equal(["update", "update", "create"], (await AuditAsync(admin, space, $"resource_id={p}")).Select(e => e.Str("action")));
        Assert.Equal([p], (await AuditAsync(admin, space, "action=create&resource_type=data_product")).Select(e => e.GetProperty("resource_id").GetGuid()));
        Assert.Equal([tag], (await AuditAsync(admin, space, "resource_type=tag")).Select(e => e.GetProperty("resource_id").GetGuid()));
        var byEditor = await AuditAsync(admin, space, $"user_id={editor.Id}");
        Assert.Equal(3, byEditor.Count);
        Assert.All(byEditor, e => Assert.Equal(editor.Id, e.GetProperty("actor_user_id").GetGuid()));
        var since = await AuditAsync(admin, space, $"from={Q(t1)}");
        Assert.Equal(3, since.Count);
        Assert.All(since, e => Assert.True(e.GetProperty("occurred_at").GetDateTimeOffset() >= t1));
        var window = await AuditAsync(admin, space, $"from={Q(t1)}&to={Q(t2)}");
        Assert.Equal(["create tag", "update data_product"], window.Select(e => e.Str("action") + " " + e.Str("resource_type")).Order());
        var before = await AuditAsync(admin, space, $"from={Q(t0)}&to={Q(t1)}");
        Assert.Equal(["create data_product"], before.Select(e => e.Str("action") + " " + e.Str("resource_type")));
        Assert.Empty(await AuditAsync(admin, space, "action=teleport"));
        Assert.Equal(422, (await admin.Client.GetAsync($"/api/v1/spaces/{space}/audit?from=2026-03-01T00:00:00")).Status);
        Assert.Equal(422, (await admin.Client.GetAsync($"/api/v1/spaces/{space}/audit?user_id=abc")).Status);

        var history = await viewer.Client.GetAsync($"/api/v1/spaces/{space}/audit/resources/{p}");
        Assert.Equal(200, history.Status);
        Assert.Equal(["update", "update", "create"], history.Items().Select(e => e.Str("action")));
        Assert.Equal(2, (await viewer.Client.GetAsync($"/api/v1/spaces/{space}/audit/resources/{p}?size=2")).Items().Count);
        Assert.Empty((await viewer.Client.GetAsync($"/api/v1/spaces/{space}/audit/resources/{Guid.NewGuid()}")).Items());

        // The platform log is for superadmins.
        Assert.Equal(403, (await admin.Client.GetAsync("/api/v1/audit")).Status);
        var platform = await (await app.AdminAsync()).GetAsync($"/api/v1/audit?resource_id={p}");
        Assert.Equal(3, platform.Items().Count);
    }

    [Fact]
    public async Task Export_as_csv_and_json_contains_the_entries_oldest_first()
    {
        var (admin, editor, _, space) = await SpaceAsync();
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        var p = (await editor.Client.CreateProductAsync(space, "exported", new { name = "=HYPERLINK(\"x\"), with comma", description = "line1\nline2" })).Id();
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        await editor.Client.PatchAsync($"/api/v1/spaces/{space}/products/exported", new { description = "changed" });
        var expected = await AuditAsync(admin, space);

        var csv = await admin.Client.GetAsync($"/api/v1/spaces/{space}/audit/export?format=csv");
        Assert.Equal(200, csv.Status);
        Assert.StartsWith("text/csv", csv.Header("Content-Type"));
        Assert.Contains("attachment", csv.Header("Content-Disposition"));
        var rows = CatalogTestSupport.ParseCsv(csv.Body);
        Assert.Equal(["id", "occurred_at", "space_id", "actor_user_id", "actor_email", "actor_api_key_id", "action", "resource_type", "resource_id", "resource_name", "changes"], rows[0]);
        var data = rows.Skip(1).ToList();
        Assert.Equal(expected.Count, data.Count);
        Assert.All(data, r => Assert.Equal(11, r.Count));
        Assert.Equal(expected.Select(e => e.Id().ToString()).Reverse(), data.Select(r => r[0]));
        var createRow = data.Single(r => r[8] == p.ToString() && r[6] == "create");
        Assert.Equal("'=HYPERLINK(\"x\"), with comma", createRow[9]); // formula-neutralised, quoted
        Assert.Equal(editor.Id.ToString(), createRow[3]);
        using (var changes = JsonDocument.Parse(createRow[10]))
            Assert.Equal("line1\nline2", changes.RootElement.GetProperty("description").GetProperty("after").GetString());
        Assert.Equal(app.Clock.GetUtcNow().AddMinutes(-1), DateTimeOffset.Parse(createRow[1], System.Globalization.CultureInfo.InvariantCulture));

        var json = await admin.Client.GetAsync($"/api/v1/spaces/{space}/audit/export?format=json");
        Assert.Equal(200, json.Status);
        Assert.StartsWith("application/json", json.Header("Content-Type"));
        var array = json.Json.EnumerateArray().ToList();
        Assert.Equal(expected.Select(e => e.Id()).Reverse(), array.Select(e => e.Id()));
        var update = array.Single(e => e.Str("action") == "update" && e.GetProperty("resource_id").GetGuid() == p);
        Assert.Equal("changed", Change(update, "description", "after").GetString());
        Assert.Equal(editor.Id, update.GetProperty("actor_user_id").GetGuid());

        var filtered = await admin.Client.GetAsync($"/api/v1/spaces/{space}/audit/export?format=json&action=update&resource_type=data_product");
        Assert.Equal([p], filtered.Json.EnumerateArray().Select(e => e.GetProperty("resource_id").GetGuid()));
        Assert.Equal(422, (await admin.Client.GetAsync($"/api/v1/spaces/{space}/audit/export?format=xml")).Status);
    }

    [Fact]
    public async Task The_audit_log_is_append_only_in_the_database()
    {
        var (_, editor, _, space) = await SpaceAsync();
        await editor.Client.CreateProductAsync(space, "immutable");
        var count = await app.Database.ScalarAsync<long>("SELECT count(*) FROM audit_log");
        Assert.True(count > 0);
        foreach (var sql in new[]
                 {
                     "UPDATE audit_log SET action = 'tampered'",
                     "UPDATE audit_log SET resource_name = 'x' WHERE resource_type = 'data_product'",
                     "DELETE FROM audit_log",
                     "DELETE FROM audit_log WHERE resource_type = 'data_product'",
                     "TRUNCATE audit_log",
                 })
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => app.Database.ExecuteAsync(sql));
            Assert.Contains("append-only", error.MessageText, StringComparison.Ordinal);
        }
        Assert.Equal(count, await app.Database.ScalarAsync<long>("SELECT count(*) FROM audit_log"));
        Assert.Equal(0L, await app.Database.ScalarAsync<long>("SELECT count(*) FROM audit_log WHERE action = 'tampered'"));
        // Inserting is how it grows.
        await app.Database.ExecuteAsync("INSERT INTO audit_log (id, occurred_at, action, resource_type, resource_id, changes) VALUES (gen_random_uuid(), now(), 'create', 'probe', gen_random_uuid(), '{}')");
        Assert.Equal(count + 1, await app.Database.ScalarAsync<long>("SELECT count(*) FROM audit_log"));
    }
}
