using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Ingestion;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Quality;

/// <summary>
/// Turns the generic tests a dbt manifest declares (<see cref="SourceTest"/>) into quality checks that run on the
/// PostgreSQL connector where the models are materialised: not_null → null_check, unique → uniqueness,
/// accepted_values → accepted_values, relationships → sql_condition (child values missing from the parent).
/// Idempotent: one check per test (<see cref="QualityCheck.SourceTestId"/>), updated when what dbt says changed.
/// </summary>
public sealed partial class DbtTestImportService(QarionDbContext db, SpaceAccess access, CurrentUser me, CheckService checks)
{
    private sealed record DbtProduct(Guid Id, string ExternalId, string? HostingLocation);

    private sealed record Target(Guid ProductId, TableRef Table, HashSet<string> Columns);

    public async Task<ImportTestsResponse> ImportAsync(string spaceSlug, Guid connectorId, ImportTestsRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var dbt = await db.Connectors.AsNoTracking().FindInSpaceAsync(space, connectorId, ct);
        if (dbt.Platform != ConnectorPlatforms.DbtManifest)
            throw RequestValidationException.For("path", "connector_id", $"tests are imported from a dbt_manifest connector, not a {dbt.Platform} one", "not_dbt_connector");
        var run = await db.Connectors.AsNoTracking().Where(c => c.Id == request.RunConnectorId && c.SpaceId == space.SpaceId)
            .Select(c => new { c.Id, c.Platform }).SingleOrDefaultAsync(ct);
        if (run is null) throw RequestValidationException.For("body", "run_connector_id", "no connector with this id in this space", "unknown_connector");
        if (run.Platform != ConnectorPlatforms.PostgreSql)
            throw RequestValidationException.For("body", "run_connector_id", $"checks run on a postgresql connector, not a {run.Platform} one", "connector_not_runnable");

        var tests = await db.SourceTests.AsNoTracking().Where(t => t.ConnectorId == dbt.Id).OrderBy(t => t.ExternalId).ToListAsync(ct);
        var dbtProducts = await db.Products.AsNoTracking().Where(p => p.SpaceId == space.SpaceId && p.SourceConnectorId == dbt.Id && p.ExternalId != null)
            .Select(p => new DbtProduct(p.Id, p.ExternalId!, p.HostingLocation)).ToListAsync(ct);
        var dbtFields = await FieldsAsync(dbtProducts.Select(p => p.Id).ToList(), ct);
        var runTables = await db.Products.AsNoTracking().Where(p => p.SpaceId == space.SpaceId && p.SourceConnectorId == run.Id && p.ExternalId != null)
            .Select(p => new { p.Id, ExternalId = p.ExternalId! }).ToListAsync(ct);
        var runFields = await FieldsAsync(runTables.Select(p => p.Id).ToList(), ct);
        var runByKey = runTables.ToDictionary(p => p.ExternalId, p => p.Id, StringComparer.Ordinal);

        var testIds = tests.Select(t => t.Id).ToList();
        var existing = await db.QualityChecks.Where(c => c.SpaceId == space.SpaceId && c.SourceTestId != null && testIds.Contains(c.SourceTestId.Value))
            .ToDictionaryAsync(c => c.SourceTestId!.Value, ct);
        var existingIds = existing.Values.Select(c => c.Id).ToList();
        var links = (await db.CheckProducts.Where(cp => existingIds.Contains(cp.CheckId)).ToListAsync(ct)).GroupBy(cp => cp.CheckId)
            .ToDictionary(g => g.Key, g => g.OrderBy(cp => cp.Position).ToList());
        var taken = (await db.QualityChecks.AsNoTracking().Where(c => c.SpaceId == space.SpaceId).Select(c => c.Slug).ToListAsync(ct))
            .ToHashSet(StringComparer.Ordinal);

        Target? TargetOf(DbtProduct product, out string? reason)
        {
            reason = null;
            if (TableOf(product.HostingLocation) is not { } table)
            {
                reason = $"cannot tell the schema and relation of '{product.ExternalId}' from its hosting location '{product.HostingLocation}'";
                return null;
            }
            if (!runByKey.TryGetValue(table.ToString(), out var runProduct))
            {
                reason = $"table {table} is not in the catalog of the run connector (sync it, or check the dbt target schema)";
                return null;
            }
            return new Target(runProduct, table, runFields[runProduct].ToHashSet(StringComparer.Ordinal));
        }

        int created = 0, updated = 0, unchanged = 0;
        var skipped = new List<SkippedTest>();
        foreach (var test in tests)
        {
            var product = dbtProducts.FirstOrDefault(p => p.Id == test.ProductId);
            if (product is null)
            {
                skipped.Add(new SkippedTest(test.ExternalId, "the tested product is no longer maintained by this connector"));
                continue;
            }
            var (config, target, reason) = Build(test, product, dbtProducts, TargetOf);
            if (config is null || target is null)
            {
                skipped.Add(new SkippedTest(test.ExternalId, reason ?? "not importable"));
                continue;
            }
            if (CheckSpecs.CompileError(config, null, null) is { } compile)
            {
                skipped.Add(new SkippedTest(test.ExternalId, compile.Msg));
                continue;
            }
            var json = CheckConfigJson.Write(config);
            var type = config.Type;
            IReadOnlyList<Guid> productIds = product.Id == target.ProductId ? [product.Id] : [product.Id, target.ProductId];
            var field = test.Column is { } col && dbtFields[product.Id].Contains(col) ? col : null;
            if (existing.TryGetValue(test.Id, out var check))
            {
                var current = links.GetValueOrDefault(check.Id) ?? [];
                if (StoredJson.Same(check.Config, json) && check.CheckType == type && check.ConnectorId == run.Id
                    && current.Select(l => l.ProductId).SequenceEqual(productIds))
                {
                    unchanged++;
                    continue;
                }
                check.CheckType = type;
                check.Config = json;
                check.ConnectorId = run.Id;
                CheckService.SetProducts(db, check.Id, current, productIds);
                updated++;
                continue;
            }
            var name = test.Name.Length > 200 ? test.Name[..200] : test.Name;
            var slug = CatalogMerger.FreeSlug([CatalogMerger.Slugify(name)], taken.Contains);
            taken.Add(slug);
            var added = new QualityCheck
            {
                SpaceId = space.SpaceId,
                Slug = slug,
                Name = name,
                Description = $"Imported from dbt test {test.ExternalId}",
                CheckType = type,
                Config = json,
                FieldName = field,
                Severity = request.Severity ?? CheckSeverity.Medium,
                ConnectorId = run.Id,
                Schedule = request.Schedule,
                SourceTestId = test.Id,
                CreatedById = me.Id,
            };
            added.NextRunAt = checks.NextRun(added);
            db.QualityChecks.Add(added);
            for (var i = 0; i < productIds.Count; i++)
                db.CheckProducts.Add(new CheckProduct { CheckId = added.Id, ProductId = productIds[i], Position = i });
            created++;
        }
        await db.SaveOrConflictAsync(ct, "Another import of these tests ran at the same time; run it again.");
        return new ImportTestsResponse(created, updated, unchanged, skipped);
    }

