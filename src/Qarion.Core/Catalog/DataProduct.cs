using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Qarion.Core.Audit;
using Qarion.Core.Spaces;

namespace Qarion.Core.Catalog;

public enum Criticality { Low = 1, Medium = 2, High = 3, Critical = 4 }

public enum Sensitivity { Public = 1, Internal = 2, Confidential = 3, Restricted = 4 }

/// <summary>A table, view, dashboard, model, file… in one space.</summary>
public class DataProduct : IAudited
{
    public Guid Id { get; set; }
    public Guid SpaceId { get; set; }
    public required string Slug { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    /// <summary>Markdown.</summary>
    public string? Documentation { get; set; }
    public required string ProductType { get; set; }
    public string? Provider { get; set; }
    /// <summary>Where it lives, e.g. <c>warehouse.sales.orders</c>.</summary>
    public string? HostingLocation { get; set; }
    public string? Environment { get; set; }
    public Criticality? Criticality { get; set; }
    public Sensitivity? Sensitivity { get; set; }
    public Guid? OwnerId { get; set; }
    public Guid? StewardId { get; set; }
    public Guid? CustodianId { get; set; }
    public Guid? DataArchitectId { get; set; }
    public bool IsArchived { get; set; }
    public DateTimeOffset? ArchivedAt { get; set; }
    /// <summary>Set by a refresh sync when the source no longer has it (never deleted by scrapers).</summary>
    public bool IsStale { get; set; }
    public DateTimeOffset? StaleSince { get; set; }
    /// <summary>Created by ingestion (e.g. an OpenLineage event) rather than by a person.</summary>
    public bool IsDiscovered { get; set; }
    /// <summary>Attributes a person set last; scrapers never overwrite these (origin tracking).</summary>
    public List<string> ManualAttributes { get; set; } = [];
    /// <summary>The connector that maintains it (null when a person created it or OpenLineage discovered it).</summary>
    public Guid? SourceConnectorId { get; set; }
    /// <summary>Identity in the source (<c>schema.table</c>, a dbt <c>unique_id</c>, an OpenLineage <c>namespace/name</c>).</summary>
    public string? ExternalId { get; set; }
    /// <summary>The source's own estimate (e.g. PostgreSQL <c>reltuples</c>), as of the last sync.</summary>
    public long? RowCountEstimate { get; set; }
    public Guid? CreatedById { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public uint Version { get; set; }

    public virtual Space Space { get; set; } = null!;
    public virtual ICollection<ProductField> Fields { get; protected set; } = new List<ProductField>();
    public virtual ICollection<ProductTag> Tags { get; protected set; } = new List<ProductTag>();

    Guid? IAudited.AuditSpaceId => SpaceId;
    string IAudited.AuditName => Name;
}

/// <summary>A column (or attribute) of a product.</summary>
public class ProductField : IAudited
{
    public Guid Id { get; set; }
    public Guid ProductId { get; set; }
    /// <summary>Denormalised so field search and tenancy filters need no join.</summary>
    public Guid SpaceId { get; set; }
    public required string Name { get; set; }
    public string? DataType { get; set; }
    public bool IsNullable { get; set; } = true;
    public string? Description { get; set; }
    public int Ordinal { get; set; }
    public bool IsPrimaryKey { get; set; }
    /// <summary>The referenced column, e.g. <c>sales.customers.id</c>.</summary>
    public string? ForeignKeyTarget { get; set; }
    /// <summary>The column default in the source, as its expression text.</summary>
    public string? DefaultValue { get; set; }
    public List<string> ManualAttributes { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public virtual DataProduct Product { get; set; } = null!;

    Guid? IAudited.AuditSpaceId => SpaceId;
    string IAudited.AuditName => Name;
}

public class Tag : IAudited
{
    public Guid Id { get; set; }
    public Guid SpaceId { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public string? Color { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public uint Version { get; set; }

    public virtual ICollection<ProductTag> Products { get; protected set; } = new List<ProductTag>();

    Guid? IAudited.AuditSpaceId => SpaceId;
    string IAudited.AuditName => Name;
}

public class ProductTag
{
    public Guid ProductId { get; set; }
    public Guid TagId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    public virtual DataProduct Product { get; set; } = null!;
    public virtual Tag Tag { get; set; } = null!;
}

/// <summary>A product type a space defines beyond the built-in ones.</summary>
public class CustomProductType : IAudited
{
    public Guid Id { get; set; }
    public Guid SpaceId { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    Guid? IAudited.AuditSpaceId => SpaceId;
    string IAudited.AuditName => Name;
}

internal sealed class CatalogConfiguration :
    IEntityTypeConfiguration<DataProduct>, IEntityTypeConfiguration<ProductField>, IEntityTypeConfiguration<Tag>,
    IEntityTypeConfiguration<ProductTag>, IEntityTypeConfiguration<CustomProductType>
{
    public void Configure(EntityTypeBuilder<DataProduct> b)
    {
        b.ToTable("data_products");
        b.Property(x => x.Slug).HasMaxLength(63);
        b.Property(x => x.Name).HasMaxLength(200);
        b.Property(x => x.Description).HasMaxLength(4000);
        b.Property(x => x.Documentation).HasMaxLength(200_000);
        b.Property(x => x.ProductType).HasMaxLength(63);
        b.Property(x => x.Provider).HasMaxLength(200);
        b.Property(x => x.HostingLocation).HasMaxLength(500);
        b.Property(x => x.Environment).HasMaxLength(63);
        b.Property(x => x.Criticality).HasMaxLength(16).HasConversion(v => v.HasValue ? v.Value.ToString().ToLowerInvariant() : null, s => s == null ? null : Enum.Parse<Criticality>(s, true));
        b.Property(x => x.Sensitivity).HasMaxLength(16).HasConversion(v => v.HasValue ? v.Value.ToString().ToLowerInvariant() : null, s => s == null ? null : Enum.Parse<Sensitivity>(s, true));
        b.Property(x => x.Version).IsRowVersion();
        b.HasIndex(x => new { x.SpaceId, x.Slug }).IsUnique();
        b.HasIndex(x => new { x.SpaceId, x.Name, x.Id });
        b.HasIndex(x => new { x.SpaceId, x.UpdatedAt, x.Id });
        b.HasIndex(x => x.OwnerId);
        b.HasIndex(x => x.StewardId);
        b.HasIndex(x => x.CustodianId);
        b.HasIndex(x => x.DataArchitectId);
        b.Property(x => x.ExternalId).HasMaxLength(1000);
        // A connector's products by their identity in its source; discovered products by theirs, once per space.
        b.HasIndex(x => new { x.SourceConnectorId, x.ExternalId }).IsUnique().HasFilter("source_connector_id IS NOT NULL");
        b.HasIndex(x => new { x.SpaceId, x.ExternalId }).IsUnique().HasFilter("source_connector_id IS NULL AND external_id IS NOT NULL");
        // OpenLineage matches datasets by lower(hosting_location): that index is created in SQL (IngestionSql).
        b.HasOne<Ingestion.Connector>().WithMany().HasForeignKey(x => x.SourceConnectorId).OnDelete(DeleteBehavior.SetNull);
        b.HasOne(x => x.Space).WithMany().HasForeignKey(x => x.SpaceId).OnDelete(DeleteBehavior.Cascade);
        foreach (var role in new[] { nameof(DataProduct.OwnerId), nameof(DataProduct.StewardId), nameof(DataProduct.CustodianId), nameof(DataProduct.DataArchitectId) })
            b.HasOne<Identity.User>().WithMany().HasForeignKey(role).OnDelete(DeleteBehavior.SetNull);
    }

    public void Configure(EntityTypeBuilder<ProductField> b)
    {
        b.ToTable("product_fields");
        b.Property(x => x.Name).HasMaxLength(300);
        b.Property(x => x.DataType).HasMaxLength(200);
        b.Property(x => x.Description).HasMaxLength(4000);
        b.Property(x => x.ForeignKeyTarget).HasMaxLength(500);
        b.Property(x => x.DefaultValue).HasMaxLength(1000);
        b.HasIndex(x => new { x.ProductId, x.Name }).IsUnique();
        b.HasIndex(x => x.SpaceId);
        b.HasOne(x => x.Product).WithMany(p => p.Fields).HasForeignKey(x => x.ProductId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<Tag> b)
    {
        b.ToTable("tags");
        b.Property(x => x.Name).HasMaxLength(100);
        b.Property(x => x.Description).HasMaxLength(1000);
        b.Property(x => x.Color).HasMaxLength(7);
        b.Property(x => x.Version).IsRowVersion();
        b.HasIndex(x => new { x.SpaceId, x.Name }).IsUnique();
        b.HasOne<Space>().WithMany().HasForeignKey(x => x.SpaceId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<ProductTag> b)
    {
        b.ToTable("product_tags");
        b.HasKey(x => new { x.ProductId, x.TagId });
        b.HasIndex(x => x.TagId);
        b.HasOne(x => x.Product).WithMany(p => p.Tags).HasForeignKey(x => x.ProductId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne(x => x.Tag).WithMany(t => t.Products).HasForeignKey(x => x.TagId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<CustomProductType> b)
    {
        b.ToTable("custom_product_types");
        b.Property(x => x.Name).HasMaxLength(63);
        b.Property(x => x.Description).HasMaxLength(1000);
        b.HasIndex(x => new { x.SpaceId, x.Name }).IsUnique();
        b.HasOne<Space>().WithMany().HasForeignKey(x => x.SpaceId).OnDelete(DeleteBehavior.Cascade);
    }
}
