using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Qarion.Core.Persistence;

/// <summary>
/// Async-first, enforced: any synchronous database round trip (query, command, connection open,
/// transaction begin/commit/rollback) through EF throws. Only the async paths reach the database.
/// Left out of the design-time factory because <c>dotnet ef database update</c> migrates synchronously.
/// </summary>
public sealed class SyncIoGuard : DbCommandInterceptor, IDbConnectionInterceptor, IDbTransactionInterceptor
{
    public static readonly SyncIoGuard Instance = new();

    private static InvalidOperationException Refuse(string what) => new(
        $"Synchronous database I/O is not allowed ({what}). Use the async overload (ToListAsync, SaveChangesAsync, …).");

    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
        => throw Refuse("ExecuteReader");

    public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
        => throw Refuse("ExecuteNonQuery");

    public override InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
        => throw Refuse("ExecuteScalar");

    public InterceptionResult ConnectionOpening(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
        => throw Refuse("Open");

    public InterceptionResult<DbTransaction> TransactionStarting(DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result)
        => throw Refuse("BeginTransaction");

    public InterceptionResult TransactionCommitting(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
        => throw Refuse("Commit");

    public InterceptionResult TransactionRollingBack(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
        => throw Refuse("Rollback");
}
