using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Qarion.Core.Common;
using Qarion.Core.Persistence;

namespace Qarion.Core.Ingestion;

/// <summary>What a merge did.</summary>
public sealed record MergeOutcome(int Added, int Updated, int MarkedStale, int Unchanged, int SchemaChanges, IReadOnlyList<string> Warnings)
{
    public bool WroteAnything => Added + Updated + MarkedStale > 0;
}

/// <summary>
/// Merges a connector's snapshot into the catalog in bulk. It reads what the connector maintains in a few
/// queries, computes the difference in memory, and writes only that difference with one set-based statement
/// per kind of change (arrays bound as parameters, unnested server-side) — so a sync of thousands of tables
/// is a handful of statements, and a re-sync with nothing changed writes nothing at all.
/// <list type="bullet">
/// <item><c>skip</c>: only products new to the catalog are created (with their fields and lineage).</item>
/// <item><c>additive</c>: also updates metadata of known products and adds their new fields.</item>
/// <item><c>refresh</c>: also updates field types, removes vanished fields and marks vanished products stale (never deletes them), and removes the connector's own vanished lineage edges.</item>
/// </list>
/// Attributes a person edited (listed in <c>manual_attributes</c>) are never overwritten, and fields a person
/// created are never removed. The caller owns the transaction.
/// </summary>
public sealed class CatalogMerger(QarionDbContext db, TimeProvider clock)
{
    private const int MaxWarnings = 50;

    public async Task<MergeOutcome> MergeAsync(Connector connector, SyncJob job, CatalogSnapshot snapshot, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var strategy = job.MergeStrategy;
        var warnings = new List<string>(snapshot.Warnings.Take(MaxWarnings));
        void Warn(string w) { if (warnings.Count < MaxWarnings) warnings.Add(w); }

        var incoming = new Dictionary<string, SnapshotProduct>(StringComparer.Ordinal);
        foreach (var p in snapshot.Products)
            if (!incoming.TryAdd(Clip(p.ExternalId, 1000)!, p)) Warn($"'{p.ExternalId}' appears twice in the source; the first is kept.");

        var existing = await db.Products.AsNoTracking().Where(p => p.SourceConnectorId == connector.Id)
            .Select(p => new ExistingProduct(p.Id, p.ExternalId!, p.Name, p.Description, p.ProductType, p.HostingLocation, p.Provider,
                p.RowCountEstimate, p.OwnerId, p.IsStale, p.ManualAttributes))
            .ToDictionaryAsync(p => p.ExternalId, StringComparer.Ordinal, ct);
        var fieldsByProduct = (await db.ProductFields.AsNoTracking().Where(f => f.Product.SourceConnectorId == connector.Id)
                .Select(f => new ExistingField(f.Id, f.ProductId, f.Name, f.DataType, f.IsNullable, f.Description, f.Ordinal,
                    f.IsPrimaryKey, f.ForeignKeyTarget, f.DefaultValue, f.ManualAttributes))
                .ToListAsync(ct))
            .ToLookup(f => f.ProductId);
        var tagsByProduct = (await db.ProductTags.AsNoTracking().Where(pt => pt.Product.SourceConnectorId == connector.Id)
                .Select(pt => new { pt.ProductId, Name = pt.Tag.Name.ToLower() }).ToListAsync(ct))
            .ToLookup(t => t.ProductId, t => t.Name);

        var plan = new Plan(connector, job, now);
        foreach (var (externalId, source) in incoming)
        {
            if (!existing.TryGetValue(externalId, out var current))
            {
                plan.AddProduct(externalId, source);
                continue;
            }
            plan.ProductIds[externalId] = current.Id;
            if (strategy == MergeStrategy.Skip) { plan.Unchanged++; continue; }
            var changed = plan.UpdateProduct(current, source, fieldsByProduct[current.Id].ToList(), strategy == MergeStrategy.Refresh);
            var missingTags = source.Tags.Where(t => !string.IsNullOrWhiteSpace(t))
                .Select(t => Clip(t.Trim(), 100)!).Distinct(StringComparer.OrdinalIgnoreCase)
                .Where(t => !tagsByProduct[current.Id].Contains(t.ToLowerInvariant())).ToList();
            if (missingTags.Count > 0)
            {
                plan.TagLinks.AddRange(missingTags.Select(t => (current.Id, t)));
                plan.Audit(current.Id, current.Name, "tags", null, JsonSerializer.SerializeToNode(missingTags));
                changed = true;
            }
            if (changed) plan.UpdatedIds.Add(current.Id); else plan.Unchanged++;
        }
        if (strategy == MergeStrategy.Refresh)
            foreach (var gone in existing.Values.Where(p => !incoming.ContainsKey(p.ExternalId) && !p.IsStale))
                plan.MarkStale(gone);

        await ResolveOwnersAsync(plan, incoming, existing, ct);
        var edges = await PlanEdgesAsync(plan, snapshot, existing, strategy, Warn, ct);
        var tests = await PlanTestsAsync(plan, snapshot, strategy, ct);

        if (plan.NewProducts.Count > 0) await AssignSlugsAsync(plan, ct);
        await WriteAsync(plan, edges, tests, ct);

        return new MergeOutcome(plan.NewProducts.Count, plan.UpdatedIds.Count, plan.StaleIds.Count, plan.Unchanged, plan.SchemaChanges.Count, warnings);
    }

