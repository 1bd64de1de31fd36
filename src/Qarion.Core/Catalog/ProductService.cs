using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Outbox;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Catalog;

public sealed record ProductListQuery(
    string? Search = null, IReadOnlyList<Guid>? Tags = null, string? ProductType = null, Guid? OwnerId = null,
    Guid? GovernedBy = null, bool IncludeArchived = false, string Sort = "name");

public sealed class ProductService(QarionDbContext db, CurrentUser me, SpaceAccess access, CatalogSupport catalog, TimeProvider clock)
{
    public static readonly IReadOnlyList<string> SortOptions = ["name", "-name", "updated_at", "-updated_at", "created_at", "-created_at"];

    public async Task<ProductResponse> CreateAsync(string spaceSlug, CreateProductRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        await catalog.RequireProductTypeAsync(space, request.ProductType, ct);
        await catalog.RequireMembersAsync(space, [
            ("owner_id", request.OwnerId), ("steward_id", request.StewardId),
            ("custodian_id", request.CustodianId), ("data_architect_id", request.DataArchitectId)], ct);
        var tagIds = request.TagIds is null ? [] : await catalog.RequireTagsAsync(space, request.TagIds, "tag_ids", ct);
        FieldService.RequireUniqueNames(request.Fields ?? [], "fields");

        var product = new DataProduct
        {
            SpaceId = space.SpaceId,
            Slug = request.Slug,
            Name = request.Name.Trim(),
            Description = request.Description,
            Documentation = request.Documentation,
            ProductType = request.ProductType,
            Provider = request.Provider,
            HostingLocation = request.HostingLocation,
            Environment = request.Environment,
            Criticality = request.Criticality,
            Sensitivity = request.Sensitivity,
            OwnerId = request.OwnerId,
            StewardId = request.StewardId,
            CustodianId = request.CustodianId,
            DataArchitectId = request.DataArchitectId,
            CreatedById = me.Id,
        };
        product.ManualAttributes = ManualAttributesOf(request);
        db.Products.Add(product);
        tagIds.AddRange(await catalog.FindOrCreateTagsAsync(space, request.Tags ?? [], ct));
        foreach (var tagId in tagIds.Distinct())
            db.ProductTags.Add(new ProductTag { ProductId = product.Id, TagId = tagId, CreatedAt = clock.GetUtcNow() });
        var ordinal = 0;
        foreach (var field in request.Fields ?? [])
            db.ProductFields.Add(FieldService.NewField(product, field, ordinal++));

        db.AddOutboxEvent(space.SpaceId, OutboxEventTypes.ProductCreated, ProductEvent(space, product, []));
        await catalog.SaveAndIndexAsync([product.Id], ct, $"A data product with slug '{request.Slug}' already exists in this space.");
        return await GetByIdAsync(product.Id, ct);
    }

    public async Task<ProductResponse> GetAsync(string spaceSlug, string idOrSlug, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        return await GetByIdAsync(await catalog.FindProductIdAsync(space, idOrSlug, ct), ct);
    }

    public async Task<Paged<ProductSummary>> ListAsync(string spaceSlug, ProductListQuery query, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        if (!SortOptions.Contains(query.Sort))
            throw RequestValidationException.For("query", "sort", "must be one of: " + string.Join(", ", SortOptions), "enum");

        var products = db.Products.AsNoTracking().Where(p => p.SpaceId == space.SpaceId);
        if (!query.IncludeArchived) products = products.Where(p => !p.IsArchived);
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var pattern = Text.ContainsPattern(query.Search.Trim());
            // Each alternative has its own trigram index (a BitmapOr), so no table scan.
            products = products.Where(p => EF.Functions.ILike(p.Name, pattern, "\\") || EF.Functions.ILike(p.Slug, pattern, "\\")
                                           || (p.Description != null && EF.Functions.ILike(p.Description, pattern, "\\")));
        }
        foreach (var tag in query.Tags ?? []) products = products.Where(p => p.Tags.Any(t => t.TagId == tag));
        if (query.ProductType is not null) products = products.Where(p => p.ProductType == query.ProductType);
        if (query.OwnerId is not null) products = products.Where(p => p.OwnerId == query.OwnerId);
        if (query.GovernedBy is { } g)
            products = products.Where(p => p.OwnerId == g || p.StewardId == g || p.CustodianId == g || p.DataArchitectId == g);

