using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Common;
using Qarion.Core.Persistence;

namespace Qarion.Core.Identity;

public sealed class UserService(QarionDbContext db, CurrentUser me)
{
    internal static readonly Expression<Func<User, UserResponse>> ToResponse = u => new UserResponse(
        u.Id, u.Email, u.DisplayName, u.IsSuperadmin, u.IsActive, u.ExternalSubject != null,
        u.CreatedAt, u.UpdatedAt, u.Version);

    public async Task<MeResponse> GetMeAsync(CancellationToken ct)
    {
        var id = me.RequireId();
        var spaces = await db.SpaceMemberships.AsNoTracking()
            .Where(m => m.UserId == id)
            .OrderBy(m => m.Space.Slug)
            .Select(m => new MembershipSummary(m.SpaceId, m.Space.Slug, m.Space.Name, m.Role))
            .ToListAsync(ct);
        return new MeResponse(id, me.Email!, me.DisplayName!, me.IsSuperadmin, me.Method, me.ApiKeyId, spaces);
    }

    public async Task<UserResponse> CreateAsync(CreateUserRequest request, CancellationToken ct)
    {
        me.RequireSuperadmin();
        var user = new User
        {
            Email = NormalizeEmail(request.Email),
            DisplayName = request.DisplayName.Trim(),
            IsSuperadmin = request.IsSuperadmin,
        };
        db.Users.Add(user);
        await db.SaveOrConflictAsync(ct, $"A user with email '{user.Email}' already exists.");
        return await GetAsync(user.Id, ct);
    }

    public async Task<Paged<UserResponse>> ListAsync(string? search, PageRequest page, CancellationToken ct)
    {
        me.RequireSuperadmin();
        var query = db.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(search))
        {
            var pattern = Text.ContainsPattern(search.Trim());
            query = query.Where(u => EF.Functions.ILike(u.Email, pattern, "\\") || EF.Functions.ILike(u.DisplayName, pattern, "\\"));
        }
        return await query.OrderBy(u => u.Email).ThenBy(u => u.Id).Select(ToResponse).ToPageAsync(page, ct);
    }

    /// <summary>Users see themselves; superadmins see everyone; anyone else is "not found".</summary>
    public async Task<UserResponse> GetAsync(Guid id, CancellationToken ct)
    {
        var caller = me.RequireId();
        if (id != caller && !me.IsSuperadmin) throw new NotFoundException("User", id.ToString());
        return await db.Users.AsNoTracking().Where(u => u.Id == id).Select(ToResponse).SingleOrDefaultAsync(ct)
               ?? throw new NotFoundException("User", id.ToString());
    }

    public async Task<UserResponse> UpdateAsync(Guid id, UpdateUserRequest request, uint? ifMatch, CancellationToken ct)
    {
        me.RequireSuperadmin();
        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == id, ct) ?? throw new NotFoundException("User", id.ToString());
        Concurrency.ExpectVersion(db, user, ifMatch ?? request.Version);

        user.DisplayName = request.DisplayName.Or(user.DisplayName).Trim();
        var losesAdmin = (request.IsSuperadmin.IsSet && !request.IsSuperadmin.Value) || (request.IsActive.IsSet && !request.IsActive.Value);
        if (user.IsSuperadmin && losesAdmin)
        {
            var others = await db.Users.CountAsync(u => u.Id != id && u.IsSuperadmin && u.IsActive, ct);
            if (others == 0) throw new ConflictException("The last active superadmin cannot be demoted or deactivated.", "last_superadmin");
        }
        user.IsSuperadmin = request.IsSuperadmin.Or(user.IsSuperadmin);
        user.IsActive = request.IsActive.Or(user.IsActive);
        await db.SaveOrConflictAsync(ct);
        return await db.Users.AsNoTracking().Where(u => u.Id == id).Select(ToResponse).SingleAsync(ct);
    }

    public static string NormalizeEmail(string email) => email.Trim().ToLowerInvariant();
}
