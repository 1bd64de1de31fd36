using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qarion.Core.Common;
using Qarion.Core.Persistence;

namespace Qarion.Core.Identity;

/// <summary>Turns an <c>Authorization</c> header into a user, or throws <see cref="UnauthorizedException"/>.</summary>
public sealed class Authenticator(
    QarionDbContext db,
    TimeProvider clock,
    OidcTokenValidator oidc,
    IOptions<AuthOptions> options,
    ILogger<Authenticator> logger)
{
    public async Task<AuthenticatedUser> AuthenticateAsync(string? authorization, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(authorization))
            throw new UnauthorizedException("Authentication is required: send 'Authorization: Bearer <api key or token>'.", error: null);
        const string bearer = "Bearer ";
        if (!authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) || authorization.Length <= bearer.Length)
            throw new UnauthorizedException("The Authorization header must use the Bearer scheme.", "invalid_request");
        var token = authorization[bearer.Length..].Trim();

        if (token.StartsWith(ApiKeyTokens.Scheme, StringComparison.Ordinal))
            return await FromApiKeyAsync(token, ct);
        if (oidc.Enabled && token.Count(c => c == '.') == 2)
            return await FromJwtAsync(token, ct);
        throw new UnauthorizedException("The bearer token is not valid.");
    }

    private async Task<AuthenticatedUser> FromApiKeyAsync(string token, CancellationToken ct)
    {
        if (!ApiKeyTokens.LooksLikeApiKey(token)) throw new UnauthorizedException("The API key is not valid.");
        var prefix = ApiKeyTokens.PrefixOf(token);
        var key = await db.ApiKeys.AsNoTracking()
            .Where(k => k.Prefix == prefix)
            .Select(k => new
            {
                k.Id, k.SecretHash, k.ExpiresAt, k.RevokedAt, k.LastUsedAt,
                k.UserId, k.User.Email, k.User.DisplayName, k.User.IsSuperadmin, k.User.IsActive,
            })
            .SingleOrDefaultAsync(ct);
        // One message for every failure, so a caller cannot tell a revoked key from an unknown one.
        if (key is null || !ApiKeyTokens.Matches(token, key.SecretHash))
            throw new UnauthorizedException("The API key is not valid.");
        var now = clock.GetUtcNow();
        if (key.RevokedAt is not null || key.ExpiresAt <= now || !key.IsActive)
            throw new UnauthorizedException("The API key is not valid.");

        var resolution = TimeSpan.FromSeconds(options.Value.ApiKeyLastUsedResolutionSeconds);
        if (key.LastUsedAt is null || key.LastUsedAt < now - resolution)
        {
            var threshold = now - resolution;
            await db.ApiKeys
                .Where(k => k.Id == key.Id && (k.LastUsedAt == null || k.LastUsedAt < threshold))
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), ct);
        }
        return new AuthenticatedUser(key.UserId, key.Email, key.DisplayName, key.IsSuperadmin, AuthMethod.ApiKey, key.Id);
    }

    private async Task<AuthenticatedUser> FromJwtAsync(string token, CancellationToken ct)
    {
        var identity = await oidc.ValidateAsync(token, ct) ?? throw new UnauthorizedException("The bearer token is not valid.");
        var user = await db.Users.AsNoTracking()
            .Where(u => u.ExternalIssuer == identity.Issuer && u.ExternalSubject == identity.Subject)
            .Select(u => new { u.Id, u.Email, u.DisplayName, u.IsSuperadmin, u.IsActive })
            .SingleOrDefaultAsync(ct);
        if (user is { IsActive: false }) throw new UnauthorizedException("The user is deactivated.");
        if (user is not null) return new AuthenticatedUser(user.Id, user.Email, user.DisplayName, user.IsSuperadmin, AuthMethod.Jwt);
        return await LinkOrProvisionAsync(identity, ct);
    }

    private async Task<AuthenticatedUser> LinkOrProvisionAsync(ExternalIdentity identity, CancellationToken ct)
    {
        var email = identity.Email?.Trim().ToLowerInvariant();
        // Identities that do not fit the columns are refused, not truncated: a cut subject could collide.
        if (identity.Subject.Length > 255 || identity.Issuer.Length > 500 || email is { Length: > 320 }
            || Text.HasForbiddenControlCharacter(identity.Subject) || Text.HasForbiddenControlCharacter(email))
            throw new UnauthorizedException("The token's identity claims are too long or malformed.");

        // Link to an existing local user only on a verified email: an unverified claim could take over an account.
        if (email is not null && identity.EmailVerified)
        {
            var existing = await db.Users.SingleOrDefaultAsync(u => u.Email == email && u.ExternalSubject == null, ct);
            if (existing is not null)
            {
                if (!existing.IsActive) throw new UnauthorizedException("The user is deactivated.");
                existing.ExternalIssuer = identity.Issuer;
                existing.ExternalSubject = identity.Subject;
                await db.SaveChangesAsync(ct);
                return new AuthenticatedUser(existing.Id, existing.Email, existing.DisplayName, existing.IsSuperadmin, AuthMethod.Jwt);
            }
        }
        if (!options.Value.Oidc.AutoProvisionUsers || email is null)
            throw new UnauthorizedException("This identity has no Qarion user; ask an administrator to add you.");

        var name = string.IsNullOrWhiteSpace(identity.Name) || Text.HasForbiddenControlCharacter(identity.Name) ? email : identity.Name!.Trim();
        var user = new User
        {
            Email = email,
            DisplayName = name.Length > 200 ? name[..200] : name,
            ExternalIssuer = identity.Issuer,
            ExternalSubject = identity.Subject,
        };
        db.Users.Add(user);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            db.Entry(user).State = EntityState.Detached;
            // Several first requests of one new user race; the one that lost finds the winner's row.
            var winner = await db.Users.AsNoTracking()
                .Where(u => u.ExternalIssuer == identity.Issuer && u.ExternalSubject == identity.Subject && u.IsActive)
                .Select(u => new AuthenticatedUser(u.Id, u.Email, u.DisplayName, u.IsSuperadmin, AuthMethod.Jwt, null))
                .SingleOrDefaultAsync(ct);
            if (winner is not null) return winner;
            logger.LogWarning("SSO sign-in for {Subject} collides with an existing user's email", identity.Subject);
            throw new UnauthorizedException("This identity's email belongs to another user; ask an administrator to link it.");
        }
        logger.LogInformation("Provisioned user {UserId} from SSO subject {Subject}", user.Id, identity.Subject);
        return new AuthenticatedUser(user.Id, user.Email, user.DisplayName, false, AuthMethod.Jwt);
    }
}