        products = query.Sort switch
        {
            "-name" => products.OrderByDescending(p => p.Name).ThenByDescending(p => p.Id),
            "updated_at" => products.OrderBy(p => p.UpdatedAt).ThenBy(p => p.Id),
            "-updated_at" => products.OrderByDescending(p => p.UpdatedAt).ThenByDescending(p => p.Id),
            "created_at" => products.OrderBy(p => p.CreatedAt).ThenBy(p => p.Id),
            "-created_at" => products.OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.Id),
            _ => products.OrderBy(p => p.Name).ThenBy(p => p.Id),
        };
        // Page over ids first (an index-only scan, however deep the page), then load just those rows:
        // an OFFSET over whole rows reads and discards every row before the page. The three statements are prepared
        // (PreparedQueries): they plan in about as long as they run, and their SQL varies only with the filters used.
        products = products.Prepared();
        var total = await products.CountAsync(ct);
        var ids = total <= page.Skip ? [] : await products.Select(p => p.Id).Skip((int)page.Skip).Take(page.Size).ToListAsync(ct);
        var rows = await db.Products.AsNoTracking().Prepared().Where(p => ids.Contains(p.Id))
            .Select(p => new ProductSummary(
                p.Id, p.Slug, p.Name, p.Description, p.ProductType, p.HostingLocation, p.Criticality, p.Sensitivity,
                p.Tags.OrderBy(t => t.Tag.Name).Select(t => new TagRef(t.TagId, t.Tag.Name, t.Tag.Color)).ToList(),
                p.OwnerId, p.IsArchived, p.IsStale,
                db.ProductQualityScores.Where(q => q.ProductId == p.Id).Select(q => q.Score).FirstOrDefault(),
                p.UpdatedAt, p.Version))
            .ToListAsync(ct);
        var order = ids.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i);
        return new Paged<ProductSummary>(rows.OrderBy(r => order[r.Id]).ToList(), total, page.Page, page.Size);
    }

    public async Task<ProductResponse> UpdateAsync(string spaceSlug, string idOrSlug, UpdateProductRequest request, uint? ifMatch, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var product = await catalog.FindProductAsync(space, idOrSlug, ct);
        Concurrency.ExpectVersion(db, product, ifMatch ?? request.Version);
        if (request.ProductType.IsSet) await catalog.RequireProductTypeAsync(space, request.ProductType.Value, ct);
        await catalog.RequireMembersAsync(space, [
            ("owner_id", request.OwnerId.IsSet ? request.OwnerId.Value : null),
            ("steward_id", request.StewardId.IsSet ? request.StewardId.Value : null),
            ("custodian_id", request.CustodianId.IsSet ? request.CustodianId.Value : null),
            ("data_architect_id", request.DataArchitectId.IsSet ? request.DataArchitectId.Value : null)], ct);

        product.Slug = request.Slug.Or(product.Slug);
        product.Name = request.Name.Or(product.Name).Trim();
        product.Description = request.Description.Or(product.Description);
        product.Documentation = request.Documentation.Or(product.Documentation);
        product.ProductType = request.ProductType.Or(product.ProductType);
        product.Provider = request.Provider.Or(product.Provider);
        product.HostingLocation = request.HostingLocation.Or(product.HostingLocation);
        product.Environment = request.Environment.Or(product.Environment);
        product.Criticality = request.Criticality.Or(product.Criticality);
        product.Sensitivity = request.Sensitivity.Or(product.Sensitivity);
        ApplyGovernance(product, request.OwnerId, request.StewardId, request.CustodianId, request.DataArchitectId);
        product.ManualAttributes = product.ManualAttributes.Union(ManualAttributesOf(request)).Order(StringComparer.Ordinal).ToList();

        if (request.TagIds.IsSet)
        {
            var wanted = await catalog.RequireTagsAsync(space, request.TagIds.Value ?? [], "tag_ids", ct);
            var current = await db.ProductTags.Where(t => t.ProductId == product.Id).ToListAsync(ct);
            db.ProductTags.RemoveRange(current.Where(t => !wanted.Contains(t.TagId)));
            foreach (var tagId in wanted.Where(id => current.All(t => t.TagId != id)))
                db.ProductTags.Add(new ProductTag { ProductId = product.Id, TagId = tagId, CreatedAt = clock.GetUtcNow() });
            db.Entry(product).Property(p => p.UpdatedAt).IsModified = true;
        }

        db.ChangeTracker.DetectChanges();
        var changed = db.Entry(product).Properties
            .Where(p => p.IsModified && !Equals(p.OriginalValue, p.CurrentValue) && p.Metadata.Name is not ("UpdatedAt" or "Version" or "ManualAttributes"))
            .Select(p => JsonNames.ToSnakeCase(p.Metadata.Name)).ToList();
        if (db.ChangeTracker.Entries<ProductTag>().Any(e => e.State is EntityState.Added or EntityState.Deleted)) changed.Add("tag_ids");
        if (changed.Count > 0) db.AddOutboxEvent(space.SpaceId, OutboxEventTypes.ProductUpdated, ProductEvent(space, product, changed));
        await catalog.SaveAndIndexAsync([product.Id], ct, $"A data product with slug '{product.Slug}' already exists in this space.");
        return await GetByIdAsync(product.Id, ct);
    }

    public async Task<ProductResponse> UpdateGovernanceAsync(string spaceSlug, string idOrSlug, GovernanceRequest request, uint? ifMatch, CancellationToken ct)
        => await UpdateAsync(spaceSlug, idOrSlug, new UpdateProductRequest
        {
            OwnerId = request.OwnerId, StewardId = request.StewardId, CustodianId = request.CustodianId,
            DataArchitectId = request.DataArchitectId, Version = request.Version,
        }, ifMatch, ct);

    public async Task<ProductResponse> SetArchivedAsync(string spaceSlug, string idOrSlug, bool archived, uint? ifMatch, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var product = await catalog.FindProductAsync(space, idOrSlug, ct);
        Concurrency.ExpectVersion(db, product, ifMatch);
        if (product.IsArchived != archived)
        {
            product.IsArchived = archived;
            product.ArchivedAt = archived ? clock.GetUtcNow() : null;
            await db.SaveOrConflictAsync(ct);
        }
        return await GetByIdAsync(product.Id, ct);
    }

    public async Task DeleteAsync(string spaceSlug, string idOrSlug, uint? ifMatch, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var product = await catalog.FindProductAsync(space, idOrSlug, ct);
        Concurrency.ExpectVersion(db, product, ifMatch);
        // Fields, tags and edges would go with it by cascade; fields and edges are removed here so each is audited.
        db.ProductFields.RemoveRange(await db.ProductFields.Where(f => f.ProductId == product.Id).ToListAsync(ct));
        db.LineageEdges.RemoveRange(await db.LineageEdges.Where(e => e.UpstreamId == product.Id || e.DownstreamId == product.Id).ToListAsync(ct));
        db.Products.Remove(product);
        await db.SaveOrConflictAsync(ct);
    }

    /// <summary>Products a user governs in any role, in the spaces the caller can see.</summary>
    public async Task<Paged<GovernedProduct>> GovernedByAsync(Guid userId, PageRequest page, CancellationToken ct)
    {
        var caller = me.RequireId();
        var superadmin = me.IsSuperadmin;
        var rows = await db.Products.AsNoTracking()
            .Where(p => p.OwnerId == userId || p.StewardId == userId || p.CustodianId == userId || p.DataArchitectId == userId)
            .Where(p => superadmin || p.Space.Memberships.Any(m => m.UserId == caller))
            .OrderBy(p => p.Space.Slug).ThenBy(p => p.Name).ThenBy(p => p.Id)
            .Select(p => new { p.Id, SpaceSlug = p.Space.Slug, p.Slug, p.Name, p.OwnerId, p.StewardId, p.CustodianId, p.DataArchitectId })
            .ToPageAsync(page, ct);
        return new Paged<GovernedProduct>(rows.Items.Select(p => new GovernedProduct(p.Id, p.SpaceSlug, p.Slug, p.Name,
            new (Guid? Holder, string Role)[] { (p.OwnerId, "owner"), (p.StewardId, "steward"), (p.CustodianId, "custodian"), (p.DataArchitectId, "data_architect") }
                .Where(r => r.Holder == userId).Select(r => r.Role).ToList())).ToList(), rows.Total, rows.Page, rows.Size);
    }

    internal async Task<ProductResponse> GetByIdAsync(Guid id, CancellationToken ct)
        => await db.Products.AsNoTracking().Where(p => p.Id == id).Select(Projection(db)).SingleAsync(ct);

    private static Expression<Func<DataProduct, ProductResponse>> Projection(QarionDbContext db) => p => new ProductResponse(
        p.Id, p.SpaceId, p.Slug, p.Name, p.Description, p.Documentation, p.ProductType, p.Provider, p.HostingLocation,
        p.Environment, p.Criticality, p.Sensitivity,
        p.Tags.OrderBy(t => t.Tag.Name).Select(t => new TagRef(t.TagId, t.Tag.Name, t.Tag.Color)).ToList(),
        new GovernanceResponse(
            db.Users.Where(u => u.Id == p.OwnerId).Select(u => new UserRef(u.Id, u.Email, u.DisplayName)).FirstOrDefault(),
            db.Users.Where(u => u.Id == p.StewardId).Select(u => new UserRef(u.Id, u.Email, u.DisplayName)).FirstOrDefault(),
            db.Users.Where(u => u.Id == p.CustodianId).Select(u => new UserRef(u.Id, u.Email, u.DisplayName)).FirstOrDefault(),
            db.Users.Where(u => u.Id == p.DataArchitectId).Select(u => new UserRef(u.Id, u.Email, u.DisplayName)).FirstOrDefault()),
        p.IsArchived, p.ArchivedAt, p.IsStale, p.StaleSince, p.IsDiscovered,
        p.Fields.Count, p.ManualAttributes,
        db.ProductQualityScores.Where(q => q.ProductId == p.Id)
            .Select(q => new Quality.QualitySummary(q.Score, q.Health, q.ComputedAt)).FirstOrDefault(),
        p.CreatedAt, p.UpdatedAt, p.Version);

    private static void ApplyGovernance(DataProduct product, Optional<Guid?> owner, Optional<Guid?> steward, Optional<Guid?> custodian, Optional<Guid?> architect)
    {
        product.OwnerId = owner.Or(product.OwnerId);
        product.StewardId = steward.Or(product.StewardId);
        product.CustodianId = custodian.Or(product.CustodianId);
        product.DataArchitectId = architect.Or(product.DataArchitectId);
    }

    private static List<string> ManualAttributesOf(CreateProductRequest r)
    {
        var set = new List<string> { "name" };
        if (r.Description is not null) set.Add("description");
        if (r.Documentation is not null) set.Add("documentation");
        set.Add("product_type");
        if (r.Provider is not null) set.Add("provider");
        if (r.HostingLocation is not null) set.Add("hosting_location");
        if (r.Environment is not null) set.Add("environment");
        if (r.Criticality is not null) set.Add("criticality");
        if (r.Sensitivity is not null) set.Add("sensitivity");
        return [.. set.Order(StringComparer.Ordinal)];
    }

    private static List<string> ManualAttributesOf(UpdateProductRequest r)
    {
        var set = new List<string>();
        if (r.Name.IsSet) set.Add("name");
        if (r.Description.IsSet) set.Add("description");
        if (r.Documentation.IsSet) set.Add("documentation");
        if (r.ProductType.IsSet) set.Add("product_type");
        if (r.Provider.IsSet) set.Add("provider");
        if (r.HostingLocation.IsSet) set.Add("hosting_location");
        if (r.Environment.IsSet) set.Add("environment");
        if (r.Criticality.IsSet) set.Add("criticality");
        if (r.Sensitivity.IsSet) set.Add("sensitivity");
        return set;
    }

    /// <summary>The payload of product.created / product.updated (snake_case; <c>changed_fields</c> empty on create).</summary>
    private object ProductEvent(SpaceContext space, DataProduct product, IReadOnlyList<string> changed) => new
    {
        ProductId = product.Id,
        ProductIds = new[] { product.Id },
        product.Name,
        product.Slug,
        Space = space.Slug,
        ActorId = me.Id,
        ChangedFields = changed,
        Link = $"/spaces/{space.Slug}/products/{product.Slug}",
    };
}

public sealed record GovernedProduct(Guid Id, string SpaceSlug, string Slug, string Name, IReadOnlyList<string> Roles);
