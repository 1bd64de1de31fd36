using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Qarion.Core.Audit;
using Qarion.Core.Persistence;
using Qarion.Core.Quality;
using Qarion.Core.Spaces;

namespace Qarion.Core.AlertConnectors;

/// <summary>Where an alert connector posts: a Slack or Teams incoming webhook, or e-mail through the app's SMTP server.</summary>
public enum AlertChannelKind { Slack = 1, Teams = 2, Email = 3 }

/// <summary>
/// One (event, connector) delivery: <c>pending</c> until a send is tried, then <c>sent</c>, <c>failed</c> (a 5xx,
/// timeout or network error: the queue retries it) or <c>rejected</c> (a 4xx or a permanent SMTP refusal: never retried).
/// </summary>
public enum AlertDeliveryStatus { Pending = 1, Sent = 2, Failed = 3, Rejected = 4 }

/// <summary>
/// A space's outlet for notifications: which events (types with wildcards, a minimum severity) go to which channel.
/// The webhook URL of Slack and Teams connectors is a secret: stored encrypted, shown only as a hint.
/// </summary>
public class AlertConnector : IAudited
{
    public Guid Id { get; set; }
    public Guid SpaceId { get; set; }
    public required string Name { get; set; }
    public AlertChannelKind Kind { get; set; }
    /// <summary>Channel settings without secrets (jsonb): e-mail <c>{"recipients": [...]}</c>; <c>{}</c> for Slack and Teams.</summary>
    public required string Config { get; set; }
    /// <summary>AES-GCM ciphertext of the webhook URL (Slack, Teams), bound to this connector's id; null for e-mail.</summary>
    public byte[]? EncryptedCredentials { get; set; }
    /// <summary>What the API shows of the secret: scheme, host and the URL's last four characters.</summary>
    public string? SecretHint { get; set; }
    /// <summary>Events carrying a severity below this are not sent (events without one always pass).</summary>
    public CheckSeverity MinSeverity { get; set; } = CheckSeverity.Low;
    /// <summary>Event type patterns: exact names, <c>prefix.*</c> or <c>*</c> (see <see cref="AlertRouting"/>).</summary>
    public List<string> EventTypes { get; set; } = [];
    public bool IsEnabled { get; set; } = true;
    public Guid? CreatedById { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public uint Version { get; set; }

    Guid? IAudited.AuditSpaceId => SpaceId;
    string IAudited.AuditName => Name;
}

/// <summary>
/// The record that makes a connector's effect of one outbox event happen once: unique on (event, connector), locked
/// (SELECT … FOR UPDATE) while the message is sent, so a redelivered or concurrently delivered event finds it done.
/// </summary>
public class AlertDelivery
{
    public Guid Id { get; set; }
    public Guid SpaceId { get; set; }
    public Guid ConnectorId { get; set; }
    /// <summary>The outbox event's id (its idempotency key).</summary>
    public Guid EventId { get; set; }
    public required string EventType { get; set; }
    public AlertDeliveryStatus Status { get; set; } = AlertDeliveryStatus.Pending;
    /// <summary>Sends tried (each queue delivery that found it not yet done).</summary>
    public int Attempts { get; set; }
    /// <summary>The receiver's HTTP status, or the SMTP reply code of a refusal.</summary>
    public int? StatusCode { get; set; }
    public string? Error { get; set; }
    public int? LatencyMs { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? SentAt { get; set; }
}

internal sealed class AlertConnectorConfiguration : IEntityTypeConfiguration<AlertConnector>, IEntityTypeConfiguration<AlertDelivery>
{
    public void Configure(EntityTypeBuilder<AlertConnector> b)
    {
        b.ToTable("alert_connectors");
        b.Property(x => x.Name).HasMaxLength(200);
        b.Property(x => x.Kind).HasMaxLength(16).HasConversion(new SnakeEnumConverter<AlertChannelKind>());
        b.Property(x => x.Config).HasColumnType("jsonb");
        b.Property(x => x.SecretHint).HasMaxLength(300);
        b.Property(x => x.MinSeverity).HasMaxLength(16).HasConversion(new SnakeEnumConverter<CheckSeverity>());
        b.Property(x => x.Version).IsRowVersion();
        b.HasIndex(x => new { x.SpaceId, x.Name }).IsUnique();
        b.HasOne<Space>().WithMany().HasForeignKey(x => x.SpaceId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<AlertDelivery> b)
    {
        b.ToTable("alert_deliveries");
        b.Property(x => x.EventType).HasMaxLength(100);
        b.Property(x => x.Status).HasMaxLength(16).HasConversion(new SnakeEnumConverter<AlertDeliveryStatus>());
        b.Property(x => x.Error).HasMaxLength(2000);
        // The idempotency key of a connector's effect of one event.
        b.HasIndex(x => new { x.EventId, x.ConnectorId }).IsUnique();
        b.HasIndex(x => new { x.ConnectorId, x.CreatedAt });
        b.HasOne<AlertConnector>().WithMany().HasForeignKey(x => x.ConnectorId).OnDelete(DeleteBehavior.Cascade);
    }
}
