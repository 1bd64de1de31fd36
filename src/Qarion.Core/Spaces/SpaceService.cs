using Microsoft.EntityFrameworkCore;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Persistence;

namespace Qarion.Core.Spaces;

public sealed class SpaceService(QarionDbContext db, CurrentUser me, SpaceAccess access)
{
    /// <summary>Superadmins create spaces; the creator becomes the space's first Admin.</summary>
    public async Task<SpaceResponse> CreateAsync(CreateSpaceRequest request, CancellationToken ct)
    {
        me.RequireSuperadmin();
        var space = new Space
        {
            Slug = request.Slug,
            Name = request.Name.Trim(),
            Description = request.Description,
        };
        db.Spaces.Add(space);
        db.SpaceMemberships.Add(new SpaceMembership { Space = space, UserId = me.RequireId(), Role = SpaceRole.Admin });
        await db.SaveOrConflictAsync(ct, $"A space with slug '{request.Slug}' already exists.");
        return await GetByIdAsync(space.Id, ct);
    }

    /// <summary>The spaces the caller is a member of; a superadmin sees every space.</summary>
    public async Task<Paged<SpaceResponse>> ListAsync(PageRequest page, CancellationToken ct)
    {
        var userId = me.RequireId();
        var query = db.Spaces.AsNoTracking();
        if (!me.IsSuperadmin) query = query.Where(s => s.Memberships.Any(m => m.UserId == userId));
        return await Project(query.OrderBy(s => s.Slug).ThenBy(s => s.Id)).ToPageAsync(page, ct);
    }

    public async Task<SpaceResponse> GetAsync(string slug, CancellationToken ct)
    {
        var space = await access.RequireAsync(slug, SpaceRole.Viewer, ct);
        return await GetByIdAsync(space.SpaceId, ct);
    }

    public async Task<SpaceResponse> UpdateAsync(string slug, UpdateSpaceRequest request, uint? ifMatch, CancellationToken ct)
    {
        var context = await access.RequireAsync(slug, SpaceRole.Admin, ct);
        var space = await db.Spaces.SingleAsync(s => s.Id == context.SpaceId, ct);
        Concurrency.ExpectVersion(db, space, ifMatch ?? request.Version);
        space.Slug = request.Slug.Or(space.Slug);
        space.Name = request.Name.Or(space.Name).Trim();
        space.Description = request.Description.Or(space.Description);
        await db.SaveOrConflictAsync(ct, $"A space with slug '{space.Slug}' already exists.");
        access.Reset();
        return await GetByIdAsync(space.Id, ct);
    }

    /// <summary>Deletes the space and everything in it. Space Admins and superadmins only.</summary>
    public async Task DeleteAsync(string slug, uint? ifMatch, CancellationToken ct)
    {
        var context = await access.RequireAsync(slug, SpaceRole.Admin, ct);
        var space = await db.Spaces.SingleAsync(s => s.Id == context.SpaceId, ct);
        Concurrency.ExpectVersion(db, space, ifMatch);
        db.Spaces.Remove(space);
        await db.SaveOrConflictAsync(ct);
        access.Reset();
    }

    private async Task<SpaceResponse> GetByIdAsync(Guid id, CancellationToken ct)
        => await Project(db.Spaces.AsNoTracking().Where(s => s.Id == id)).SingleAsync(ct);

    private IQueryable<SpaceResponse> Project(IQueryable<Space> query)
    {
        var userId = me.RequireId();
        return query.Select(s => new SpaceResponse(
            s.Id, s.Slug, s.Name, s.Description,
            s.Memberships.Where(m => m.UserId == userId).Select(m => (SpaceRole?)m.Role).FirstOrDefault(),
            s.Memberships.Count,
            s.CreatedAt, s.UpdatedAt, s.Version));
    }
}
