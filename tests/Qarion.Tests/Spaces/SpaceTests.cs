using System.Text.Json;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Spaces;

public sealed class SpaceTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Superadmin_creates_a_space_and_becomes_its_admin()
    {
        var admin = await app.AdminAsync();
        var created = await admin.PostAsync("/api/v1/spaces", new { slug = "finance", name = "Finance", description = "Money" });
        Assert.Equal(201, created.Status);
        Assert.Equal("/api/v1/spaces/finance", created.Header("Location"));
        Assert.Equal("finance", created.Json.GetProperty("slug").GetString());
        Assert.Equal("admin", created.Json.GetProperty("my_role").GetString());
        Assert.Equal(1, created.Json.GetProperty("member_count").GetInt32());
        Assert.Equal(7, created.Json.GetProperty("id").GetGuid().Version);
        Assert.Equal($"\"{created.Json.GetProperty("version").GetUInt32()}\"", created.Header("ETag"));

        var fetched = await admin.GetAsync("/api/v1/spaces/finance");
        Assert.Equal(200, fetched.Status);
        Assert.Equal("Finance", fetched.Json.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Duplicate_slug_is_409_and_nothing_is_written()
    {
        var admin = await app.AdminAsync();
        Assert.Equal(201, (await admin.PostAsync("/api/v1/spaces", new { slug = "dup-space", name = "One" })).Status);
        var again = await admin.PostAsync("/api/v1/spaces", new { slug = "dup-space", name = "Two" });
        Assert.Equal(409, again.Status);
        Assert.Equal("duplicate", again.Json.GetProperty("code").GetString());
        Assert.Equal(1L, await app.Database.ScalarAsync<long>("SELECT count(*) FROM spaces WHERE slug = 'dup-space'"));
    }
}
