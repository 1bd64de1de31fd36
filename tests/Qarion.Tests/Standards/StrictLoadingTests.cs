using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Standards;

/// <summary>Standard 2: a navigation that was not explicitly loaded throws (SQLAlchemy lazy='raise').</summary>
public sealed class StrictLoadingTests(AppFixture app) : IClassFixture<AppFixture>
{
    private async Task<string> SpaceWithMemberAsync()
    {
        var user = await app.CreateUserAsync("Loader");
        return await app.CreateSpaceAsync(null, (user, "editor"));
    }

    private async Task WithContext(Func<QarionDbContext, Task> work)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await work(scope.ServiceProvider.GetRequiredService<QarionDbContext>());
    }

    [Fact]
    public async Task Unloaded_collection_navigation_throws()
    {
        var slug = await SpaceWithMemberAsync();
        await WithContext(async db =>
        {
            var space = await db.Spaces.SingleAsync(s => s.Slug == slug);
            var ex = Assert.Throws<InvalidOperationException>(() => space.Memberships.Count);
            Assert.Contains("lazy", ex.Message, StringComparison.OrdinalIgnoreCase);
        });
    }

    [Fact]
    public async Task Unloaded_reference_navigation_throws()
    {
        var slug = await SpaceWithMemberAsync();
        await WithContext(async db =>
        {
            var membership = await db.SpaceMemberships.FirstAsync(m => m.Space.Slug == slug);
            Assert.Throws<InvalidOperationException>(() => membership.User.Email);
        });
    }

    [Fact]
    public async Task Navigation_of_an_untracked_entity_throws()
    {
        var slug = await SpaceWithMemberAsync();
        await WithContext(async db =>
        {
            var space = await db.Spaces.AsNoTracking().SingleAsync(s => s.Slug == slug);
            Assert.Throws<InvalidOperationException>(() => space.Memberships.Count);
        });
    }

    [Fact]
    public async Task Include_and_explicit_load_work()
    {
        var slug = await SpaceWithMemberAsync();
        await WithContext(async db =>
        {
            var included = await db.Spaces.Include(s => s.Memberships).ThenInclude(m => m.User).SingleAsync(s => s.Slug == slug);
            Assert.Equal(2, included.Memberships.Count);
            Assert.All(included.Memberships, m => Assert.Contains('@', m.User.Email));
        });
        await WithContext(async db =>
        {
            var space = await db.Spaces.SingleAsync(s => s.Slug == slug);
            await db.Entry(space).Collection(s => s.Memberships).LoadAsync();
            Assert.Equal(2, space.Memberships.Count);
            Assert.Contains(space.Memberships, m => m.Role == SpaceRole.Editor);
        });
    }
}
