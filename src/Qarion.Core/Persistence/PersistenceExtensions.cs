using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;
using Qarion.Core.Common;

namespace Qarion.Core.Persistence;

public static class PersistenceExtensions
{
    /// <summary>
    /// The one place the context's options are decided, shared by the app, the tests and the design-time factory.
    /// </summary>
    public static DbContextOptionsBuilder UseQarionPostgres(this DbContextOptionsBuilder options, NpgsqlDataSource dataSource, bool guardSyncIo = true)
    {
        options.UseNpgsql(dataSource, npgsql => npgsql
                .MigrationsHistoryTable("__ef_migrations_history")
                .MigrationsAssembly(typeof(QarionDbContext).Assembly.FullName))
            .UseSnakeCaseNamingConvention()
            // Strict loading, the analogue of SQLAlchemy lazy='raise': touching a navigation that was
            // not loaded with Include / LoadAsync throws instead of silently querying or returning empty.
            .UseLazyLoadingProxies()
            .ConfigureWarnings(w => w.Throw(
                CoreEventId.NavigationLazyLoading,
                CoreEventId.DetachedLazyLoadingWarning,
                CoreEventId.LazyLoadOnDisposedContextWarning))
            .AddInterceptors(TimestampsInterceptor.Instance, PreparedQueries.Interceptor.Instance);
        if (guardSyncIo) options.AddInterceptors(SyncIoGuard.Instance);
        return options;
    }

    /// <summary>Builds the data source every context of the process shares (one pool).</summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            // Sessions run in UTC whatever the server's default, so now() and casts never see local time.
            Timezone = "UTC",
            // No automatic preparation, whatever the connection string says: in Npgsql 10.0.3 a statement whose
            // preparing run fails in Bind (a timeout or cancel while planning, a bad regex or too-long value folded
            // by the planner) keeps no row description, and its next use on that connection fails with
            // "unexpected backend message DataRow" (docs/decisions/0008-npgsql-auto-prepare.md). The statements whose
            // planning costs as much as their run (search, lineage) are prepared explicitly, which describes before it binds.
            MaxAutoPrepare = 0,
        };
        return new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
    }

    /// <summary>True when the exception is a PostgreSQL unique-constraint violation (SQLSTATE 23505).</summary>
    public static bool IsUniqueViolation(this DbUpdateException ex, string? constraint = null)
        => ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } pg
           && (constraint is null || pg.ConstraintName == constraint);

    /// <summary>
    /// Saves, translating a unique violation into 409 with <paramref name="duplicateMessage"/> and a stale
    /// concurrency token into 409 <c>version_conflict</c>.
    /// </summary>
    public static async Task SaveOrConflictAsync(this DbContext db, CancellationToken ct, string duplicateMessage = "A resource with the same unique key already exists.")
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new ConflictException("The resource was changed by someone else; reload it and try again.", "version_conflict");
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            throw new ConflictException(duplicateMessage, "duplicate");
        }
    }
}

/// <summary>Used by <c>dotnet ef</c> only. Reads <c>ConnectionStrings__Qarion</c> or falls back to the local default.</summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<QarionDbContext>
{
    public QarionDbContext CreateDbContext(string[] args)
    {
        var cs = Environment.GetEnvironmentVariable("ConnectionStrings__Qarion")
                 ?? "Host=127.0.0.1;Port=54329;Username=qarion;Password=qarion;Database=qarion";
        var options = new DbContextOptionsBuilder<QarionDbContext>();
        options.UseQarionPostgres(PersistenceExtensions.CreateDataSource(cs), guardSyncIo: false);
        return new QarionDbContext(options.Options, TimeProvider.System);
    }
}
