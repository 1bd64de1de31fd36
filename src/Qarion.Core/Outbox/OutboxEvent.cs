using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Qarion.Core.Common;
using Qarion.Core.Persistence;

namespace Qarion.Core.Outbox;

/// <summary>
/// A domain event written in the same transaction as the state change it reports (the transactional outbox).
/// The relay (notifications issue) publishes undispatched rows to the queues; <see cref="Id"/> is the
/// idempotency key every downstream effect carries.
/// </summary>
public class OutboxEvent
{
    public Guid Id { get; set; }
    public Guid? SpaceId { get; set; }
    /// <summary>Dotted, e.g. <c>quality.alert.raised</c>, <c>contract.violated</c> (see <see cref="OutboxEventTypes"/>).</summary>
    public required string EventType { get; set; }
    /// <summary>The event's body (jsonb, snake_case).</summary>
    public required string Payload { get; set; }
    public DateTimeOffset OccurredAt { get; set; }
    public DateTimeOffset? DispatchedAt { get; set; }
    public int Attempts { get; set; }
}

public static class OutboxEventTypes
{
    public const string AlertRaised = "quality.alert.raised";
    public const string AlertResolved = "quality.alert.resolved";
    public const string CheckFailed = "quality.check.failed";
    public const string CheckPassed = "quality.check.passed";
    public const string IssueCreated = "issue.created";
    public const string IssueAssigned = "issue.assigned";
    public const string IssueResolved = "issue.resolved";
    public const string ContractViolated = "contract.violated";
    public const string IssueCommentMention = "issue.comment.mentioned";
    public const string ProductCreated = "product.created";
    public const string ProductUpdated = "product.updated";
    public const string SchemaChanged = "schema.changed";
    public const string SyncCompleted = "sync.completed";
    public const string SyncFailed = "sync.failed";
    public const string AccessRequestSubmitted = "access.request.submitted";
    public const string AccessRequestApproved = "access.request.approved";
    public const string AccessRequestRejected = "access.request.rejected";
    public const string AccessRequestExpired = "access.request.expired";
    public const string AccessRequestReminder = "access.request.reminder";
    public const string AccessRequestCancelled = "access.request.cancelled";
    public const string AccessGrantRevoked = "access.grant.revoked";
    public const string WebhookDisabled = "webhook.disabled";

    /// <summary>Every type a subscriber can name (webhook filters are checked against this list).</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        AlertRaised, AlertResolved, CheckFailed, CheckPassed, IssueCreated, IssueAssigned, IssueResolved, ContractViolated,
        IssueCommentMention, ProductCreated, ProductUpdated, SchemaChanged, SyncCompleted, SyncFailed,
        AccessRequestSubmitted, AccessRequestApproved, AccessRequestRejected, AccessRequestExpired, AccessRequestReminder, AccessRequestCancelled,
        AccessGrantRevoked, WebhookDisabled,
    ];
}

public static class OutboxExtensions
{
    /// <summary>Adds an event to the context's unit of work: it commits (or not) with the change it reports.</summary>
    public static OutboxEvent AddOutboxEvent(this QarionDbContext db, Guid? spaceId, string eventType, object payload)
    {
        var row = new OutboxEvent
        {
            SpaceId = spaceId,
            EventType = eventType,
            Payload = JsonSerializer.Serialize(payload, JsonNames.SerializerOptions),
            OccurredAt = db.Clock.GetUtcNow(),
        };
        db.Add(row);
        return row;
    }
}

internal sealed class OutboxConfiguration : IEntityTypeConfiguration<OutboxEvent>
{
    public void Configure(EntityTypeBuilder<OutboxEvent> b)
    {
        b.ToTable("outbox_events");
        b.Property(x => x.EventType).HasMaxLength(100);
        b.Property(x => x.Payload).HasColumnType("jsonb");
        // The relay's scan: what is not dispatched yet, oldest first.
        b.HasIndex(x => x.OccurredAt).HasFilter("dispatched_at IS NULL").HasDatabaseName("ix_outbox_events_pending");
    }
}
