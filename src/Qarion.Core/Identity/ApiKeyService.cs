using Microsoft.EntityFrameworkCore;
using Qarion.Core.Common;
using Qarion.Core.Persistence;

namespace Qarion.Core.Identity;

public sealed class ApiKeyService(QarionDbContext db, CurrentUser me, TimeProvider clock)
{
    /// <summary>Creates a key for the caller. The secret is in the response and nowhere else.</summary>
    public async Task<ApiKeyCreatedResponse> CreateAsync(CreateApiKeyRequest request, CancellationToken ct)
        => await IssueAsync(db, me.RequireId(), request.Name.Trim(), request.ExpiresAt, ct);

    /// <summary>Adds a key to the context and saves. Shared with bootstrap, which issues the first admin's key.</summary>
    internal static async Task<ApiKeyCreatedResponse> IssueAsync(QarionDbContext db, Guid userId, string name, DateTimeOffset? expiresAt, CancellationToken ct)
    {
        var token = ApiKeyTokens.NewToken();
        var key = new ApiKey
        {
            UserId = userId,
            Name = name,
            Prefix = ApiKeyTokens.PrefixOf(token),
            SecretHash = ApiKeyTokens.Hash(token),
            CreatedAt = db.Clock.GetUtcNow(),
            ExpiresAt = expiresAt?.ToUniversalTime(),
        };
        db.ApiKeys.Add(key);
        await db.SaveOrConflictAsync(ct);
        return new ApiKeyCreatedResponse(key.Id, key.Name, key.Prefix, token, key.CreatedAt, key.ExpiresAt, userId);
    }

    /// <summary>The caller's keys, newest first; a superadmin may pass another user's id.</summary>
    public async Task<Paged<ApiKeyResponse>> ListAsync(Guid? userId, bool includeRevoked, PageRequest page, CancellationToken ct)
    {
        var owner = ResolveOwner(userId);
        var query = db.ApiKeys.AsNoTracking().Where(k => k.UserId == owner);
        if (!includeRevoked) query = query.Where(k => k.RevokedAt == null);
        return await query
            .OrderByDescending(k => k.CreatedAt).ThenByDescending(k => k.Id)
            .Select(k => new ApiKeyResponse(k.Id, k.Name, k.Prefix, k.CreatedAt, k.ExpiresAt, k.LastUsedAt, k.RevokedAt, k.UserId))
            .ToPageAsync(page, ct);
    }

    /// <summary>Revokes at once (every request re-reads the key). Revoking twice is harmless.</summary>
    public async Task RevokeAsync(Guid id, CancellationToken ct)
    {
        var caller = me.RequireId();
        var now = clock.GetUtcNow();
        var key = await db.ApiKeys.SingleOrDefaultAsync(k => k.Id == id && (k.UserId == caller || me.IsSuperadmin), ct)
                  ?? throw new NotFoundException("API key", id.ToString());
        key.RevokedAt ??= now;
        await db.SaveChangesAsync(ct);
    }

    private Guid ResolveOwner(Guid? userId)
    {
        var caller = me.RequireId();
        if (userId is null || userId == caller) return caller;
        if (!me.IsSuperadmin) throw new NotFoundException("User", userId.ToString());
        return userId.Value;
    }
}
