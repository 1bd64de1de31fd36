using Microsoft.DurableTask.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qarion.Core.Catalog;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Outbox;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.AccessRequests;

/// <summary>
/// Access requests and grants over HTTP. Any member may ask; the product's owner and steward and the space's
/// admins decide (never the requester). A decision is checked and written in the database first, with the
/// request's row version, so of two concurrent decisions one wins and the other gets 409; the orchestration
/// then hears of it through an external event.
/// </summary>
public sealed class AccessRequestService(
    QarionDbContext db, SpaceAccess access, CurrentUser me, CatalogSupport catalog, IOptions<AccessOptions> options,
    TimeProvider clock, ILogger<AccessRequestService> log)
{
    public async Task<AccessRequestResponse> SubmitAsync(string spaceSlug, SubmitAccessRequest request, DurableTaskClient durable, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var userId = me.RequireId();
        var settings = options.Value;
        var now = clock.GetUtcNow();
        if (request.ProductId is { } productId && !await db.Products.AnyAsync(p => p.Id == productId && p.SpaceId == space.SpaceId, ct))
            throw RequestValidationException.For("body", "product_id", "no such product in this space", "unknown_product");
        if (request.ConnectorId is { } connectorId && !await db.Connectors.AnyAsync(c => c.Id == connectorId && c.SpaceId == space.SpaceId, ct))
            throw RequestValidationException.For("body", "connector_id", "no such connector in this space", "unknown_connector");
        if (request.EndsAt is { } endsAt)
        {
            if (endsAt <= now) throw RequestValidationException.For("body", "ends_at", "must be in the future", "date_in_past");
            if (endsAt > now.AddDays(settings.MaxDurationDays))
                throw RequestValidationException.For("body", "ends_at", $"must be at most {settings.MaxDurationDays} days ahead", "date_too_far");
        }
        if (request.DurationDays is { } days && (days < 1 || days > settings.MaxDurationDays))
            throw RequestValidationException.For("body", "duration_days", $"must be between 1 and {settings.MaxDurationDays}", "value_error");

        var kind = request.ProductId is not null ? AccessTargetKind.Product : AccessTargetKind.SourceRole;
        var level = request.AccessLevel ?? AccessLevel.Read;
        var roleName = request.RoleName?.Trim();
        var duplicate = await db.Set<AccessRequest>().AnyAsync(r => r.SpaceId == space.SpaceId && r.RequesterId == userId
            && r.Status == AccessRequestStatus.Pending && r.ProductId == request.ProductId && r.ConnectorId == request.ConnectorId
            && r.RoleName == roleName && r.AccessLevel == level, ct);
        if (duplicate) throw new ConflictException("You already have a pending request for this access.", "request_pending");

        var id = Guid.CreateVersion7(now);
        var row = new AccessRequest
        {
            Id = id, SpaceId = space.SpaceId, RequesterId = userId, TargetKind = kind, ProductId = request.ProductId,
            ConnectorId = request.ConnectorId, RoleName = roleName, AccessLevel = level, Justification = request.Justification.Trim(),
            EndsAt = request.EndsAt?.ToUniversalTime(), DurationDays = request.DurationDays, ExpiresAt = now + settings.ExpireAfter,
            InstanceId = AccessOrchestration.InstanceId(id),
        };
        db.Add(row);
        await db.SaveChangesAsync(ct);
        try
        {
            await durable.ScheduleNewOrchestrationInstanceAsync(AccessOrchestration.Name,
                new AccessInput(id, settings.ReminderAfter.TotalSeconds, settings.ExpireAfter.TotalSeconds),
                new Microsoft.DurableTask.StartOrchestrationOptions(row.InstanceId), ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Without its orchestration nobody would be asked: the request is withdrawn rather than left pending forever.
            log.LogError(ex, "Could not start the orchestration of access request {RequestId}", id);
            db.Remove(row);
            await db.SaveChangesAsync(CancellationToken.None);
            throw;
        }
        return await ResponseAsync(space, id, ct);
    }

    public async Task<AccessRequestResponse> GetAsync(string spaceSlug, Guid id, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var response = await ResponseAsync(space, id, ct);
        if (response.Requester?.Id != me.Id && !response.CanDecide && !response.ApproverIds.Contains(me.RequireId()) && space.Role != SpaceRole.Admin)
            throw new ForbiddenException("Only the requester and the request's approvers may see it.");
        return response;
    }

    public async Task<Paged<AccessRequestResponse>> ListAsync(string spaceSlug, AccessRequestView view, AccessRequestStatus? status, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, view == AccessRequestView.All ? SpaceRole.Admin : SpaceRole.Viewer, ct);
        var userId = me.RequireId();
        var requests = db.Set<AccessRequest>().AsNoTracking().Where(r => r.SpaceId == space.SpaceId);
        switch (view)
        {
            case AccessRequestView.Mine:
                requests = requests.Where(r => r.RequesterId == userId);
                break;
            case AccessRequestView.ToApprove:
                requests = requests.Where(r => r.Status == AccessRequestStatus.Pending && r.RequesterId != userId);
                if (space.Role != SpaceRole.Admin)
                    requests = requests.Where(r => r.ProductId != null && db.Products.Any(p => p.Id == r.ProductId && (p.OwnerId == userId || p.StewardId == userId)));
                break;
        }
        if (status is not null) requests = requests.Where(r => r.Status == status);
        var ids = await requests.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Select(r => r.Id).ToPageAsync(page, ct);
        var items = await ResponsesAsync(space, ids.Items, ct);
        return new Paged<AccessRequestResponse>(items, ids.Total, ids.Page, ids.Size);
    }

    /// <summary>Approves or rejects: 403 for the requester or a non-approver, 409 once decided (also for the loser of a race).</summary>
    public async Task<AccessRequestResponse> DecideAsync(string spaceSlug, Guid id, bool approve, AccessDecisionRequest body, DurableTaskClient durable, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var userId = me.RequireId();
        var request = await db.Set<AccessRequest>().SingleOrDefaultAsync(r => r.Id == id && r.SpaceId == space.SpaceId, ct)
                      ?? throw new NotFoundException("Access request", id.ToString());
        if (request.RequesterId == userId) throw new ForbiddenException("You cannot decide your own access request.");
        if (!await IsApproverAsync(space, request.ProductId, ct))
            throw new ForbiddenException("Only the product's owner or steward or a space admin may decide this request.");
        if (request.Status != AccessRequestStatus.Pending)
            throw new ConflictException($"The request is already {SnakeCaseEnums.Name(request.Status)}.", "already_decided");
        var comment = string.IsNullOrWhiteSpace(body.Comment) ? null : body.Comment.Trim();
        if (!approve && comment is null) throw RequestValidationException.For("body", "comment", "a rejection needs a comment", "missing");
        var now = clock.GetUtcNow();
        if (approve && request.EndsAt <= now)
            throw new ConflictException("The requested end date has passed; the requester should ask again.", "end_date_passed");

        await SaveDecisionAsync(request, r =>
        {
            r.Status = approve ? AccessRequestStatus.Approved : AccessRequestStatus.Rejected;
            r.DecidedById = userId;
            r.DecidedAt = now;
            r.DecisionComment = comment;
        }, ct);
        await RaiseAsync(durable, request, ct);
        return await ResponseAsync(space, id, ct);
    }

    /// <summary>The requester withdraws a pending request.</summary>
    public async Task<AccessRequestResponse> CancelAsync(string spaceSlug, Guid id, DurableTaskClient durable, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var userId = me.RequireId();
        var request = await db.Set<AccessRequest>().SingleOrDefaultAsync(r => r.Id == id && r.SpaceId == space.SpaceId, ct)
                      ?? throw new NotFoundException("Access request", id.ToString());
        if (request.RequesterId != userId) throw new ForbiddenException("Only the requester may cancel a request.");
        var now = clock.GetUtcNow();
        await SaveDecisionAsync(request, r =>
        {
            r.Status = AccessRequestStatus.Cancelled;
            r.DecidedAt = now;
        }, ct);
        await RaiseAsync(durable, request, ct);
        return await ResponseAsync(space, id, ct);
    }

    public async Task<Paged<AccessGrantResponse>> ListGrantsAsync(string spaceSlug, Guid? productId, Guid? userId, bool? active, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var now = clock.GetUtcNow();
        var grants = db.Set<AccessGrant>().AsNoTracking().Where(g => g.SpaceId == space.SpaceId);
        if (productId is not null) grants = grants.Where(g => g.ProductId == productId);
        if (userId is not null) grants = grants.Where(g => g.UserId == userId);
        if (active == true) grants = grants.Where(g => g.RevokedAt == null && (g.EndsAt == null || g.EndsAt > now));
        if (active == false) grants = grants.Where(g => g.RevokedAt != null || g.EndsAt <= now);
        var ids = await grants.OrderByDescending(g => g.GrantedAt).ThenByDescending(g => g.Id).Select(g => g.Id).ToPageAsync(page, ct);
        return new Paged<AccessGrantResponse>(await GrantResponsesAsync(ids.Items, ct), ids.Total, ids.Page, ids.Size);
    }

    /// <summary>Revokes an active grant (the product's owner or steward, or a space admin); 409 when it is no longer active.</summary>
    public async Task<AccessGrantResponse> RevokeGrantAsync(string spaceSlug, Guid grantId, RevokeGrantRequest body, uint? ifMatch, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var grant = await db.Set<AccessGrant>().SingleOrDefaultAsync(g => g.Id == grantId && g.SpaceId == space.SpaceId, ct)
                    ?? throw new NotFoundException("Access grant", grantId.ToString());
        if (!await IsApproverAsync(space, grant.ProductId, ct))
            throw new ForbiddenException("Only the product's owner or steward or a space admin may revoke this grant.");
        Concurrency.ExpectVersion(db, grant, ifMatch);
        var now = clock.GetUtcNow();
        if (grant.RevokedAt is not null || grant.EndsAt <= now)
            throw new ConflictException("The grant is no longer active.", "already_revoked");
        grant.RevokedAt = now;
        grant.RevokedById = me.RequireId();
        grant.EndReason = GrantEndReason.Revoked;
        grant.RevokeComment = string.IsNullOrWhiteSpace(body.Comment) ? null : body.Comment.Trim();
        var request = await db.Set<AccessRequest>().AsNoTracking().SingleAsync(r => r.Id == grant.RequestId, ct);
        AccessRequestRunner.AddEvent(db, space.SpaceId, OutboxEventTypes.AccessGrantRevoked,
            await AccessRequestRunner.PayloadAsync(db, request, [grant.UserId], grant.RevokedById, grant.RevokeComment, grant.Id, grant.EndsAt, ct) with
            {
                EndReason = GrantEndReason.Revoked,
            });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new ConflictException("The grant was changed meanwhile; it may already be revoked.", "already_revoked");
        }
        return (await GrantResponsesAsync([grant.Id], ct))[0];
    }

    /// <summary>Whether the caller holds access to a product now, and their pending request for it.</summary>
    public async Task<ProductAccessResponse> ProductAccessAsync(string spaceSlug, string idOrSlug, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var productId = await catalog.FindProductIdAsync(space, idOrSlug, ct);
        var userId = me.RequireId();
        var now = clock.GetUtcNow();
        var grantIds = await db.Set<AccessGrant>().AsNoTracking()
            .Where(g => g.ProductId == productId && g.UserId == userId && g.RevokedAt == null && (g.EndsAt == null || g.EndsAt > now))
            .OrderByDescending(g => g.GrantedAt).Select(g => g.Id).ToListAsync(ct);
        var grants = await GrantResponsesAsync(grantIds, ct);
        var pending = await db.Set<AccessRequest>().AsNoTracking()
            .Where(r => r.ProductId == productId && r.RequesterId == userId && r.Status == AccessRequestStatus.Pending)
            .OrderByDescending(r => r.CreatedAt).Select(r => (Guid?)r.Id).FirstOrDefaultAsync(ct);
        return new ProductAccessResponse(productId, grants.Count > 0, grants.Count > 0 ? grants.Max(g => g.AccessLevel) : null, grants, pending);
    }

    private async Task<bool> IsApproverAsync(SpaceContext space, Guid? productId, CancellationToken ct)
    {
        if (space.Role == SpaceRole.Admin) return true;
        if (productId is null) return false;
        var userId = me.RequireId();
        return await db.Products.AnyAsync(p => p.Id == productId && (p.OwnerId == userId || p.StewardId == userId), ct);
    }

    /// <summary>
    /// Applies a decision to a pending request and saves it under the row version. When the row changed since it
    /// was read, it is read again: a decision or the deadline got there first → 409; only the orchestration's
    /// bookkeeping (a notification flag) changed → the decision is applied again and saved.
    /// </summary>
    private async Task SaveDecisionAsync(AccessRequest request, Action<AccessRequest> apply, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (request.Status != AccessRequestStatus.Pending)
                throw new ConflictException($"The request is already {SnakeCaseEnums.Name(request.Status)}.", "already_decided");
            apply(request);
            try
            {
                await db.SaveChangesAsync(ct);
                return;
            }
            catch (DbUpdateConcurrencyException) when (attempt < 5)
            {
                // The failed save's audit rows must not be written twice.
                foreach (var entry in db.ChangeTracker.Entries<Audit.AuditEntry>().Where(e => e.State == EntityState.Added).ToList())
                    entry.State = EntityState.Detached;
                await db.Entry(request).ReloadAsync(ct);
            }
            catch (DbUpdateConcurrencyException)
            {
                throw new ConflictException("The request was decided meanwhile.", "already_decided");
            }
        }
    }

    /// <summary>Tells the orchestration; if that fails the decision stands and the orchestration finds it at the deadline.</summary>
    private async Task RaiseAsync(DurableTaskClient durable, AccessRequest request, CancellationToken ct)
    {
        try
        {
            await durable.RaiseEventAsync(request.InstanceId, AccessOrchestration.DecisionEvent, SnakeCaseEnums.Name(request.Status), ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogWarning(ex, "Could not signal the orchestration of access request {RequestId}; it will act at its deadline", request.Id);
        }
    }

    private async Task<AccessRequestResponse> ResponseAsync(SpaceContext space, Guid id, CancellationToken ct)
        => (await ResponsesAsync(space, [id], ct)).SingleOrDefault() ?? throw new NotFoundException("Access request", id.ToString());

    private async Task<List<AccessRequestResponse>> ResponsesAsync(SpaceContext space, IReadOnlyList<Guid> ids, CancellationToken ct)
    {
        if (ids.Count == 0) return [];
        var rows = await db.Set<AccessRequest>().AsNoTracking().Where(r => ids.Contains(r.Id) && r.SpaceId == space.SpaceId)
            .Select(r => new
            {
                Request = r,
                Requester = db.Users.Where(u => u.Id == r.RequesterId).Select(u => new UserRef(u.Id, u.Email, u.DisplayName)).FirstOrDefault(),
                DecidedBy = db.Users.Where(u => u.Id == r.DecidedById).Select(u => new UserRef(u.Id, u.Email, u.DisplayName)).FirstOrDefault(),
                Product = db.Products.Where(p => p.Id == r.ProductId).Select(p => new { p.Slug, p.Name, p.OwnerId, p.StewardId }).FirstOrDefault(),
                ConnectorName = db.Connectors.Where(c => c.Id == r.ConnectorId).Select(c => c.Name).FirstOrDefault(),
                GrantId = db.Set<AccessGrant>().Where(g => g.RequestId == r.Id).Select(g => (Guid?)g.Id).FirstOrDefault(),
            })
            .ToListAsync(ct);
        var admins = await db.SpaceMemberships.AsNoTracking().Where(m => m.SpaceId == space.SpaceId && m.Role == SpaceRole.Admin)
            .Select(m => m.UserId).ToListAsync(ct);
        var userId = me.RequireId();
        var order = ids.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i);
        return rows.OrderBy(x => order[x.Request.Id]).Select(x =>
        {
            var r = x.Request;
            var approvers = admins.Concat(new[] { x.Product?.OwnerId, x.Product?.StewardId }.OfType<Guid>())
                .Where(a => a != r.RequesterId).Distinct().Order().ToList();
            var canDecide = r.Status == AccessRequestStatus.Pending && r.RequesterId != userId
                            && (space.Role == SpaceRole.Admin || approvers.Contains(userId));
            return new AccessRequestResponse(
                r.Id, r.SpaceId, x.Requester,
                new AccessTargetResponse(r.TargetKind, r.ProductId, x.Product?.Slug, x.Product?.Name, r.ConnectorId, x.ConnectorName, r.RoleName),
                r.AccessLevel, r.Justification, r.EndsAt, r.DurationDays, r.Status, r.ExpiresAt, x.DecidedBy, r.DecidedAt, r.DecisionComment,
                r.ReminderSentAt, x.GrantId, approvers, canDecide, r.CreatedAt, r.UpdatedAt, r.Version);
        }).ToList();
    }

    private async Task<List<AccessGrantResponse>> GrantResponsesAsync(IReadOnlyList<Guid> ids, CancellationToken ct)
    {
        if (ids.Count == 0) return [];
        var now = clock.GetUtcNow();
        var rows = await db.Set<AccessGrant>().AsNoTracking().Where(g => ids.Contains(g.Id))
            .Select(g => new
            {
                Grant = g,
                User = db.Users.Where(u => u.Id == g.UserId).Select(u => new UserRef(u.Id, u.Email, u.DisplayName)).FirstOrDefault(),
                Product = db.Products.Where(p => p.Id == g.ProductId).Select(p => new { p.Slug, p.Name }).FirstOrDefault(),
                ConnectorName = db.Connectors.Where(c => c.Id == g.ConnectorId).Select(c => c.Name).FirstOrDefault(),
            })
            .ToListAsync(ct);
        var order = ids.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i);
        return rows.OrderBy(x => order[x.Grant.Id]).Select(x =>
        {
            var g = x.Grant;
            return new AccessGrantResponse(
                g.Id, g.RequestId, x.User,
                new AccessTargetResponse(g.TargetKind, g.ProductId, x.Product?.Slug, x.Product?.Name, g.ConnectorId, x.ConnectorName, g.RoleName),
                g.AccessLevel, g.GrantedById, g.GrantedAt, g.EndsAt, g.RevokedAt is null && (g.EndsAt is null || g.EndsAt > now),
                g.RevokedAt, g.RevokedById, g.EndReason, g.RevokeComment, g.Version);
        }).ToList();
    }
}
