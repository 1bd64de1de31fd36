using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Core.Common;
using Qarion.Core.Persistence;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Standards;

/// <summary>Standard 5: optimistic concurrency on mutable aggregates; a stale version is 409 and changes nothing.</summary>
public sealed class ConcurrencyTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static Dictionary<string, string> IfMatch(string etag) => new() { ["If-Match"] = etag };

    [Fact]
    public async Task Stale_If_Match_is_409_and_the_current_etag_wins()
    {
        var admin = await app.AdminAsync();
        var slug = await app.CreateSpaceAsync();
        var first = await admin.GetAsync($"/api/v1/spaces/{slug}");
        var etag = first.Header("ETag")!;

        var updated = await admin.PatchAsync($"/api/v1/spaces/{slug}", new { name = "First edit" }, IfMatch(etag));
        Assert.Equal(200, updated.Status);
        Assert.NotEqual(etag, updated.Header("ETag"));
        Assert.Equal(updated.Header("ETag"), $"\"{updated.Json.GetProperty("version").GetUInt32()}\"");

        var stale = await admin.PatchAsync($"/api/v1/spaces/{slug}", new { name = "Lost update" }, IfMatch(etag));
        Assert.Equal(409, stale.Status);
        Assert.Equal("version_conflict", stale.Json.GetProperty("code").GetString());
        Assert.Equal("First edit", (await admin.GetAsync($"/api/v1/spaces/{slug}")).Json.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Stale_version_in_the_body_is_409()
    {
        var admin = await app.AdminAsync();
        var slug = await app.CreateSpaceAsync();
        var version = (await admin.GetAsync($"/api/v1/spaces/{slug}")).Json.GetProperty("version").GetUInt32();
        Assert.Equal(200, (await admin.PatchAsync($"/api/v1/spaces/{slug}", new { description = "one", version })).Status);
        var stale = await admin.PatchAsync($"/api/v1/spaces/{slug}", new { description = "two", version });
        Assert.Equal(409, stale.Status);
    }

    [Fact]
    public async Task A_change_committed_between_load_and_save_is_detected_by_the_database()
    {
        // Two writers read the same version; the second save must fail inside PostgreSQL (WHERE xmin = …),
        // not just in our pre-check, because the pre-check cannot see a commit that happens after it.
        var slug = await app.CreateSpaceAsync();
        await using var scopeA = app.Services.CreateAsyncScope();
        await using var scopeB = app.Services.CreateAsyncScope();
        var dbA = scopeA.ServiceProvider.GetRequiredService<QarionDbContext>();
        var dbB = scopeB.ServiceProvider.GetRequiredService<QarionDbContext>();
        var spaceA = await dbA.Spaces.SingleAsync(s => s.Slug == slug);
        var spaceB = await dbB.Spaces.SingleAsync(s => s.Slug == slug);
        Concurrency.ExpectVersion(dbA, spaceA, spaceA.Version);
        Concurrency.ExpectVersion(dbB, spaceB, spaceB.Version);

        spaceA.Name = "Writer A";
        await dbA.SaveOrConflictAsync(default);
        spaceB.Name = "Writer B";
        var conflict = await Assert.ThrowsAsync<ConflictException>(() => dbB.SaveOrConflictAsync(default));
        Assert.Equal("version_conflict", conflict.Code);
        Assert.Equal("Writer A", await app.Database.ScalarAsync<string>($"SELECT name FROM spaces WHERE slug = '{slug}'"));
    }

    [Fact]
    public async Task Concurrent_requests_with_the_same_version_let_exactly_one_win()
    {
        var admin = await app.AdminAsync();
        var slug = await app.CreateSpaceAsync();
        var etag = (await admin.GetAsync($"/api/v1/spaces/{slug}")).Header("ETag")!;
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => admin.PatchAsync($"/api/v1/spaces/{slug}", new { name = $"Writer {i}" }, IfMatch(etag)))));
        Assert.Equal(1, results.Count(r => r.Status == 200));
        Assert.Equal(7, results.Count(r => r.Status == 409));
    }

    [Fact]
    public async Task Users_carry_versions_too()
    {
        var admin = await app.AdminAsync();
        var user = await app.CreateUserAsync("Versioned");
        var etag = (await admin.GetAsync($"/api/v1/users/{user.Id}")).Header("ETag")!;
        Assert.Equal(200, (await admin.PatchAsync($"/api/v1/users/{user.Id}", new { display_name = "New" }, IfMatch(etag))).Status);
        Assert.Equal(409, (await admin.PatchAsync($"/api/v1/users/{user.Id}", new { display_name = "Old" }, IfMatch(etag))).Status);
    }
}
