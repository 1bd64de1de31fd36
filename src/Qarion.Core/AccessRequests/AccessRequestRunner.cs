using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Common;
using Microsoft.Extensions.Logging;
using Qarion.Core.Outbox;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.AccessRequests;

/// <summary>What the orchestration learns once a request is decided: its state and, for a time-limited grant, how long it has left.</summary>
public sealed record AccessOutcome(AccessRequestStatus Status, Guid? GrantId, double? EndsInSeconds);

/// <summary>
/// The activities of <see cref="AccessOrchestration"/>. Each reads the request from the database and acts on
/// what it finds there, never on what the orchestration believes: run twice, the second run changes nothing
/// and emits nothing (flags on the request, the one-grant-per-request unique index, revoked_at on the grant).
/// A request deleted meanwhile (its product, connector or space deleted) reads as cancelled: the orchestration ends quietly.
/// </summary>
public sealed class AccessRequestRunner(QarionDbContext db, TimeProvider clock, ILogger<AccessRequestRunner> log)
{
    /// <summary>Tells the approvers about a new request (<c>access.request.submitted</c>), once.</summary>
    public async Task NotifySubmittedAsync(Guid requestId, CancellationToken ct)
    {
        var request = await db.Set<AccessRequest>().SingleOrDefaultAsync(r => r.Id == requestId, ct);
        if (request is null || request.SubmittedNotifiedAt is not null) return;
        request.SubmittedNotifiedAt = clock.GetUtcNow();
        await EmitAsync(request, OutboxEventTypes.AccessRequestSubmitted, await ApproverIdsAsync(request, ct), request.RequesterId, null, null, null, ct);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Reminds the approvers of a request still pending (<c>access.request.reminder</c>), at most once; true when it did.</summary>
    public async Task<bool> RemindAsync(Guid requestId, CancellationToken ct)
    {
        var request = await db.Set<AccessRequest>().SingleOrDefaultAsync(r => r.Id == requestId, ct);
        if (request is null || request.Status != AccessRequestStatus.Pending || request.ReminderSentAt is not null) return false;
        request.ReminderSentAt = clock.GetUtcNow();
        await EmitAsync(request, OutboxEventTypes.AccessRequestReminder, await ApproverIdsAsync(request, ct), null, null, null, null, ct);
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>
    /// Expires the request if it is still pending (<c>access.request.expired</c> to the requester) and returns its
    /// state: a decision recorded just before the deadline wins (the row version makes the two writes exclusive).
    /// </summary>
    public async Task<AccessRequestStatus> ExpireAsync(Guid requestId, CancellationToken ct)
    {
        var request = await db.Set<AccessRequest>().SingleOrDefaultAsync(r => r.Id == requestId, ct);
        if (request is null) return AccessRequestStatus.Cancelled;
        if (request.Status != AccessRequestStatus.Pending) return request.Status;
        request.Status = AccessRequestStatus.Expired;
        request.OutcomeNotifiedAt = clock.GetUtcNow();
        await EmitAsync(request, OutboxEventTypes.AccessRequestExpired, [request.RequesterId], null, null, null, null, ct);
        // A concurrent decision makes this throw; the activity's retry then reads the decision.
        await db.SaveChangesAsync(ct);
        return request.Status;
    }

    /// <summary>
    /// Acts on a recorded decision: an approval becomes a grant (with <c>access.request.approved</c>), a rejection
    /// is announced (<c>access.request.rejected</c>); both to the requester, once. A cancellation is announced to the
    /// approvers who were asked (<c>access.request.cancelled</c>), once, so nobody acts on a request that is gone.
    /// </summary>
    public async Task<AccessOutcome> CompleteAsync(Guid requestId, CancellationToken ct)
    {
        var request = await db.Set<AccessRequest>().SingleOrDefaultAsync(r => r.Id == requestId, ct);
        if (request is null) return new AccessOutcome(AccessRequestStatus.Cancelled, null, null);
        switch (request.Status)
        {
            case AccessRequestStatus.Approved:
            {
                var grant = await db.Set<AccessGrant>().SingleOrDefaultAsync(g => g.RequestId == requestId, ct);
                if (grant is null)
                {
                    var decidedAt = request.DecidedAt ?? clock.GetUtcNow();
                    grant = new AccessGrant
                    {
                        Id = Guid.CreateVersion7(clock.GetUtcNow()), SpaceId = request.SpaceId, RequestId = request.Id, UserId = request.RequesterId,
                        TargetKind = request.TargetKind, ProductId = request.ProductId, ConnectorId = request.ConnectorId, RoleName = request.RoleName,
                        AccessLevel = request.AccessLevel, GrantedById = request.DecidedById, GrantedAt = decidedAt,
                        EndsAt = request.EndsAt ?? (request.DurationDays is { } days ? decidedAt.AddDays(days) : null),
                    };
                    db.Add(grant);
                    request.OutcomeNotifiedAt = clock.GetUtcNow();
                    await EmitAsync(request, OutboxEventTypes.AccessRequestApproved, [request.RequesterId], request.DecidedById, request.DecisionComment, grant.Id, grant.EndsAt, ct);
                    await db.SaveChangesAsync(ct);
                    log.LogInformation("Access request {RequestId} granted as {GrantId}", request.Id, grant.Id);
                }
                double? endsIn = grant is { RevokedAt: null, EndsAt: { } end } ? Math.Max(0, (end - clock.GetUtcNow()).TotalSeconds) : null;
                return new AccessOutcome(request.Status, grant.Id, endsIn);
            }
            case AccessRequestStatus.Rejected when request.OutcomeNotifiedAt is null:
                request.OutcomeNotifiedAt = clock.GetUtcNow();
                await EmitAsync(request, OutboxEventTypes.AccessRequestRejected, [request.RequesterId], request.DecidedById, request.DecisionComment, null, null, ct);
                await db.SaveChangesAsync(ct);
                return new AccessOutcome(request.Status, null, null);
            case AccessRequestStatus.Cancelled when request.OutcomeNotifiedAt is null:
                request.OutcomeNotifiedAt = clock.GetUtcNow();
                await EmitAsync(request, OutboxEventTypes.AccessRequestCancelled, await ApproverIdsAsync(request, ct), request.RequesterId, null, null, null, ct);
                await db.SaveChangesAsync(ct);
                return new AccessOutcome(request.Status, null, null);
            default:
                return new AccessOutcome(request.Status, null, null);
        }
    }

    /// <summary>Ends a time-limited grant at its end date (<c>access.grant.revoked</c> to the grantee); nothing if already revoked.</summary>
    public async Task<bool> EndGrantAsync(Guid grantId, CancellationToken ct)
    {
        var grant = await db.Set<AccessGrant>().SingleOrDefaultAsync(g => g.Id == grantId, ct);
        if (grant is null || grant.RevokedAt is not null) return false;
        var request = await db.Set<AccessRequest>().AsNoTracking().SingleOrDefaultAsync(r => r.Id == grant.RequestId, ct);
        if (request is null) return false;
        grant.RevokedAt = clock.GetUtcNow();
        grant.EndReason = GrantEndReason.Ended;
        await EmitAsync(request, OutboxEventTypes.AccessGrantRevoked, [grant.UserId], null, null, grant.Id, grant.EndsAt, ct, GrantEndReason.Ended);
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>The request's approvers: the product's owner and steward and the space's admins, never the requester.</summary>
    internal async Task<List<Guid>> ApproverIdsAsync(AccessRequest request, CancellationToken ct)
        => await ApproverIdsAsync(db, request.SpaceId, request.ProductId, request.RequesterId, ct);

    internal static async Task<List<Guid>> ApproverIdsAsync(QarionDbContext db, Guid spaceId, Guid? productId, Guid requesterId, CancellationToken ct)
    {
        var ids = await db.SpaceMemberships.AsNoTracking()
            .Where(m => m.SpaceId == spaceId && m.Role == SpaceRole.Admin).Select(m => m.UserId).ToListAsync(ct);
        if (productId is not null)
        {
            var governance = await db.Products.AsNoTracking().Where(p => p.Id == productId)
                .Select(p => new { p.OwnerId, p.StewardId }).SingleOrDefaultAsync(ct);
            if (governance?.OwnerId is { } owner) ids.Add(owner);
            if (governance?.StewardId is { } steward) ids.Add(steward);
        }
        return ids.Where(id => id != requesterId).Distinct().Order().ToList();
    }

    internal async Task EmitAsync(
        AccessRequest request, string eventType, IReadOnlyList<Guid> recipients, Guid? actorId, string? comment, Guid? grantId,
        DateTimeOffset? endsAt, CancellationToken ct, GrantEndReason? reason = null)
        => AddEvent(db, request.SpaceId, eventType, await PayloadAsync(db, request, recipients, actorId, comment, grantId, endsAt ?? request.EndsAt, ct) with
        {
            EndReason = reason,
        });

    /// <summary>
    /// <see cref="OutboxExtensions.AddOutboxEvent"/> with a time-ordered id (UUIDv7), so a request's events sort in
    /// the order they happened (their occurred_at comes from the app clock and may tie).
    /// </summary>
    internal static void AddEvent(QarionDbContext db, Guid spaceId, string eventType, AccessEventPayload payload)
        => db.Add(new OutboxEvent
        {
            Id = Guid.CreateVersion7(),
            SpaceId = spaceId,
            EventType = eventType,
            Payload = JsonSerializer.Serialize(payload, JsonNames.SerializerOptions),
            OccurredAt = db.Clock.GetUtcNow(),
        });

    internal static async Task<AccessEventPayload> PayloadAsync(
        QarionDbContext db, AccessRequest request, IReadOnlyList<Guid> recipients, Guid? actorId, string? comment, Guid? grantId,
        DateTimeOffset? endsAt, CancellationToken ct)
        => new(request.Id, request.SpaceId, request.RequesterId, request.TargetKind, request.ProductId, request.ConnectorId, request.RoleName,
            await TargetNameAsync(db, request, ct), request.AccessLevel, request.Status, recipients, actorId, comment, grantId, endsAt, request.ExpiresAt);

    private static async Task<string> TargetNameAsync(QarionDbContext db, AccessRequest request, CancellationToken ct)
    {
        if (request.ProductId is { } productId)
            return await db.Products.AsNoTracking().Where(p => p.Id == productId).Select(p => p.Name).SingleOrDefaultAsync(ct) ?? productId.ToString();
        var connector = await db.Connectors.AsNoTracking().Where(c => c.Id == request.ConnectorId).Select(c => c.Name).SingleOrDefaultAsync(ct);
        return $"{connector ?? request.ConnectorId.ToString()}: {request.RoleName}";
    }
}
