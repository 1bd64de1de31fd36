using System.Text.Json;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Catalog;

public sealed class TagTests(AppFixture app) : IClassFixture<AppFixture>
{
    private async Task<(TestUser Admin, TestUser Editor, TestUser Viewer, string Space)> SpaceAsync()
    {
        var admin = await app.CreateUserAsync("TagAdmin");
        var editor = await app.CreateUserAsync("Editor");
        var viewer = await app.CreateUserAsync("Viewer");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"), (editor, "editor"), (viewer, "viewer"));
        return (admin, editor, viewer, space);
    }

    private static List<string> TagNames(ApiResponse r) => r.Json.EnumerateArray().Select(t => t.Str("name")).ToList();

    [Fact]
    public async Task Admins_curate_the_library_and_editors_cannot()
    {
        var (admin, editor, viewer, space) = await SpaceAsync();
        var url = $"/api/v1/spaces/{space}/tags";
        Assert.Equal(403, (await editor.Client.PostAsync(url, new { name = "pii" })).Status);
        Assert.Equal(403, (await viewer.Client.PostAsync(url, new { name = "pii" })).Status);
        var created = await admin.Client.PostAsync(url, new { name = " pii ", description = "Personal data", color = "#ff0000" });
        Assert.Equal(201, created.Status);
        Assert.Equal("pii", created.Json.Str("name"));
        Assert.Equal(0, created.Json.GetProperty("usage_count").GetInt32());
        var id = created.Json.Id();
        Assert.Equal($"/api/v1/spaces/{space}/tags/{id}", created.Header("Location"));
        var duplicate = await admin.Client.PostAsync(url, new { name = "PII" });
        Assert.Equal(409, duplicate.Status);
        Assert.Equal("duplicate", duplicate.Code());
        Assert.Equal(422, (await admin.Client.PostAsync(url, new { name = "c", color = "red" })).Status);
        Assert.Equal(422, (await admin.Client.PostAsync(url, new { name = "" })).Status);
        var other = (await admin.Client.PostAsync(url, new { name = "finance" })).Json.Id();

        Assert.Equal(403, (await editor.Client.PatchAsync($"{url}/{id}", new { name = "personal" })).Status);
        var renamed = await admin.Client.PatchAsync($"{url}/{id}", new { name = "personal", color = (string?)null });
        Assert.Equal(200, renamed.Status);
        Assert.Equal("personal", renamed.Json.Str("name"));
        Assert.Equal(JsonValueKind.Null, renamed.Json.GetProperty("color").ValueKind);
        Assert.Equal("Personal data", renamed.Json.Str("description"));
        Assert.Equal(409, (await admin.Client.PatchAsync($"{url}/{id}", new { name = "Finance" })).Status);
        Assert.Equal(409, (await admin.Client.PatchAsync($"{url}/{id}", new { name = "x" }, CatalogTestSupport.IfMatch(created.Header("ETag")))).Status);
        Assert.Equal(404, (await admin.Client.PatchAsync($"{url}/{Guid.NewGuid()}", new { name = "x" })).Status);

        var list = await viewer.Client.GetAsync(url);
        Assert.Equal(["finance", "personal"], list.Items().Select(t => t.Str("name")));
        Assert.Equal(["personal"], (await viewer.Client.GetAsync(url + "?search=ERS")).Items().Select(t => t.Str("name")));

        Assert.Equal(403, (await editor.Client.DeleteAsync($"{url}/{other}")).Status);
        Assert.Equal(204, (await admin.Client.DeleteAsync($"{url}/{other}")).Status);
        Assert.Equal(404, (await admin.Client.DeleteAsync($"{url}/{other}")).Status);
        Assert.Equal(["personal"], (await viewer.Client.GetAsync(url)).Items().Select(t => t.Str("name")));
    }

