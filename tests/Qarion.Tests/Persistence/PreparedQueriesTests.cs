using Microsoft.EntityFrameworkCore;
using Qarion.Core.Persistence;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Persistence;

/// <summary>
/// Queries marked <see cref="PreparedQueries.Prepared{T}"/> are prepared on the server once per connection and found
/// again on the next run; unmarked ones are not prepared at all (auto-prepare is off).
/// </summary>
public sealed class PreparedQueriesTests(AppFixture app) : IClassFixture<AppFixture>
{
    private static async Task<List<string>> PreparedStatementsAsync(QarionDbContext db)
        => await db.Database.SqlQueryRaw<string>("SELECT statement AS \"Value\" FROM pg_prepared_statements ORDER BY statement").ToListAsync();

    [Fact]
    public async Task A_marked_query_is_prepared_once_per_connection_and_an_unmarked_one_never()
    {
        var slug = await app.CreateSpaceAsync();
        var result = await app.WithDbAsync(async db =>
        {
            // One physical connection for the whole test: prepared statements belong to a connection.
            await db.Database.OpenConnectionAsync();
            var before = await PreparedStatementsAsync(db);
            var unmarked = await db.Spaces.AsNoTracking().Where(s => s.Slug == slug).Select(s => s.Name).SingleAsync();
            var afterUnmarked = await PreparedStatementsAsync(db);
            var first = await db.Spaces.AsNoTracking().Where(s => s.Slug == slug).Prepared().Select(s => s.Id).SingleAsync();
            var second = await db.Spaces.AsNoTracking().Where(s => s.Slug == "nope" || s.Slug == slug).Prepared().Select(s => s.Id).SingleAsync();
            var again = await db.Spaces.AsNoTracking().Where(s => s.Slug == slug).Prepared().Select(s => s.Id).SingleAsync();
            // EF drops tags from ExecuteUpdate: a hot bulk statement is raw SQL that starts with the marker.
            var updated = await db.Database.ExecuteSqlRawAsync(PreparedQueries.Marker + "\nUPDATE spaces SET description = {0} WHERE slug = {1}", ["prepared", slug]);
            var after = await PreparedStatementsAsync(db);
            var description = await db.Spaces.AsNoTracking().Where(s => s.Slug == slug).Select(s => s.Description).SingleAsync();
            return (before, unmarked, afterUnmarked, first, second, again, updated, after, description);
        });
        Assert.Equal(result.before, result.afterUnmarked);
        Assert.False(string.IsNullOrEmpty(result.unmarked));
        Assert.Equal((result.first, result.first, 1, "prepared"), (result.second, result.again, result.updated, result.description));
        // Three distinct marked statements (the repeated one found again, not prepared twice), each starting with the tag.
        var added = result.after.Except(result.before).ToList();
        Assert.True(added.Count == 3, string.Join("\n----\n", added));
        Assert.All(added, sql => Assert.StartsWith("-- " + PreparedQueries.Tag, sql, StringComparison.Ordinal));
        Assert.Single(added, sql => sql.Contains("UPDATE", StringComparison.Ordinal));
    }
}
