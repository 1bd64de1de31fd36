using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Qarion.Core.Audit;
using Qarion.Core.Spaces;

namespace Qarion.Core.Webhooks;

/// <summary>Settings under <c>Qarion:Webhooks</c>.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Qarion:Webhooks";

    /// <summary>Queue the delivery retries are sent to; only tests override it (the trigger reads <c>webhooks</c>).</summary>
    public string? QueueName { get; set; }

    /// <summary>Attempts per delivery series, the first included.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Delay before the second attempt; each later one doubles it (plus up to 20 % jitter).</summary>
    public double BaseDelaySeconds { get; set; } = 30;

    /// <summary>Cap of one back-off delay.</summary>
    public double MaxDelaySeconds { get; set; } = 6 * 3600;

    /// <summary>Consecutive failed delivery series after which a subscription is disabled.</summary>
    public int DisableAfterFailures { get; set; } = 10;

    /// <summary>Largest body sent; a larger event is sent without its data (<c>data_truncated: true</c>).</summary>
    public int MaxBodyBytes { get; set; } = 256 * 1024;
}

public enum WebhookDeliveryStatus { Pending = 1, Succeeded = 2, Failed = 3 }

/// <summary>A space's subscription: events of the listed types are POSTed, signed, to <see cref="Url"/>.</summary>
public class WebhookSubscription : IAudited
{
    public Guid Id { get; set; }
    public Guid SpaceId { get; set; }
    public required string Name { get; set; }
    public required string Url { get; set; }
    /// <summary>Exact types, <c>prefix.*</c> patterns or <c>*</c>.</summary>
    public List<string> EventTypes { get; set; } = [];
    public string? Description { get; set; }
    /// <summary>AES-GCM ciphertext (<see cref="Ingestion.CredentialProtector"/>, bound to <see cref="Id"/>) of the <c>whsec_…</c> secret.</summary>
    public required byte[] EncryptedSecret { get; set; }
    public bool IsEnabled { get; set; } = true;
    public string? DisabledReason { get; set; }
    public DateTimeOffset? DisabledAt { get; set; }
    /// <summary>Delivery series that failed in a row (a success resets it).</summary>
    public int ConsecutiveFailures { get; set; }
    /// <summary>The owner: notified when the subscription is disabled automatically.</summary>
    public Guid? CreatedById { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public uint Version { get; set; }

    Guid? IAudited.AuditSpaceId => SpaceId;
    string IAudited.AuditName => Name;
}

/// <summary>One event sent to one subscription, however many attempts it takes (a delivery series).</summary>
public class WebhookDelivery
{
    public Guid Id { get; set; }
    public Guid SpaceId { get; set; }
    public Guid SubscriptionId { get; set; }
    /// <summary>The outbox event (the idempotency key with the subscription); null for a test delivery.</summary>
    public Guid? EventId { get; set; }
    public required string EventType { get; set; }
    /// <summary>The exact body sent on every attempt (the signature covers it).</summary>
    public required string Body { get; set; }
    public WebhookDeliveryStatus Status { get; set; } = WebhookDeliveryStatus.Pending;
    /// <summary>Attempts recorded so far.</summary>
    public int Attempts { get; set; }
    public DateTimeOffset? NextAttemptAt { get; set; }
    /// <summary>While an attempt is in flight: until when it holds the series (a crashed attempt is retried after it).</summary>
    public DateTimeOffset? LockedUntil { get; set; }
    public int? LastStatusCode { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One HTTP attempt of a delivery series.</summary>
public class WebhookAttempt
{
    public Guid Id { get; set; }
    public Guid DeliveryId { get; set; }
    public int Attempt { get; set; }
    public int? StatusCode { get; set; }
    public long LatencyMs { get; set; }
    public string? Error { get; set; }
    /// <summary>Whether a retry was scheduled after it.</summary>
    public bool WillRetry { get; set; }
    /// <summary>When the retry is due (the back-off), if one was scheduled.</summary>
    public DateTimeOffset? NextAttemptAt { get; set; }
    public DateTimeOffset AttemptedAt { get; set; }
}

internal sealed class WebhookConfiguration :
    IEntityTypeConfiguration<WebhookSubscription>, IEntityTypeConfiguration<WebhookDelivery>, IEntityTypeConfiguration<WebhookAttempt>
{
    public void Configure(EntityTypeBuilder<WebhookSubscription> b)
    {
        b.ToTable("webhook_subscriptions");
        b.Property(x => x.Name).HasMaxLength(200);
        b.Property(x => x.Url).HasMaxLength(2048);
        b.Property(x => x.Description).HasMaxLength(1000);
        b.Property(x => x.DisabledReason).HasMaxLength(500);
        b.Property(x => x.Version).IsRowVersion();
        b.HasIndex(x => new { x.SpaceId, x.Name }).IsUnique();
        b.HasOne<Space>().WithMany().HasForeignKey(x => x.SpaceId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<WebhookDelivery> b)
    {
        b.ToTable("webhook_deliveries");
        b.Property(x => x.EventType).HasMaxLength(100);
        b.Property(x => x.Status).HasMaxLength(16).HasConversion(new Persistence.SnakeEnumConverter<WebhookDeliveryStatus>());
        b.Property(x => x.LastError).HasMaxLength(1000);
        // One series per (event, subscription): a redelivered outbox message finds it and sends nothing again.
        b.HasIndex(x => new { x.EventId, x.SubscriptionId }).IsUnique().HasFilter("event_id IS NOT NULL").HasDatabaseName("ux_webhook_deliveries_event");
        b.HasIndex(x => new { x.SubscriptionId, x.CreatedAt });
        b.HasOne<WebhookSubscription>().WithMany().HasForeignKey(x => x.SubscriptionId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<WebhookAttempt> b)
    {
        b.ToTable("webhook_attempts");
        b.Property(x => x.Error).HasMaxLength(1000);
        b.HasIndex(x => new { x.DeliveryId, x.Attempt }).IsUnique();
        b.HasOne<WebhookDelivery>().WithMany().HasForeignKey(x => x.DeliveryId).OnDelete(DeleteBehavior.Cascade);
    }
}
