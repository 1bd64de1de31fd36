using FluentValidation;
using Qarion.Core.Common;
using Qarion.Core.Spaces;

namespace Qarion.Core.Identity;

public sealed record UserResponse(
    Guid Id, string Email, string DisplayName, bool IsSuperadmin, bool IsActive, bool IsSso,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, uint Version);

public sealed record MembershipSummary(Guid SpaceId, string SpaceSlug, string SpaceName, SpaceRole Role);

public sealed record MeResponse(
    Guid Id, string Email, string DisplayName, bool IsSuperadmin, AuthMethod AuthMethod, Guid? ApiKeyId,
    IReadOnlyList<MembershipSummary> Spaces);

public sealed record CreateUserRequest
{
    public required string Email { get; init; }
    public required string DisplayName { get; init; }
    public bool IsSuperadmin { get; init; }
}

public sealed class CreateUserRequestValidator : AbstractValidator<CreateUserRequest>
{
    public CreateUserRequestValidator()
    {
        RuleFor(x => x.Email).NotEmpty().MaximumLength(320).EmailAddress();
        RuleFor(x => x.DisplayName).Name();
    }
}

public sealed record UpdateUserRequest
{
    public Optional<string> DisplayName { get; init; }
    public Optional<bool> IsSuperadmin { get; init; }
    public Optional<bool> IsActive { get; init; }
    /// <summary>The version the client last read; a stale one gives 409. Also accepted as <c>If-Match</c>.</summary>
    public uint? Version { get; init; }
}

public sealed class UpdateUserRequestValidator : AbstractValidator<UpdateUserRequest>
{
    public UpdateUserRequestValidator()
    {
        When(x => x.DisplayName.IsSet, () => RuleFor(x => x.DisplayName.Value).Name().OverridePropertyName("DisplayName"));
    }
}

public sealed record CreateApiKeyRequest
{
    public required string Name { get; init; }
    /// <summary>Optional end of validity (UTC); must lie in the future.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }
}

public sealed class CreateApiKeyRequestValidator : AbstractValidator<CreateApiKeyRequest>
{
    public CreateApiKeyRequestValidator(TimeProvider clock)
    {
        RuleFor(x => x.Name).Name();
        RuleFor(x => x.ExpiresAt).Must(e => e is null || e > clock.GetUtcNow())
            .WithMessage("must be in the future").WithErrorCode("value_error");
    }
}

public sealed record ApiKeyResponse(
    Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt,
    DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt, Guid UserId);

/// <summary>Returned once, at creation: <see cref="Key"/> is never shown again.</summary>
public sealed record ApiKeyCreatedResponse(
    Guid Id, string Name, string Prefix, string Key, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, Guid UserId);

public sealed record BootstrapRequest
{
    /// <summary>The value of <c>Qarion:Auth:BootstrapToken</c>.</summary>
    public required string Token { get; init; }
    public required string Email { get; init; }
    public required string DisplayName { get; init; }
}

public sealed class BootstrapRequestValidator : AbstractValidator<BootstrapRequest>
{
    public BootstrapRequestValidator()
    {
        RuleFor(x => x.Token).NotEmpty().MaximumLength(500);
        RuleFor(x => x.Email).NotEmpty().MaximumLength(320).EmailAddress();
        RuleFor(x => x.DisplayName).Name();
    }
}

public sealed record BootstrapResponse(UserResponse User, ApiKeyCreatedResponse ApiKey);
