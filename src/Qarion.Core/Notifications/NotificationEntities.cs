using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Qarion.Core.Notifications;

/// <summary>One in-app notification: one outbox event for one user (unique per event and user: the idempotency key).</summary>
public class Notification
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public Guid? SpaceId { get; set; }
    public Guid EventId { get; set; }
    public required string EventType { get; set; }
    /// <summary>One of <see cref="NotificationCategories.All"/>.</summary>
    public required string Category { get; set; }
    public required string Title { get; set; }
    public string? Body { get; set; }
    /// <summary>A path in the app the notification points at, e.g. <c>/spaces/sales/issues/12</c>.</summary>
    public string? Link { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ReadAt { get; set; }
}

/// <summary>A user's choice for one category and channel; absent rows mean the documented default.</summary>
public class NotificationPreference
{
    public Guid UserId { get; set; }
    public required string Category { get; set; }
    public required string Channel { get; set; }
    public bool Enabled { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A user following a product: they receive its events like its owner does.</summary>
public class ProductSubscription
{
    public Guid UserId { get; set; }
    public Guid ProductId { get; set; }
    public Guid SpaceId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// The e-mail of one event to one user: claimed (<c>sending</c>) before the send and marked <c>sent</c> after, so a
/// redelivered message sends nothing twice.
/// </summary>
public class EmailDelivery
{
    public Guid EventId { get; set; }
    public Guid UserId { get; set; }
    public required string Email { get; set; }
    public required string Status { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A <c>notifications</c> message that failed every delivery (the poison queue): kept, never lost.</summary>
public class NotificationDeadLetter
{
    public Guid Id { get; set; }
    public Guid? EventId { get; set; }
    public string? EventType { get; set; }
    public required string Body { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
}

internal sealed class NotificationConfiguration :
    IEntityTypeConfiguration<Notification>, IEntityTypeConfiguration<NotificationPreference>, IEntityTypeConfiguration<ProductSubscription>,
    IEntityTypeConfiguration<EmailDelivery>, IEntityTypeConfiguration<NotificationDeadLetter>
{
    public void Configure(EntityTypeBuilder<Notification> b)
    {
        b.ToTable("notifications");
        b.Property(x => x.EventType).HasMaxLength(100);
        b.Property(x => x.Category).HasMaxLength(40);
        b.Property(x => x.Title).HasMaxLength(500);
        b.Property(x => x.Body).HasMaxLength(4000);
        b.Property(x => x.Link).HasMaxLength(1000);
        b.HasIndex(x => new { x.EventId, x.UserId }).IsUnique();
        b.HasIndex(x => new { x.UserId, x.CreatedAt });
        b.HasIndex(x => new { x.UserId, x.Category }).HasFilter("read_at IS NULL").HasDatabaseName("ix_notifications_unread");
        b.HasIndex(x => x.CreatedAt).HasFilter("read_at IS NOT NULL").HasDatabaseName("ix_notifications_read");
        b.HasOne<Identity.User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<NotificationPreference> b)
    {
        b.ToTable("notification_preferences");
        b.HasKey(x => new { x.UserId, x.Category, x.Channel });
        b.Property(x => x.Category).HasMaxLength(40);
        b.Property(x => x.Channel).HasMaxLength(20);
        b.HasOne<Identity.User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<ProductSubscription> b)
    {
        b.ToTable("product_subscriptions");
        b.HasKey(x => new { x.UserId, x.ProductId });
        b.HasIndex(x => x.ProductId);
        b.HasOne<Identity.User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Catalog.DataProduct>().WithMany().HasForeignKey(x => x.ProductId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Spaces.Space>().WithMany().HasForeignKey(x => x.SpaceId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<EmailDelivery> b)
    {
        b.ToTable("notification_email_deliveries");
        b.HasKey(x => new { x.EventId, x.UserId });
        b.Property(x => x.Email).HasMaxLength(320);
        b.Property(x => x.Status).HasMaxLength(20);
    }

    public void Configure(EntityTypeBuilder<NotificationDeadLetter> b)
    {
        b.ToTable("notification_dead_letters");
        b.Property(x => x.EventType).HasMaxLength(100);
        b.HasIndex(x => x.EventId);
    }
}
