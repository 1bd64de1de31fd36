using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Core.Persistence;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Standards;

/// <summary>Standard 6: the committed migrations are the schema.</summary>
public sealed class MigrationTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task The_committed_migrations_match_the_model_and_are_all_applied()
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<QarionDbContext>();
        Assert.False(db.Database.HasPendingModelChanges(), "The model changed without a migration: run `dotnet ef migrations add <Name> --project src/Qarion.Core`.");
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.NotEmpty(await db.Database.GetAppliedMigrationsAsync());
    }

    [Fact]
    public async Task Tables_and_columns_are_snake_case_and_keys_are_uuids()
    {
        var notSnake = await app.Database.ScalarAsync<long>("""
            SELECT count(*) FROM information_schema.columns
            WHERE table_schema = 'public' AND (column_name <> lower(column_name) OR table_name <> lower(table_name))
            """);
        Assert.Equal(0L, notSnake);
        var nonUuidIds = await app.Database.ScalarAsync<long>("""
            SELECT count(*) FROM information_schema.columns
            WHERE table_schema = 'public' AND column_name = 'id' AND data_type <> 'uuid'
            """);
        Assert.Equal(0L, nonUuidIds);
    }
}
