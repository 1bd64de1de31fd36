using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Ingestion.Postgres;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Ingestion;

/// <summary>Connectors of a space: Admins manage them and their credentials, Editors read them and their history.</summary>
public sealed class ConnectorService(
    QarionDbContext db, SpaceAccess access, CurrentUser me, CredentialProtector protector, PostgresScraper postgres,
    Catalog.CatalogSupport catalog, TimeProvider clock)
{
    public async Task<ConnectorResponse> CreateAsync(string spaceSlug, CreateConnectorRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var config = ConnectorConfigs.Normalise(request.Platform, request.Config);
        RequireValidFilters(request.Filters);
        RequireSchedulable(request.Platform, request.Schedule);
        var connector = new Connector
        {
            SpaceId = space.SpaceId,
            Name = request.Name.Trim(),
            Platform = request.Platform,
            Config = config,
            Schedule = request.Schedule?.Trim(),
            MergeStrategy = request.MergeStrategy ?? MergeStrategy.Additive,
            IsActive = request.IsActive ?? true,
            CreatedById = me.Id,
        };
        ApplyFilters(connector, request.Filters);
        connector.NextRunAt = NextRun(connector);
        db.Connectors.Add(connector);
        await db.SaveOrConflictAsync(ct, $"A connector named '{connector.Name}' already exists in this space.");
        return await GetAsync(space, connector.Id, ct);
    }

    public async Task<ConnectorResponse> GetAsync(string spaceSlug, Guid id, CancellationToken ct)
        => await GetAsync(await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct), id, ct);

    public async Task<Paged<ConnectorResponse>> ListAsync(string spaceSlug, string? platform, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var query = db.Connectors.AsNoTracking().Where(c => c.SpaceId == space.SpaceId);
        if (platform is not null) query = query.Where(c => c.Platform == platform);
        var paged = await query.OrderBy(c => c.Name).ThenBy(c => c.Id).Select(Projection()).ToPageAsync(page, ct);
        return new Paged<ConnectorResponse>(paged.Items.Select(ToResponse).ToList(), paged.Total, paged.Page, paged.Size);
    }

    public async Task<ConnectorResponse> UpdateAsync(string spaceSlug, Guid id, UpdateConnectorRequest request, uint? ifMatch, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var connector = await FindAsync(space, id, ct);
        Concurrency.ExpectVersion(db, connector, ifMatch ?? request.Version);
        if (request.Config.IsSet) connector.Config = ConnectorConfigs.Normalise(connector.Platform, request.Config.Value);
        if (request.Filters.IsSet)
        {
            RequireValidFilters(request.Filters.Value);
            ApplyFilters(connector, request.Filters.Value);
        }
        if (request.Schedule.IsSet) RequireSchedulable(connector.Platform, request.Schedule.Value);
        connector.Name = request.Name.Or(connector.Name).Trim();
        connector.Schedule = request.Schedule.Or(connector.Schedule)?.Trim();
        connector.MergeStrategy = request.MergeStrategy.Or(connector.MergeStrategy);
        connector.IsActive = request.IsActive.Or(connector.IsActive);
        if (request.Schedule.IsSet || request.IsActive.IsSet) connector.NextRunAt = NextRun(connector);
        await db.SaveOrConflictAsync(ct, $"A connector named '{connector.Name}' already exists in this space.");
        return await GetAsync(space, connector.Id, ct);
    }

    /// <summary>Deletes the connector and its history; the products it created stay, no longer maintained by it.</summary>
    public async Task DeleteAsync(string spaceSlug, Guid id, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var connector = await FindAsync(space, id, ct);
        if (await db.SyncJobs.AnyAsync(j => j.ConnectorId == id && (j.Status == SyncStatus.Queued || j.Status == SyncStatus.Running), ct))
            throw new ConflictException("The connector is syncing; delete it when the sync has finished.", "sync_in_progress");
        db.Connectors.Remove(connector);
        await db.SaveOrConflictAsync(ct);
    }

    /// <summary>Replaces the credentials (validated per platform, encrypted before they reach the database).</summary>
    public async Task<ConnectorResponse> SetCredentialsAsync(string spaceSlug, Guid id, JsonElement credentials, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var connector = await FindAsync(space, id, ct);
        var normalised = ConnectorConfigs.NormaliseCredentials(connector.Platform, credentials);
        connector.EncryptedCredentials = protector.Protect(connector.Id, normalised);
        await db.SaveOrConflictAsync(ct);
        return await GetAsync(space, connector.Id, ct);
    }

    public async Task<ConnectorResponse> ClearCredentialsAsync(string spaceSlug, Guid id, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var connector = await FindAsync(space, id, ct);
        connector.EncryptedCredentials = null;
        await db.SaveOrConflictAsync(ct);
        return await GetAsync(space, connector.Id, ct);
    }

    /// <summary>Tries the connection (Admin: it uses the stored credentials). Never throws for a source failure.</summary>
    public async Task<ConnectionTestResult> TestAsync(string spaceSlug, Guid id, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var connector = await db.Connectors.AsNoTracking().FindInSpaceAsync(space, id, ct);
        switch (connector.Platform)
        {
            case ConnectorPlatforms.PostgreSql:
                PostgresCredentials credentials;
                try { credentials = ConnectorConfigs.PostgresCredentials(protector.Open(connector)); }
                catch (SourceException ex) { return new ConnectionTestResult(false, ex.Message, 0); }
                return await postgres.TestAsync(ConnectorConfigs.Postgres(connector.Config), credentials, ct);
            default:
                return new ConnectionTestResult(true, "A dbt manifest connector has no connection: upload a manifest.json with POST …/manifest.", 0);
        }
    }

    public async Task<Paged<SyncJobResponse>> HistoryAsync(string spaceSlug, Guid id, SyncStatus? status, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        await db.Connectors.RequireInSpaceAsync(space, id, ct);
        var jobs = db.SyncJobs.AsNoTracking().Where(j => j.ConnectorId == id);
        if (status is not null) jobs = jobs.Where(j => j.Status == status);
        return await jobs.OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id).Select(JobProjection).ToPageAsync(page, ct);
    }

    public async Task<SyncJobResponse> GetJobAsync(string spaceSlug, Guid jobId, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        return await db.SyncJobs.AsNoTracking().Where(j => j.Id == jobId && j.SpaceId == space.SpaceId).Select(JobProjection).SingleOrDefaultAsync(ct)
               ?? throw new NotFoundException("Sync job", jobId.ToString());
    }

    /// <summary>The tests the connector's source declares (dbt generic tests), as last synced (Editor).</summary>
    public async Task<Paged<SourceTestResponse>> TestsAsync(string spaceSlug, Guid id, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        await db.Connectors.RequireInSpaceAsync(space, id, ct);
        var rows = await db.SourceTests.AsNoTracking().Where(t => t.ConnectorId == id)
            .Join(db.Products, t => t.ProductId, p => p.Id, (t, p) => new { t, p.Slug })
            .OrderBy(x => x.t.ExternalId)
            .Select(x => new { x.t.Id, x.t.ExternalId, x.t.Name, x.t.TestType, x.t.ProductId, x.Slug, x.t.Column, x.t.Config, x.t.UpdatedAt })
            .ToPageAsync(page, ct);
        return new Paged<SourceTestResponse>(rows.Items.Select(r =>
        {
            using var config = JsonDocument.Parse(r.Config);
            return new SourceTestResponse(r.Id, r.ExternalId, r.Name, r.TestType, r.ProductId, r.Slug, r.Column, config.RootElement.Clone(), r.UpdatedAt);
        }).ToList(), rows.Total, rows.Page, rows.Size);
    }

    public async Task<Paged<SchemaChangeResponse>> SchemaChangesAsync(string spaceSlug, string product, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var productId = await catalog.FindProductIdAsync(space, product, ct);
        return await db.SchemaChanges.AsNoTracking().Where(c => c.ProductId == productId)
            .OrderByDescending(c => c.OccurredAt).ThenBy(c => c.Column)
            .Select(c => new SchemaChangeResponse(c.Id, c.ProductId, c.JobId, c.Kind, c.Column, c.OldType, c.NewType, c.OccurredAt))
            .ToPageAsync(page, ct);
    }

    internal static readonly System.Linq.Expressions.Expression<Func<SyncJob, SyncJobResponse>> JobProjection = j => new SyncJobResponse(
        j.Id, j.ConnectorId, j.Status, j.Trigger, j.MergeStrategy, j.TriggeredById, j.Added, j.Updated, j.MarkedStale, j.Unchanged,
        j.SchemaChanges, j.Warnings, j.Error, j.CreatedAt, j.StartedAt, j.FinishedAt,
        j.StartedAt != null && j.FinishedAt != null ? (long)(j.FinishedAt.Value - j.StartedAt.Value).TotalMilliseconds : null);

    private DateTimeOffset? NextRun(Connector c) => c.IsActive ? Schedules.Next(c.Schedule, clock.GetUtcNow()) : null;

    /// <summary>A dbt manifest connector syncs when a manifest is uploaded: a schedule would start nothing.</summary>
    private static void RequireSchedulable(string platform, string? schedule)
    {
        if (schedule is not null && platform == ConnectorPlatforms.DbtManifest)
            throw RequestValidationException.For("body", "schedule", "a dbt_manifest connector syncs when a manifest is uploaded; leave schedule null", "not_applicable");
    }

    private static void RequireValidFilters(FiltersInput? filters)
    {
        var errors = ConnectorConfigs.FilterErrors(filters).ToList();
        if (errors.Count > 0) throw new RequestValidationException(errors);
    }

    private static void ApplyFilters(Connector c, FiltersInput? f)
    {
        c.SchemaInclude = f?.SchemaInclude?.Select(s => s.Trim()).Distinct(StringComparer.Ordinal).ToList() ?? [];
        c.SchemaExclude = f?.SchemaExclude?.Select(s => s.Trim()).Distinct(StringComparer.Ordinal).ToList() ?? [];
        c.TableRegex = f?.TableRegex;
    }

    private Task<Connector> FindAsync(SpaceContext space, Guid id, CancellationToken ct) => db.Connectors.FindInSpaceAsync(space, id, ct);

    private async Task<ConnectorResponse> GetAsync(SpaceContext space, Guid id, CancellationToken ct)
        => ToResponse(await db.Connectors.AsNoTracking().Where(c => c.Id == id && c.SpaceId == space.SpaceId).Select(Projection()).SingleOrDefaultAsync(ct)
                      ?? throw new NotFoundException("Connector", id.ToString()));

    private sealed record Row(Connector C, bool HasCredentials, SyncJobSummary? LastSync);

    private System.Linq.Expressions.Expression<Func<Connector, Row>> Projection() => c => new Row(
        new Connector
        {
            Id = c.Id, SpaceId = c.SpaceId, Name = c.Name, Platform = c.Platform, Config = c.Config, Schedule = c.Schedule,
            NextRunAt = c.NextRunAt, SchemaInclude = c.SchemaInclude, SchemaExclude = c.SchemaExclude, TableRegex = c.TableRegex,
            MergeStrategy = c.MergeStrategy, IsActive = c.IsActive, CreatedAt = c.CreatedAt, UpdatedAt = c.UpdatedAt, Version = c.Version,
        },
        c.EncryptedCredentials != null,
        db.SyncJobs.Where(j => j.ConnectorId == c.Id).OrderByDescending(j => j.CreatedAt)
            .Select(j => new SyncJobSummary(j.Id, j.Status, j.CreatedAt, j.FinishedAt)).FirstOrDefault());

    private static ConnectorResponse ToResponse(Row r)
    {
        using var config = JsonDocument.Parse(r.C.Config);
        return new ConnectorResponse(r.C.Id, r.C.SpaceId, r.C.Name, r.C.Platform, config.RootElement.Clone(), r.C.Schedule, r.C.NextRunAt,
            new FiltersResponse(r.C.SchemaInclude, r.C.SchemaExclude, r.C.TableRegex), r.C.MergeStrategy, r.C.IsActive,
            r.HasCredentials, r.LastSync, r.C.CreatedAt, r.C.UpdatedAt, r.C.Version);
    }
}