    // ---- planning -------------------------------------------------------------------------------------

    private sealed record ExistingProduct(Guid Id, string ExternalId, string Name, string? Description, string ProductType, string? HostingLocation,
        string? Provider, long? RowCountEstimate, Guid? OwnerId, bool IsStale, List<string> ManualAttributes);

    private sealed record ExistingField(Guid Id, Guid ProductId, string Name, string? DataType, bool IsNullable, string? Description, int Ordinal,
        bool IsPrimaryKey, string? ForeignKeyTarget, string? DefaultValue, List<string> ManualAttributes);

    private sealed record NewProduct(Guid Id, string ExternalId, SnapshotProduct Source)
    {
        public string Slug { get; set; } = "";
        public Guid? OwnerId { get; set; }
    }

    private sealed record ProductUpdate(Guid Id, string Name, string? Description, string ProductType, string? HostingLocation, string? Provider, long? RowCountEstimate, bool WasStale)
    {
        public Guid? OwnerId { get; set; }
    }

    private sealed record FieldRow(Guid Id, Guid ProductId, string Name, string? DataType, bool IsNullable, string? Description, int Ordinal,
        bool IsPrimaryKey, string? ForeignKeyTarget, string? DefaultValue);

    private sealed class Plan(Connector connector, SyncJob job, DateTimeOffset now)
    {
        public Connector Connector { get; } = connector;
        public SyncJob Job { get; } = job;
        public DateTimeOffset Now { get; } = now;
        public Dictionary<string, Guid> ProductIds { get; } = new(StringComparer.Ordinal);
        public List<NewProduct> NewProducts { get; } = [];
        public Dictionary<Guid, ProductUpdate> Updates { get; } = [];
        public HashSet<Guid> UpdatedIds { get; } = [];
        public List<Guid> StaleIds { get; } = [];
        public List<FieldRow> NewFields { get; } = [];
        public List<FieldRow> ChangedFields { get; } = [];
        public List<Guid> RemovedFields { get; } = [];
        public List<(Guid ProductId, string Tag)> TagLinks { get; } = [];
        public List<(Guid ProductId, SchemaChangeKind Kind, string Column, string? OldType, string? NewType)> SchemaChanges { get; } = [];
        public Dictionary<Guid, (string Name, JsonObject Changes)> AuditEntries { get; } = [];
        public int Unchanged { get; set; }

        private Guid NewId() => Guid.CreateVersion7(Now);

        public void Audit(Guid productId, string name, string attribute, JsonNode? before, JsonNode? after)
        {
            if (!AuditEntries.TryGetValue(productId, out var entry)) AuditEntries[productId] = entry = (name, new JsonObject());
            entry.Changes[attribute] = new JsonObject { ["before"] = before, ["after"] = after };
        }

        public void AddProduct(string externalId, SnapshotProduct source)
        {
            var product = new NewProduct(NewId(), externalId, source);
            NewProducts.Add(product);
            ProductIds[externalId] = product.Id;
            foreach (var field in DistinctFields(source))
                NewFields.Add(ToRow(NewId(), product.Id, field));
            foreach (var tag in source.Tags.Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => Clip(t.Trim(), 100)!).Distinct(StringComparer.OrdinalIgnoreCase))
                TagLinks.Add((product.Id, tag));
        }

