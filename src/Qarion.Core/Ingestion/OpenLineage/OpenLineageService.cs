using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Catalog;
using Qarion.Core.Identity;
using Qarion.Core.Lineage;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Ingestion.OpenLineage;

/// <summary>
/// Records OpenLineage RunEvents: each COMPLETE event's inputs flow into each of its outputs. A dataset is
/// matched to the product whose hosting location is the dataset's name (so a table a connector already
/// catalogues is linked, not duplicated), else to the product an earlier event discovered, else a new product
/// marked as discovered is created. The schema facet fills in the fields of discovered products (a connector's
/// or a person's products keep their own fields). Editors may post events.
/// </summary>
public sealed class OpenLineageService(QarionDbContext db, SpaceAccess access, CurrentUser me, CatalogSupport catalog)
{
    public async Task<OpenLineageResult> RecordAsync(string spaceSlug, RunEvent runEvent, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        RunEventRules.Validate(runEvent);
        var eventType = runEvent.EventType ?? "OTHER";
        if (eventType != "COMPLETE") return new OpenLineageResult(false, eventType, [], [], 0, 0);

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Events for one space are applied one at a time: two events naming the same new dataset must create it once.
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({"openlineage:" + space.SpaceId}, 0))", ct);

        var touched = new HashSet<Guid>();
        var fieldsAdded = 0;
        var products = new Dictionary<(string, string), (DataProduct Product, bool Created)>();
        async Task<LineageDatasetResult> ResolveAsync(DatasetRef d)
        {
            var key = (d.Namespace!.Trim(), d.Name!.Trim());
            if (!products.TryGetValue(key, out var entry))
            {
                entry = await FindOrCreateAsync(space, key.Item1, key.Item2, ct);
                products[key] = entry;
                if (entry.Created) touched.Add(entry.Product.Id);
            }
            if (entry.Product.IsDiscovered && d.Facets?.Schema?.Fields is { Count: > 0 } fields)
            {
                var (added, changed) = await ApplySchemaAsync(entry.Product, fields, ct);
                // Field names and descriptions are part of the product's search document.
                if (added > 0 || changed)
                {
                    touched.Add(entry.Product.Id);
                    // A schema change is a change of the product, as it is through the fields API.
                    if (!entry.Created) db.Entry(entry.Product).Property(p => p.UpdatedAt).IsModified = true;
                }
                fieldsAdded += added;
            }
            return new LineageDatasetResult(key.Item1, key.Item2, entry.Product.Id, entry.Product.Slug, entry.Created);
        }

        var inputs = new List<LineageDatasetResult>();
        foreach (var d in runEvent.Inputs ?? []) inputs.Add(await ResolveAsync(d));
        var outputs = new List<LineageDatasetResult>();
        foreach (var d in runEvent.Outputs ?? []) outputs.Add(await ResolveAsync(d));
        await db.SaveOrConflictAsync(ct);

