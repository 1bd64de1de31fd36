using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Qarion.Core.Audit;
using Qarion.Core.Catalog;

namespace Qarion.Core.Lineage;

public enum LineageRelationship { Transforms = 1, Joins = 2, Consumes = 3 }

/// <summary>Data flows from <see cref="UpstreamId"/> to <see cref="DownstreamId"/>. The two may be in different spaces.</summary>
public class LineageEdge : IAudited
{
    public Guid Id { get; set; }
    public Guid UpstreamId { get; set; }
    public Guid DownstreamId { get; set; }
    /// <summary>The downstream product's space: edges are managed from the downstream side.</summary>
    public Guid SpaceId { get; set; }
    public LineageRelationship Relationship { get; set; }
    public Guid? CreatedById { get; set; }
    /// <summary>The connector that recorded it; a refresh sync removes its own edges that vanished, never a person's.</summary>
    public Guid? SourceConnectorId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    public virtual DataProduct Upstream { get; set; } = null!;
    public virtual DataProduct Downstream { get; set; } = null!;

    Guid? IAudited.AuditSpaceId => SpaceId;
    string IAudited.AuditName => $"{UpstreamId} -> {DownstreamId}";
}

internal sealed class LineageEdgeConfiguration : IEntityTypeConfiguration<LineageEdge>
{
    public void Configure(EntityTypeBuilder<LineageEdge> b)
    {
        b.ToTable("lineage_edges", t => t.HasCheckConstraint("ck_lineage_edges_not_self", "upstream_id <> downstream_id"));
        b.Property(x => x.Relationship).HasMaxLength(16)
            .HasConversion(v => v.ToString().ToLowerInvariant(), s => Enum.Parse<LineageRelationship>(s, true));
        b.HasIndex(x => new { x.UpstreamId, x.DownstreamId }).IsUnique();
        b.HasIndex(x => new { x.DownstreamId, x.UpstreamId });
        b.HasIndex(x => x.SpaceId);
        b.HasIndex(x => x.SourceConnectorId).HasFilter("source_connector_id IS NOT NULL");
        b.HasOne<Ingestion.Connector>().WithMany().HasForeignKey(x => x.SourceConnectorId).OnDelete(DeleteBehavior.SetNull);
        b.HasOne(x => x.Upstream).WithMany().HasForeignKey(x => x.UpstreamId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne(x => x.Downstream).WithMany().HasForeignKey(x => x.DownstreamId).OnDelete(DeleteBehavior.Cascade);
    }
}
