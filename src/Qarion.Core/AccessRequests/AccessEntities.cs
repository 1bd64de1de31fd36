using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Qarion.Core.Audit;
using Qarion.Core.Catalog;
using Qarion.Core.Identity;
using Qarion.Core.Ingestion;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.AccessRequests;

/// <summary>What is asked for: access to a data product, or a role on a connector's source system.</summary>
public enum AccessTargetKind { Product = 1, SourceRole = 2 }

public enum AccessLevel { Read = 1, Write = 2, Admin = 3 }

public enum AccessRequestStatus { Pending = 1, Approved = 2, Rejected = 3, Expired = 4, Cancelled = 5 }

/// <summary>Why a grant stopped: its end date came (<c>ended</c>) or someone revoked it (<c>revoked</c>).</summary>
public enum GrantEndReason { Ended = 1, Revoked = 2 }

/// <summary>
/// A member's request for access, decided by the product's owner or steward or a space admin. Its lifecycle
/// (notify, remind, expire, grant, revoke at the end date) is a Durable orchestration (<see cref="AccessOrchestration"/>).
/// </summary>
public class AccessRequest : IAudited
{
    public Guid Id { get; set; }
    public Guid SpaceId { get; set; }
    public Guid RequesterId { get; set; }
    public AccessTargetKind TargetKind { get; set; }
    public Guid? ProductId { get; set; }
    public Guid? ConnectorId { get; set; }
    /// <summary>The source-system role (e.g. a PostgreSQL role name) for <see cref="AccessTargetKind.SourceRole"/>.</summary>
    public string? RoleName { get; set; }
    public AccessLevel AccessLevel { get; set; }
    public required string Justification { get; set; }
    /// <summary>Time-limited access ending at a fixed instant.</summary>
    public DateTimeOffset? EndsAt { get; set; }
    /// <summary>Time-limited access lasting this many days from the approval.</summary>
    public int? DurationDays { get; set; }
    public AccessRequestStatus Status { get; set; } = AccessRequestStatus.Pending;
    /// <summary>The decision deadline: still pending then, the request expires.</summary>
    public DateTimeOffset ExpiresAt { get; set; }
    public Guid? DecidedById { get; set; }
    public DateTimeOffset? DecidedAt { get; set; }
    public string? DecisionComment { get; set; }
    /// <summary>Set by the orchestration's activities so a re-run emits nothing twice.</summary>
    public DateTimeOffset? SubmittedNotifiedAt { get; set; }
    public DateTimeOffset? ReminderSentAt { get; set; }
    public DateTimeOffset? OutcomeNotifiedAt { get; set; }
    public required string InstanceId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public uint Version { get; set; }

    public bool IsTimeLimited => EndsAt is not null || DurationDays is not null;

    Guid? IAudited.AuditSpaceId => SpaceId;
    string IAudited.AuditName => $"access request {Id}";
}

