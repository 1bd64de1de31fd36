using FluentValidation;
using Qarion.Core.Common;

namespace Qarion.Core.Spaces;

public sealed record SpaceResponse(
    Guid Id, string Slug, string Name, string? Description, SpaceRole? MyRole, int MemberCount,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, uint Version);

public sealed record CreateSpaceRequest
{
    public required string Slug { get; init; }
    public required string Name { get; init; }
    public string? Description { get; init; }
}

public sealed class CreateSpaceRequestValidator : AbstractValidator<CreateSpaceRequest>
{
    public CreateSpaceRequestValidator()
    {
        RuleFor(x => x.Slug).Slug();
        RuleFor(x => x.Name).Name();
        RuleFor(x => x.Description).MaximumLength(Validation.DescriptionMaxLength);
    }
}

public sealed record UpdateSpaceRequest
{
    public Optional<string> Slug { get; init; }
    public Optional<string> Name { get; init; }
    public Optional<string?> Description { get; init; }
    /// <summary>The version the client last read; a stale one gives 409. Also accepted as <c>If-Match</c>.</summary>
    public uint? Version { get; init; }
}

public sealed class UpdateSpaceRequestValidator : AbstractValidator<UpdateSpaceRequest>
{
    public UpdateSpaceRequestValidator()
    {
        When(x => x.Slug.IsSet, () => RuleFor(x => x.Slug.Value).Slug().OverridePropertyName("Slug"));
        When(x => x.Name.IsSet, () => RuleFor(x => x.Name.Value).Name().OverridePropertyName("Name"));
        When(x => x.Description.IsSet, () => RuleFor(x => x.Description.Value)
            .MaximumLength(Validation.DescriptionMaxLength).OverridePropertyName("Description"));
    }
}

public sealed record MemberResponse(Guid UserId, string Email, string DisplayName, SpaceRole Role, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record AddMemberRequest
{
    /// <summary>Either <see cref="UserId"/> or <see cref="Email"/> of an existing user.</summary>
    public Guid? UserId { get; init; }
    public string? Email { get; init; }
    public required SpaceRole Role { get; init; }
}

public sealed class AddMemberRequestValidator : AbstractValidator<AddMemberRequest>
{
    public AddMemberRequestValidator()
    {
        RuleFor(x => x).Must(x => (x.UserId is null) != (x.Email is null))
            .WithMessage("send exactly one of user_id and email").WithErrorCode("value_error").OverridePropertyName("UserId");
        RuleFor(x => x.Email).MaximumLength(320).EmailAddress().When(x => x.Email is not null);
        RuleFor(x => x.Role).IsInEnum();
    }
}

public sealed record ChangeMemberRoleRequest
{
    public required SpaceRole Role { get; init; }
}

public sealed class ChangeMemberRoleRequestValidator : AbstractValidator<ChangeMemberRoleRequest>
{
    public ChangeMemberRoleRequestValidator() => RuleFor(x => x.Role).IsInEnum();
}
