using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Qarion.Core.Audit;

/// <summary>
/// One mutation, written in the same transaction as the change. Append-only: a trigger in the database
/// refuses UPDATE, DELETE and TRUNCATE on the table. No foreign keys, so deleting what it describes
/// (even a whole space) keeps its history.
/// </summary>
public class AuditEntry
{
    public Guid Id { get; set; }
    public DateTimeOffset OccurredAt { get; set; }
    public Guid? SpaceId { get; set; }
    public Guid? ActorUserId { get; set; }
    public Guid? ActorApiKeyId { get; set; }
    /// <summary><c>create</c>, <c>update</c>, <c>delete</c>, <c>archive</c>, <c>unarchive</c>.</summary>
    public required string Action { get; set; }
    /// <summary>snake_case entity name, e.g. <c>data_product</c>.</summary>
    public required string ResourceType { get; set; }
    public Guid ResourceId { get; set; }
    /// <summary>The resource's name when the change happened.</summary>
    public string? ResourceName { get; set; }
    /// <summary>JSON object: field → <c>{"before": …, "after": …}</c>.</summary>
    public required string Changes { get; set; }
}

/// <summary>An entity whose every create, update and delete is written to the audit log.</summary>
public interface IAudited
{
    Guid Id { get; }
    /// <summary>The space the entity belongs to, or null for platform entities (users, API keys).</summary>
    Guid? AuditSpaceId { get; }
    /// <summary>A human-readable name snapshot.</summary>
    string AuditName { get; }
}

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> b)
    {
        b.ToTable("audit_log");
        b.Property(x => x.Action).HasMaxLength(32);
        b.Property(x => x.ResourceType).HasMaxLength(64);
        b.Property(x => x.ResourceName).HasMaxLength(400);
        b.Property(x => x.Changes).HasColumnType("jsonb");
        b.HasIndex(x => new { x.SpaceId, x.OccurredAt });
        b.HasIndex(x => new { x.ResourceId, x.OccurredAt });
        b.HasIndex(x => new { x.ActorUserId, x.OccurredAt });
    }
}
