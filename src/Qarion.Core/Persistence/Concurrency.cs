using Microsoft.EntityFrameworkCore;
using Qarion.Core.Common;

namespace Qarion.Core.Persistence;

public static class Concurrency
{
    /// <summary>
    /// Makes the next save check the client's version: the UPDATE carries <c>WHERE xmin = expected</c>, so a
    /// change made by anyone after the client read the row (even between our load and our save) gives 409.
    /// </summary>
    public static void ExpectVersion<T>(DbContext db, T entity, uint? expected) where T : class
    {
        if (expected is null) return;
        var entry = db.Entry(entity);
        var current = (uint)entry.Property("Version").CurrentValue!;
        if (current != expected)
            throw new ConflictException($"Version {expected} is stale; the current version is {current}.", "version_conflict");
        entry.Property("Version").OriginalValue = expected.Value;
    }
}
