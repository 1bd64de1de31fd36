using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Spaces;

public sealed class MemberTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Admin_adds_by_id_or_email_changes_roles_and_removes()
    {
        var owner = await app.CreateUserAsync("Owner");
        var dana = await app.CreateUserAsync("Dana");
        var eve = await app.CreateUserAsync("Eve");
        var slug = await app.CreateSpaceAsync(null, (owner, "admin"));

        var byId = await owner.Client.PostAsync($"/api/v1/spaces/{slug}/members", new { user_id = dana.Id, role = "editor" });
        Assert.Equal(201, byId.Status);
        Assert.Equal("editor", byId.Json.GetProperty("role").GetString());
        var byEmail = await owner.Client.PostAsync($"/api/v1/spaces/{slug}/members", new { email = eve.Email.ToUpperInvariant(), role = "viewer" });
        Assert.Equal(201, byEmail.Status);
        Assert.Equal(eve.Id, byEmail.Json.GetProperty("user_id").GetGuid());

        var again = await owner.Client.PostAsync($"/api/v1/spaces/{slug}/members", new { user_id = dana.Id, role = "viewer" });
        Assert.Equal(409, again.Status);

        var unknown = await owner.Client.PostAsync($"/api/v1/spaces/{slug}/members", new { email = "nobody@example.com", role = "viewer" });
        Assert.Equal(422, unknown.Status);
        Assert.Equal("email", unknown.Json.GetProperty("errors")[0].GetProperty("loc")[1].GetString());

        var promoted = await owner.Client.PatchAsync($"/api/v1/spaces/{slug}/members/{eve.Id}", new { role = "admin" });
        Assert.Equal(200, promoted.Status);
        Assert.Equal("admin", promoted.Json.GetProperty("role").GetString());
        // Eve is an admin now and can manage members.
        Assert.Equal(204, (await eve.Client.DeleteAsync($"/api/v1/spaces/{slug}/members/{dana.Id}")).Status);
        Assert.Equal(404, (await dana.Client.GetAsync($"/api/v1/spaces/{slug}")).Status);

        var members = await owner.Client.GetAsync($"/api/v1/spaces/{slug}/members");
        var emails = members.Json.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("email").GetString()).ToList();
        Assert.Equal(emails.Order(StringComparer.Ordinal).ToList(), emails);
        Assert.Equal(3, members.Json.GetProperty("total").GetInt32()); // root, owner, eve
    }

    [Fact]
    public async Task The_last_admin_cannot_be_demoted_or_removed_but_members_may_leave()
    {
        var admin = await app.AdminAsync();
        var solo = await app.CreateUserAsync("Solo");
        var viewer = await app.CreateUserAsync("Watcher");
        var slug = await app.CreateSpaceAsync(null, (solo, "admin"), (viewer, "viewer"));
        var rootId = (await admin.GetAsync("/api/v1/me")).Json.GetProperty("id").GetGuid();
        Assert.Equal(204, (await admin.DeleteAsync($"/api/v1/spaces/{slug}/members/{rootId}")).Status);

        var demote = await solo.Client.PatchAsync($"/api/v1/spaces/{slug}/members/{solo.Id}", new { role = "editor" });
        Assert.Equal(409, demote.Status);
        Assert.Equal("last_admin", demote.Json.GetProperty("code").GetString());
        Assert.Equal(409, (await solo.Client.DeleteAsync($"/api/v1/spaces/{slug}/members/{solo.Id}")).Status);

        Assert.Equal(204, (await viewer.Client.DeleteAsync($"/api/v1/spaces/{slug}/members/{viewer.Id}")).Status);
        Assert.Equal(404, (await viewer.Client.GetAsync($"/api/v1/spaces/{slug}")).Status);
        Assert.Equal("admin", await app.Database.ScalarAsync<string>($"SELECT role FROM space_memberships WHERE user_id = '{solo.Id}'"));
    }

    [Fact]
    public async Task Two_admins_demoting_each_other_at_once_leave_one_admin()
    {
        var a = await app.CreateUserAsync("AdminA");
        var b = await app.CreateUserAsync("AdminB");
        var slug = await app.CreateSpaceAsync(null, (a, "admin"), (b, "admin"));
        var rootId = (await (await app.AdminAsync()).GetAsync("/api/v1/me")).Json.GetProperty("id").GetGuid();
        Assert.Equal(204, (await a.Client.DeleteAsync($"/api/v1/spaces/{slug}/members/{rootId}")).Status);

        var results = await Task.WhenAll(
            Task.Run(() => a.Client.PatchAsync($"/api/v1/spaces/{slug}/members/{b.Id}", new { role = "viewer" })),
            Task.Run(() => b.Client.PatchAsync($"/api/v1/spaces/{slug}/members/{a.Id}", new { role = "viewer" })));
        Assert.Contains(results, r => r.Status == 200);
        Assert.Equal(1L, await app.Database.ScalarAsync<long>(
            $"SELECT count(*) FROM space_memberships m JOIN spaces s ON s.id = m.space_id WHERE s.slug = '{slug}' AND m.role = 'admin'"));
    }

    [Fact]
    public async Task Deleting_a_space_removes_its_memberships_and_frees_the_slug()
    {
        var admin = await app.AdminAsync();
        var user = await app.CreateUserAsync("Temp");
        var slug = await app.CreateSpaceAsync(null, (user, "admin"));
        Assert.Equal(204, (await user.Client.DeleteAsync($"/api/v1/spaces/{slug}")).Status);
        Assert.Equal(404, (await admin.GetAsync($"/api/v1/spaces/{slug}")).Status);
        Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM space_memberships WHERE user_id = '{user.Id}'"));
        Assert.Equal(201, (await admin.PostAsync("/api/v1/spaces", new { slug, name = "Again" })).Status);
    }

    [Fact]
    public async Task Renaming_a_slug_moves_the_space_and_clashes_are_409()
    {
        var admin = await app.AdminAsync();
        var a = await app.CreateSpaceAsync();
        var b = await app.CreateSpaceAsync();
        var clash = await admin.PatchAsync($"/api/v1/spaces/{a}", new { slug = b });
        Assert.Equal(409, clash.Status);
        var renamed = await admin.PatchAsync($"/api/v1/spaces/{a}", new { slug = a + "-x", description = (string?)null });
        Assert.Equal(200, renamed.Status);
        Assert.Equal(a + "-x", renamed.Json.GetProperty("slug").GetString());
        Assert.Equal(404, (await admin.GetAsync($"/api/v1/spaces/{a}")).Status);
        Assert.Equal(200, (await admin.GetAsync($"/api/v1/spaces/{a}-x")).Status);
    }
}
