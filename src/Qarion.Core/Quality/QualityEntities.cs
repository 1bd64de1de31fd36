using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Qarion.Core.Audit;
using Qarion.Core.Catalog;
using Qarion.Core.Ingestion;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Quality;

/// <summary>How much a failing check matters: it weighs the product's quality score and sets its alerts' severity.</summary>
public enum CheckSeverity { Low = 1, Medium = 2, High = 3, Critical = 4 }

/// <summary>An execution's lifecycle: queued and running, then one of the four results of <see cref="CheckStatus"/>.</summary>
public enum ExecutionStatus { Queued = 1, Running = 2, Pass = 3, Warning = 4, Fail = 5, Error = 6 }

public enum ExecutionTrigger { Manual = 1, Schedule = 2, Api = 3, Person = 4 }

public enum AlertStatus { Active = 1, Acknowledged = 2, Resolved = 3 }

/// <summary>
/// A data-quality check in a space: what to measure (<see cref="CheckType"/> and its validated <see cref="Config"/>),
/// the thresholds the metric must meet, on which products (and optionally which field), through which connector,
/// and when (six-field cron, or on demand only).
/// </summary>
public class QualityCheck : IAudited
{
    public Guid Id { get; set; }
    public Guid SpaceId { get; set; }
    public required string Slug { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    /// <summary>One of <see cref="CheckTypes"/>.</summary>
    public required string CheckType { get; set; }
    /// <summary>The type's config as validated and normalised (jsonb, snake_case keys).</summary>
    public required string Config { get; set; }
    /// <summary>The field the check is about, when it is about one (a name of the primary product's fields).</summary>
    public string? FieldName { get; set; }
    /// <summary>The warning threshold as JSON (<c>{operator, value | min,max, unit}</c>), or null.</summary>
    public string? WarningThreshold { get; set; }
    public string? CriticalThreshold { get; set; }
    public CheckSeverity Severity { get; set; } = CheckSeverity.Medium;
    /// <summary>The connector whose source the SQL runs on (null for custom and manual checks).</summary>
    public Guid? ConnectorId { get; set; }
    /// <summary>Six-field cron (seconds first, UTC), or null when the check only runs on demand.</summary>
    public string? Schedule { get; set; }
    /// <summary>When the scheduler enqueues the next run (UTC); null when unscheduled, inactive or archived.</summary>
    public DateTimeOffset? NextRunAt { get; set; }
    public bool IsActive { get; set; } = true;
    public bool IsArchived { get; set; }
    public DateTimeOffset? ArchivedAt { get; set; }
    /// <summary>The latest completed, non-ignored execution's status and time (denormalised for list filters).</summary>
    public ExecutionStatus? LastStatus { get; set; }
    public DateTimeOffset? LastRunAt { get; set; }
    /// <summary>The source test (e.g. a dbt test) this check was imported from.</summary>
    public Guid? SourceTestId { get; set; }
    public Guid? CreatedById { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public uint Version { get; set; }

    Guid? IAudited.AuditSpaceId => SpaceId;
    string IAudited.AuditName => Name;
}

/// <summary>A product a check covers. The first (lowest <see cref="Position"/>) is the one the check's table belongs to.</summary>
public class CheckProduct
{
    public Guid CheckId { get; set; }
    public Guid ProductId { get; set; }
    public int Position { get; set; }
}

/// <summary>One run of a check (or one pushed or entered result), from queued to its outcome.</summary>
public class CheckExecution
{
    public Guid Id { get; set; }
    public Guid SpaceId { get; set; }
    public Guid CheckId { get; set; }
    public ExecutionStatus Status { get; set; }
    public ExecutionTrigger Trigger { get; set; }
    public Guid? TriggeredById { get; set; }
    /// <summary>Unique: a retried request or a redelivered message finds the execution it already made.</summary>
    public required string IdempotencyKey { get; set; }
    public double? Metric { get; set; }
    /// <summary>The rows the metric was measured over, when it counts failing rows (the base of percentages).</summary>
    public double? Total { get; set; }
    /// <summary>The SQL that ran (parameters not inlined).</summary>
    public string? Sql { get; set; }
    public string? Message { get; set; }
    /// <summary>Type-specific detail as JSON: rule outcomes of field_checks, the baseline of an anomaly…</summary>
    public string? Details { get; set; }
    public int? DurationMs { get; set; }
    /// <summary>Deliveries of the queue message that reached the handler.</summary>
    public int Attempts { get; set; }
    public bool IsIgnored { get; set; }
    public Guid? IgnoredById { get; set; }
    public DateTimeOffset? IgnoredAt { get; set; }
    public string? IgnoreReason { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// A product's quality score, recomputed in the transaction of every execution that can change it. Kept beside the
/// product (not on it) so a check run never bumps the product's version, audit log or search document.
/// </summary>
public class ProductQualityScore
{
    public Guid ProductId { get; set; }
    public Guid SpaceId { get; set; }
    /// <summary>0–100, or null when no active check has a result yet.</summary>
    public double? Score { get; set; }
    /// <summary><c>healthy</c>, <c>warning</c>, <c>critical</c> or <c>unknown</c> (see <see cref="QualityScore"/>).</summary>
    public required string Health { get; set; }
    public int Passing { get; set; }
    public int Warning { get; set; }
    public int Failing { get; set; }
    public int Errored { get; set; }
    public DateTimeOffset ComputedAt { get; set; }
}

/// <summary>
/// Raised when a check goes into FAIL or ERROR for a product; at most one unresolved alert per (check, product).
/// Repeated failures add to <see cref="Occurrences"/>; a passing run resolves it.
/// </summary>
public class QualityAlert
{
    public Guid Id { get; set; }
    public Guid SpaceId { get; set; }
    public Guid CheckId { get; set; }
    public Guid ProductId { get; set; }
    public AlertStatus Status { get; set; } = AlertStatus.Active;
    public CheckSeverity Severity { get; set; }
    public required string Title { get; set; }
    public string? Message { get; set; }
    /// <summary>FAIL or ERROR: what raised it.</summary>
    public ExecutionStatus RaisedStatus { get; set; }
    public Guid RaisedByExecutionId { get; set; }
    public Guid LastExecutionId { get; set; }
    public int Occurrences { get; set; } = 1;
    public DateTimeOffset RaisedAt { get; set; }
    public DateTimeOffset LastSeenAt { get; set; }
    public DateTimeOffset? AcknowledgedAt { get; set; }
    public Guid? AcknowledgedById { get; set; }
    public DateTimeOffset? ResolvedAt { get; set; }
    public Guid? ResolvedById { get; set; }
    public bool AutoResolved { get; set; }
    public string? ResolutionNote { get; set; }
    /// <summary>The issue created from this alert, if any.</summary>
    public Guid? IssueId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public uint Version { get; set; }
}

/// <summary>A note a person adds to an alert.</summary>
public class AlertAnnotation
{
    public Guid Id { get; set; }
    public Guid AlertId { get; set; }
    public Guid SpaceId { get; set; }
    public Guid? AuthorId { get; set; }
    public required string Body { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class QualityConfiguration :
    IEntityTypeConfiguration<QualityCheck>, IEntityTypeConfiguration<CheckProduct>, IEntityTypeConfiguration<CheckExecution>,
    IEntityTypeConfiguration<ProductQualityScore>, IEntityTypeConfiguration<QualityAlert>, IEntityTypeConfiguration<AlertAnnotation>
{
    public void Configure(EntityTypeBuilder<QualityCheck> b)
    {
        b.ToTable("quality_checks");
        b.Property(x => x.Slug).HasMaxLength(120);
        b.Property(x => x.Name).HasMaxLength(200);
        b.Property(x => x.Description).HasMaxLength(4000);
        b.Property(x => x.CheckType).HasMaxLength(32);
        b.Property(x => x.Config).HasColumnType("jsonb");
        b.Property(x => x.FieldName).HasMaxLength(300);
        b.Property(x => x.WarningThreshold).HasColumnType("jsonb");
        b.Property(x => x.CriticalThreshold).HasColumnType("jsonb");
        b.Property(x => x.Severity).HasMaxLength(16).HasConversion(new SnakeEnumConverter<CheckSeverity>());
        b.Property(x => x.Schedule).HasMaxLength(120);
        b.Property(x => x.LastStatus).HasMaxLength(16).HasConversion(new SnakeEnumConverter<ExecutionStatus>());
        b.Property(x => x.Version).IsRowVersion();
        b.HasIndex(x => new { x.SpaceId, x.Slug }).IsUnique();
        b.HasIndex(x => new { x.SpaceId, x.CreatedAt });
        // The scheduler's scan: due, active, scheduled, not archived checks.
        b.HasIndex(x => x.NextRunAt).HasFilter("is_active AND NOT is_archived AND next_run_at IS NOT NULL");
        // One check per imported source test.
        b.HasIndex(x => x.SourceTestId).IsUnique().HasFilter("source_test_id IS NOT NULL");
        b.HasOne<Space>().WithMany().HasForeignKey(x => x.SpaceId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Connector>().WithMany().HasForeignKey(x => x.ConnectorId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne<SourceTest>().WithMany().HasForeignKey(x => x.SourceTestId).OnDelete(DeleteBehavior.SetNull);
    }

    public void Configure(EntityTypeBuilder<CheckProduct> b)
    {
        b.ToTable("check_products");
        b.HasKey(x => new { x.CheckId, x.ProductId });
        b.HasIndex(x => x.ProductId);
        b.HasOne<QualityCheck>().WithMany().HasForeignKey(x => x.CheckId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<DataProduct>().WithMany().HasForeignKey(x => x.ProductId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<CheckExecution> b)
    {
        b.ToTable("check_executions");
        b.Property(x => x.Status).HasMaxLength(16).HasConversion(new SnakeEnumConverter<ExecutionStatus>());
        b.Property(x => x.Trigger).HasMaxLength(16).HasConversion(new SnakeEnumConverter<ExecutionTrigger>());
        b.Property(x => x.IdempotencyKey).HasMaxLength(200);
        b.Property(x => x.Message).HasMaxLength(4000);
        b.Property(x => x.Details).HasColumnType("jsonb");
        b.Property(x => x.IgnoreReason).HasMaxLength(1000);
        b.HasIndex(x => new { x.SpaceId, x.IdempotencyKey }).IsUnique();
        b.HasIndex(x => new { x.CheckId, x.CreatedAt });
        b.HasIndex(x => new { x.SpaceId, x.CreatedAt });
        // The sweeper's scan: executions still waiting for (or lost by) the queue.
        b.HasIndex(x => x.CreatedAt).HasFilter("status IN ('queued', 'running')").HasDatabaseName("ix_check_executions_pending");
        b.HasOne<QualityCheck>().WithMany().HasForeignKey(x => x.CheckId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<ProductQualityScore> b)
    {
        b.ToTable("product_quality_scores");
        b.HasKey(x => x.ProductId);
        b.Property(x => x.Health).HasMaxLength(16);
        b.HasIndex(x => x.SpaceId);
        b.HasOne<DataProduct>().WithOne().HasForeignKey<ProductQualityScore>(x => x.ProductId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<QualityAlert> b)
    {
        b.ToTable("quality_alerts");
        b.Property(x => x.Status).HasMaxLength(16).HasConversion(new SnakeEnumConverter<AlertStatus>());
        b.Property(x => x.Severity).HasMaxLength(16).HasConversion(new SnakeEnumConverter<CheckSeverity>());
        b.Property(x => x.RaisedStatus).HasMaxLength(16).HasConversion(new SnakeEnumConverter<ExecutionStatus>());
        b.Property(x => x.Title).HasMaxLength(500);
        b.Property(x => x.Message).HasMaxLength(4000);
        b.Property(x => x.ResolutionNote).HasMaxLength(4000);
        b.Property(x => x.Version).IsRowVersion();
        // One unresolved alert per (check, product), whoever raises it.
        b.HasIndex(x => new { x.CheckId, x.ProductId }).IsUnique().HasFilter("status <> 'resolved'").HasDatabaseName("ux_quality_alerts_one_open");
        b.HasIndex(x => new { x.SpaceId, x.Status, x.RaisedAt });
        b.HasIndex(x => x.ProductId);
        b.HasOne<QualityCheck>().WithMany().HasForeignKey(x => x.CheckId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<DataProduct>().WithMany().HasForeignKey(x => x.ProductId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<AlertAnnotation> b)
    {
        b.ToTable("alert_annotations");
        b.Property(x => x.Body).HasMaxLength(4000);
        b.HasIndex(x => new { x.AlertId, x.CreatedAt });
        b.HasOne<QualityAlert>().WithMany().HasForeignKey(x => x.AlertId).OnDelete(DeleteBehavior.Cascade);
    }
}