/// <summary>Access a decided request granted; active until revoked or, when time-limited, until <see cref="EndsAt"/>.</summary>
public class AccessGrant : IAudited
{
    public Guid Id { get; set; }
    public Guid SpaceId { get; set; }
    public Guid RequestId { get; set; }
    public Guid UserId { get; set; }
    public AccessTargetKind TargetKind { get; set; }
    public Guid? ProductId { get; set; }
    public Guid? ConnectorId { get; set; }
    public string? RoleName { get; set; }
    public AccessLevel AccessLevel { get; set; }
    public Guid? GrantedById { get; set; }
    public DateTimeOffset GrantedAt { get; set; }
    public DateTimeOffset? EndsAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    public Guid? RevokedById { get; set; }
    public GrantEndReason? EndReason { get; set; }
    public string? RevokeComment { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public uint Version { get; set; }

    Guid? IAudited.AuditSpaceId => SpaceId;
    string IAudited.AuditName => $"access grant {Id}";
}

/// <summary>Settings under <c>Qarion:Access</c>.</summary>
public sealed class AccessOptions
{
    public const string Section = "Qarion:Access";
    /// <summary>A pending request's approvers get one reminder after this long.</summary>
    public TimeSpan ReminderAfter { get; set; } = TimeSpan.FromDays(2);
    /// <summary>A request nobody decided expires after this long.</summary>
    public TimeSpan ExpireAfter { get; set; } = TimeSpan.FromDays(7);
    /// <summary>The longest time-limited access one may ask for.</summary>
    public int MaxDurationDays { get; set; } = 365;
}

internal sealed class AccessConfiguration : IEntityTypeConfiguration<AccessRequest>, IEntityTypeConfiguration<AccessGrant>
{
    public void Configure(EntityTypeBuilder<AccessRequest> b)
    {
        b.ToTable("access_requests");
        b.Property(x => x.TargetKind).HasMaxLength(16).HasConversion(new SnakeEnumConverter<AccessTargetKind>());
        b.Property(x => x.AccessLevel).HasMaxLength(16).HasConversion(new SnakeEnumConverter<AccessLevel>());
        b.Property(x => x.Status).HasMaxLength(16).HasConversion(new SnakeEnumConverter<AccessRequestStatus>());
        b.Property(x => x.RoleName).HasMaxLength(AccessRules.RoleNameMax);
        b.Property(x => x.Justification).HasMaxLength(AccessRules.JustificationMax);
        b.Property(x => x.DecisionComment).HasMaxLength(AccessRules.CommentMax);
        b.Property(x => x.InstanceId).HasMaxLength(100);
        b.Property(x => x.Version).IsRowVersion();
        b.Ignore(x => x.IsTimeLimited);
        b.HasIndex(x => new { x.SpaceId, x.RequesterId, x.CreatedAt });
        b.HasIndex(x => new { x.SpaceId, x.Status, x.CreatedAt });
        b.HasIndex(x => x.ProductId);
        b.ToTable(t => t.HasCheckConstraint("ck_access_requests_target",
            "(target_kind = 'product' AND product_id IS NOT NULL AND connector_id IS NULL AND role_name IS NULL) OR " +
            "(target_kind = 'source_role' AND product_id IS NULL AND connector_id IS NOT NULL AND role_name IS NOT NULL)"));
        b.HasOne<Space>().WithMany().HasForeignKey(x => x.SpaceId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<User>().WithMany().HasForeignKey(x => x.RequesterId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<DataProduct>().WithMany().HasForeignKey(x => x.ProductId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Connector>().WithMany().HasForeignKey(x => x.ConnectorId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<AccessGrant> b)
    {
        b.ToTable("access_grants");
        b.Property(x => x.TargetKind).HasMaxLength(16).HasConversion(new SnakeEnumConverter<AccessTargetKind>());
        b.Property(x => x.AccessLevel).HasMaxLength(16).HasConversion(new SnakeEnumConverter<AccessLevel>());
        b.Property(x => x.EndReason).HasMaxLength(16)
            .HasConversion(v => v.HasValue ? SnakeCaseEnums.Name(v.Value) : null, s => s == null ? null : SnakeCaseEnums.Parse<GrantEndReason>(s));
        b.Property(x => x.RoleName).HasMaxLength(AccessRules.RoleNameMax);
        b.Property(x => x.RevokeComment).HasMaxLength(AccessRules.CommentMax);
        b.Property(x => x.Version).IsRowVersion();
        // One grant per request: the grant activity may run twice, the second insert changes nothing.
        b.HasIndex(x => x.RequestId).IsUnique();
        b.HasIndex(x => new { x.SpaceId, x.ProductId });
        b.HasIndex(x => new { x.SpaceId, x.UserId });
        b.HasOne<Space>().WithMany().HasForeignKey(x => x.SpaceId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<AccessRequest>().WithMany().HasForeignKey(x => x.RequestId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<DataProduct>().WithMany().HasForeignKey(x => x.ProductId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Connector>().WithMany().HasForeignKey(x => x.ConnectorId).OnDelete(DeleteBehavior.Cascade);
    }
}
