using Microsoft.EntityFrameworkCore;
using Qarion.Core.Common;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Catalog;

/// <summary>Lookups and writes shared by the catalog services.</summary>
public sealed class CatalogSupport(QarionDbContext db)
{
    /// <summary>A product of the space by id or slug (slugs can never look like UUIDs), or 404.</summary>
    public async Task<DataProduct> FindProductAsync(SpaceContext space, string idOrSlug, CancellationToken ct)
        => await ByKey(db.Products, space, idOrSlug).SingleOrDefaultAsync(ct)
           ?? throw new NotFoundException("Data product", idOrSlug);

    public async Task<Guid> FindProductIdAsync(SpaceContext space, string idOrSlug, CancellationToken ct)
        => await ByKey(db.Products.AsNoTracking(), space, idOrSlug).Select(p => (Guid?)p.Id).SingleOrDefaultAsync(ct)
           ?? throw new NotFoundException("Data product", idOrSlug);

    private static IQueryable<DataProduct> ByKey(IQueryable<DataProduct> products, SpaceContext space, string idOrSlug)
    {
        products = products.Where(p => p.SpaceId == space.SpaceId);
        return Guid.TryParse(idOrSlug, out var id) ? products.Where(p => p.Id == id) : products.Where(p => p.Slug == idOrSlug);
    }

    /// <summary>Saves and refreshes the search documents of <paramref name="productIds"/> in one transaction.</summary>
    public async Task SaveAndIndexAsync(IReadOnlyCollection<Guid> productIds, CancellationToken ct, string duplicateMessage = "A resource with the same unique key already exists.")
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.SaveOrConflictAsync(ct, duplicateMessage);
        await RefreshSearchAsync(productIds, ct);
        await tx.CommitAsync(ct);
    }

    public async Task RefreshSearchAsync(IReadOnlyCollection<Guid> productIds, CancellationToken ct)
    {
        if (productIds.Count == 0) return;
        var ids = productIds.ToArray();
        await db.Database.ExecuteSqlAsync($"SELECT qarion_refresh_product_search({ids})", ct);
    }

    /// <summary>Checks that each named governance user is a member of the space (422 naming the field otherwise).</summary>
    public async Task RequireMembersAsync(SpaceContext space, IEnumerable<(string Field, Guid? UserId)> users, CancellationToken ct)
    {
        var wanted = users.Where(u => u.UserId is not null).ToList();
        if (wanted.Count == 0) return;
        var ids = wanted.Select(u => u.UserId!.Value).Distinct().ToList();
        var members = await db.SpaceMemberships.AsNoTracking()
            .Where(m => m.SpaceId == space.SpaceId && ids.Contains(m.UserId))
            .Select(m => m.UserId).ToListAsync(ct);
        var errors = wanted.Where(u => !members.Contains(u.UserId!.Value))
            .Select(u => new FieldError(["body", u.Field], "must be a member of the space", "not_a_member")).ToList();
        if (errors.Count > 0) throw new RequestValidationException(errors);
    }

    /// <summary>Built-in types and the space's custom ones.</summary>
    public async Task RequireProductTypeAsync(SpaceContext space, string type, CancellationToken ct)
    {
        if (ProductTypes.IsBuiltIn(type)) return;
        if (!await db.CustomProductTypes.AnyAsync(t => t.SpaceId == space.SpaceId && t.Name == type, ct))
            throw RequestValidationException.For("body", "product_type", $"unknown product type '{type}'; see GET …/product-types", "unknown_product_type");
    }

    /// <summary>Tag ids of the space, each checked (422 at its index otherwise).</summary>
    public async Task<List<Guid>> RequireTagsAsync(SpaceContext space, IReadOnlyList<Guid> tagIds, string field, CancellationToken ct)
    {
        var distinct = tagIds.Distinct().ToList();
        var found = await db.Tags.AsNoTracking().Where(t => t.SpaceId == space.SpaceId && distinct.Contains(t.Id)).Select(t => t.Id).ToListAsync(ct);
        var errors = tagIds.Select((id, i) => (id, i)).Where(x => !found.Contains(x.id))
            .Select(x => new FieldError(["body", field, x.i], "unknown tag in this space", "unknown_tag")).ToList();
        if (errors.Count > 0) throw new RequestValidationException(errors);
        return distinct;
    }

    /// <summary>Tags by name, created when missing (case-insensitive match on existing names).</summary>
    public async Task<List<Guid>> FindOrCreateTagsAsync(SpaceContext space, IEnumerable<string> names, CancellationToken ct)
    {
        var wanted = names.Select(n => n.Trim()).Where(n => n.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (wanted.Count == 0) return [];
        var lowered = wanted.Select(n => n.ToLowerInvariant()).ToList();
        var existing = await db.Tags.Where(t => t.SpaceId == space.SpaceId && lowered.Contains(t.Name.ToLower()))
            .Select(t => new { t.Id, t.Name }).ToListAsync(ct);
        var ids = existing.Select(t => t.Id).ToList();
        foreach (var name in wanted.Where(n => !existing.Any(e => string.Equals(e.Name, n, StringComparison.OrdinalIgnoreCase))))
        {
            var tag = new Tag { SpaceId = space.SpaceId, Name = name };
            db.Tags.Add(tag);
            ids.Add(tag.Id);
        }
        return ids;
    }
}
