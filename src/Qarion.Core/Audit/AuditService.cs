using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Audit;

public sealed record AuditEntryResponse(
    Guid Id, DateTimeOffset OccurredAt, Guid? SpaceId, Guid? ActorUserId, string? ActorEmail, Guid? ActorApiKeyId,
    string Action, string ResourceType, Guid ResourceId, string? ResourceName, JsonElement Changes);

public sealed record AuditQuery(
    string? Action = null, string? ResourceType = null, Guid? ResourceId = null, Guid? UserId = null,
    DateTimeOffset? From = null, DateTimeOffset? To = null);

/// <summary>Reads the audit log: a space's (its Admins), one resource's history (its space's Viewers), the platform's (superadmins).</summary>
public sealed class AuditService(QarionDbContext db, CurrentUser me, SpaceAccess access)
{
    public async Task<Paged<AuditEntryResponse>> ListSpaceAsync(string spaceSlug, AuditQuery query, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        return await PageAsync(Filter(db.AuditLog.AsNoTracking().Where(a => a.SpaceId == space.SpaceId), query), page, ct);
    }

    /// <summary>The history of one resource of the space, newest first. Viewers may read it.</summary>
    public async Task<Paged<AuditEntryResponse>> HistoryAsync(string spaceSlug, Guid resourceId, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        return await PageAsync(db.AuditLog.AsNoTracking().Where(a => a.SpaceId == space.SpaceId && a.ResourceId == resourceId)
            .OrderByDescending(a => a.OccurredAt).ThenByDescending(a => a.Id), page, ct);
    }

    public async Task<Paged<AuditEntryResponse>> ListPlatformAsync(AuditQuery query, PageRequest page, CancellationToken ct)
    {
        me.RequireSuperadmin();
        return await PageAsync(Filter(db.AuditLog.AsNoTracking(), query), page, ct);
    }

    /// <summary>Streams a space's entries oldest first, one row at a time (never the whole log in memory).</summary>
    public async Task<IAsyncEnumerable<AuditEntryResponse>> ExportSpaceAsync(string spaceSlug, AuditQuery query, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var rows = Filter(db.AuditLog.AsNoTracking().Where(a => a.SpaceId == space.SpaceId), query, newestFirst: false);
        return Stream(rows, ct);
    }

    private async IAsyncEnumerable<AuditEntryResponse> Stream(IQueryable<AuditEntry> rows, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var row in Rows(rows).AsAsyncEnumerable().WithCancellation(ct)) yield return row.ToResponse();
    }

    private static IQueryable<AuditEntry> Filter(IQueryable<AuditEntry> rows, AuditQuery q, bool newestFirst = true)
    {
        if (q.Action is not null) rows = rows.Where(a => a.Action == q.Action);
        if (q.ResourceType is not null) rows = rows.Where(a => a.ResourceType == q.ResourceType);
        if (q.ResourceId is not null) rows = rows.Where(a => a.ResourceId == q.ResourceId);
        if (q.UserId is not null) rows = rows.Where(a => a.ActorUserId == q.UserId);
        if (q.From is not null) rows = rows.Where(a => a.OccurredAt >= q.From);
        if (q.To is not null) rows = rows.Where(a => a.OccurredAt < q.To);
        return newestFirst
            ? rows.OrderByDescending(a => a.OccurredAt).ThenByDescending(a => a.Id)
            : rows.OrderBy(a => a.OccurredAt).ThenBy(a => a.Id);
    }

    private sealed record Row(
        Guid Id, DateTimeOffset OccurredAt, Guid? SpaceId, Guid? ActorUserId, string? ActorEmail, Guid? ActorApiKeyId,
        string Action, string ResourceType, Guid ResourceId, string? ResourceName, string Changes)
    {
        public AuditEntryResponse ToResponse()
        {
            using var changes = JsonDocument.Parse(Changes);
            return new AuditEntryResponse(Id, OccurredAt, SpaceId, ActorUserId, ActorEmail, ActorApiKeyId,
                Action, ResourceType, ResourceId, ResourceName, changes.RootElement.Clone());
        }
    }

    private IQueryable<Row> Rows(IQueryable<AuditEntry> rows) => rows.Select(a => new Row(
        a.Id, a.OccurredAt, a.SpaceId, a.ActorUserId,
        db.Users.Where(u => u.Id == a.ActorUserId).Select(u => u.Email).FirstOrDefault(),
        a.ActorApiKeyId, a.Action, a.ResourceType, a.ResourceId, a.ResourceName, a.Changes));

    private async Task<Paged<AuditEntryResponse>> PageAsync(IQueryable<AuditEntry> rows, PageRequest page, CancellationToken ct)
    {
        var result = await Rows(rows).ToPageAsync(page, ct);
        return new Paged<AuditEntryResponse>(result.Items.Select(r => r.ToResponse()).ToList(), result.Total, result.Page, result.Size);
    }
}
