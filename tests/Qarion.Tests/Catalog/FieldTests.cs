using System.Text.Json;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Catalog;

public sealed class FieldTests(AppFixture app) : IClassFixture<AppFixture>
{
    private async Task<(TestUser Editor, TestUser Viewer, string Space)> SpaceAsync()
    {
        var editor = await app.CreateUserAsync("Editor");
        var viewer = await app.CreateUserAsync("Viewer");
        var space = await app.CreateSpaceAsync(null, (editor, "editor"), (viewer, "viewer"));
        return (editor, viewer, space);
    }

    private static List<string> Names(ApiResponse r) => r.Json.EnumerateArray().Select(f => f.Str("name")).ToList();

    [Fact]
    public async Task Replacing_the_schema_matches_fields_by_name()
    {
        var (editor, viewer, space) = await SpaceAsync();
        await editor.Client.CreateProductAsync(space, "users", new
        {
            fields = new object[]
            {
                new { name = "id", data_type = "int", is_primary_key = true },
                new { name = "name", data_type = "text" },
                new { name = "email", data_type = "text", description = "login" },
            },
        });
        var url = $"/api/v1/spaces/{space}/products/users/fields";
        var before = (await viewer.Client.GetAsync(url)).Json.EnumerateArray().ToDictionary(f => f.Str("name"), f => f.Clone());
        Assert.Equal(3, before.Count);

        var replaced = await editor.Client.PutAsync(url, new
        {
            fields = new object[]
            {
                new { name = "id", data_type = "bigint", is_primary_key = true, is_nullable = false },
                new { name = "created_at", data_type = "timestamptz" },
                new { name = "email", data_type = "text", description = "login" },
            },
        });
        Assert.Equal(200, replaced.Status);
        Assert.Equal(["id", "created_at", "email"], Names(replaced));
        var after = replaced.Json.EnumerateArray().ToDictionary(f => f.Str("name"), f => f.Clone());
        Assert.Equal(before["id"].Id(), after["id"].Id()); // updated in place
        Assert.Equal(before["email"].Id(), after["email"].Id());
        Assert.Equal("bigint", after["id"].Str("data_type"));
        Assert.False(after["id"].GetProperty("is_nullable").GetBoolean());
        Assert.True(after["id"].GetProperty("is_primary_key").GetBoolean());
        Assert.Equal([0, 1, 2], replaced.Json.EnumerateArray().Select(f => f.GetProperty("ordinal").GetInt32()));
        Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM product_fields WHERE id = '{before["name"].Id()}'"));
        Assert.Equal(3, (await viewer.Client.GetAsync($"/api/v1/spaces/{space}/products/users")).Json.GetProperty("field_count").GetInt32());
        var manual = after["id"].GetProperty("manual_attributes").EnumerateArray().Select(x => x.GetString()).ToList();
        Assert.Equal(["data_type", "is_nullable", "is_primary_key", "name", "ordinal"], manual);

        var duplicate = await editor.Client.PutAsync(url, new { fields = new[] { new { name = "a" }, new { name = "b" }, new { name = "a" } } });
        Assert.Equal("duplicate", duplicate.ErrorType());
        Assert.Equal("body.fields.2.name", duplicate.Loc());
        Assert.Equal(["id", "created_at", "email"], Names(await viewer.Client.GetAsync(url)));

        Assert.Equal(403, (await viewer.Client.PutAsync(url, new { fields = Array.Empty<object>() })).Status);
        var etag = (await viewer.Client.GetAsync($"/api/v1/spaces/{space}/products/users")).Header("ETag");
        var emptied = await editor.Client.SendRawAsync("PUT", url, """{"fields": []}""", headers: CatalogTestSupport.IfMatch(etag));
        Assert.Equal(200, emptied.Status);
        Assert.Empty(emptied.Json.EnumerateArray());
        // The etag the client had is stale once the schema changed.
        var stale = await editor.Client.SendRawAsync("PUT", url, """{"fields": [{"name": "x"}]}""", headers: CatalogTestSupport.IfMatch(etag));
        Assert.Equal(409, stale.Status);
        Assert.Equal(404, (await editor.Client.PutAsync($"/api/v1/spaces/{space}/products/nope/fields", new { fields = Array.Empty<object>() })).Status);
    }

