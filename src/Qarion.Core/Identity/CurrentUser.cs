using Qarion.Core.Common;

namespace Qarion.Core.Identity;

public enum AuthMethod
{
    None,
    ApiKey,
    Jwt,
    /// <summary>Background work (timers, queues, orchestrations) acting for the platform.</summary>
    System,
}

/// <summary>Who is calling. Scoped per invocation; filled once by the worker middleware, read by services.</summary>
public sealed class CurrentUser
{
    public Guid? Id { get; private set; }
    public string? Email { get; private set; }
    public string? DisplayName { get; private set; }
    public bool IsSuperadmin { get; private set; }
    public AuthMethod Method { get; private set; } = AuthMethod.None;
    public Guid? ApiKeyId { get; private set; }

    public bool IsAuthenticated => Id is not null;

    public void SignIn(AuthenticatedUser user)
    {
        if (Method != AuthMethod.None) throw new InvalidOperationException("The current user is already set for this invocation.");
        Id = user.UserId;
        Email = user.Email;
        DisplayName = user.DisplayName;
        IsSuperadmin = user.IsSuperadmin;
        Method = user.Method;
        ApiKeyId = user.ApiKeyId;
    }

    public Guid RequireId() => Id ?? throw new UnauthorizedException("Authentication is required.", error: null);

    public void RequireSuperadmin()
    {
        RequireId();
        if (!IsSuperadmin) throw new ForbiddenException("Only a platform superadmin may do this.");
    }
}

public sealed record AuthenticatedUser(Guid UserId, string Email, string DisplayName, bool IsSuperadmin, AuthMethod Method, Guid? ApiKeyId = null);
