using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Qarion.Core.Spaces;

/// <summary>A tenant. Everything in the catalog belongs to exactly one space.</summary>
public class Space : Audit.IAudited
{
    public Guid Id { get; set; }
    public required string Slug { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>Optimistic concurrency token (PostgreSQL <c>xmin</c>).</summary>
    public uint Version { get; set; }

    public virtual ICollection<SpaceMembership> Memberships { get; protected set; } = new List<SpaceMembership>();

    Guid? Audit.IAudited.AuditSpaceId => Id;
    string Audit.IAudited.AuditName => Slug;
}

public enum SpaceRole
{
    Viewer = 1,
    Editor = 2,
    Admin = 3,
}

public class SpaceMembership : Audit.IAudited
{
    public Guid Id { get; set; }
    public Guid SpaceId { get; set; }
    public Guid UserId { get; set; }
    public SpaceRole Role { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public virtual Space Space { get; set; } = null!;
    public virtual Identity.User User { get; set; } = null!;

    Guid? Audit.IAudited.AuditSpaceId => SpaceId;
    string Audit.IAudited.AuditName => $"member {UserId} ({Role.ToString().ToLowerInvariant()})";
}

internal sealed class SpaceConfiguration : IEntityTypeConfiguration<Space>
{
    public void Configure(EntityTypeBuilder<Space> b)
    {
        b.ToTable("spaces");
        b.Property(x => x.Slug).HasMaxLength(63);
        b.Property(x => x.Name).HasMaxLength(200);
        b.Property(x => x.Description).HasMaxLength(4000);
        b.Property(x => x.Version).IsRowVersion();
        b.HasIndex(x => x.Slug).IsUnique();
    }
}

internal sealed class SpaceMembershipConfiguration : IEntityTypeConfiguration<SpaceMembership>
{
    public void Configure(EntityTypeBuilder<SpaceMembership> b)
    {
        b.ToTable("space_memberships");
        b.Property(x => x.Role).HasMaxLength(16)
            .HasConversion(v => v.ToString().ToLowerInvariant(), s => Enum.Parse<SpaceRole>(s, true));
        b.HasIndex(x => new { x.SpaceId, x.UserId }).IsUnique();
        b.HasIndex(x => x.UserId);
        b.HasOne(x => x.Space).WithMany(s => s.Memberships).HasForeignKey(x => x.SpaceId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne(x => x.User).WithMany(u => u.Memberships).HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