    [Fact]
    public async Task A_single_field_is_added()
    {
        var (editor, viewer, space) = await SpaceAsync();
        await editor.Client.CreateProductAsync(space, "orders", new { fields = new[] { new { name = "id" } } });
        var url = $"/api/v1/spaces/{space}/products/orders/fields";

        var added = await editor.Client.PostAsync(url, new { name = "total", data_type = "numeric", description = "Gross total" });
        Assert.True(added.Status == 201, added.ToString());
        var fieldId = added.Json.Id();
        Assert.Equal($"/api/v1/spaces/{space}/products/orders/fields/{fieldId}", added.Header("Location"));
        Assert.Equal(1, added.Json.GetProperty("ordinal").GetInt32());
        Assert.Equal(["data_type", "description", "name", "ordinal"], added.Json.GetProperty("manual_attributes").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(["id", "total"], Names(await viewer.Client.GetAsync(url)));
    }

    [Fact]
    public async Task Adding_a_field_rejects_duplicates_bad_input_and_viewers()
    {
        var (editor, viewer, space) = await SpaceAsync();
        await editor.Client.CreateProductAsync(space, "orders", new { fields = new[] { new { name = "id" } } });
        var url = $"/api/v1/spaces/{space}/products/orders/fields";
        var duplicate = await editor.Client.PostAsync(url, new { name = "id" });
        Assert.Equal(409, duplicate.Status);
        Assert.Equal("duplicate", duplicate.Code());
        Assert.Equal(403, (await viewer.Client.PostAsync(url, new { name = "v" })).Status);
        Assert.Equal(422, (await editor.Client.PostAsync(url, new { name = "" })).Status);
        Assert.Equal(422, (await editor.Client.PostAsync(url, new { name = "neg", ordinal = -1 })).Status);
        Assert.Equal(404, (await editor.Client.PostAsync($"/api/v1/spaces/{space}/products/nope/fields", new { name = "x" })).Status);
        Assert.Equal(["id"], Names(await viewer.Client.GetAsync(url)));
    }

    [Fact]
    public async Task A_single_field_is_updated_and_marked_manual()
    {
        var (editor, viewer, space) = await SpaceAsync();
        await editor.Client.CreateProductAsync(space, "orders", new { fields = new object[] { new { name = "id" }, new { name = "total", data_type = "numeric" } } });
        var url = $"/api/v1/spaces/{space}/products/orders/fields";
        var fieldId = (await viewer.Client.GetAsync(url)).Json[1].Id();

        var updated = await editor.Client.PatchAsync($"{url}/{fieldId}", new { description = "Net total", is_nullable = false });
        Assert.True(updated.Status == 200, updated.ToString());
        Assert.Equal("Net total", updated.Json.Str("description"));
        Assert.False(updated.Json.GetProperty("is_nullable").GetBoolean());
        Assert.Equal("numeric", updated.Json.Str("data_type"));
        Assert.Equal(["data_type", "description", "is_nullable", "name", "ordinal"], updated.Json.GetProperty("manual_attributes").EnumerateArray().Select(x => x.GetString()));
    }

    [Fact]
    public async Task Field_updates_and_removals_are_checked_and_scoped_to_the_product()
    {
        var (editor, viewer, space) = await SpaceAsync();
        await editor.Client.CreateProductAsync(space, "orders", new { fields = new object[] { new { name = "id" }, new { name = "total" } } });
        await editor.Client.CreateProductAsync(space, "other", new { fields = new[] { new { name = "foreign" } } });
        var url = $"/api/v1/spaces/{space}/products/orders/fields";
        var fields = (await viewer.Client.GetAsync(url)).Json;
        var fieldId = fields[1].Id();

        Assert.Equal(409, (await editor.Client.PatchAsync($"{url}/{fieldId}", new { name = "id" })).Status);
        Assert.Equal(403, (await viewer.Client.PatchAsync($"{url}/{fieldId}", new { description = "x" })).Status);
        Assert.Equal(404, (await editor.Client.PatchAsync($"{url}/{Guid.NewGuid()}", new { description = "x" })).Status);
        Assert.Equal(404, (await editor.Client.PatchAsync($"{url}/not-a-uuid", new { description = "x" })).Status);
        Assert.Equal(422, (await editor.Client.PatchAsync($"{url}/{fieldId}", new { ordinal = -1 })).Status);

        // A field of another product is not found under this one.
        var foreign = (await viewer.Client.GetAsync($"/api/v1/spaces/{space}/products/other/fields")).Json[0].Id();
        Assert.Equal(404, (await editor.Client.PatchAsync($"{url}/{foreign}", new { description = "x" })).Status);
        Assert.Equal(404, (await editor.Client.DeleteAsync($"{url}/{foreign}")).Status);

        Assert.Equal(403, (await viewer.Client.DeleteAsync($"{url}/{fieldId}")).Status);
        Assert.Equal(204, (await editor.Client.DeleteAsync($"{url}/{fieldId}")).Status);
        Assert.Equal(404, (await editor.Client.DeleteAsync($"{url}/{fieldId}")).Status);
        Assert.Equal(["id"], Names(await viewer.Client.GetAsync(url)));
        Assert.Equal(["foreign"], Names(await viewer.Client.GetAsync($"/api/v1/spaces/{space}/products/other/fields")));
        Assert.Equal(1, (await viewer.Client.GetAsync($"/api/v1/spaces/{space}/products/orders")).Json.GetProperty("field_count").GetInt32());
    }

    [Fact]
    public async Task Field_changes_bump_the_products_updated_at_and_reindex_search()
    {
        var (editor, viewer, space) = await SpaceAsync();
        await editor.Client.CreateProductAsync(space, "events");
        app.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(200, (await editor.Client.PutAsync($"/api/v1/spaces/{space}/products/events/fields", new { fields = new[] { new { name = "zebra_stripes_count" } } })).Status);
        var product = await viewer.Client.GetAsync($"/api/v1/spaces/{space}/products/events");
        Assert.Equal(app.Clock.GetUtcNow(), product.Json.GetProperty("updated_at").GetDateTimeOffset());
        var search = await viewer.Client.GetAsync($"/api/v1/spaces/{space}/search?q=zebra_stripes_count");
        Assert.Equal(200, search.Status);
        var field = Assert.Single(search.Json.GetProperty("fields").EnumerateArray());
        Assert.Equal("events", field.Str("product_slug"));
    }
}
