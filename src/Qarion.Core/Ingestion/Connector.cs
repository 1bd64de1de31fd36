using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Qarion.Core.Audit;
using Qarion.Core.Catalog;
using Qarion.Core.Spaces;

namespace Qarion.Core.Ingestion;

public enum MergeStrategy { Skip = 1, Additive = 2, Refresh = 3 }

public enum SyncStatus { Queued = 1, Running = 2, Succeeded = 3, Failed = 4 }

public enum SyncTrigger { Manual = 1, Schedule = 2, Upload = 3 }

public enum SchemaChangeKind { ColumnAdded = 1, ColumnRemoved = 2, TypeChanged = 3 }

/// <summary>
/// A source system a space ingests metadata from (a PostgreSQL database, a dbt project's manifest…).
/// Credentials are stored encrypted (<see cref="CredentialProtector"/>) and never leave the service layer.
/// </summary>
public class Connector : IAudited
{
    public Guid Id { get; set; }
    public Guid SpaceId { get; set; }
    public required string Name { get; set; }
    /// <summary><c>postgresql</c> or <c>dbt_manifest</c> (see <see cref="ConnectorPlatforms"/>).</summary>
    public required string Platform { get; set; }
    /// <summary>Validated, platform-specific settings (jsonb, no secrets).</summary>
    public required string Config { get; set; }
    /// <summary>AES-GCM ciphertext of the credentials JSON, or null when none are set.</summary>
    public byte[]? EncryptedCredentials { get; set; }
    /// <summary>Six-field cron (seconds first), or null for manual syncs only.</summary>
    public string? Schedule { get; set; }
    /// <summary>When the scheduler should start the next sync (UTC); null when manual or inactive.</summary>
    public DateTimeOffset? NextRunAt { get; set; }
    public List<string> SchemaInclude { get; set; } = [];
    public List<string> SchemaExclude { get; set; } = [];
    public string? TableRegex { get; set; }
    public MergeStrategy MergeStrategy { get; set; } = MergeStrategy.Additive;
    public bool IsActive { get; set; } = true;
    public Guid? CreatedById { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public uint Version { get; set; }

    public SourceFilters Filters => new(SchemaInclude, SchemaExclude, TableRegex);

    Guid? IAudited.AuditSpaceId => SpaceId;
    string IAudited.AuditName => Name;
}

/// <summary>One run of a connector: what it found and what it changed in the catalog.</summary>
public class SyncJob
{
    public Guid Id { get; set; }
    public Guid SpaceId { get; set; }
    public Guid ConnectorId { get; set; }
    public SyncStatus Status { get; set; }
    public SyncTrigger Trigger { get; set; }
    public MergeStrategy MergeStrategy { get; set; }
    public Guid? TriggeredById { get; set; }
    /// <summary>The Durable orchestration running it (null for an upload merged in the request).</summary>
    public string? InstanceId { get; set; }
    public int Added { get; set; }
    public int Updated { get; set; }
    public int MarkedStale { get; set; }
    public int Unchanged { get; set; }
    public int SchemaChanges { get; set; }
    public List<string> Warnings { get; set; } = [];
    public string? Error { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    /// <summary>Set in the merge's own transaction: a retried merge activity sees it and changes nothing twice.</summary>
    public DateTimeOffset? MergedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// What an extraction activity read for one schema of one job, kept until the merge consumes it. Extraction
/// results stay out of the orchestration history (large payloads), and a retried extraction overwrites its row.
/// </summary>
public class SyncSnapshot
{
    public Guid JobId { get; set; }
    /// <summary>The schema, or <c>*</c> for a whole-source snapshot (a dbt manifest).</summary>
    public required string Part { get; set; }
    /// <summary>The <see cref="CatalogSnapshot"/> as gzip-compressed JSON.</summary>
    public required byte[] Payload { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A column added, removed or retyped in a product by a sync: the input of schema-change notifications.</summary>
public class SchemaChange
{
    public Guid Id { get; set; }
    public Guid SpaceId { get; set; }
    public Guid ProductId { get; set; }
    public Guid JobId { get; set; }
    public SchemaChangeKind Kind { get; set; }
    public required string Column { get; set; }
    public string? OldType { get; set; }
    public string? NewType { get; set; }
    public DateTimeOffset OccurredAt { get; set; }
}

/// <summary>A test declared by a source (dbt generic tests), kept until the quality feature turns it into a check.</summary>
public class SourceTest
{
    public Guid Id { get; set; }
    public Guid SpaceId { get; set; }
    public Guid ConnectorId { get; set; }
    public required string ExternalId { get; set; }
    public Guid ProductId { get; set; }
    public required string Name { get; set; }
    public required string TestType { get; set; }
    public string? Column { get; set; }
    public required string Config { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class IngestionConfiguration :
    IEntityTypeConfiguration<Connector>, IEntityTypeConfiguration<SyncJob>, IEntityTypeConfiguration<SyncSnapshot>,
    IEntityTypeConfiguration<SchemaChange>, IEntityTypeConfiguration<SourceTest>
{
    public void Configure(EntityTypeBuilder<Connector> b)
    {
        b.ToTable("connectors");
        b.Property(x => x.Name).HasMaxLength(200);
        b.Property(x => x.Platform).HasMaxLength(32);
        b.Property(x => x.Config).HasColumnType("jsonb");
        b.Property(x => x.Schedule).HasMaxLength(120);
        b.Property(x => x.TableRegex).HasMaxLength(500);
        b.Property(x => x.MergeStrategy).HasMaxLength(16).HasConversion(new Persistence.SnakeEnumConverter<MergeStrategy>());
        b.Property(x => x.Version).IsRowVersion();
        b.Ignore(x => x.Filters);
        b.HasIndex(x => new { x.SpaceId, x.Name }).IsUnique();
        // The scheduler's scan: due, active, scheduled connectors.
        b.HasIndex(x => x.NextRunAt).HasFilter("is_active AND next_run_at IS NOT NULL");
        b.HasOne<Space>().WithMany().HasForeignKey(x => x.SpaceId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<SyncJob> b)
    {
        b.ToTable("sync_jobs");
        b.Property(x => x.Status).HasMaxLength(16).HasConversion(new Persistence.SnakeEnumConverter<SyncStatus>());
        b.Property(x => x.Trigger).HasMaxLength(16).HasConversion(new Persistence.SnakeEnumConverter<SyncTrigger>());
        b.Property(x => x.MergeStrategy).HasMaxLength(16).HasConversion(new Persistence.SnakeEnumConverter<MergeStrategy>());
        b.Property(x => x.InstanceId).HasMaxLength(100);
        b.Property(x => x.Error).HasMaxLength(4000);
        b.HasIndex(x => new { x.ConnectorId, x.CreatedAt });
        // One connector never syncs twice at once, whoever starts it (timer, API, a second timer instance).
        b.HasIndex(x => x.ConnectorId).IsUnique().HasFilter("status IN ('queued', 'running')").HasDatabaseName("ux_sync_jobs_one_active");
        b.HasOne<Connector>().WithMany().HasForeignKey(x => x.ConnectorId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<SyncSnapshot> b)
    {
        b.ToTable("sync_snapshots");
        b.HasKey(x => new { x.JobId, x.Part });
        b.Property(x => x.Part).HasMaxLength(200);
        b.HasOne<SyncJob>().WithMany().HasForeignKey(x => x.JobId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<SchemaChange> b)
    {
        b.ToTable("schema_changes");
        b.Property(x => x.Kind).HasMaxLength(16).HasConversion(new Persistence.SnakeEnumConverter<SchemaChangeKind>());
        b.Property(x => x.Column).HasMaxLength(300);
        b.Property(x => x.OldType).HasMaxLength(200);
        b.Property(x => x.NewType).HasMaxLength(200);
        b.HasIndex(x => new { x.ProductId, x.OccurredAt });
        b.HasIndex(x => x.JobId);
        b.HasOne<DataProduct>().WithMany().HasForeignKey(x => x.ProductId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<SourceTest> b)
    {
        b.ToTable("source_tests");
        b.Property(x => x.ExternalId).HasMaxLength(500);
        b.Property(x => x.Name).HasMaxLength(500);
        b.Property(x => x.TestType).HasMaxLength(32);
        b.Property(x => x.Column).HasMaxLength(300);
        b.Property(x => x.Config).HasColumnType("jsonb");
        b.HasIndex(x => new { x.ConnectorId, x.ExternalId }).IsUnique();
        b.HasIndex(x => x.ProductId);
        b.HasOne<Connector>().WithMany().HasForeignKey(x => x.ConnectorId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<DataProduct>().WithMany().HasForeignKey(x => x.ProductId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal static class ConnectorQueries
{
    /// <summary>A connector of the space, or 404 (a connector of another space is not found either).</summary>
    public static async Task<Connector> FindInSpaceAsync(this IQueryable<Connector> connectors, SpaceContext space, Guid id, CancellationToken ct)
        => await connectors.SingleOrDefaultAsync(c => c.Id == id && c.SpaceId == space.SpaceId, ct)
           ?? throw new Common.NotFoundException("Connector", id.ToString());

    /// <summary>404 unless the space has this connector.</summary>
    public static async Task RequireInSpaceAsync(this IQueryable<Connector> connectors, SpaceContext space, Guid id, CancellationToken ct)
    {
        if (!await connectors.AnyAsync(c => c.Id == id && c.SpaceId == space.SpaceId, ct)) throw new Common.NotFoundException("Connector", id.ToString());
    }
}

public static class ConnectorPlatforms
{
    public const string PostgreSql = "postgresql";
    public const string DbtManifest = "dbt_manifest";
    public static readonly IReadOnlyList<string> All = [PostgreSql, DbtManifest];
}
