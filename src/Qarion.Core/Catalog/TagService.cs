using Microsoft.EntityFrameworkCore;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Catalog;

/// <summary>
/// A space's tag library (Admins curate it: create, rename, delete) and tagging (Editors attach and detach,
/// and may create a missing tag inline by name).
/// </summary>
public sealed class TagService(QarionDbContext db, SpaceAccess access, CatalogSupport catalog, TimeProvider clock)
{
    public async Task<Paged<TagResponse>> ListAsync(string spaceSlug, string? search, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var tags = db.Tags.AsNoTracking().Where(t => t.SpaceId == space.SpaceId);
        if (!string.IsNullOrWhiteSpace(search))
            tags = tags.Where(t => EF.Functions.ILike(t.Name, Text.ContainsPattern(search.Trim()), "\\"));
        return await tags.OrderBy(t => t.Name).ThenBy(t => t.Id)
            .Select(t => new TagResponse(t.Id, t.Name, t.Description, t.Color, t.Products.Count, t.CreatedAt, t.UpdatedAt, t.Version))
            .ToPageAsync(page, ct);
    }

    public async Task<TagResponse> CreateAsync(string spaceSlug, CreateTagRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var name = request.Name.Trim();
        await RequireFreeNameAsync(space, name, null, ct);
        var tag = new Tag { SpaceId = space.SpaceId, Name = name, Description = request.Description, Color = request.Color };
        db.Tags.Add(tag);
        await db.SaveOrConflictAsync(ct, $"A tag named '{name}' already exists in this space.");
        return await GetAsync(tag.Id, ct);
    }

    public async Task<TagResponse> UpdateAsync(string spaceSlug, Guid tagId, UpdateTagRequest request, uint? ifMatch, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var tag = await db.Tags.SingleOrDefaultAsync(t => t.Id == tagId && t.SpaceId == space.SpaceId, ct)
                  ?? throw new NotFoundException("Tag", tagId.ToString());
        Concurrency.ExpectVersion(db, tag, ifMatch ?? request.Version);
        var renamed = request.Name.IsSet && request.Name.Value.Trim() != tag.Name;
        if (renamed) await RequireFreeNameAsync(space, request.Name.Value.Trim(), tag.Id, ct);
        tag.Name = request.Name.Or(tag.Name).Trim();
        tag.Description = request.Description.Or(tag.Description);
        tag.Color = request.Color.Or(tag.Color);
        var tagged = renamed ? await db.ProductTags.Where(pt => pt.TagId == tag.Id).Select(pt => pt.ProductId).ToListAsync(ct) : [];
        await catalog.SaveAndIndexAsync(tagged, ct, $"A tag named '{tag.Name}' already exists in this space.");
        return await GetAsync(tag.Id, ct);
    }

    public async Task DeleteAsync(string spaceSlug, Guid tagId, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var tag = await db.Tags.SingleOrDefaultAsync(t => t.Id == tagId && t.SpaceId == space.SpaceId, ct)
                  ?? throw new NotFoundException("Tag", tagId.ToString());
        var tagged = await db.ProductTags.Where(pt => pt.TagId == tag.Id).Select(pt => pt.ProductId).ToListAsync(ct);
        db.Tags.Remove(tag);
        await catalog.SaveAndIndexAsync(tagged, ct);
    }

    /// <summary>Attaches an existing tag (by id) or a tag by name, created if the space has none of that name.</summary>
    public async Task<IReadOnlyList<TagRef>> AttachAsync(string spaceSlug, string productKey, AttachTagRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var product = await catalog.FindProductAsync(space, productKey, ct);
        var tagId = request.TagId is { } id
            ? (await catalog.RequireTagsAsync(space, [id], "tag_id", ct))[0]
            : (await catalog.FindOrCreateTagsAsync(space, [request.Name!], ct))[0];
        if (!await db.ProductTags.AnyAsync(pt => pt.ProductId == product.Id && pt.TagId == tagId, ct))
        {
            db.ProductTags.Add(new ProductTag { ProductId = product.Id, TagId = tagId, CreatedAt = clock.GetUtcNow() });
            db.Entry(product).Property(p => p.UpdatedAt).IsModified = true;
            await catalog.SaveAndIndexAsync([product.Id], ct);
        }
        return await TagsOfAsync(product.Id, ct);
    }

