using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Qarion.Core.Persistence;

/// <summary>
/// Opt-in server-side preparation of chosen EF queries. Auto-prepare is off (docs/decisions/0008-npgsql-auto-prepare.md);
/// a hot query whose planning costs about as much as its run is marked with <see cref="Prepared{T}"/> and its command is
/// prepared explicitly, once per pooled connection (Npgsql keeps explicitly prepared statements with the physical
/// connection and finds them again by their SQL, so later runs skip PostgreSQL's parse and plan). Explicit preparation
/// describes the statement before it binds, so a run that then fails cannot leave it half-prepared as auto-prepare did.
/// Only a few fixed-shape statements are marked: prepared statements live as long as the connection, so a query whose
/// SQL varies (IN lists of any length) must not be.
/// </summary>
public static class PreparedQueries
{
    /// <summary>The tag EF writes as the first line of a marked query's SQL (<c>-- qarion:prepare</c>).</summary>
    public const string Tag = "qarion:prepare";

    /// <summary>
    /// The first line of a marked statement. EF drops query tags from ExecuteUpdate / ExecuteDelete, so a hot bulk
    /// statement is written as raw SQL starting with this line instead.
    /// </summary>
    public const string Marker = "-- " + Tag;

    /// <summary>Marks <paramref name="query"/> for explicit preparation (queries only: see <see cref="Marker"/>).</summary>
    public static IQueryable<T> Prepared<T>(this IQueryable<T> query) => query.TagWith(Tag);

    internal static bool IsMarked(DbCommand command) => command.CommandText.StartsWith(Marker, StringComparison.Ordinal);

    /// <summary>Prepares marked commands before they run; every other command runs as it is.</summary>
    internal sealed class Interceptor : DbCommandInterceptor
    {
        public static readonly Interceptor Instance = new();

        public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            if (IsMarked(command)) await command.PrepareAsync(cancellationToken);
            return result;
        }

        public override async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            if (IsMarked(command)) await command.PrepareAsync(cancellationToken);
            return result;
        }

        public override async ValueTask<InterceptionResult<object>> ScalarExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
        {
            if (IsMarked(command)) await command.PrepareAsync(cancellationToken);
            return result;
        }
    }
}
