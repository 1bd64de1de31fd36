using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Qarion.Core.Health;

public sealed record DependencyHealth(string Status, double LatencyMs, string? Error);

public sealed record HealthResponse(string Status, DependencyHealth Database, DependencyHealth Storage, DateTimeOffset CheckedAt)
{
    public bool Healthy => Status == "ok";
}

/// <summary>
/// Pings PostgreSQL and the storage account the queues and Durable task hub live in. PostgreSQL is pinged through the
/// process's data source, not a DbContext: the first use of a context builds EF's model (seconds on a cold, busy
/// instance), which a liveness probe must not wait for or time out on.
/// </summary>
public sealed class HealthService(NpgsqlDataSource dataSource, TimeProvider clock, ILogger<HealthService> logger, QarionCoreExtensions.StorageQueues storage)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public async Task<HealthResponse> CheckAsync(CancellationToken ct)
    {
        var database = ProbeAsync("database", async t =>
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(t);
        }, ct);
        var queues = storage.Client;
        var storageProbe = queues is null
            ? Task.FromResult(new DependencyHealth("unconfigured", 0, "AzureWebJobsStorage is not set"))
            : ProbeAsync("storage", async t => await queues.GetPropertiesAsync(t), ct);
        // Both probes run at once; awaiting the second after the first costs nothing extra.
        var (databaseHealth, storageHealth) = (await database, await storageProbe);
        var ok = databaseHealth.Status == "ok" && storageHealth.Status == "ok";
        return new HealthResponse(ok ? "ok" : "degraded", databaseHealth, storageHealth, clock.GetUtcNow());
    }

    private async Task<DependencyHealth> ProbeAsync(string name, Func<CancellationToken, Task> probe, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(Timeout);
        try
        {
            await probe(cts.Token);
            return new DependencyHealth("ok", Elapsed(started), null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Health probe {Dependency} failed", name);
            // The type, not the message: messages can carry host names and user names.
            return new DependencyHealth("unreachable", Elapsed(started), ex is OperationCanceledException ? "timeout" : ex.GetType().Name);
        }
    }

    private static double Elapsed(long started) => Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1);
}
