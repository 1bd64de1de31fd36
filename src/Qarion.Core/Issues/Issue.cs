using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Qarion.Core.Audit;
using Qarion.Core.Catalog;
using Qarion.Core.Persistence;
using Qarion.Core.Quality;
using Qarion.Core.Spaces;

namespace Qarion.Core.Issues;

public enum IssueStatus { Open = 1, InProgress = 2, Resolved = 3 }

public enum IssuePriority { Low = 1, Medium = 2, High = 3, Critical = 4 }

/// <summary>A data problem people track to resolution, optionally born from a quality alert.</summary>
public class Issue : IAudited
{
    public Guid Id { get; set; }
    public Guid SpaceId { get; set; }
    /// <summary>Per-space sequence number, shown as <c>#12</c>.</summary>
    public int Number { get; set; }
    public required string Title { get; set; }
    public string? Description { get; set; }
    public IssueStatus Status { get; set; } = IssueStatus.Open;
    public IssuePriority Priority { get; set; } = IssuePriority.Medium;
    public Guid? AssigneeId { get; set; }
    public Guid? ReporterId { get; set; }
    /// <summary>The alert it was created from, with the check that raised it.</summary>
    public Guid? AlertId { get; set; }
    public Guid? CheckId { get; set; }
    public DateTimeOffset? ResolvedAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public uint Version { get; set; }

    Guid? IAudited.AuditSpaceId => SpaceId;
    string IAudited.AuditName => Title;
}

public class IssueProduct
{
    public Guid IssueId { get; set; }
    public Guid ProductId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public class IssueComment
{
    public Guid Id { get; set; }
    public Guid IssueId { get; set; }
    public Guid SpaceId { get; set; }
    public Guid? AuthorId { get; set; }
    public required string Body { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// One change to an issue, as the issue's history shows it: <see cref="Kind"/> is <c>created</c>, <c>status</c>,
/// <c>priority</c>, <c>assignee</c>, <c>title</c>, <c>description</c>, <c>comment</c>, <c>product_linked</c>,
/// <c>product_unlinked</c>; old and new values as text.
/// </summary>
public class IssueEvent
{
    public Guid Id { get; set; }
    public Guid IssueId { get; set; }
    public Guid SpaceId { get; set; }
    public Guid? ActorId { get; set; }
    public required string Kind { get; set; }
    public string? OldValue { get; set; }
    public string? NewValue { get; set; }
    public DateTimeOffset OccurredAt { get; set; }
}

internal sealed class IssueConfiguration :
    IEntityTypeConfiguration<Issue>, IEntityTypeConfiguration<IssueProduct>, IEntityTypeConfiguration<IssueComment>, IEntityTypeConfiguration<IssueEvent>
{
    public void Configure(EntityTypeBuilder<Issue> b)
    {
        b.ToTable("issues");
        b.Property(x => x.Title).HasMaxLength(500);
        b.Property(x => x.Description).HasMaxLength(20000);
        b.Property(x => x.Status).HasMaxLength(16).HasConversion(new SnakeEnumConverter<IssueStatus>());
        b.Property(x => x.Priority).HasMaxLength(16).HasConversion(new SnakeEnumConverter<IssuePriority>());
        b.Property(x => x.Version).IsRowVersion();
        b.HasIndex(x => new { x.SpaceId, x.Number }).IsUnique();
        b.HasIndex(x => new { x.SpaceId, x.Status, x.CreatedAt });
        b.HasIndex(x => x.AssigneeId);
        b.HasIndex(x => x.AlertId);
        b.HasOne<Space>().WithMany().HasForeignKey(x => x.SpaceId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<QualityAlert>().WithMany().HasForeignKey(x => x.AlertId).OnDelete(DeleteBehavior.SetNull);
        b.HasOne<QualityCheck>().WithMany().HasForeignKey(x => x.CheckId).OnDelete(DeleteBehavior.SetNull);
    }

    public void Configure(EntityTypeBuilder<IssueProduct> b)
    {
        b.ToTable("issue_products");
        b.HasKey(x => new { x.IssueId, x.ProductId });
        b.HasIndex(x => x.ProductId);
        b.HasOne<Issue>().WithMany().HasForeignKey(x => x.IssueId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<DataProduct>().WithMany().HasForeignKey(x => x.ProductId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<IssueComment> b)
    {
        b.ToTable("issue_comments");
        b.Property(x => x.Body).HasMaxLength(20000);
        b.HasIndex(x => new { x.IssueId, x.CreatedAt });
        b.HasOne<Issue>().WithMany().HasForeignKey(x => x.IssueId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<IssueEvent> b)
    {
        b.ToTable("issue_events");
        b.Property(x => x.Kind).HasMaxLength(32);
        b.Property(x => x.OldValue).HasMaxLength(4000);
        b.Property(x => x.NewValue).HasMaxLength(4000);
        b.HasIndex(x => new { x.IssueId, x.OccurredAt });
        b.HasOne<Issue>().WithMany().HasForeignKey(x => x.IssueId).OnDelete(DeleteBehavior.Cascade);
    }
}
