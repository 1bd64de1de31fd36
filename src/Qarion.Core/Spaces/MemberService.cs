using Microsoft.EntityFrameworkCore;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Persistence;

namespace Qarion.Core.Spaces;

public sealed class MemberService(QarionDbContext db, CurrentUser me, SpaceAccess access)
{
    public async Task<Paged<MemberResponse>> ListAsync(string slug, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(slug, SpaceRole.Viewer, ct);
        return await db.SpaceMemberships.AsNoTracking()
            .Where(m => m.SpaceId == space.SpaceId)
            .OrderBy(m => m.User.Email).ThenBy(m => m.UserId)
            .Select(m => new MemberResponse(m.UserId, m.User.Email, m.User.DisplayName, m.Role, m.CreatedAt, m.UpdatedAt))
            .ToPageAsync(page, ct);
    }

    public async Task<MemberResponse> AddAsync(string slug, AddMemberRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(slug, SpaceRole.Admin, ct);
        var email = request.Email is null ? null : UserService.NormalizeEmail(request.Email);
        var userId = await db.Users.AsNoTracking()
            .Where(u => request.UserId != null ? u.Id == request.UserId : u.Email == email)
            .Select(u => (Guid?)u.Id)
            .SingleOrDefaultAsync(ct)
            ?? throw new RequestValidationException(new FieldError(
                ["body", request.UserId is null ? "email" : "user_id"], "no user with this identity exists", "not_found"));

        db.SpaceMemberships.Add(new SpaceMembership { SpaceId = space.SpaceId, UserId = userId, Role = request.Role });
        await db.SaveOrConflictAsync(ct, "The user is already a member of this space.");
        return await GetAsync(space.SpaceId, userId, ct);
    }

    public async Task<MemberResponse> ChangeRoleAsync(string slug, Guid userId, ChangeMemberRoleRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(slug, SpaceRole.Admin, ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var membership = await LockAsync(space.SpaceId, userId, ct);
        if (membership.Role == SpaceRole.Admin && request.Role != SpaceRole.Admin)
            await EnsureAnotherAdminAsync(space.SpaceId, userId, ct);
        membership.Role = request.Role;
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return await GetAsync(space.SpaceId, userId, ct);
    }

    /// <summary>Admins remove anyone; any member may leave. The last Admin cannot go.</summary>
    public async Task RemoveAsync(string slug, Guid userId, CancellationToken ct)
    {
        var self = userId == me.RequireId();
        var space = await access.RequireAsync(slug, self ? SpaceRole.Viewer : SpaceRole.Admin, ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var membership = await LockAsync(space.SpaceId, userId, ct);
        if (membership.Role == SpaceRole.Admin) await EnsureAnotherAdminAsync(space.SpaceId, userId, ct);
        db.SpaceMemberships.Remove(membership);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        access.Reset();
    }

    /// <summary>
    /// Locks the space's admin rows so two concurrent demotions cannot both see "another admin remains"
    /// and leave the space with none.
    /// </summary>
    private async Task<SpaceMembership> LockAsync(Guid spaceId, Guid userId, CancellationToken ct)
    {
        await db.Database.ExecuteSqlAsync(
            $"SELECT 1 FROM space_memberships WHERE space_id = {spaceId} AND (role = 'admin' OR user_id = {userId}) FOR UPDATE", ct);
        return await db.SpaceMemberships.SingleOrDefaultAsync(m => m.SpaceId == spaceId && m.UserId == userId, ct)
               ?? throw new NotFoundException("Member", userId.ToString());
    }

    private async Task EnsureAnotherAdminAsync(Guid spaceId, Guid userId, CancellationToken ct)
    {
        var others = await db.SpaceMemberships.CountAsync(m => m.SpaceId == spaceId && m.UserId != userId && m.Role == SpaceRole.Admin, ct);
        if (others == 0) throw new ConflictException("A space must keep at least one admin.", "last_admin");
    }

    private Task<MemberResponse> GetAsync(Guid spaceId, Guid userId, CancellationToken ct)
        => db.SpaceMemberships.AsNoTracking()
            .Where(m => m.SpaceId == spaceId && m.UserId == userId)
            .Select(m => new MemberResponse(m.UserId, m.User.Email, m.User.DisplayName, m.Role, m.CreatedAt, m.UpdatedAt))
            .SingleAsync(ct);
}
