using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Identity;

/// <summary>Tenancy and roles: other tenants' objects are 404, too-low roles are 403, platform actions are superadmin-only.</summary>
public sealed class PermissionTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task A_member_of_space_A_gets_404_for_everything_in_space_B()
    {
        var alice = await app.CreateUserAsync("Alice");
        var bob = await app.CreateUserAsync("Bob");
        await app.CreateSpaceAsync("tenant-a", (alice, "admin"));
        await app.CreateSpaceAsync("tenant-b", (bob, "admin"));

        var attempts = new (string Method, string Path, object? Body)[]
        {
            ("GET", "/api/v1/spaces/tenant-b", null),
            ("PATCH", "/api/v1/spaces/tenant-b", new { name = "Hijacked" }),
            ("DELETE", "/api/v1/spaces/tenant-b", null),
            ("GET", "/api/v1/spaces/tenant-b/members", null),
            ("POST", "/api/v1/spaces/tenant-b/members", new { user_id = alice.Id, role = "admin" }),
            ("PATCH", $"/api/v1/spaces/tenant-b/members/{bob.Id}", new { role = "viewer" }),
            ("DELETE", $"/api/v1/spaces/tenant-b/members/{bob.Id}", null),
        };
        foreach (var (method, path, body) in attempts)
        {
            var response = body is null
                ? await alice.Client.SendAsync(method, path, null, null, null)
                : await alice.Client.SendRawAsync(method, path, System.Text.Json.JsonSerializer.Serialize(body));
            Assert.True(response.Status == 404, $"{method} {path} → {response}");
            Assert.DoesNotContain("Bob", response.Body, StringComparison.Ordinal);
        }
        // The same 404 as for a space that does not exist: nothing tells the two apart.
        var missing = await alice.Client.GetAsync("/api/v1/spaces/tenant-zzz");
        Assert.Equal(404, missing.Status);
        Assert.Equal("Space 'tenant-b' not found.", (await alice.Client.GetAsync("/api/v1/spaces/tenant-b")).Json.GetProperty("detail").GetString());

        var list = await alice.Client.GetAsync("/api/v1/spaces");
        var slugs = list.Json.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("slug").GetString()).ToList();
        Assert.Equal(["tenant-a"], slugs);
        Assert.Equal(1, list.Json.GetProperty("total").GetInt32());
        Assert.Equal("Space tenant-b", await app.Database.ScalarAsync<string>("SELECT name FROM spaces WHERE slug = 'tenant-b'"));
        Assert.Equal(1L, await app.Database.ScalarAsync<long>("SELECT count(*) FROM space_memberships m JOIN spaces s ON s.id = m.space_id WHERE s.slug = 'tenant-b' AND m.role = 'admin' AND m.user_id <> (SELECT id FROM users WHERE email = 'root@example.com')"));
    }

    [Fact]
    public async Task A_viewer_cannot_do_an_admins_or_editors_action()
    {
        var viewer = await app.CreateUserAsync("Viewer");
        var editor = await app.CreateUserAsync("Editor");
        var other = await app.CreateUserAsync("Other");
        var slug = await app.CreateSpaceAsync(null, (viewer, "viewer"), (editor, "editor"));

        Assert.Equal(200, (await viewer.Client.GetAsync($"/api/v1/spaces/{slug}")).Status);
        Assert.Equal(200, (await viewer.Client.GetAsync($"/api/v1/spaces/{slug}/members")).Status);

        foreach (var caller in new[] { viewer, editor })
        {
            var add = await caller.Client.PostAsync($"/api/v1/spaces/{slug}/members", new { user_id = other.Id, role = "viewer" });
            Assert.Equal(403, add.Status);
            Assert.Equal("forbidden", add.Json.GetProperty("code").GetString());
            Assert.Equal(403, (await caller.Client.PatchAsync($"/api/v1/spaces/{slug}", new { name = "Renamed" })).Status);
            Assert.Equal(403, (await caller.Client.DeleteAsync($"/api/v1/spaces/{slug}")).Status);
        }
        Assert.Equal(403, (await viewer.Client.PatchAsync($"/api/v1/spaces/{slug}/members/{editor.Id}", new { role = "admin" })).Status);
        Assert.Equal(3L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM space_memberships m JOIN spaces s ON s.id = m.space_id WHERE s.slug = '{slug}'"));
    }

    [Fact]
    public async Task Superadmin_only_actions_are_refused_to_everyone_else()
    {
        var spaceAdmin = await app.CreateUserAsync("SpaceAdmin");
        await app.CreateSpaceAsync(null, (spaceAdmin, "admin"));
        var calls = new Func<Task<ApiResponse>>[]
        {
            () => spaceAdmin.Client.PostAsync("/api/v1/spaces", new { slug = "rogue-space", name = "Rogue" }),
            () => spaceAdmin.Client.PostAsync("/api/v1/users", new { email = "new@example.com", display_name = "New" }),
            () => spaceAdmin.Client.GetAsync("/api/v1/users"),
            () => spaceAdmin.Client.PatchAsync($"/api/v1/users/{spaceAdmin.Id}", new { is_superadmin = true }),
        };
        foreach (var call in calls)
        {
            var response = await call();
            Assert.True(response.Status == 403, response.ToString());
        }
        Assert.Equal(0L, await app.Database.ScalarAsync<long>("SELECT count(*) FROM spaces WHERE slug = 'rogue-space'"));
        Assert.Equal(0L, await app.Database.ScalarAsync<long>("SELECT count(*) FROM users WHERE email = 'new@example.com'"));
        Assert.False(await app.Database.ScalarAsync<bool>($"SELECT is_superadmin FROM users WHERE id = '{spaceAdmin.Id}'"));
    }

    [Fact]
    public async Task Users_see_only_themselves_and_only_their_own_keys()
    {
        var alice = await app.CreateUserAsync("Alice2");
        var bob = await app.CreateUserAsync("Bob2");
        Assert.Equal(200, (await alice.Client.GetAsync($"/api/v1/users/{alice.Id}")).Status);
        Assert.Equal(404, (await alice.Client.GetAsync($"/api/v1/users/{bob.Id}")).Status);
        Assert.Equal(404, (await alice.Client.GetAsync($"/api/v1/me/api-keys?user_id={bob.Id}")).Status);

        var bobKeyId = (await bob.Client.GetAsync("/api/v1/me")).Json.GetProperty("api_key_id").GetGuid();
        Assert.Equal(404, (await alice.Client.DeleteAsync($"/api/v1/me/api-keys/{bobKeyId}")).Status);
        Assert.Equal(200, (await bob.Client.GetAsync("/api/v1/me")).Status);

        // A superadmin may act on anyone's keys.
        var admin = await app.AdminAsync();
        Assert.Equal(1, (await admin.GetAsync($"/api/v1/me/api-keys?user_id={bob.Id}")).Json.GetProperty("total").GetInt32());
        Assert.Equal(204, (await admin.DeleteAsync($"/api/v1/me/api-keys/{bobKeyId}")).Status);
        Assert.Equal(401, (await bob.Client.GetAsync("/api/v1/me")).Status);
    }
}
