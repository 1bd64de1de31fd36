using Microsoft.DurableTask.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Ingestion.Dbt;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Ingestion;

/// <summary>
/// Starting syncs: on request (Admin), on schedule (the timer), or by uploading a dbt manifest. A job row is
/// written first; a partial unique index allows one queued or running job per connector, so two starters
/// racing (two timer hosts, a click during a scheduled run) cannot both win.
/// </summary>
public sealed class SyncService(
    QarionDbContext db, SpaceAccess access, CurrentUser me, SyncRunner runner, IOptions<IngestionOptions> options,
    TimeProvider clock, ILogger<SyncService> log)
{
    public async Task<SyncStarted> StartAsync(string spaceSlug, Guid connectorId, DurableTaskClient durable, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var connector = await db.Connectors.AsNoTracking().FindInSpaceAsync(space, connectorId, ct);
        if (connector.Platform == ConnectorPlatforms.DbtManifest)
            throw new ConflictException("A dbt manifest connector syncs when a manifest is uploaded: POST …/manifest.", "sync_by_upload");
        if (!connector.IsActive) throw new ConflictException("The connector is inactive; activate it to sync.", "connector_inactive");
        var job = await CreateJobAsync(connector, SyncTrigger.Manual, me.Id, ct)
                  ?? throw new ConflictException("The connector is already syncing; follow the running job in its sync history.", "sync_in_progress");
        await LaunchAsync(job, durable, ct);
        return new SyncStarted(job.Id, StatusUrl(spaceSlug, job.Id), SyncStatus.Queued);
    }

    public static string StatusUrl(string spaceSlug, Guid jobId) => $"/api/v1/spaces/{spaceSlug}/sync-jobs/{jobId}";

    /// <summary>
    /// Parses an uploaded dbt manifest (413 above the size limit, 422 when malformed, truncated or of an
    /// unsupported version — the catalog unchanged) and merges it in this request as a job of its own.
    /// </summary>
    public async Task<SyncJobResponse> UploadManifestAsync(string spaceSlug, Guid connectorId, Stream body, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var connector = await db.Connectors.AsNoTracking().FindInSpaceAsync(space, connectorId, ct);
        if (connector.Platform != ConnectorPlatforms.DbtManifest)
            throw new ConflictException($"Only dbt_manifest connectors take a manifest; this one is {connector.Platform}.", "wrong_platform");
        if (!connector.IsActive) throw new ConflictException("The connector is inactive; activate it to sync.", "connector_inactive");

        var bytes = await ReadLimitedAsync(body, options.Value.MaxManifestBytes, ct);
        CatalogSnapshot snapshot;
        try
        {
            snapshot = DbtManifestParser.Parse(bytes, new DbtParseOptions(connector.Filters, ConnectorConfigs.DbtResourceTypesOf(connector.Config)));
        }
        catch (ManifestException ex)
        {
            throw new RequestValidationException(new FieldError(["body"], ex.Message, ex.Code));
        }

        var job = await CreateJobAsync(connector, SyncTrigger.Upload, me.Id, ct)
                  ?? throw new ConflictException("The connector is already syncing; try again when the running job has finished.", "sync_in_progress");
        try
        {
            await runner.StartJobAsync(job.Id, ct);
            await runner.StageAsync(job.Id, "*", snapshot, ct);
            return await runner.MergeAsync(job.Id, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogError(ex, "Merging the manifest of connector {ConnectorId} failed", connectorId);
            await runner.FailJobAsync(job.Id, $"The manifest could not be merged: {ex.Message}", CancellationToken.None);
            throw;
        }
    }

    /// <summary>
    /// The timer's work: claims due connectors (<c>FOR UPDATE SKIP LOCKED</c>, so concurrent timers split the
    /// work), advances their next run, creates a job for each that is not already syncing, then launches them.
    /// Also fails jobs whose orchestration has ended or vanished without recording an outcome.
    /// </summary>
    public async Task<int> RunDueAsync(DurableTaskClient durable, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var jobs = new List<SyncJob>();
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            var due = await db.Connectors
                .FromSql($"""
                    SELECT c.*, c.xmin FROM connectors c
                    WHERE is_active AND next_run_at IS NOT NULL AND next_run_at <= {now}
                    ORDER BY next_run_at LIMIT 100 FOR UPDATE SKIP LOCKED
                    """)
                .ToListAsync(ct);
            foreach (var connector in due)
            {
                connector.NextRunAt = Schedules.Next(connector.Schedule, now);
                if (connector.Platform == ConnectorPlatforms.DbtManifest) continue;
                var active = await db.SyncJobs.AnyAsync(j => j.ConnectorId == connector.Id && (j.Status == SyncStatus.Queued || j.Status == SyncStatus.Running), ct);
                if (active) continue;
                var job = NewJob(connector, SyncTrigger.Schedule, null);
                db.SyncJobs.Add(job);
                jobs.Add(job);
            }
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        foreach (var job in jobs)
        {
            try { await LaunchAsync(job, durable, ct); }
            catch (ConflictException ex) { log.LogWarning("Scheduled sync of connector {ConnectorId} not started: {Reason}", job.ConnectorId, ex.Message); }
        }
        await FailOrphansAsync(durable, now, ct);
        return jobs.Count;
    }

    private async Task FailOrphansAsync(DurableTaskClient durable, DateTimeOffset now, CancellationToken ct)
    {
        var cutoff = now.AddMinutes(-5);
        var active = await db.SyncJobs.AsNoTracking()
            .Where(j => (j.Status == SyncStatus.Queued || j.Status == SyncStatus.Running) && j.InstanceId != null && j.UpdatedAt < cutoff)
            .Select(j => new { j.Id, j.InstanceId }).Take(100).ToListAsync(ct);
        foreach (var job in active)
        {
            var instance = await durable.GetInstanceAsync(job.InstanceId!, ct);
            if (instance is not null && InFlight(instance)) continue;
            await runner.FailJobAsync(job.Id, "The sync's orchestration ended without recording an outcome.", ct);
        }
    }

    private static bool InFlight(OrchestrationMetadata instance)
        => instance.IsRunning || instance.RuntimeStatus == OrchestrationRuntimeStatus.Pending;

    /// <summary>Schedules the orchestration; when that fails the job is failed, so it never blocks the connector.</summary>
    private async Task LaunchAsync(SyncJob job, DurableTaskClient durable, CancellationToken ct)
    {
        var instanceId = job.InstanceId!;
        try
        {
            var existing = await durable.GetInstanceAsync(instanceId, ct);
            if (existing is not null)
            {
                if (InFlight(existing))
                {
                    await runner.FailJobAsync(job.Id, "An earlier run of this connector is still active in the orchestration store.", ct);
                    throw new ConflictException("The connector is already syncing.", "sync_in_progress");
                }
                // The job rows keep the history; the finished instance only blocks its id.
                await durable.PurgeInstanceAsync(instanceId, ct);
            }
            await durable.ScheduleNewOrchestrationInstanceAsync(SyncOrchestration.Name, new SyncInput(job.Id),
                new Microsoft.DurableTask.StartOrchestrationOptions(instanceId), ct);
        }
        catch (Exception ex) when (ex is not ConflictException and not OperationCanceledException)
        {
            log.LogError(ex, "Could not start the sync orchestration of job {JobId}", job.Id);
            await runner.FailJobAsync(job.Id, $"The sync could not be started: {ex.Message}", CancellationToken.None);
            throw;
        }
    }

    /// <summary>A new queued job, or null when the connector already has one queued or running.</summary>
    private async Task<SyncJob?> CreateJobAsync(Connector connector, SyncTrigger trigger, Guid? userId, CancellationToken ct)
    {
        var job = NewJob(connector, trigger, userId);
        db.SyncJobs.Add(job);
        try
        {
            await db.SaveChangesAsync(ct);
            return job;
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation("ux_sync_jobs_one_active"))
        {
            db.Entry(job).State = EntityState.Detached;
            return null;
        }
    }

    private SyncJob NewJob(Connector connector, SyncTrigger trigger, Guid? userId) => new()
    {
        Id = Guid.CreateVersion7(clock.GetUtcNow()),
        SpaceId = connector.SpaceId,
        ConnectorId = connector.Id,
        Status = SyncStatus.Queued,
        Trigger = trigger,
        MergeStrategy = connector.MergeStrategy,
        TriggeredById = userId,
        InstanceId = trigger == SyncTrigger.Upload ? null : SyncOrchestration.InstanceId(connector.Id),
    };

    private static async Task<ReadOnlyMemory<byte>> ReadLimitedAsync(Stream body, long limit, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit)
                throw new RequestRejectedException(413, "payload_too_large", $"The manifest exceeds the limit of {Describe(limit)}.");
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0) throw new RequestValidationException(new FieldError(["body"], "the manifest is empty", "missing"));
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    /// <summary>The limit as configured: whole MiB when it is a multiple of one, bytes otherwise (a 200 kB cap is not "0 MiB").</summary>
    private static string Describe(long limit)
    {
        const long MiB = 1024 * 1024;
        return limit >= MiB && limit % MiB == 0 ? $"{limit / MiB} MiB" : $"{limit} bytes";
    }
}
