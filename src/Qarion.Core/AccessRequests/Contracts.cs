using FluentValidation;
using Qarion.Core.Catalog;
using Qarion.Core.Common;

namespace Qarion.Core.AccessRequests;

public static class AccessRules
{
    public const int JustificationMax = 2000;
    public const int CommentMax = 2000;
    public const int RoleNameMax = 200;
}

/// <summary>
/// Either <c>product_id</c> (a product of the space) or <c>connector_id</c> with <c>role_name</c> (a role on that
/// connector's source). Permanent unless <c>ends_at</c> (an instant in the future) or <c>duration_days</c>
/// (counted from the approval) is given.
/// </summary>
public sealed record SubmitAccessRequest
{
    public Guid? ProductId { get; init; }
    public Guid? ConnectorId { get; init; }
    public string? RoleName { get; init; }
    /// <summary><c>read</c> (default), <c>write</c> or <c>admin</c>.</summary>
    public AccessLevel? AccessLevel { get; init; }
    public required string Justification { get; init; }
    public DateTimeOffset? EndsAt { get; init; }
    public int? DurationDays { get; init; }
}

/// <summary>The approver's note; required to reject, optional to approve.</summary>
public sealed record AccessDecisionRequest
{
    public string? Comment { get; init; }
}

public sealed record RevokeGrantRequest
{
    public string? Comment { get; init; }
}

public sealed record AccessTargetResponse(
    AccessTargetKind Kind, Guid? ProductId, string? ProductSlug, string? ProductName, Guid? ConnectorId, string? ConnectorName, string? RoleName);

public sealed record AccessRequestResponse(
    Guid Id, Guid SpaceId, UserRef? Requester, AccessTargetResponse Target, AccessLevel AccessLevel, string Justification,
    DateTimeOffset? EndsAt, int? DurationDays, AccessRequestStatus Status, DateTimeOffset ExpiresAt, UserRef? DecidedBy,
    DateTimeOffset? DecidedAt, string? DecisionComment, DateTimeOffset? ReminderSentAt, Guid? GrantId,
    IReadOnlyList<Guid> ApproverIds, bool CanDecide, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, uint Version);

public sealed record AccessGrantResponse(
    Guid Id, Guid RequestId, UserRef? User, AccessTargetResponse Target, AccessLevel AccessLevel, Guid? GrantedById,
    DateTimeOffset GrantedAt, DateTimeOffset? EndsAt, bool IsActive, DateTimeOffset? RevokedAt, Guid? RevokedById,
    GrantEndReason? EndReason, string? RevokeComment, uint Version);

/// <summary>The caller's standing on one product: active grants and a pending request, if any.</summary>
public sealed record ProductAccessResponse(
    Guid ProductId, bool HasActiveGrant, AccessLevel? HighestLevel, IReadOnlyList<AccessGrantResponse> ActiveGrants, Guid? PendingRequestId);

public enum AccessRequestView { Mine = 1, ToApprove = 2, All = 3 }

/// <summary>
/// The body of every <c>access.request.*</c> and <c>access.grant.revoked</c> outbox event. <c>recipient_ids</c>
/// are who should hear of it: the approvers for submitted / reminder, the requester for the outcomes.
/// </summary>
public sealed record AccessEventPayload(
    Guid RequestId, Guid SpaceId, Guid RequesterId, AccessTargetKind TargetKind, Guid? ProductId, Guid? ConnectorId,
    string? RoleName, string TargetName, AccessLevel AccessLevel, AccessRequestStatus Status, IReadOnlyList<Guid> RecipientIds,
    Guid? ActorId, string? Comment, Guid? GrantId, DateTimeOffset? EndsAt, DateTimeOffset ExpiresAt, GrantEndReason? EndReason = null);

public sealed class SubmitAccessRequestValidator : AbstractValidator<SubmitAccessRequest>
{
    public SubmitAccessRequestValidator()
    {
        RuleFor(x => x.Justification).Name(AccessRules.JustificationMax);
        RuleFor(x => x.AccessLevel).IsInEnum();
        RuleFor(x => x.ProductId).NotNull().When(x => x.ConnectorId is null)
            .WithMessage("give product_id, or connector_id with role_name").WithErrorCode("missing");
        RuleFor(x => x.ConnectorId).Null().When(x => x.ProductId is not null)
            .WithMessage("give either product_id or connector_id, not both").WithErrorCode("value_error");
        RuleFor(x => x.RoleName!).Name(AccessRules.RoleNameMax).When(x => x.ConnectorId is not null && x.ProductId is null);
        RuleFor(x => x.RoleName).Null().When(x => x.ProductId is not null)
            .WithMessage("a role applies to a connector's source, not to a product").WithErrorCode("value_error");
        RuleFor(x => x.DurationDays).Null().When(x => x.EndsAt is not null)
            .WithMessage("give ends_at or duration_days, not both").WithErrorCode("value_error");
    }
}

public sealed class AccessDecisionRequestValidator : AbstractValidator<AccessDecisionRequest>
{
    public AccessDecisionRequestValidator()
    {
        RuleFor(x => x.Comment!).MaximumLength(AccessRules.CommentMax).WithErrorCode("string_too_long")
            .WithMessage($"must be at most {AccessRules.CommentMax} characters").When(x => x.Comment is not null);
    }
}

public sealed class RevokeGrantRequestValidator : AbstractValidator<RevokeGrantRequest>
{
    public RevokeGrantRequestValidator()
    {
        RuleFor(x => x.Comment!).MaximumLength(AccessRules.CommentMax).WithErrorCode("string_too_long")
            .WithMessage($"must be at most {AccessRules.CommentMax} characters").When(x => x.Comment is not null);
    }
}
