using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Qarion.Core.Audit;
using Qarion.Core.Catalog;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Contracts;

public enum ContractStatus { Draft = 1, Active = 2, Deprecated = 3, Expired = 4 }

/// <summary>Where an active contract stands against its SLA terms at its last evaluation.</summary>
public enum SlaStatus { Unknown = 0, Meeting = 1, AtRisk = 2, Breached = 3 }

/// <summary>
/// A data contract: what a producer product promises its consumer products (SLA terms), and whether it is kept.
/// </summary>
public class DataContract : IAudited
{
    public Guid Id { get; set; }
    public Guid SpaceId { get; set; }
    public required string Slug { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public Guid ProducerProductId { get; set; }
    public ContractStatus Status { get; set; } = ContractStatus.Draft;
    /// <summary>The producer's data must be at most this many hours old.</summary>
    public double? FreshnessHours { get; set; }
    /// <summary>The producer's quality score must stay at or above this (0–100).</summary>
    public double? MinQualityScore { get; set; }
    /// <summary>Share (percent) of the producer's check runs in the window that must not FAIL or ERROR.</summary>
    public double? AvailabilityPercent { get; set; }
    /// <summary>The window availability is measured over, in days.</summary>
    public int WindowDays { get; set; } = 30;
    public DateTimeOffset? EffectiveFrom { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public SlaStatus SlaStatus { get; set; } = SlaStatus.Unknown;
    /// <summary>Per-term results of the last evaluation (jsonb).</summary>
    public string? SlaDetails { get; set; }
    public DateTimeOffset? LastEvaluatedAt { get; set; }
    public Guid? CreatedById { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public uint Version { get; set; }

    Guid? IAudited.AuditSpaceId => SpaceId;
    string IAudited.AuditName => Name;
}

public class ContractConsumer
{
    public Guid ContractId { get; set; }
    public Guid ProductId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A term found not met (or at risk) by an evaluation; closed when an evaluation finds it met again.</summary>
public class ContractViolation
{
    public Guid Id { get; set; }
    public Guid ContractId { get; set; }
    public Guid SpaceId { get; set; }
    /// <summary><c>freshness</c>, <c>quality_score</c> or <c>availability</c>.</summary>
    public required string Term { get; set; }
    public SlaStatus Severity { get; set; }
    public double? Expected { get; set; }
    public double? Actual { get; set; }
    public string? Message { get; set; }
    public DateTimeOffset OccurredAt { get; set; }
    public DateTimeOffset? ResolvedAt { get; set; }
}

internal sealed class ContractConfiguration :
    IEntityTypeConfiguration<DataContract>, IEntityTypeConfiguration<ContractConsumer>, IEntityTypeConfiguration<ContractViolation>
{
    public void Configure(EntityTypeBuilder<DataContract> b)
    {
        b.ToTable("data_contracts");
        b.Property(x => x.Slug).HasMaxLength(120);
        b.Property(x => x.Name).HasMaxLength(200);
        b.Property(x => x.Description).HasMaxLength(4000);
        b.Property(x => x.Status).HasMaxLength(16).HasConversion(new SnakeEnumConverter<ContractStatus>());
        b.Property(x => x.SlaStatus).HasMaxLength(16).HasConversion(new SnakeEnumConverter<SlaStatus>());
        b.Property(x => x.SlaDetails).HasColumnType("jsonb");
        b.Property(x => x.Version).IsRowVersion();
        b.HasIndex(x => new { x.SpaceId, x.Slug }).IsUnique();
        b.HasIndex(x => x.ProducerProductId);
        // The SLA timer's scan.
        b.HasIndex(x => x.LastEvaluatedAt).HasFilter("status = 'active'").HasDatabaseName("ix_data_contracts_active");
        b.HasOne<Space>().WithMany().HasForeignKey(x => x.SpaceId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<DataProduct>().WithMany().HasForeignKey(x => x.ProducerProductId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<ContractConsumer> b)
    {
        b.ToTable("contract_consumers");
        b.HasKey(x => new { x.ContractId, x.ProductId });
        b.HasIndex(x => x.ProductId);
        b.HasOne<DataContract>().WithMany().HasForeignKey(x => x.ContractId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<DataProduct>().WithMany().HasForeignKey(x => x.ProductId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<ContractViolation> b)
    {
        b.ToTable("contract_violations");
        b.Property(x => x.Term).HasMaxLength(32);
        b.Property(x => x.Severity).HasMaxLength(16).HasConversion(new SnakeEnumConverter<SlaStatus>());
        b.Property(x => x.Message).HasMaxLength(2000);
        b.HasIndex(x => new { x.ContractId, x.OccurredAt });
        // One open violation per term and contract.
        b.HasIndex(x => new { x.ContractId, x.Term }).IsUnique().HasFilter("resolved_at IS NULL").HasDatabaseName("ux_contract_violations_open");
        b.HasOne<DataContract>().WithMany().HasForeignKey(x => x.ContractId).OnDelete(DeleteBehavior.Cascade);
    }
}
