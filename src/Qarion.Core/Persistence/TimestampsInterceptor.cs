using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Qarion.Core.Persistence;

/// <summary>Stamps <c>CreatedAt</c> / <c>UpdatedAt</c> from the context's <see cref="TimeProvider"/> (always UTC).</summary>
public sealed class TimestampsInterceptor : SaveChangesInterceptor
{
    public static readonly TimestampsInterceptor Instance = new();

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is QarionDbContext db) Stamp(db);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        if (eventData.Context is QarionDbContext db) Stamp(db);
        return result;
    }

    private static void Stamp(QarionDbContext db)
    {
        var now = db.Clock.GetUtcNow();
        foreach (var entry in db.ChangeTracker.Entries())
        {
            if (entry.State is not (EntityState.Added or EntityState.Modified)) continue;
            var created = entry.Metadata.FindProperty("CreatedAt");
            var updated = entry.Metadata.FindProperty("UpdatedAt");
            if (entry.State == EntityState.Added && created is not null && created.ClrType == typeof(DateTimeOffset))
            {
                var current = (DateTimeOffset)entry.Property("CreatedAt").CurrentValue!;
                if (current == default) entry.Property("CreatedAt").CurrentValue = now;
            }
            if (updated is not null && updated.ClrType == typeof(DateTimeOffset))
                entry.Property("UpdatedAt").CurrentValue = now;
        }
    }
}
