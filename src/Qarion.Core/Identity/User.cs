using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Qarion.Core.Spaces;

namespace Qarion.Core.Identity;

public class User : Audit.IAudited
{
    public Guid Id { get; set; }
    /// <summary>Stored lower-cased and trimmed; unique.</summary>
    public required string Email { get; set; }
    public required string DisplayName { get; set; }
    public bool IsSuperadmin { get; set; }
    public bool IsActive { get; set; } = true;
    /// <summary>Issuer and subject of an SSO identity linked to this user (both null for local users).</summary>
    public string? ExternalIssuer { get; set; }
    public string? ExternalSubject { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public uint Version { get; set; }

    public virtual ICollection<SpaceMembership> Memberships { get; protected set; } = new List<SpaceMembership>();
    public virtual ICollection<ApiKey> ApiKeys { get; protected set; } = new List<ApiKey>();

    Guid? Audit.IAudited.AuditSpaceId => null;
    string Audit.IAudited.AuditName => Email;
}

internal sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public void Configure(EntityTypeBuilder<User> b)
    {
        b.ToTable("users");
        b.Property(x => x.Email).HasMaxLength(320);
        b.Property(x => x.DisplayName).HasMaxLength(200);
        b.Property(x => x.ExternalIssuer).HasMaxLength(500);
        b.Property(x => x.ExternalSubject).HasMaxLength(255);
        b.Property(x => x.Version).IsRowVersion();
        b.HasIndex(x => x.Email).IsUnique();
        b.HasIndex(x => new { x.ExternalIssuer, x.ExternalSubject }).IsUnique()
            .HasFilter("external_subject IS NOT NULL");
    }
}