    private delegate Target? Resolve(DbtProduct product, out string? reason);

    private static (CheckConfig? Config, Target? Target, string? Reason) Build(SourceTest test, DbtProduct product, List<DbtProduct> all, Resolve resolve)
    {
        if (resolve(product, out var reason) is not { } target) return (null, null, reason);
        if (test.Column is not { } column) return (null, target, "the test names no column");
        if (!target.Columns.Contains(column)) return (null, target, $"'{column}' is not a column of {target.Table} in the run connector's catalog");
        using var doc = JsonDocument.Parse(test.Config);
        var args = doc.RootElement;
        switch (test.TestType)
        {
            case "not_null":
                return (new NullCheckConfig(target.Table, column), target, null);
            case "unique":
                return (new UniquenessConfig(target.Table, [column]), target, null);
            case "accepted_values":
            {
                var values = args.ValueKind == JsonValueKind.Object && args.TryGetProperty("values", out var v) && v.ValueKind == JsonValueKind.Array
                    ? v.EnumerateArray().Select(ValueText).ToList()
                    : null;
                if (values is null || values.Count == 0 || values.Any(x => x is null))
                    return (null, target, "accepted_values needs a list of plain values");
                return (new AcceptedValuesConfig(target.Table, column, values!), target, null);
            }
            case "relationships":
            {
                var to = args.ValueKind == JsonValueKind.Object && args.TryGetProperty("to", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                var parentField = args.ValueKind == JsonValueKind.Object && args.TryGetProperty("field", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
                if (to is null || parentField is null) return (null, target, "relationships needs 'to' and 'field'");
                if (ParentOf(to, all) is not { } parentProduct) return (null, target, $"cannot resolve the parent {to} to a model, seed, snapshot or source of this connector");
                if (resolve(parentProduct, out var parentReason) is not { } parent) return (null, target, "parent: " + parentReason);
                if (!parent.Columns.Contains(parentField)) return (null, target, $"'{parentField}' is not a column of {parent.Table} in the run connector's catalog");
                return (new SqlConditionConfig(RelationshipSql(target.Table, column, parent.Table, parentField)), target, null);
            }
            default:
                return (null, target, $"dbt test type {test.TestType} is not imported");
        }
    }

    /// <summary>Child values (not NULL) that have no parent row, as dbt's relationships test selects them; every name quoted.</summary>
    public static string RelationshipSql(TableRef child, string childColumn, TableRef parent, string parentColumn)
    {
        ArgumentNullException.ThrowIfNull(child);
        ArgumentNullException.ThrowIfNull(parent);
        var q = PostgresCheckDialect.Instance;
        string Table(TableRef t) => q.QuoteIdentifier(t.Schema) + "." + q.QuoteIdentifier(t.Name);
        var c = q.QuoteIdentifier(childColumn);
        return $"SELECT child.{c} FROM {Table(child)} AS child WHERE child.{c} IS NOT NULL AND NOT EXISTS " +
               $"(SELECT 1 FROM {Table(parent)} AS parent WHERE parent.{q.QuoteIdentifier(parentColumn)} = child.{c})";
    }

    /// <summary><c>database.schema.relation</c> (or <c>schema.relation</c>), as the dbt parser writes the hosting location.</summary>
    private static TableRef? TableOf(string? hostingLocation)
    {
        var parts = hostingLocation?.Split('.');
        return parts switch
        {
            [_, { Length: > 0 } schema, { Length: > 0 } name] => new TableRef(schema, name),
            [{ Length: > 0 } schema, { Length: > 0 } name] => new TableRef(schema, name),
            _ => null,
        };
    }

    /// <summary>dbt's <c>ref('name')</c>, <c>ref('package', 'name')</c> or <c>source('source', 'table')</c>, among the connector's products.</summary>
    private static DbtProduct? ParentOf(string to, List<DbtProduct> all)
    {
        if (RefCall().Match(to) is { Success: true } r)
        {
            var (package, name) = r.Groups["name"].Success ? (r.Groups["first"].Value, r.Groups["name"].Value) : (null, r.Groups["first"].Value);
            var matches = all.Where(p => p.ExternalId.Split('.') is [var kind, var pkg, var n, ..]
                                         && kind is "model" or "seed" or "snapshot" && n == name && (package is null || pkg == package)).ToList();
            return matches.Count == 1 ? matches[0] : null;
        }
        if (SourceCall().Match(to) is { Success: true } s)
        {
            var suffix = $".{s.Groups["source"].Value}.{s.Groups["table"].Value}";
            var matches = all.Where(p => p.ExternalId.StartsWith("source.", StringComparison.Ordinal) && p.ExternalId.EndsWith(suffix, StringComparison.Ordinal)).ToList();
            return matches.Count == 1 ? matches[0] : null;
        }
        return null;
    }

    private static string? ValueText(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Number => v.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    private async Task<ILookup<Guid, string>> FieldsAsync(List<Guid> productIds, CancellationToken ct)
        => (await db.ProductFields.AsNoTracking().Where(f => productIds.Contains(f.ProductId)).Select(f => new { f.ProductId, f.Name }).ToListAsync(ct))
            .ToLookup(f => f.ProductId, f => f.Name);

    [GeneratedRegex(@"^\s*ref\(\s*['""](?<first>[^'""]+)['""]\s*(?:,\s*['""](?<name>[^'""]+)['""]\s*)?(?:,\s*v(?:ersion)?\s*=\s*[^)]*)?\)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex RefCall();

    [GeneratedRegex(@"^\s*source\(\s*['""](?<source>[^'""]+)['""]\s*,\s*['""](?<table>[^'""]+)['""]\s*\)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex SourceCall();
}
