using FluentValidation;
using Qarion.Core.Catalog;
using Qarion.Core.Common;

namespace Qarion.Core.Issues;

/// <summary>A product an issue is linked to.</summary>
public sealed record IssueProductRef(Guid Id, string Slug, string Name);

public sealed record IssueResponse(
    Guid Id, Guid SpaceId, int Number, string Title, string? Description, IssueStatus Status, IssuePriority Priority,
    UserRef? Assignee, UserRef? Reporter, Guid? AlertId, Guid? CheckId, IReadOnlyList<IssueProductRef> Products,
    int CommentCount, DateTimeOffset? ResolvedAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, uint Version);

/// <summary>The list view of an issue: no description.</summary>
public sealed record IssueSummary(
    Guid Id, int Number, string Title, IssueStatus Status, IssuePriority Priority, UserRef? Assignee, Guid? ReporterId,
    Guid? AlertId, IReadOnlyList<IssueProductRef> Products, DateTimeOffset? ResolvedAt, DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt, uint Version);

public sealed record CreateIssueRequest
{
    public required string Title { get; init; }
    public string? Description { get; init; }
    /// <summary>Medium when not given.</summary>
    public IssuePriority? Priority { get; init; }
    /// <summary>A member of the space.</summary>
    public Guid? AssigneeId { get; init; }
    /// <summary>Products of this space to link.</summary>
    public IReadOnlyList<Guid>? ProductIds { get; init; }
}

public sealed record UpdateIssueRequest
{
    public Optional<string> Title { get; init; }
    public Optional<string?> Description { get; init; }
    public Optional<IssueStatus> Status { get; init; }
    public Optional<IssuePriority> Priority { get; init; }
    /// <summary>A member of the space; <c>null</c> unassigns.</summary>
    public Optional<Guid?> AssigneeId { get; init; }
    public uint? Version { get; init; }
}

public sealed record IssueListQuery(
    IssueStatus? Status = null, IssuePriority? Priority = null, Guid? AssigneeId = null, Guid? ProductId = null,
    Guid? ReporterId = null, string? Q = null, DateTimeOffset? From = null, DateTimeOffset? To = null, string Sort = "newest");

public sealed record LinkProductRequest
{
    public required Guid ProductId { get; init; }
}

public sealed record CommentRequest
{
    public required string Body { get; init; }
}

public sealed record CommentResponse(Guid Id, Guid IssueId, UserRef? Author, string Body, bool Edited, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>One change in an issue's history; values are text (ids, snake_case enum names, or the text itself, cut at 4000 characters).</summary>
public sealed record IssueEventResponse(Guid Id, string Kind, string? OldValue, string? NewValue, UserRef? Actor, DateTimeOffset OccurredAt);

/// <summary>The body of the <c>issue.created</c>, <c>issue.assigned</c> and <c>issue.resolved</c> outbox events.</summary>
public sealed record IssueEventPayload(
    Guid IssueId, int Number, string Title, Guid SpaceId, IReadOnlyList<Guid> ProductIds, Guid? AssigneeId, Guid? ActorId,
    IssueStatus Status, IssuePriority Priority, Guid? AlertId);

public static class IssueRules
{
    public const int TitleMax = 500;
    public const int DescriptionMax = 20000;
    public const int CommentMax = 20000;
    public const int ProductsMax = 100;
}

public sealed class CreateIssueRequestValidator : AbstractValidator<CreateIssueRequest>
{
    public CreateIssueRequestValidator()
    {
        RuleFor(x => x.Title).Name(IssueRules.TitleMax);
        RuleFor(x => x.Description).MaximumLength(IssueRules.DescriptionMax).WithMessage($"must be at most {IssueRules.DescriptionMax} characters");
        RuleFor(x => x.Priority).IsInEnum();
        RuleFor(x => x.ProductIds).Must(p => p is null || p.Count <= IssueRules.ProductsMax)
            .WithMessage($"at most {IssueRules.ProductsMax} products").WithErrorCode("too_long");
    }
}

public sealed class UpdateIssueRequestValidator : AbstractValidator<UpdateIssueRequest>
{
    public UpdateIssueRequestValidator()
    {
        When(x => x.Title.IsSet, () => RuleFor(x => x.Title.Value).Name(IssueRules.TitleMax).OverridePropertyName("Title"));
        RuleFor(x => x.Description.Value).MaximumLength(IssueRules.DescriptionMax)
            .WithMessage($"must be at most {IssueRules.DescriptionMax} characters").OverridePropertyName("Description");
        When(x => x.Status.IsSet, () => RuleFor(x => x.Status.Value).IsInEnum().OverridePropertyName("Status"));
        When(x => x.Priority.IsSet, () => RuleFor(x => x.Priority.Value).IsInEnum().OverridePropertyName("Priority"));
    }
}

public sealed class CommentRequestValidator : AbstractValidator<CommentRequest>
{
    public CommentRequestValidator()
    {
        RuleFor(x => x.Body).Name(IssueRules.CommentMax);
    }
}
