using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Standards;

/// <summary>Standard 1: no synchronous database I/O anywhere, enforced by the context the app registers.</summary>
public sealed class SyncIoTests(AppFixture app) : IClassFixture<AppFixture>
{
    private async Task WithContext(Func<QarionDbContext, Task> work)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await work(scope.ServiceProvider.GetRequiredService<QarionDbContext>());
    }

    public static TheoryData<string> SyncOperations() =>
    [
        "ToList", "Count", "Any", "First", "SaveChanges", "ExecuteDelete", "ExecuteUpdate", "ExecuteSqlRaw",
        "OpenConnection", "BeginTransaction",
    ];

    [Theory]
    [MemberData(nameof(SyncOperations))]
    public Task Synchronous_operations_throw(string operation) => WithContext(db =>
    {
        Action act = operation switch
        {
            "ToList" => () => db.Spaces.ToList(),
            "Count" => () => db.Spaces.Count(),
            "Any" => () => db.Users.Any(),
            "First" => () => db.Users.FirstOrDefault(),
            "SaveChanges" => () =>
            {
                db.Spaces.Add(new Space { Slug = "sync-save", Name = "x" });
                db.SaveChanges();
            },
            "ExecuteDelete" => () => db.Spaces.Where(s => s.Slug == "nothing").ExecuteDelete(),
            "ExecuteUpdate" => () => db.Spaces.Where(s => s.Slug == "nothing").ExecuteUpdate(s => s.SetProperty(x => x.Name, "y")),
            "ExecuteSqlRaw" => () => db.Database.ExecuteSqlRaw("SELECT 1"),
            "OpenConnection" => () => db.Database.OpenConnection(),
            "BeginTransaction" => () => db.Database.BeginTransaction(),
            _ => throw new ArgumentOutOfRangeException(nameof(operation)),
        };
        var ex = Assert.ThrowsAny<InvalidOperationException>(act);
        Assert.Contains("Synchronous database I/O is not allowed", ex.Message, StringComparison.Ordinal);
        return Task.CompletedTask;
    });

    [Fact]
    public Task Synchronous_commit_throws_even_inside_an_async_transaction() => WithContext(async db =>
    {
        await using var tx = await db.Database.BeginTransactionAsync();
        var ex = Assert.Throws<InvalidOperationException>(() => tx.Commit());
        Assert.Contains("Commit", ex.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => tx.Rollback());
        await tx.RollbackAsync();
    });

    [Fact]
    public Task Asynchronous_operations_pass() => WithContext(async db =>
    {
        Assert.Empty(await db.Spaces.Where(s => s.Slug == "none").ToListAsync());
        Assert.True(await db.Spaces.CountAsync() >= 0);
        db.Spaces.Add(new Space { Slug = "async-save", Name = "Async" });
        await db.SaveChangesAsync();
        await using (IDbContextTransaction tx = await db.Database.BeginTransactionAsync())
        {
            await db.Spaces.Where(s => s.Slug == "async-save").ExecuteUpdateAsync(s => s.SetProperty(x => x.Name, "Renamed"));
            await tx.CommitAsync();
        }
        Assert.Equal(1, await db.Spaces.Where(s => s.Slug == "async-save").ExecuteDeleteAsync());
        await db.Database.MigrateAsync();
    });
}
