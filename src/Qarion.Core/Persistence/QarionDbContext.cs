using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.ValueGeneration;
using Qarion.Core.Identity;
using Qarion.Core.Spaces;

namespace Qarion.Core.Persistence;

public class QarionDbContext(DbContextOptions<QarionDbContext> options, TimeProvider clock) : DbContext(options)
{
    /// <summary>The clock every timestamp and UUIDv7 key written through this context comes from.</summary>
    public TimeProvider Clock { get; } = clock;

    public DbSet<User> Users => Set<User>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<Space> Spaces => Set<Space>();
    public DbSet<SpaceMembership> SpaceMemberships => Set<SpaceMembership>();
    public DbSet<Catalog.DataProduct> Products => Set<Catalog.DataProduct>();
    public DbSet<Catalog.ProductField> ProductFields => Set<Catalog.ProductField>();
    public DbSet<Catalog.Tag> Tags => Set<Catalog.Tag>();
    public DbSet<Catalog.ProductTag> ProductTags => Set<Catalog.ProductTag>();
    public DbSet<Catalog.CustomProductType> CustomProductTypes => Set<Catalog.CustomProductType>();
    public DbSet<Lineage.LineageEdge> LineageEdges => Set<Lineage.LineageEdge>();
    public DbSet<Audit.AuditEntry> AuditLog => Set<Audit.AuditEntry>();
    public DbSet<Ingestion.Connector> Connectors => Set<Ingestion.Connector>();
    public DbSet<Ingestion.SyncJob> SyncJobs => Set<Ingestion.SyncJob>();
    public DbSet<Ingestion.SyncSnapshot> SyncSnapshots => Set<Ingestion.SyncSnapshot>();
    public DbSet<Ingestion.SchemaChange> SchemaChanges => Set<Ingestion.SchemaChange>();
    public DbSet<Ingestion.SourceTest> SourceTests => Set<Ingestion.SourceTest>();
    public DbSet<Quality.QualityCheck> QualityChecks => Set<Quality.QualityCheck>();
    public DbSet<Quality.CheckProduct> CheckProducts => Set<Quality.CheckProduct>();
    public DbSet<Quality.CheckExecution> CheckExecutions => Set<Quality.CheckExecution>();
    public DbSet<Quality.ProductQualityScore> ProductQualityScores => Set<Quality.ProductQualityScore>();
    public DbSet<Quality.QualityAlert> QualityAlerts => Set<Quality.QualityAlert>();
    public DbSet<Quality.AlertAnnotation> AlertAnnotations => Set<Quality.AlertAnnotation>();
    public DbSet<Issues.Issue> Issues => Set<Issues.Issue>();
    public DbSet<Issues.IssueProduct> IssueProducts => Set<Issues.IssueProduct>();
    public DbSet<Issues.IssueComment> IssueComments => Set<Issues.IssueComment>();
    public DbSet<Issues.IssueEvent> IssueEvents => Set<Issues.IssueEvent>();
    public DbSet<Contracts.DataContract> DataContracts => Set<Contracts.DataContract>();
    public DbSet<Contracts.ContractConsumer> ContractConsumers => Set<Contracts.ContractConsumer>();
    public DbSet<Contracts.ContractViolation> ContractViolations => Set<Contracts.ContractViolation>();
    public DbSet<Outbox.OutboxEvent> OutboxEvents => Set<Outbox.OutboxEvent>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(QarionDbContext).Assembly);

        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            var key = entity.FindPrimaryKey();
            if (key is { Properties: [{ ClrType: var t } keyProperty] } && t == typeof(Guid))
            {
                keyProperty.SetValueGeneratorFactory((_, _) => new UuidV7Generator());
            }
        }
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Text columns default to a bounded length only where configured; everything else is `text`.
        configurationBuilder.Properties<DateTimeOffset>().HaveColumnType("timestamp with time zone");
    }
}

/// <summary>UUID version 7 keys (time-ordered, so new rows append to the primary-key index), timed by the context's clock.</summary>
public sealed class UuidV7Generator : ValueGenerator<Guid>
{
    public override bool GeneratesTemporaryValues => false;

    public override Guid Next(EntityEntry entry)
        => Guid.CreateVersion7(((QarionDbContext)entry.Context).Clock.GetUtcNow());
}
