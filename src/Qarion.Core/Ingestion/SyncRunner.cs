using System.IO.Compression;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Outbox;
using Qarion.Core.Ingestion.Postgres;
using Qarion.Core.Persistence;

namespace Qarion.Core.Ingestion;

/// <summary>
/// The work behind each activity of <see cref="SyncOrchestration"/>. Every step is idempotent, because
/// activities run at least once: extraction overwrites its staged snapshot, and the merge records
/// <see cref="SyncJob.MergedAt"/> in its own transaction, so a retried merge returns without writing again.
/// </summary>
public sealed class SyncRunner(QarionDbContext db, CatalogMerger merger, PostgresScraper postgres, CredentialProtector protector, TimeProvider clock)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task StartJobAsync(Guid jobId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await db.SyncJobs.Where(j => j.Id == jobId && j.Status == SyncStatus.Queued)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, SyncStatus.Running).SetProperty(j => j.StartedAt, now).SetProperty(j => j.UpdatedAt, now), ct);
    }

    /// <summary>The first step of a sync: marks the job running and lists the schemas to extract.</summary>
    public async Task<List<string>> ListSchemasAsync(Guid jobId, CancellationToken ct)
    {
        await StartJobAsync(jobId, ct);
        var (connector, _) = await LoadAsync(jobId, ct);
        switch (connector.Platform)
        {
            case ConnectorPlatforms.PostgreSql:
                var schemas = await postgres.ListSchemasAsync(ConnectorConfigs.Postgres(connector.Config), Credentials(connector), connector.Filters, ct);
                if (schemas.Count == 0)
                    throw new SourceException("No schema of the source that matches the connector's filters holds a table or view; nothing was read and the catalog is unchanged.");
                return [.. schemas];
            default:
                throw new SourceException($"A {connector.Platform} connector is not synced from a source: upload its manifest instead.");
        }
    }

    public async Task<int> ExtractSchemaAsync(Guid jobId, string schema, CancellationToken ct)
    {
        var (connector, _) = await LoadAsync(jobId, ct);
        var snapshot = await postgres.ExtractAsync(ConnectorConfigs.Postgres(connector.Config), Credentials(connector), [schema], connector.Filters, ct);
        await StageAsync(jobId, schema, snapshot, ct);
        return snapshot.Products.Count;
    }

    /// <summary>Stores one part of the job's snapshot (replacing an earlier attempt's).</summary>
    public async Task StageAsync(Guid jobId, string part, CatalogSnapshot snapshot, CancellationToken ct)
    {
        var payload = Compress(snapshot);
        var now = clock.GetUtcNow();
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO sync_snapshots (job_id, part, payload, created_at) VALUES ({jobId}, {part}, {payload}, {now})
            ON CONFLICT (job_id, part) DO UPDATE SET payload = excluded.payload, created_at = excluded.created_at
            """, ct);
    }

    /// <summary>Merges every staged part in one transaction and completes the job; a second call changes nothing.</summary>
    public async Task<SyncJobResponse> MergeAsync(Guid jobId, CancellationToken ct)
    {
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            // The row lock serialises a retried merge behind one still running.
            var job = await db.SyncJobs.FromSql($"SELECT * FROM sync_jobs WHERE id = {jobId} FOR UPDATE").SingleOrDefaultAsync(ct)
                      ?? throw new InvalidOperationException($"Sync job {jobId} does not exist.");
            if (job.MergedAt is null && job.Status != SyncStatus.Failed)
            {
                var connector = await db.Connectors.AsNoTracking().SingleAsync(c => c.Id == job.ConnectorId, ct);
                var parts = await db.SyncSnapshots.AsNoTracking().Where(s => s.JobId == jobId).OrderBy(s => s.Part).Select(s => s.Payload).ToListAsync(ct);
                var snapshot = Combine(parts.Select(Decompress));
                var outcome = await merger.MergeAsync(connector, job, snapshot, ct);
                var now = clock.GetUtcNow();
                job.Added = outcome.Added;
                job.Updated = outcome.Updated;
                job.MarkedStale = outcome.MarkedStale;
                job.Unchanged = outcome.Unchanged;
                job.SchemaChanges = outcome.SchemaChanges;
                job.Warnings = [.. outcome.Warnings];
                job.Status = SyncStatus.Succeeded;
                job.StartedAt ??= now;
                job.FinishedAt = now;
                job.MergedAt = now;
                await AddSyncEventsAsync(connector, job, ct);
                await db.SaveChangesAsync(ct);
                await db.SyncSnapshots.Where(s => s.JobId == jobId).ExecuteDeleteAsync(ct);
            }
            await tx.CommitAsync(ct);
        }
        return await db.SyncJobs.AsNoTracking().Where(j => j.Id == jobId).Select(ConnectorService.JobProjection).SingleAsync(ct);
    }

    /// <summary>Records a failure (unless the job already finished) with its sync.failed event, and drops its staged snapshots.</summary>
    public async Task FailJobAsync(Guid jobId, string error, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var message = error.Length > 4000 ? error[..3999] + "…" : error;
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            var failed = await db.SyncJobs.Where(j => j.Id == jobId && (j.Status == SyncStatus.Queued || j.Status == SyncStatus.Running))
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, SyncStatus.Failed).SetProperty(j => j.Error, message)
                    .SetProperty(j => j.FinishedAt, now).SetProperty(j => j.UpdatedAt, now), ct);
            if (failed > 0)
            {
                var job = await db.SyncJobs.AsNoTracking().SingleAsync(j => j.Id == jobId, ct);
                var connector = await db.Connectors.AsNoTracking().Where(c => c.Id == job.ConnectorId).Select(c => new { c.Id, c.Name }).SingleOrDefaultAsync(ct);
                var slug = await db.Spaces.AsNoTracking().Where(s => s.Id == job.SpaceId).Select(s => s.Slug).SingleAsync(ct);
                db.AddOutboxEvent(job.SpaceId, OutboxEventTypes.SyncFailed, new
                {
                    JobId = job.Id, ConnectorId = job.ConnectorId, ConnectorName = connector?.Name, Space = slug, Error = message,
                    ActorId = job.TriggeredById, Link = $"/spaces/{slug}/connectors/{job.ConnectorId}",
                });
                await db.SaveChangesAsync(ct);
            }
            await tx.CommitAsync(ct);
        }
        await db.SyncSnapshots.Where(s => s.JobId == jobId).ExecuteDeleteAsync(ct);
    }

    /// <summary>
    /// sync.completed, and schema.changed when the merge recorded column changes (one event per job, the changes of up
    /// to 100 products), added to the merge's unit of work.
    /// </summary>
    private async Task AddSyncEventsAsync(Connector connector, SyncJob job, CancellationToken ct)
    {
        var slug = await db.Spaces.AsNoTracking().Where(s => s.Id == job.SpaceId).Select(s => s.Slug).SingleAsync(ct);
        db.AddOutboxEvent(job.SpaceId, OutboxEventTypes.SyncCompleted, new
        {
            JobId = job.Id, ConnectorId = connector.Id, ConnectorName = connector.Name, Space = slug, job.Added, job.Updated,
            job.MarkedStale, job.Unchanged, job.SchemaChanges, ActorId = job.TriggeredById, Link = $"/spaces/{slug}/connectors/{connector.Id}",
        });
        if (job.SchemaChanges == 0) return;
        var changes = await db.SchemaChanges.AsNoTracking().Where(c => c.JobId == job.Id)
            .Join(db.Products.AsNoTracking(), c => c.ProductId, p => p.Id, (c, p) => new { c.ProductId, p.Name, c.Kind, c.Column, c.OldType, c.NewType })
            .ToListAsync(ct);
        var products = changes.GroupBy(c => c.ProductId).Take(100).ToList();
        db.AddOutboxEvent(job.SpaceId, OutboxEventTypes.SchemaChanged, new
        {
            JobId = job.Id, ConnectorId = connector.Id, ConnectorName = connector.Name, Space = slug, ChangeCount = changes.Count,
            ProductIds = products.Select(g => g.Key).ToList(),
            ProductNames = products.Select(g => g.First().Name).ToList(),
            Changes = products.SelectMany(g => g.Take(50)).Select(c => new { c.ProductId, Kind = c.Kind, c.Column, c.OldType, c.NewType }).ToList(),
            ActorId = job.TriggeredById, Link = $"/spaces/{slug}/connectors/{connector.Id}",
        });
    }

    private async Task<(Connector Connector, SyncJob Job)> LoadAsync(Guid jobId, CancellationToken ct)
    {
        var job = await db.SyncJobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == jobId, ct)
                  ?? throw new InvalidOperationException($"Sync job {jobId} does not exist.");
        var connector = await db.Connectors.AsNoTracking().SingleOrDefaultAsync(c => c.Id == job.ConnectorId, ct)
                        ?? throw new SourceException("The connector was deleted.");
        return (connector, job);
    }

    private PostgresCredentials Credentials(Connector connector) => ConnectorConfigs.PostgresCredentials(protector.Open(connector));

    internal static CatalogSnapshot Combine(IEnumerable<CatalogSnapshot> parts)
    {
        var list = parts.ToList();
        return list.Count == 1 ? list[0] : new CatalogSnapshot(
            [.. list.SelectMany(p => p.Products)], [.. list.SelectMany(p => p.Edges)],
            [.. list.SelectMany(p => p.Warnings)], [.. list.SelectMany(p => p.Tests)]);
    }

    internal static byte[] Compress(CatalogSnapshot snapshot)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest))
            JsonSerializer.Serialize(gzip, snapshot, Json);
        return buffer.ToArray();
    }

    internal static CatalogSnapshot Decompress(byte[] payload)
    {
        using var gzip = new GZipStream(new MemoryStream(payload), CompressionMode.Decompress);
        return JsonSerializer.Deserialize<CatalogSnapshot>(gzip, Json) ?? CatalogSnapshot.Empty;
    }
}