        var pairs = inputs.SelectMany(i => outputs.Select(o => (Up: i.ProductId, Down: o.ProductId))).Where(p => p.Up != p.Down).Distinct().ToList();
        var edgesAdded = 0;
        if (pairs.Count > 0)
        {
            var ups = pairs.Select(p => p.Up).ToList();
            var existing = (await db.LineageEdges.AsNoTracking().Where(l => ups.Contains(l.UpstreamId)).Select(l => new { l.UpstreamId, l.DownstreamId }).ToListAsync(ct))
                .Select(l => (l.UpstreamId, l.DownstreamId)).ToHashSet();
            foreach (var (up, down) in pairs.Where(p => !existing.Contains(p)))
            {
                db.LineageEdges.Add(new LineageEdge { UpstreamId = up, DownstreamId = down, SpaceId = space.SpaceId, Relationship = LineageRelationship.Transforms, CreatedById = me.Id });
                edgesAdded++;
            }
            await db.SaveOrConflictAsync(ct);
        }
        await catalog.RefreshSearchAsync(touched, ct);
        await tx.CommitAsync(ct);
        return new OpenLineageResult(true, eventType, inputs, outputs, edgesAdded, fieldsAdded);
    }

    private async Task<(DataProduct, bool)> FindOrCreateAsync(SpaceContext space, string ns, string name, CancellationToken ct)
    {
        var externalId = ExternalIdOf(ns, name);
        var lowered = name.ToLowerInvariant();
        var match = await db.Products
            // The product an earlier event discovered is found even when a person archived it (its external id is
            // unique in the space, so a second one cannot be created); it stays archived.
            .Where(p => p.SpaceId == space.SpaceId
                        && ((p.SourceConnectorId == null && p.ExternalId == externalId)
                            || (!p.IsArchived && p.HostingLocation != null && p.HostingLocation.ToLower() == lowered)))
            // A product a connector or a person maintains wins over one an earlier event discovered.
            .OrderBy(p => p.IsArchived).ThenBy(p => p.IsDiscovered).ThenBy(p => p.CreatedAt)
            .FirstOrDefaultAsync(ct);
        if (match is not null) return (match, false);

        var display = name.Split('.', '/').LastOrDefault(s => s.Length > 0) ?? name;
        var baseSlug = CatalogMerger.Slugify(display);
        var taken = (await db.Products.AsNoTracking().Where(p => p.SpaceId == space.SpaceId && p.Slug.StartsWith(baseSlug))
            .Select(p => p.Slug).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
        var slug = CatalogMerger.FreeSlug([baseSlug], s => taken.Contains(s) || db.ChangeTracker.Entries<DataProduct>().Any(e => e.Entity.Slug == s));
        var product = new DataProduct
        {
            SpaceId = space.SpaceId,
            Slug = slug,
            Name = CatalogMerger.Clip(display, 200)!,
            ProductType = "dataset",
            Provider = CatalogMerger.Clip(ns.Split("://", 2)[0], 200),
            HostingLocation = CatalogMerger.Clip(name, 500),
            ExternalId = externalId,
            IsDiscovered = true,
            CreatedById = me.Id,
        };
        db.Products.Add(product);
        return (product, true);
    }

    /// <summary>
    /// <c>namespace/name</c>; when that exceeds the column's 1000 characters (the rules allow 500 + 900), its start
    /// and a hash of the whole, so the same dataset always gets the same id.
    /// </summary>
    internal static string ExternalIdOf(string ns, string name)
    {
        const int max = 1000;
        var id = $"{ns}/{name}";
        if (id.Length <= max) return id;
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)));
        var cut = max - hash.Length - 1;
        if (char.IsHighSurrogate(id[cut - 1])) cut--;
        return id[..cut] + "#" + hash;
    }

    /// <summary>
    /// Adds facet fields the product lacks and updates the types and descriptions a person did not set (a facet
    /// field without them leaves them as they are); returns how many were added and whether any was changed.
    /// </summary>
    private async Task<(int Added, bool Changed)> ApplySchemaAsync(DataProduct product, IReadOnlyList<SchemaFacetField> fields, CancellationToken ct)
    {
        var current = db.Entry(product).State == EntityState.Added
            ? []
            : await db.ProductFields.Where(f => f.ProductId == product.Id).ToListAsync(ct);
        current.AddRange(db.ChangeTracker.Entries<ProductField>().Where(e => e.State == EntityState.Added && e.Entity.ProductId == product.Id).Select(e => e.Entity));
        var byName = current.GroupBy(f => f.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var added = 0;
        var changed = false;
        var ordinal = current.Count == 0 ? 0 : current.Max(f => f.Ordinal);
        // A body may hold null entries here: System.Text.Json does not apply nullability to list elements.
        foreach (var f in fields.Where(f => f is not null && !string.IsNullOrWhiteSpace(f.Name)))
        {
            var name = CatalogMerger.Clip(f.Name, 300)!;
            if (byName.TryGetValue(name, out var existing))
            {
                var type = CatalogMerger.Clip(f.Type, 200);
                if (type is not null && type != existing.DataType && !existing.ManualAttributes.Contains("data_type"))
                {
                    existing.DataType = type;
                    changed = true;
                }
                var description = CatalogMerger.Clip(f.Description, 4000);
                if (description is not null && description != existing.Description && !existing.ManualAttributes.Contains("description"))
                {
                    existing.Description = description;
                    changed = true;
                }
                continue;
            }
            var field = new ProductField
            {
                ProductId = product.Id, SpaceId = product.SpaceId, Name = name, DataType = CatalogMerger.Clip(f.Type, 200),
                Description = CatalogMerger.Clip(f.Description, 4000), Ordinal = ++ordinal,
            };
            db.ProductFields.Add(field);
            byName[name] = field;
            added++;
        }
        return (added, changed);
    }
}