        /// <summary>Plans the changes to one known product; true when anything changes.</summary>
        public bool UpdateProduct(ExistingProduct current, SnapshotProduct source, List<ExistingField> fields, bool refresh)
        {
            var manual = current.ManualAttributes;
            var changed = false;
            T Pick<T>(string attribute, T before, T after)
            {
                if (manual.Contains(attribute) || EqualityComparer<T>.Default.Equals(before, after)) return before;
                Audit(current.Id, current.Name, attribute, JsonSerializer.SerializeToNode(before), JsonSerializer.SerializeToNode(after));
                changed = true;
                return after;
            }
            var update = new ProductUpdate(
                current.Id,
                Pick("name", current.Name, Clip(source.Name, 200)!),
                Pick("description", current.Description, Clip(source.Description, 4000)),
                Pick("product_type", current.ProductType, source.ProductType),
                Pick("hosting_location", current.HostingLocation, Clip(source.HostingLocation, 500)),
                Pick("provider", current.Provider, Clip(source.Provider, 200)),
                Pick("row_count_estimate", current.RowCountEstimate, source.RowCountEstimate),
                current.IsStale) { OwnerId = current.OwnerId };
            if (current.IsStale)
            {
                Audit(current.Id, current.Name, "is_stale", true, false);
                changed = true;
            }

            var byName = fields.ToDictionary(f => f.Name, StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var added = new List<string>();
            foreach (var field in DistinctFields(source))
            {
                seen.Add(field.Name);
                if (!byName.TryGetValue(field.Name, out var old))
                {
                    NewFields.Add(ToRow(NewId(), current.Id, field));
                    SchemaChanges.Add((current.Id, SchemaChangeKind.ColumnAdded, field.Name, null, field.DataType));
                    added.Add(field.Name);
                    continue;
                }
                var m = old.ManualAttributes;
                T Keep<T>(string attribute, T before, T after) => m.Contains(attribute) ? before : after;
                var row = new FieldRow(old.Id, current.Id, old.Name,
                    refresh ? Keep("data_type", old.DataType, field.DataType) : old.DataType,
                    Keep("is_nullable", old.IsNullable, field.IsNullable),
                    Keep("description", old.Description, field.Description),
                    Keep("ordinal", old.Ordinal, field.Ordinal),
                    Keep("is_primary_key", old.IsPrimaryKey, field.IsPrimaryKey),
                    Keep("foreign_key_target", old.ForeignKeyTarget, field.ForeignKeyTarget),
                    field.DefaultValue);
                if (row == ToRow(old)) continue;
                ChangedFields.Add(row);
                if (!string.Equals(row.DataType, old.DataType, StringComparison.Ordinal))
                    SchemaChanges.Add((current.Id, SchemaChangeKind.TypeChanged, old.Name, old.DataType, row.DataType));
                Audit(current.Id, current.Name, $"fields.{old.Name}", FieldJson(ToRow(old)), FieldJson(row));
                changed = true;
            }
            if (added.Count > 0) { Audit(current.Id, current.Name, "fields_added", null, JsonSerializer.SerializeToNode(added)); changed = true; }
            if (refresh)
            {
                // Only columns a scraper created vanish with the source; a field a person added stays.
                var removed = fields.Where(f => !seen.Contains(f.Name) && !f.ManualAttributes.Contains("name")).ToList();
                foreach (var f in removed)
                {
                    RemovedFields.Add(f.Id);
                    SchemaChanges.Add((current.Id, SchemaChangeKind.ColumnRemoved, f.Name, f.DataType, null));
                }
                if (removed.Count > 0)
                {
                    Audit(current.Id, current.Name, "fields_removed", JsonSerializer.SerializeToNode(removed.Select(f => f.Name).ToList()), null);
                    changed = true;
                }
            }
            if (changed) Updates[current.Id] = update;
            return changed;
        }

        public void MarkStale(ExistingProduct product)
        {
            StaleIds.Add(product.Id);
            Audit(product.Id, product.Name, "is_stale", false, true);
        }

        private static JsonObject FieldJson(FieldRow f) => new()
        {
            ["data_type"] = f.DataType, ["is_nullable"] = f.IsNullable, ["description"] = f.Description, ["ordinal"] = f.Ordinal,
            ["is_primary_key"] = f.IsPrimaryKey, ["foreign_key_target"] = f.ForeignKeyTarget, ["default_value"] = f.DefaultValue,
        };

        private static FieldRow ToRow(ExistingField f)
            => new(f.Id, f.ProductId, f.Name, f.DataType, f.IsNullable, f.Description, f.Ordinal, f.IsPrimaryKey, f.ForeignKeyTarget, f.DefaultValue);

        private static FieldRow ToRow(Guid id, Guid productId, SnapshotField f)
            => new(id, productId, f.Name, f.DataType, f.IsNullable, f.Description, f.Ordinal, f.IsPrimaryKey, f.ForeignKeyTarget, f.DefaultValue);

        /// <summary>Fields clipped to the catalog's column sizes, first occurrence of a name wins.</summary>
        private static IEnumerable<SnapshotField> DistinctFields(SnapshotProduct p)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var f in p.Fields)
            {
                var name = Clip(f.Name, 300)!;
                if (name.Length == 0 || !names.Add(name)) continue;
                yield return f with
                {
                    Name = name, DataType = Clip(f.DataType, 200), Description = Clip(f.Description, 4000),
                    ForeignKeyTarget = Clip(f.ForeignKeyTarget, 500), DefaultValue = Clip(f.DefaultValue, 1000),
                };
            }
        }
    }

    /// <summary>Owners named by the source (by e-mail) become the product's owner when it has none and a person never set one.</summary>
    private async Task ResolveOwnersAsync(Plan plan, Dictionary<string, SnapshotProduct> incoming, Dictionary<string, ExistingProduct> existing, CancellationToken ct)
    {
        var emails = incoming.Values.Select(p => p.OwnerEmail?.Trim().ToLowerInvariant()).OfType<string>().Distinct().ToList();
        if (emails.Count == 0) return;
        var members = await db.SpaceMemberships.AsNoTracking()
            .Where(m => m.SpaceId == plan.Connector.SpaceId && emails.Contains(m.User.Email.ToLower()))
            .Select(m => new { Email = m.User.Email.ToLower(), m.UserId }).ToDictionaryAsync(m => m.Email, m => m.UserId, ct);
        Guid? Owner(SnapshotProduct p) => p.OwnerEmail is { } e && members.TryGetValue(e.Trim().ToLowerInvariant(), out var id) ? id : null;
        foreach (var p in plan.NewProducts) p.OwnerId = Owner(p.Source);
        if (plan.Job.MergeStrategy == MergeStrategy.Skip) return;
        foreach (var (externalId, source) in incoming)
        {
            if (!existing.TryGetValue(externalId, out var current) || current.OwnerId is not null || current.ManualAttributes.Contains("owner_id")) continue;
            if (Owner(source) is not { } owner) continue;
            if (!plan.Updates.TryGetValue(current.Id, out var update))
            {
                update = new ProductUpdate(current.Id, current.Name, current.Description, current.ProductType, current.HostingLocation,
                    current.Provider, current.RowCountEstimate, current.IsStale);
                plan.Updates[current.Id] = update;
                if (plan.UpdatedIds.Add(current.Id)) plan.Unchanged--;
            }
            update.OwnerId = owner;
            plan.Audit(current.Id, current.Name, "owner_id", null, JsonValue.Create(owner));
        }
    }

    private sealed record EdgePlan(List<(Guid Up, Guid Down)> Add, List<Guid> Remove);

    private async Task<EdgePlan> PlanEdgesAsync(Plan plan, CatalogSnapshot snapshot, Dictionary<string, ExistingProduct> existing, MergeStrategy strategy,
        Action<string> warn, CancellationToken ct)
    {
        var newIds = plan.NewProducts.Select(p => p.Id).ToHashSet();
        var wanted = new HashSet<(Guid, Guid)>();
        var unresolved = 0;
        foreach (var e in snapshot.Edges)
        {
            if (!plan.ProductIds.TryGetValue(e.UpstreamExternalId, out var up)) up = existing.GetValueOrDefault(e.UpstreamExternalId)?.Id ?? Guid.Empty;
            if (!plan.ProductIds.TryGetValue(e.DownstreamExternalId, out var down)) down = Guid.Empty;
            if (up == Guid.Empty || down == Guid.Empty) { unresolved++; continue; }
            if (up != down) wanted.Add((up, down));
        }
        if (unresolved > 0) warn($"{unresolved} lineage edge(s) name a relation this connector does not catalogue (filtered out or in another source); they were skipped.");

        var current = await db.LineageEdges.AsNoTracking()
            .Where(l => l.SourceConnectorId == plan.Connector.Id || (plan.ProductIds.Values.Contains(l.DownstreamId)))
            .Select(l => new { l.Id, l.UpstreamId, l.DownstreamId, l.SourceConnectorId }).ToListAsync(ct);
        var present = current.Select(l => (l.UpstreamId, l.DownstreamId)).ToHashSet();
        var add = wanted.Where(w => !present.Contains(w))
            .Where(w => strategy != MergeStrategy.Skip || newIds.Contains(w.Item1) || newIds.Contains(w.Item2))
            .OrderBy(w => w.Item1).ThenBy(w => w.Item2).ToList();
        var remove = strategy == MergeStrategy.Refresh
            ? current.Where(l => l.SourceConnectorId == plan.Connector.Id && !wanted.Contains((l.UpstreamId, l.DownstreamId))).Select(l => l.Id).ToList()
            : [];
        return new EdgePlan(add, remove);
    }

    private sealed record TestPlan(List<(Guid Id, ImportedTest Test, Guid ProductId)> Upsert, List<Guid> Remove);

    private async Task<TestPlan> PlanTestsAsync(Plan plan, CatalogSnapshot snapshot, MergeStrategy strategy, CancellationToken ct)
    {
        var current = await db.SourceTests.AsNoTracking().Where(t => t.ConnectorId == plan.Connector.Id)
            .Select(t => new { t.Id, t.ExternalId, t.ProductId, t.Name, t.TestType, t.Column, t.Config })
            .ToDictionaryAsync(t => t.ExternalId, StringComparer.Ordinal, ct);
        var upsert = new List<(Guid, ImportedTest, Guid)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var test in snapshot.Tests)
        {
            if (!plan.ProductIds.TryGetValue(test.ProductExternalId, out var productId) || !seen.Add(test.ExternalId)) continue;
            var config = NormaliseJson(test.Config);
            if (current.TryGetValue(test.ExternalId, out var old))
            {
                if (strategy == MergeStrategy.Skip) continue;
                if (old.ProductId == productId && old.Name == test.Name && old.TestType == test.TestType && old.Column == test.Column && NormaliseJson(old.Config) == config) continue;
                upsert.Add((old.Id, test with { Config = config }, productId));
            }
            else upsert.Add((Guid.CreateVersion7(plan.Now), test with { Config = config }, productId));
        }
        var remove = strategy == MergeStrategy.Refresh ? current.Values.Where(t => !seen.Contains(t.ExternalId)).Select(t => t.Id).ToList() : [];
        return new TestPlan(upsert, remove);
    }

    private static string NormaliseJson(string json)
    {
        try { return JsonNode.Parse(json)?.ToJsonString() ?? "{}"; }
        catch (JsonException) { return "{}"; }
    }

    /// <summary>Slugs from the product's name, then schema and name, then a counter — never one already used in the space.</summary>
    private async Task AssignSlugsAsync(Plan plan, CancellationToken ct)
    {
        var taken = (await db.Products.AsNoTracking().Where(p => p.SpaceId == plan.Connector.SpaceId).Select(p => p.Slug).ToListAsync(ct))
            .ToHashSet(StringComparer.Ordinal);
        foreach (var product in plan.NewProducts)
        {
            var candidates = new List<string> { Slugify(product.Source.Name) };
            if (product.Source.Schema is { Length: > 0 } schema) candidates.Add(Slugify($"{schema}-{product.Source.Name}"));
            var slug = FreeSlug(candidates, taken.Contains);
            taken.Add(slug);
            product.Slug = slug;
        }
    }

    /// <summary>The first candidate not taken, else the last one with the lowest free <c>-n</c> suffix (kept within 63 characters).</summary>
    internal static string FreeSlug(IReadOnlyList<string> candidates, Func<string, bool> taken)
    {
        var slug = candidates.FirstOrDefault(c => !taken(c));
        for (var n = 2; slug is null; n++)
        {
            var suffix = $"-{n.ToString(CultureInfo.InvariantCulture)}";
            var candidate = candidates[^1].Length + suffix.Length > 63 ? candidates[^1][..(63 - suffix.Length)].TrimEnd('-') + suffix : candidates[^1] + suffix;
            if (!taken(candidate)) slug = candidate;
        }
        return slug;
    }

    internal static string Slugify(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text.Normalize(NormalizationForm.FormKD).ToLowerInvariant())
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9') sb.Append(c);
            else if (sb.Length > 0 && sb[^1] != '-') sb.Append('-');
        }
        var slug = sb.ToString().Trim('-');
        if (slug.Length > 63)
        {
            // Long names keep their start and gain a short hash of the whole, so two long names rarely collide.
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..8];
            slug = slug[..54].TrimEnd('-') + "-" + hash;
        }
        if (slug.Length < 2) slug = ("p-" + slug).TrimEnd('-') + (slug.Length == 0 ? "x" : "");
        if (Guid.TryParse(slug, out _)) slug = "p-" + slug[..Math.Min(slug.Length, 61)];
        return slug;
    }

    /// <summary>Trims and bounds source text to a column's size; PostgreSQL text cannot hold NUL, so it is dropped.</summary>
    internal static string? Clip(string? value, int max)
    {
        if (value is null) return null;
        if (value.Contains('\0', StringComparison.Ordinal)) value = value.Replace("\0", "", StringComparison.Ordinal);
        value = value.Trim();
        if (value.Length == 0) return null;
        return value.Length <= max ? value : value[..(max - 1)] + "…";
    }

    // ---- writing --------------------------------------------------------------------------------------

    private async Task WriteAsync(Plan plan, EdgePlan edges, TestPlan tests, CancellationToken ct)
    {
        var spaceId = plan.Connector.SpaceId;
        var now = plan.Now;
        var actor = plan.Job.TriggeredById;

        if (plan.NewProducts.Count > 0)
        {
            var p = plan.NewProducts;
            await ExecAsync("""
                INSERT INTO data_products (id, space_id, slug, name, description, product_type, provider, hosting_location, owner_id,
                    is_archived, is_stale, is_discovered, manual_attributes, source_connector_id, external_id, row_count_estimate,
                    created_by_id, created_at, updated_at)
                SELECT u.id, @space, u.slug, u.name, u.description, u.product_type, u.provider, u.hosting_location, u.owner_id,
                    false, false, false, ARRAY[]::text[], @connector, u.external_id, u.row_count_estimate, @actor, @now, @now
                FROM unnest(@ids, @slugs, @names, @descriptions, @types, @providers, @locations, @owners, @externals, @rows)
                    AS u(id, slug, name, description, product_type, provider, hosting_location, owner_id, external_id, row_count_estimate)
                """, ct,
                P("space", spaceId), P("connector", plan.Connector.Id), P("actor", actor), P("now", now),
                P("ids", p.Select(x => x.Id).ToArray()), P("slugs", p.Select(x => x.Slug).ToArray()),
                P("names", p.Select(x => Clip(x.Source.Name, 200) ?? x.ExternalId).ToArray()),
                P("descriptions", p.Select(x => Clip(x.Source.Description, 4000)).ToArray()),
                P("types", p.Select(x => x.Source.ProductType).ToArray()), P("providers", p.Select(x => Clip(x.Source.Provider, 200)).ToArray()),
                P("locations", p.Select(x => Clip(x.Source.HostingLocation, 500)).ToArray()), P("owners", p.Select(x => x.OwnerId).ToArray()),
                P("externals", p.Select(x => x.ExternalId).ToArray()), P("rows", p.Select(x => x.Source.RowCountEstimate).ToArray()));
        }

        if (plan.Updates.Count > 0)
        {
            var u = plan.Updates.Values.ToList();
            await ExecAsync("""
                UPDATE data_products d SET name = u.name, description = u.description, product_type = u.product_type,
                    hosting_location = u.hosting_location, provider = u.provider, row_count_estimate = u.row_count_estimate,
                    owner_id = u.owner_id, is_stale = false, stale_since = NULL, updated_at = @now
                FROM unnest(@ids, @names, @descriptions, @types, @locations, @providers, @rows, @owners)
                    AS u(id, name, description, product_type, hosting_location, provider, row_count_estimate, owner_id)
                WHERE d.id = u.id
                """, ct,
                P("now", now), P("ids", u.Select(x => x.Id).ToArray()), P("names", u.Select(x => x.Name).ToArray()),
                P("descriptions", u.Select(x => x.Description).ToArray()), P("types", u.Select(x => x.ProductType).ToArray()),
                P("locations", u.Select(x => x.HostingLocation).ToArray()), P("providers", u.Select(x => x.Provider).ToArray()),
                P("rows", u.Select(x => x.RowCountEstimate).ToArray()), P("owners", u.Select(x => x.OwnerId).ToArray()));
        }

        if (plan.StaleIds.Count > 0)
            await ExecAsync("UPDATE data_products SET is_stale = true, stale_since = @now, updated_at = @now WHERE id = ANY(@ids)", ct,
                P("now", now), P("ids", plan.StaleIds.ToArray()));

        if (plan.RemovedFields.Count > 0)
            await ExecAsync("DELETE FROM product_fields WHERE id = ANY(@ids)", ct, P("ids", plan.RemovedFields.ToArray()));

        if (plan.NewFields.Count > 0)
        {
            var f = plan.NewFields;
            await ExecAsync("""
                INSERT INTO product_fields (id, product_id, space_id, name, data_type, is_nullable, description, ordinal, is_primary_key,
                    foreign_key_target, default_value, manual_attributes, created_at, updated_at)
                SELECT u.id, u.product_id, @space, u.name, u.data_type, u.is_nullable, u.description, u.ordinal, u.is_primary_key,
                    u.foreign_key_target, u.default_value, ARRAY[]::text[], @now, @now
                FROM unnest(@ids, @products, @names, @types, @nullables, @descriptions, @ordinals, @pks, @fks, @defaults)
                    AS u(id, product_id, name, data_type, is_nullable, description, ordinal, is_primary_key, foreign_key_target, default_value)
                """, ct, FieldParameters(f, P("space", spaceId), P("now", now)));
        }

        if (plan.ChangedFields.Count > 0)
            await ExecAsync("""
                UPDATE product_fields d SET data_type = u.data_type, is_nullable = u.is_nullable, description = u.description, ordinal = u.ordinal,
                    is_primary_key = u.is_primary_key, foreign_key_target = u.foreign_key_target, default_value = u.default_value, updated_at = @now
                FROM unnest(@ids, @products, @names, @types, @nullables, @descriptions, @ordinals, @pks, @fks, @defaults)
                    AS u(id, product_id, name, data_type, is_nullable, description, ordinal, is_primary_key, foreign_key_target, default_value)
                WHERE d.id = u.id
                """, ct, FieldParameters(plan.ChangedFields, P("now", now)));

        if (plan.TagLinks.Count > 0)
        {
            // Tags by name, case-insensitively reusing the space's own; missing ones are created.
            var names = plan.TagLinks.Select(t => t.Tag).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
            await ExecAsync("""
                INSERT INTO tags (id, space_id, name, created_at, updated_at)
                SELECT u.id, @space, u.name, @now, @now FROM unnest(@ids, @names) AS u(id, name)
                WHERE NOT EXISTS (SELECT 1 FROM tags t WHERE t.space_id = @space AND lower(t.name) = lower(u.name))
                """, ct, P("space", spaceId), P("now", now), P("ids", names.Select(_ => Guid.CreateVersion7(now)).ToArray()), P("names", names));
            await ExecAsync("""
                INSERT INTO product_tags (product_id, tag_id, created_at)
                SELECT DISTINCT u.product_id, t.id, @now FROM unnest(@products, @names) AS u(product_id, name)
                JOIN tags t ON t.space_id = @space AND lower(t.name) = lower(u.name)
                ON CONFLICT DO NOTHING
                """, ct, P("space", spaceId), P("now", now),
                P("products", plan.TagLinks.Select(t => t.ProductId).ToArray()), P("names", plan.TagLinks.Select(t => t.Tag).ToArray()));
        }

        if (edges.Remove.Count > 0)
            await ExecAsync("DELETE FROM lineage_edges WHERE id = ANY(@ids)", ct, P("ids", edges.Remove.ToArray()));
        if (edges.Add.Count > 0)
            await ExecAsync("""
                INSERT INTO lineage_edges (id, upstream_id, downstream_id, space_id, relationship, created_by_id, source_connector_id, created_at)
                SELECT u.id, u.up, u.down, @space, 'transforms', @actor, @connector, @now FROM unnest(@ids, @ups, @downs) AS u(id, up, down)
                ON CONFLICT (upstream_id, downstream_id) DO NOTHING
                """, ct, P("space", spaceId), P("actor", actor), P("connector", plan.Connector.Id), P("now", now),
                P("ids", edges.Add.Select(_ => Guid.CreateVersion7(now)).ToArray()),
                P("ups", edges.Add.Select(e => e.Up).ToArray()), P("downs", edges.Add.Select(e => e.Down).ToArray()));

        if (tests.Remove.Count > 0)
            await ExecAsync("DELETE FROM source_tests WHERE id = ANY(@ids)", ct, P("ids", tests.Remove.ToArray()));
        if (tests.Upsert.Count > 0)
        {
            var t = tests.Upsert;
            await ExecAsync("""
                INSERT INTO source_tests (id, space_id, connector_id, external_id, product_id, name, test_type, "column", config, created_at, updated_at)
                SELECT u.id, @space, @connector, u.external_id, u.product_id, u.name, u.test_type, u.col, u.config::jsonb, @now, @now
                FROM unnest(@ids, @externals, @products, @names, @types, @columns, @configs) AS u(id, external_id, product_id, name, test_type, col, config)
                ON CONFLICT (connector_id, external_id) DO UPDATE SET product_id = excluded.product_id, name = excluded.name,
                    test_type = excluded.test_type, "column" = excluded."column", config = excluded.config, updated_at = excluded.updated_at
                """, ct, P("space", spaceId), P("connector", plan.Connector.Id), P("now", now),
                P("ids", t.Select(x => x.Id).ToArray()), P("externals", t.Select(x => Clip(x.Test.ExternalId, 500)!).ToArray()),
                P("products", t.Select(x => x.ProductId).ToArray()), P("names", t.Select(x => Clip(x.Test.Name, 500)!).ToArray()),
                P("types", t.Select(x => x.Test.TestType).ToArray()), P("columns", t.Select(x => Clip(x.Test.Column, 300)).ToArray()),
                P("configs", t.Select(x => x.Test.Config).ToArray()));
        }

        if (plan.SchemaChanges.Count > 0)
        {
            var c = plan.SchemaChanges;
            await ExecAsync("""
                INSERT INTO schema_changes (id, space_id, product_id, job_id, kind, "column", old_type, new_type, occurred_at)
                SELECT u.id, @space, u.product_id, @job, u.kind, u.col, u.old_type, u.new_type, @now
                FROM unnest(@ids, @products, @kinds, @columns, @olds, @news) AS u(id, product_id, kind, col, old_type, new_type)
                """, ct, P("space", spaceId), P("job", plan.Job.Id), P("now", now),
                P("ids", c.Select(_ => Guid.CreateVersion7(now)).ToArray()), P("products", c.Select(x => x.ProductId).ToArray()),
                P("kinds", c.Select(x => JsonNames.ToSnakeCase(x.Kind.ToString())).ToArray()), P("columns", c.Select(x => x.Column).ToArray()),
                P("olds", c.Select(x => x.OldType).ToArray()), P("news", c.Select(x => x.NewType).ToArray()));
        }

        // One audit entry per product the sync created, changed or marked stale, in the same transaction.
        var audit = plan.NewProducts.Select(p => (p.Id, Name: Clip(p.Source.Name, 200) ?? p.ExternalId, Action: "create", Changes: CreatedJson(p)))
            .Concat(plan.AuditEntries.Select(a => (Id: a.Key, a.Value.Name, Action: "update", Changes: a.Value.Changes.ToJsonString())))
            .ToList();
        if (audit.Count > 0)
            await ExecAsync("""
                INSERT INTO audit_log (id, occurred_at, space_id, actor_user_id, action, resource_type, resource_id, resource_name, changes)
                SELECT u.id, @now, @space, @actor, u.action, 'data_product', u.resource_id, left(u.name, 400), u.changes::jsonb
                FROM unnest(@ids, @actions, @resources, @names, @changes) AS u(id, action, resource_id, name, changes)
                """, ct, P("now", now), P("space", spaceId), P("actor", actor),
                P("ids", audit.Select(_ => Guid.CreateVersion7(now)).ToArray()), P("actions", audit.Select(a => a.Action).ToArray()),
                P("resources", audit.Select(a => a.Id).ToArray()), P("names", audit.Select(a => a.Name).ToArray()),
                P("changes", audit.Select(a => a.Changes).ToArray()));

        var touched = plan.NewProducts.Select(p => p.Id).Concat(plan.UpdatedIds).Concat(plan.StaleIds).Distinct().ToArray();
        if (touched.Length > 0)
            await ExecAsync("SELECT qarion_refresh_product_search(@ids)", ct, P("ids", touched));
    }

    private static string CreatedJson(NewProduct p) => new JsonObject
    {
        ["external_id"] = new JsonObject { ["before"] = null, ["after"] = p.ExternalId },
        ["product_type"] = new JsonObject { ["before"] = null, ["after"] = p.Source.ProductType },
        ["fields"] = new JsonObject { ["before"] = null, ["after"] = p.Source.Fields.Count },
    }.ToJsonString();

    private static NpgsqlParameter[] FieldParameters(List<FieldRow> f, params NpgsqlParameter[] extra) =>
    [
        .. extra,
        P("ids", f.Select(x => x.Id).ToArray()), P("products", f.Select(x => x.ProductId).ToArray()), P("names", f.Select(x => x.Name).ToArray()),
        P("types", f.Select(x => x.DataType).ToArray()), P("nullables", f.Select(x => x.IsNullable).ToArray()),
        P("descriptions", f.Select(x => x.Description).ToArray()), P("ordinals", f.Select(x => x.Ordinal).ToArray()),
        P("pks", f.Select(x => x.IsPrimaryKey).ToArray()), P("fks", f.Select(x => x.ForeignKeyTarget).ToArray()),
        P("defaults", f.Select(x => x.DefaultValue).ToArray()),
    ];

    private static NpgsqlParameter P(string name, object? value) => value switch
    {
        // Typed arrays, so unnest() knows its column types even when every element is null.
        string[] => new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = value },
        Guid?[] => new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = value },
        long?[] => new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = value },
        // The only nullable scalar bound here is a user id.
        null => new NpgsqlParameter(name, NpgsqlDbType.Uuid) { Value = DBNull.Value },
        _ => new NpgsqlParameter(name, value),
    };

    private Task<int> ExecAsync(string sql, CancellationToken ct, params NpgsqlParameter[] parameters)
        => db.Database.ExecuteSqlRawAsync(sql, parameters, ct);
}
