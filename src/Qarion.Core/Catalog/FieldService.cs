using Microsoft.EntityFrameworkCore;
using Qarion.Core.Common;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Catalog;

/// <summary>A product's schema. Every attribute a person sends is marked manual, so scrapers leave it alone.</summary>
public sealed class FieldService(QarionDbContext db, SpaceAccess access, CatalogSupport catalog)
{
    public async Task<IReadOnlyList<FieldResponse>> ListAsync(string spaceSlug, string product, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var productId = await catalog.FindProductIdAsync(space, product, ct);
        return await Query(productId).ToListAsync(ct);
    }

    /// <summary>Replaces the whole schema: fields are matched by name, updated, added or removed.</summary>
    public async Task<IReadOnlyList<FieldResponse>> ReplaceAsync(string spaceSlug, string productKey, ReplaceFieldsRequest request, uint? ifMatch, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var product = await catalog.FindProductAsync(space, productKey, ct);
        Concurrency.ExpectVersion(db, product, ifMatch ?? request.Version);
        RequireUniqueNames(request.Fields, "fields");

        var existing = await db.ProductFields.Where(f => f.ProductId == product.Id).ToListAsync(ct);
        var byName = existing.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var ordinal = 0;
        foreach (var input in request.Fields)
        {
            if (byName.Remove(input.Name, out var field)) Apply(field, input, ordinal);
            else db.ProductFields.Add(NewField(product, input, ordinal));
            ordinal++;
        }
        db.ProductFields.RemoveRange(byName.Values);
        Touch(product);
        await catalog.SaveAndIndexAsync([product.Id], ct);
        return await Query(product.Id).ToListAsync(ct);
    }

    public async Task<FieldResponse> AddAsync(string spaceSlug, string productKey, FieldInput input, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var product = await catalog.FindProductAsync(space, productKey, ct);
        var next = await db.ProductFields.Where(f => f.ProductId == product.Id).MaxAsync(f => (int?)f.Ordinal, ct) ?? -1;
        var field = NewField(product, input, input.Ordinal ?? next + 1);
        db.ProductFields.Add(field);
        Touch(product);
        await catalog.SaveAndIndexAsync([product.Id], ct, $"The product already has a field named '{input.Name}'.");
        return await Query(product.Id, field.Id).SingleAsync(ct);
    }

    public async Task<FieldResponse> UpdateAsync(string spaceSlug, string productKey, Guid fieldId, UpdateFieldRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var product = await catalog.FindProductAsync(space, productKey, ct);
        var field = await db.ProductFields.SingleOrDefaultAsync(f => f.Id == fieldId && f.ProductId == product.Id, ct)
                    ?? throw new NotFoundException("Field", fieldId.ToString());
        var manual = new List<string>();
        void Set<T>(Optional<T> value, string name, Action<T> apply)
        {
            if (!value.IsSet) return;
            apply(value.Value);
            manual.Add(name);
        }
        Set(request.Name, "name", v => field.Name = v.Trim());
        Set(request.DataType, "data_type", v => field.DataType = v);
        Set(request.IsNullable, "is_nullable", v => field.IsNullable = v);
        Set(request.Description, "description", v => field.Description = v);
        Set(request.Ordinal, "ordinal", v => field.Ordinal = v);
        Set(request.IsPrimaryKey, "is_primary_key", v => field.IsPrimaryKey = v);
        Set(request.ForeignKeyTarget, "foreign_key_target", v => field.ForeignKeyTarget = v);
        field.ManualAttributes = field.ManualAttributes.Union(manual).Order(StringComparer.Ordinal).ToList();
        Touch(product);
        await catalog.SaveAndIndexAsync([product.Id], ct, $"The product already has a field named '{field.Name}'.");
        return await Query(product.Id, field.Id).SingleAsync(ct);
    }

    public async Task RemoveAsync(string spaceSlug, string productKey, Guid fieldId, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var product = await catalog.FindProductAsync(space, productKey, ct);
        var field = await db.ProductFields.SingleOrDefaultAsync(f => f.Id == fieldId && f.ProductId == product.Id, ct)
                    ?? throw new NotFoundException("Field", fieldId.ToString());
        db.ProductFields.Remove(field);
        Touch(product);
        await catalog.SaveAndIndexAsync([product.Id], ct);
    }

    internal static ProductField NewField(DataProduct product, FieldInput input, int ordinal)
    {
        var field = new ProductField { ProductId = product.Id, SpaceId = product.SpaceId, Name = input.Name.Trim() };
        Apply(field, input, ordinal);
        return field;
    }

    /// <summary>Duplicate names in one request are a 422 at the second occurrence.</summary>
    internal static void RequireUniqueNames(IReadOnlyList<FieldInput> fields, string location)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var errors = fields.Select((f, i) => (f, i)).Where(x => !seen.Add(x.f.Name.Trim()))
            .Select(x => new FieldError(["body", location, x.i, "name"], $"duplicate field name '{x.f.Name}'", "duplicate"))
            .ToList();
        if (errors.Count > 0) throw new RequestValidationException(errors);
    }

    private static void Apply(ProductField field, FieldInput input, int ordinal)
    {
        field.Name = input.Name.Trim();
        field.DataType = input.DataType;
        field.IsNullable = input.IsNullable ?? true;
        field.Description = input.Description;
        field.Ordinal = input.Ordinal ?? ordinal;
        field.IsPrimaryKey = input.IsPrimaryKey ?? false;
        field.ForeignKeyTarget = input.ForeignKeyTarget;
        var manual = new List<string> { "name", "ordinal" };
        if (input.DataType is not null) manual.Add("data_type");
        if (input.IsNullable is not null) manual.Add("is_nullable");
        if (input.Description is not null) manual.Add("description");
        if (input.IsPrimaryKey is not null) manual.Add("is_primary_key");
        if (input.ForeignKeyTarget is not null) manual.Add("foreign_key_target");
        field.ManualAttributes = field.ManualAttributes.Union(manual).Order(StringComparer.Ordinal).ToList();
    }

    private void Touch(DataProduct product) => db.Entry(product).Property(p => p.UpdatedAt).IsModified = true;

    private IQueryable<FieldResponse> Query(Guid productId, Guid? fieldId = null) => db.ProductFields.AsNoTracking()
        .Where(f => f.ProductId == productId && (fieldId == null || f.Id == fieldId))
        .OrderBy(f => f.Ordinal).ThenBy(f => f.Name)
        .Select(f => new FieldResponse(f.Id, f.Name, f.DataType, f.IsNullable, f.Description, f.Ordinal,
            f.IsPrimaryKey, f.ForeignKeyTarget, f.ManualAttributes, f.CreatedAt, f.UpdatedAt));
}