    [Fact]
    public async Task Editors_attach_by_id_or_create_inline_by_name_and_usage_is_counted()
    {
        var (admin, editor, viewer, space) = await SpaceAsync();
        var url = $"/api/v1/spaces/{space}/tags";
        var gold = (await admin.Client.PostAsync(url, new { name = "gold", color = "#ffd700" })).Json.Id();
        await editor.Client.CreateProductAsync(space, "pa");
        await editor.Client.CreateProductAsync(space, "pb");

        var byId = await editor.Client.PostAsync($"/api/v1/spaces/{space}/products/pa/tags", new { tag_id = gold });
        Assert.Equal(200, byId.Status);
        Assert.Equal(["gold"], TagNames(byId));
        Assert.Equal("#ffd700", byId.Json[0].Str("color"));
        Assert.Equal(["gold"], TagNames(await editor.Client.PostAsync($"/api/v1/spaces/{space}/products/pa/tags", new { tag_id = gold }))); // idempotent
        var inline = await editor.Client.PostAsync($"/api/v1/spaces/{space}/products/pa/tags", new { name = "raw-zone" });
        Assert.Equal(200, inline.Status);
        Assert.Equal(["gold", "raw-zone"], TagNames(inline));
        // Existing tag matched by name case-insensitively, not duplicated.
        Assert.Equal(["gold"], TagNames(await editor.Client.PostAsync($"/api/v1/spaces/{space}/products/pb/tags", new { name = "GOLD" })));

        var library = (await viewer.Client.GetAsync(url)).Items();
        Assert.Equal(["gold", "raw-zone"], library.Select(t => t.Str("name")));
        Assert.Equal([2, 1], library.Select(t => t.GetProperty("usage_count").GetInt32()));

        Assert.Equal(403, (await viewer.Client.PostAsync($"/api/v1/spaces/{space}/products/pa/tags", new { tag_id = gold })).Status);
        Assert.Equal("unknown_tag", (await editor.Client.PostAsync($"/api/v1/spaces/{space}/products/pa/tags", new { tag_id = Guid.NewGuid() })).ErrorType());
        Assert.Equal(422, (await editor.Client.PostAsync($"/api/v1/spaces/{space}/products/pa/tags", new { tag_id = gold, name = "gold" })).Status);
        Assert.Equal(422, (await editor.Client.PostAsync($"/api/v1/spaces/{space}/products/pa/tags", new { })).Status);
        Assert.Equal(404, (await editor.Client.PostAsync($"/api/v1/spaces/{space}/products/zzz/tags", new { tag_id = gold })).Status);

        // Create-with-tags by name as an Editor also works, and by id.
        var c = await editor.Client.CreateProductAsync(space, "pc", new { tags = new[] { "fresh", "gold" }, tag_ids = new[] { gold } });
        Assert.Equal(["fresh", "gold"], c.GetProperty("tags").EnumerateArray().Select(t => t.Str("name")));

        Assert.Equal(403, (await viewer.Client.DeleteAsync($"/api/v1/spaces/{space}/products/pa/tags/{gold}")).Status);
        Assert.Equal(204, (await editor.Client.DeleteAsync($"/api/v1/spaces/{space}/products/pa/tags/{gold}")).Status);
        Assert.Equal(404, (await editor.Client.DeleteAsync($"/api/v1/spaces/{space}/products/pa/tags/{gold}")).Status);
        Assert.Equal(["raw-zone"], (await viewer.Client.GetAsync($"/api/v1/spaces/{space}/products/pa")).Json.GetProperty("tags").EnumerateArray().Select(t => t.Str("name")));

        // PATCH tag_ids replaces the set.
        var patched = await editor.Client.PatchAsync($"/api/v1/spaces/{space}/products/pa", new { tag_ids = new[] { gold } });
        Assert.Equal(["gold"], patched.Json.GetProperty("tags").EnumerateArray().Select(t => t.Str("name")));

        // Renaming a tag shows on the products; deleting it detaches it everywhere.
        await admin.Client.PatchAsync($"{url}/{gold}", new { name = "golden" });
        Assert.Equal(["golden"], (await viewer.Client.GetAsync($"/api/v1/spaces/{space}/products/pa")).Json.GetProperty("tags").EnumerateArray().Select(t => t.Str("name")));
        Assert.Equal(204, (await admin.Client.DeleteAsync($"{url}/{gold}")).Status);
        Assert.Empty((await viewer.Client.GetAsync($"/api/v1/spaces/{space}/products/pa")).Json.GetProperty("tags").EnumerateArray());
        Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM product_tags WHERE tag_id = '{gold}'"));
    }

    [Fact]
    public async Task Renamed_tag_is_found_by_its_new_name_in_search()
    {
        var (admin, editor, viewer, space) = await SpaceAsync();
        var tag = (await admin.Client.PostAsync($"/api/v1/spaces/{space}/tags", new { name = "oldname" })).Json.Id();
        await editor.Client.CreateProductAsync(space, "prod", new { tag_ids = new[] { tag } });
        await admin.Client.PatchAsync($"/api/v1/spaces/{space}/tags/{tag}", new { name = "quetzalcoatl" });
        var search = await viewer.Client.GetAsync($"/api/v1/spaces/{space}/search?q=quetzalcoatl&types=products");
        Assert.Equal(["prod"], search.Json.GetProperty("products").EnumerateArray().Select(p => p.Str("slug")));
    }
}
