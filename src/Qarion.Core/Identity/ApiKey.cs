using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Qarion.Core.Identity;

/// <summary>
/// A bearer token that acts as its creator. Only a SHA-256 hash of the token is stored: the token
/// carries 192 random bits, so a slow password hash would add latency to every request and no safety.
/// </summary>
public class ApiKey : Audit.IAudited
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public required string Name { get; set; }
    /// <summary>The first characters of the token, shown in lists and used to find the row.</summary>
    public required string Prefix { get; set; }
    public required byte[] SecretHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }

    public virtual User User { get; set; } = null!;

    Guid? Audit.IAudited.AuditSpaceId => null;
    string Audit.IAudited.AuditName => Name;
}

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> b)
    {
        b.ToTable("api_keys");
        b.Property(x => x.Name).HasMaxLength(200);
        b.Property(x => x.Prefix).HasMaxLength(32);
        b.HasIndex(x => x.Prefix).IsUnique();
        b.HasIndex(x => x.UserId);
        b.HasOne(x => x.User).WithMany(u => u.ApiKeys).HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
