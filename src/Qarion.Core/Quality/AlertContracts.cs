using FluentValidation;
using Qarion.Core.Catalog;
using Qarion.Core.Common;
using Qarion.Core.Issues;

namespace Qarion.Core.Quality;

public sealed record AlertCheckRef(Guid Id, string Slug, string Name, string CheckType);

public sealed record AlertProductRef(Guid Id, string Slug, string Name);

public sealed record AnnotationResponse(Guid Id, Guid AlertId, UserRef? Author, string Body, DateTimeOffset CreatedAt);

public sealed record AlertResponse(
    Guid Id, Guid SpaceId, AlertStatus Status, CheckSeverity Severity, string Title, string? Message, ExecutionStatus RaisedStatus,
    AlertCheckRef Check, AlertProductRef Product, Guid RaisedByExecutionId, Guid LastExecutionId, int Occurrences,
    DateTimeOffset RaisedAt, DateTimeOffset LastSeenAt, DateTimeOffset? AcknowledgedAt, Guid? AcknowledgedById,
    DateTimeOffset? ResolvedAt, Guid? ResolvedById, bool AutoResolved, string? ResolutionNote, Guid? IssueId,
    IReadOnlyList<AnnotationResponse> Annotations, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, uint Version);

/// <summary>The list view of an alert: no annotations.</summary>
public sealed record AlertSummary(
    Guid Id, AlertStatus Status, CheckSeverity Severity, string Title, AlertCheckRef Check, AlertProductRef Product,
    int Occurrences, DateTimeOffset RaisedAt, DateTimeOffset LastSeenAt, DateTimeOffset? ResolvedAt, Guid? IssueId, uint Version);

/// <param name="Status"><c>active</c>, <c>acknowledged</c>, <c>resolved</c>, or <c>open</c> (= not resolved).</param>
public sealed record AlertListQuery(
    string? Status = null, CheckSeverity? Severity = null, Guid? CheckId = null, Guid? ProductId = null,
    DateTimeOffset? From = null, DateTimeOffset? To = null);

public sealed record AnnotateAlertRequest
{
    public required string Body { get; init; }
}

public sealed record UpdateAlertRequest
{
    public required CheckSeverity Severity { get; init; }
    public uint? Version { get; init; }
}

public sealed record ResolveAlertRequest
{
    public string? Note { get; init; }
}

public sealed record CreateIssueFromAlertRequest
{
    /// <summary>The alert's title when not given.</summary>
    public string? Title { get; init; }
    /// <summary>From the alert's severity when not given (low → low … critical → critical).</summary>
    public IssuePriority? Priority { get; init; }
    public Guid? AssigneeId { get; init; }
}

/// <summary>The body of the <c>quality.alert.resolved</c> outbox event when a person resolves an alert.</summary>
public sealed record AlertResolvedPayload(
    Guid AlertId, Guid SpaceId, Guid CheckId, Guid ProductId, CheckSeverity Severity, string Title, bool AutoResolved,
    Guid? ResolvedById, string? Note, Guid? IssueId, DateTimeOffset ResolvedAt);

public static class AlertRules
{
    public const int AnnotationMax = 4000;
    public const int NoteMax = 4000;
}

public sealed class AnnotateAlertRequestValidator : AbstractValidator<AnnotateAlertRequest>
{
    public AnnotateAlertRequestValidator()
    {
        RuleFor(x => x.Body).Name(AlertRules.AnnotationMax);
    }
}

public sealed class UpdateAlertRequestValidator : AbstractValidator<UpdateAlertRequest>
{
    public UpdateAlertRequestValidator()
    {
        RuleFor(x => x.Severity).IsInEnum();
    }
}

public sealed class ResolveAlertRequestValidator : AbstractValidator<ResolveAlertRequest>
{
    public ResolveAlertRequestValidator()
    {
        RuleFor(x => x.Note).MaximumLength(AlertRules.NoteMax).WithMessage($"must be at most {AlertRules.NoteMax} characters");
    }
}

public sealed class CreateIssueFromAlertRequestValidator : AbstractValidator<CreateIssueFromAlertRequest>
{
    public CreateIssueFromAlertRequestValidator()
    {
        When(x => x.Title is not null, () => RuleFor(x => x.Title!).Name(IssueRules.TitleMax).OverridePropertyName("Title"));
        RuleFor(x => x.Priority).IsInEnum();
    }
}