    public async Task DetachAsync(string spaceSlug, string productKey, Guid tagId, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var product = await catalog.FindProductAsync(space, productKey, ct);
        var link = await db.ProductTags.SingleOrDefaultAsync(pt => pt.ProductId == product.Id && pt.TagId == tagId, ct)
                   ?? throw new NotFoundException("Tag on this product", tagId.ToString());
        db.ProductTags.Remove(link);
        db.Entry(product).Property(p => p.UpdatedAt).IsModified = true;
        await catalog.SaveAndIndexAsync([product.Id], ct);
    }

    private async Task RequireFreeNameAsync(SpaceContext space, string name, Guid? except, CancellationToken ct)
    {
        var lowered = name.ToLowerInvariant();
        if (await db.Tags.AnyAsync(t => t.SpaceId == space.SpaceId && t.Name.ToLower() == lowered && t.Id != except, ct))
            throw new ConflictException($"A tag named '{name}' already exists in this space.", "duplicate");
    }

    private Task<List<TagRef>> TagsOfAsync(Guid productId, CancellationToken ct) => db.ProductTags.AsNoTracking()
        .Where(pt => pt.ProductId == productId).OrderBy(pt => pt.Tag.Name)
        .Select(pt => new TagRef(pt.TagId, pt.Tag.Name, pt.Tag.Color)).ToListAsync(ct);

    private Task<TagResponse> GetAsync(Guid id, CancellationToken ct) => db.Tags.AsNoTracking().Where(t => t.Id == id)
        .Select(t => new TagResponse(t.Id, t.Name, t.Description, t.Color, t.Products.Count, t.CreatedAt, t.UpdatedAt, t.Version))
        .SingleAsync(ct);
}

public sealed class ProductTypeService(QarionDbContext db, SpaceAccess access)
{
    public async Task<IReadOnlyList<ProductTypeResponse>> ListAsync(string spaceSlug, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var usage = await db.Products.AsNoTracking().Where(p => p.SpaceId == space.SpaceId)
            .GroupBy(p => p.ProductType).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        var custom = await db.CustomProductTypes.AsNoTracking().Where(t => t.SpaceId == space.SpaceId)
            .OrderBy(t => t.Name).Select(t => new { t.Name, t.Description }).ToListAsync(ct);
        return ProductTypes.BuiltIn.Select(n => new ProductTypeResponse(n, true, null, usage.GetValueOrDefault(n)))
            .Concat(custom.Select(t => new ProductTypeResponse(t.Name, false, t.Description, usage.GetValueOrDefault(t.Name))))
            .ToList();
    }

    public async Task<ProductTypeResponse> CreateAsync(string spaceSlug, CreateProductTypeRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        if (ProductTypes.IsBuiltIn(request.Name))
            throw new ConflictException($"'{request.Name}' is a built-in product type.", "duplicate");
        db.CustomProductTypes.Add(new CustomProductType { SpaceId = space.SpaceId, Name = request.Name, Description = request.Description });
        await db.SaveOrConflictAsync(ct, $"The product type '{request.Name}' already exists in this space.");
        return new ProductTypeResponse(request.Name, false, request.Description, 0);
    }

    public async Task DeleteAsync(string spaceSlug, string name, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var type = await db.CustomProductTypes.SingleOrDefaultAsync(t => t.SpaceId == space.SpaceId && t.Name == name, ct)
                   ?? throw new NotFoundException("Custom product type", name);
        if (await db.Products.AnyAsync(p => p.SpaceId == space.SpaceId && p.ProductType == name, ct))
            throw new ConflictException($"Products still use the type '{name}'.", "in_use");
        db.CustomProductTypes.Remove(type);
        await db.SaveChangesAsync(ct);
    }
}
