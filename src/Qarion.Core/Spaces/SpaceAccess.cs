using Microsoft.EntityFrameworkCore;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Persistence;

namespace Qarion.Core.Spaces;

/// <summary>The caller's standing in one space, as resolved for this invocation.</summary>
/// <param name="Role">The caller's membership role; superadmins who are not members act as <see cref="SpaceRole.Admin"/> with <c>IsMember</c> false.</param>
public sealed record SpaceContext(Guid SpaceId, string Slug, SpaceRole Role, bool IsMember);

/// <summary>
/// The tenancy gate every space-scoped service goes through: a space the caller is not a member of is
/// "not found" (never "forbidden", which would confirm it exists); a member below the needed role gets 403.
/// </summary>
public sealed class SpaceAccess(QarionDbContext db, CurrentUser me)
{
    private readonly Dictionary<string, SpaceContext?> _resolved = new(StringComparer.Ordinal);

    public async Task<SpaceContext> RequireAsync(string slug, SpaceRole minimum, CancellationToken ct)
    {
        var context = await ResolveAsync(slug, ct) ?? throw new NotFoundException("Space", slug);
        if (context.Role < minimum)
            throw new ForbiddenException($"This needs the {minimum.ToString().ToLowerInvariant()} role in space '{slug}'; you are {context.Role.ToString().ToLowerInvariant()}.");
        return context;
    }

    private async Task<SpaceContext?> ResolveAsync(string slug, CancellationToken ct)
    {
        if (_resolved.TryGetValue(slug, out var cached)) return cached;
        var userId = me.RequireId();
        var row = await db.Spaces.AsNoTracking()
            .Where(s => s.Slug == slug)
            .Select(s => new
            {
                s.Id,
                s.Slug,
                Role = s.Memberships.Where(m => m.UserId == userId).Select(m => (SpaceRole?)m.Role).FirstOrDefault(),
            })
            .SingleOrDefaultAsync(ct);
        SpaceContext? context = row switch
        {
            null => null,
            { Role: { } role } => new SpaceContext(row.Id, row.Slug, me.IsSuperadmin ? SpaceRole.Admin : role, true),
            _ when me.IsSuperadmin => new SpaceContext(row.Id, row.Slug, SpaceRole.Admin, false),
            _ => null,
        };
        _resolved[slug] = context;
        return context;
    }

    /// <summary>Forgets cached answers (after a slug rename or a membership change in the same invocation).</summary>
    public void Reset() => _resolved.Clear();
}
