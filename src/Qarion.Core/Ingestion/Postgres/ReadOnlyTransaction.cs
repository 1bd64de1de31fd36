using System.Globalization;
using Npgsql;

namespace Qarion.Core.Ingestion.Postgres;

/// <summary>
/// How Qarion reads a customer's PostgreSQL database, whether scraping its catalog or running a quality check:
/// inside a READ ONLY transaction with a local statement timeout, set in one round trip.
/// </summary>
public static class ReadOnlyTransaction
{
    public static async Task<NpgsqlTransaction> BeginAsync(NpgsqlConnection connection, int statementTimeoutSeconds, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var transaction = await connection.BeginTransactionAsync(ct);
        await using var setup = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("SET TRANSACTION READ ONLY"),
                // set_config(…, true) is SET LOCAL with the value as a parameter.
                new NpgsqlBatchCommand("SELECT pg_catalog.set_config('statement_timeout', $1, true)")
                {
                    Parameters = { new NpgsqlParameter<string> { TypedValue = $"{statementTimeoutSeconds.ToString(CultureInfo.InvariantCulture)}s" } },
                },
            },
        };
        try { await setup.ExecuteNonQueryAsync(ct); }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
        return transaction;
    }
}
