namespace Qarion.Core.Identity;

/// <summary>Configuration section <c>Qarion:Auth</c>.</summary>
public sealed class AuthOptions
{
    public const string Section = "Qarion:Auth";

    /// <summary>One-time secret that allows <c>POST /api/v1/bootstrap</c> while no superadmin exists. Empty disables it.</summary>
    public string? BootstrapToken { get; set; }

    /// <summary>How stale <c>api_keys.last_used_at</c> may get before a request refreshes it (limits writes on hot keys).</summary>
    public int ApiKeyLastUsedResolutionSeconds { get; set; } = 60;

    public OidcOptions Oidc { get; set; } = new();
}

/// <summary>Optional SSO: JWT bearer tokens from an OpenID Connect issuer. Off while <see cref="Authority"/> is empty.</summary>
public sealed class OidcOptions
{
    /// <summary>Issuer URL; its <c>/.well-known/openid-configuration</c> names the signing keys.</summary>
    public string? Authority { get; set; }
    public string? Audience { get; set; }
    /// <summary>Only for local development and tests against an http:// issuer.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;
    /// <summary>Create a user on first sign-in (no memberships, not superadmin).</summary>
    public bool AutoProvisionUsers { get; set; } = true;
    public int ClockSkewSeconds { get; set; } = 120;

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority);
}
