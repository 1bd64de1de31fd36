using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Ingestion;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Quality;

/// <summary>
/// Quality check definitions of a space: Viewers read, Editors create, change and archive, Admins delete. Every
/// write validates the whole definition again (config per type, catalog names, regexes, thresholds, connector,
/// schedule) and stores the config with its defaults resolved, exactly as the runner will read it.
/// </summary>
public sealed class CheckService(QarionDbContext db, SpaceAccess access, CurrentUser me, TimeProvider clock, ExecutionRecorder recorder)
{
    public async Task<CheckResponse> CreateAsync(string spaceSlug, CreateCheckRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var valid = await ValidateAsync(space, new Draft(
            request.CheckType, request.Products, Blank(request.Field), request.Config, request.Warning, request.Critical,
            Blank(request.Schedule), request.ConnectorId), ct);
        var slug = request.Slug ?? await FreeSlugAsync(space, request.Name, ct);
        var check = new QualityCheck
        {
            SpaceId = space.SpaceId,
            Slug = slug,
            Name = request.Name.Trim(),
            Description = request.Description,
            CheckType = request.CheckType,
            Config = CheckConfigJson.Write(valid.Config),
            FieldName = valid.Field,
            WarningThreshold = CheckConfigJson.Write(valid.Warning),
            CriticalThreshold = CheckConfigJson.Write(valid.Critical),
            Severity = request.Severity ?? CheckSeverity.Medium,
            ConnectorId = valid.ConnectorId,
            Schedule = valid.Schedule,
            IsActive = request.IsActive ?? true,
            CreatedById = me.Id,
        };
        check.NextRunAt = NextRun(check);
        db.QualityChecks.Add(check);
        for (var i = 0; i < valid.ProductIds.Count; i++)
            db.CheckProducts.Add(new CheckProduct { CheckId = check.Id, ProductId = valid.ProductIds[i], Position = i });
        await db.SaveOrConflictAsync(ct, $"A check with slug '{slug}' already exists in this space.");
        return await GetByIdAsync(check.Id, ct);
    }

    public async Task<CheckResponse> GetAsync(string spaceSlug, string idOrSlug, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var check = await db.QualityChecks.AsNoTracking().FindInSpaceAsync(space, idOrSlug, ct);
        return (await ToResponsesAsync([check], ct))[0];
    }

    public static readonly IReadOnlyList<string> StatusFilters = ["pass", "warning", "fail", "error", "queued", "running", "never"];

    public async Task<Paged<CheckResponse>> ListAsync(string spaceSlug, CheckListQuery query, PageRequest page, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var checks = db.QualityChecks.AsNoTracking().Where(c => c.SpaceId == space.SpaceId);
        if (query.ArchivedOnly) checks = checks.Where(c => c.IsArchived);
        else if (!query.IncludeArchived) checks = checks.Where(c => !c.IsArchived);
        if (query.CheckType is { } type)
        {
            if (!CheckTypes.All.Contains(type, StringComparer.Ordinal))
                throw RequestValidationException.For("query", "check_type", $"must be one of {string.Join(", ", CheckTypes.All)}", "enum");
            checks = checks.Where(c => c.CheckType == type);
        }
        if (query.Status is { } status)
        {
            if (status == "never") checks = checks.Where(c => c.LastStatus == null);
            else
            {
                var parsed = Enum.GetValues<ExecutionStatus>().Where(s => JsonNames.ToSnakeCase(s.ToString()) == status).Select(s => (ExecutionStatus?)s).FirstOrDefault()
                             ?? throw RequestValidationException.For("query", "status", $"must be one of {string.Join(", ", StatusFilters)}", "enum");
                checks = checks.Where(c => c.LastStatus == parsed);
            }
        }
        if (query.ConnectorId is { } connectorId) checks = checks.Where(c => c.ConnectorId == connectorId);
        if (query.Product is { } product)
        {
            var productId = await ProductKey(space, product).Select(p => (Guid?)p.Id).SingleOrDefaultAsync(ct)
                            ?? throw RequestValidationException.For("query", "product", $"no product '{product}' in this space", "unknown_product");
            checks = checks.Where(c => db.CheckProducts.Any(cp => cp.CheckId == c.Id && cp.ProductId == productId));
        }
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var pattern = Text.ContainsPattern(query.Search.Trim());
            checks = checks.Where(c => EF.Functions.ILike(c.Name, pattern, "\\"));
        }
        var paged = await checks.OrderBy(c => c.Name).ThenBy(c => c.Id).ToPageAsync(page, ct);
        return new Paged<CheckResponse>(await ToResponsesAsync(paged.Items, ct), paged.Total, paged.Page, paged.Size);
    }

    public async Task<CheckResponse> UpdateAsync(string spaceSlug, string idOrSlug, UpdateCheckRequest request, uint? ifMatch, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var check = await db.QualityChecks.FindInSpaceAsync(space, idOrSlug, ct);
        Concurrency.ExpectVersion(db, check, ifMatch ?? request.Version);
        var links = await db.CheckProducts.Where(cp => cp.CheckId == check.Id).OrderBy(cp => cp.Position).ToListAsync(ct);
        using var stored = JsonDocument.Parse(check.Config);
        var valid = await ValidateAsync(space, new Draft(
            check.CheckType,
            request.Products.IsSet ? request.Products.Value : links.Select(l => l.ProductId.ToString()).ToList(),
            request.Field.IsSet ? Blank(request.Field.Value) : check.FieldName,
            request.Config.IsSet ? request.Config.Value : stored.RootElement,
            request.Warning.IsSet ? request.Warning.Value : ThresholdBody.From(CheckConfigJson.ReadThreshold(check.WarningThreshold)),
            request.Critical.IsSet ? request.Critical.Value : ThresholdBody.From(CheckConfigJson.ReadThreshold(check.CriticalThreshold)),
            request.Schedule.IsSet ? Blank(request.Schedule.Value) : check.Schedule,
            request.ConnectorId.IsSet ? request.ConnectorId.Value : check.ConnectorId), ct);

        check.Name = request.Name.Or(check.Name).Trim();
        check.Description = request.Description.Or(check.Description);
        // jsonb hands keys back in its own order: only a change in content is a change.
        if (!StoredJson.Same(check.Config, CheckConfigJson.Write(valid.Config))) check.Config = CheckConfigJson.Write(valid.Config);
        check.FieldName = valid.Field;
        if (!StoredJson.Same(check.WarningThreshold, CheckConfigJson.Write(valid.Warning))) check.WarningThreshold = CheckConfigJson.Write(valid.Warning);
        if (!StoredJson.Same(check.CriticalThreshold, CheckConfigJson.Write(valid.Critical))) check.CriticalThreshold = CheckConfigJson.Write(valid.Critical);
        check.Severity = request.Severity.Or(check.Severity);
        check.ConnectorId = valid.ConnectorId;
        check.Schedule = valid.Schedule;
        check.IsActive = request.IsActive.Or(check.IsActive);
        // Recomputed only when the timing changes: an overdue run the scheduler has not picked up yet is not skipped.
        if (request.Schedule.IsSet || request.IsActive.IsSet) check.NextRunAt = NextRun(check);
        if (request.Products.IsSet) SetProducts(check.Id, links, valid.ProductIds);
        // Products, severity and activity weigh in the scores of the products covered before and after.
        await SaveAndRescoreAsync([.. links.Select(l => l.ProductId).Union(valid.ProductIds)], ct);
        return await GetByIdAsync(check.Id, ct);
    }

    public async Task<CheckResponse> SetArchivedAsync(string spaceSlug, string idOrSlug, bool archived, uint? ifMatch, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var check = await db.QualityChecks.FindInSpaceAsync(space, idOrSlug, ct);
        Concurrency.ExpectVersion(db, check, ifMatch);
        if (check.IsArchived != archived)
        {
            check.IsArchived = archived;
            check.ArchivedAt = archived ? clock.GetUtcNow() : null;
            check.NextRunAt = NextRun(check);
            await SaveAndRescoreAsync(await ProductsOfAsync(check.Id, ct), ct);
        }
        return await GetByIdAsync(check.Id, ct);
    }

    /// <summary>Deletes the check with its executions and alerts (Admin); archive it to keep its history.</summary>
    public async Task DeleteAsync(string spaceSlug, string idOrSlug, uint? ifMatch, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var check = await db.QualityChecks.FindInSpaceAsync(space, idOrSlug, ct);
        Concurrency.ExpectVersion(db, check, ifMatch);
        var products = await ProductsOfAsync(check.Id, ct);
        db.QualityChecks.Remove(check);
        await SaveAndRescoreAsync(products, ct);
    }

    private async Task<List<Guid>> ProductsOfAsync(Guid checkId, CancellationToken ct)
        => await db.CheckProducts.AsNoTracking().Where(cp => cp.CheckId == checkId).Select(cp => cp.ProductId).ToListAsync(ct);

    /// <summary>Saves and recomputes the quality scores of <paramref name="productIds"/> in one transaction.</summary>
    private async Task SaveAndRescoreAsync(IReadOnlyCollection<Guid> productIds, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.SaveOrConflictAsync(ct);
        await recorder.RecomputeScoresAsync(productIds, ct);
        await tx.CommitAsync(ct);
    }

    internal DateTimeOffset? NextRun(QualityCheck c)
        => c.IsActive && !c.IsArchived ? Schedules.Next(c.Schedule, clock.GetUtcNow()) : null;

    internal static void SetProducts(QarionDbContext db, Guid checkId, List<CheckProduct> current, IReadOnlyList<Guid> wanted)
    {
        db.CheckProducts.RemoveRange(current.Where(l => !wanted.Contains(l.ProductId)));
        for (var i = 0; i < wanted.Count; i++)
        {
            var link = current.FirstOrDefault(l => l.ProductId == wanted[i]);
            if (link is null) db.CheckProducts.Add(new CheckProduct { CheckId = checkId, ProductId = wanted[i], Position = i });
            else if (link.Position != i) link.Position = i;
        }
    }

    private void SetProducts(Guid checkId, List<CheckProduct> current, IReadOnlyList<Guid> wanted) => SetProducts(db, checkId, current, wanted);

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private async Task<CheckResponse> GetByIdAsync(Guid id, CancellationToken ct)
        => (await ToResponsesAsync([await db.QualityChecks.AsNoTracking().SingleAsync(c => c.Id == id, ct)], ct))[0];

    private async Task<List<CheckResponse>> ToResponsesAsync(IReadOnlyList<QualityCheck> checks, CancellationToken ct)
    {
        var ids = checks.Select(c => c.Id).ToList();
        var links = (await db.CheckProducts.AsNoTracking().Where(cp => ids.Contains(cp.CheckId))
                .Join(db.Products, cp => cp.ProductId, p => p.Id, (cp, p) => new { cp.CheckId, cp.Position, p.Id, p.Slug, p.Name })
                .ToListAsync(ct))
            .ToLookup(l => l.CheckId);
        return checks.Select(c =>
        {
            using var config = JsonDocument.Parse(c.Config);
            return new CheckResponse(
                c.Id, c.Slug, c.Name, c.Description, c.CheckType, config.RootElement.Clone(), c.FieldName,
                ThresholdBody.From(CheckConfigJson.ReadThreshold(c.WarningThreshold)), ThresholdBody.From(CheckConfigJson.ReadThreshold(c.CriticalThreshold)),
                c.Severity, c.ConnectorId, c.Schedule, c.NextRunAt, c.IsActive, c.IsArchived, c.LastStatus, c.LastRunAt,
                links[c.Id].OrderBy(l => l.Position).Select(l => new CheckProductRef(l.Id, l.Slug, l.Name)).ToList(),
                c.SourceTestId, c.CreatedAt, c.UpdatedAt, c.Version);
        }).ToList();
    }

    private IQueryable<Catalog.DataProduct> ProductKey(SpaceContext space, string idOrSlug)
    {
        var products = db.Products.AsNoTracking().Where(p => p.SpaceId == space.SpaceId);
        return Guid.TryParse(idOrSlug, out var id) ? products.Where(p => p.Id == id) : products.Where(p => p.Slug == idOrSlug);
    }

    private async Task<string> FreeSlugAsync(SpaceContext space, string name, CancellationToken ct)
    {
        var candidate = CatalogMerger.Slugify(name);
        var taken = (await db.QualityChecks.AsNoTracking()
                .Where(c => c.SpaceId == space.SpaceId && (c.Slug == candidate || c.Slug.StartsWith(candidate + "-")))
                .Select(c => c.Slug).ToListAsync(ct))
            .ToHashSet(StringComparer.Ordinal);
        return CatalogMerger.FreeSlug([candidate], taken.Contains);
    }

    // ----- validation -----

    /// <summary>A check's definition as it would be after the write.</summary>
    private sealed record Draft(
        string Type, IReadOnlyList<string> Products, string? Field, JsonElement? Config, ThresholdBody? Warning, ThresholdBody? Critical,
        string? Schedule, Guid? ConnectorId);

    private sealed record Valid(CheckConfig Config, Threshold? Warning, Threshold? Critical, IReadOnlyList<Guid> ProductIds, string? Field, string? Schedule, Guid? ConnectorId);

    private sealed record ProductRow(Guid Id, string Slug, Guid? SourceConnectorId, string? ExternalId);

    private async Task<Valid> ValidateAsync(SpaceContext space, Draft d, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var products = await ResolveProductsAsync(space, d.Products, errors, ct);
        var external = CheckTypes.IsExternal(d.Type);
        if (external)
        {
            if (d.ConnectorId is not null)
                errors.Add(new FieldError(["body", "connector_id"], $"a {d.Type} check runs no SQL; leave connector_id out", "not_applicable"));
            if (d.Schedule is not null)
                errors.Add(new FieldError(["body", "schedule"], $"a {d.Type} check's results are pushed or entered, never scheduled; leave schedule null", "not_applicable"));
        }
        else if (d.ConnectorId is null)
            errors.Add(new FieldError(["body", "connector_id"], $"a {d.Type} check runs SQL: give the postgresql connector it runs on", "missing"));
        else await RequirePostgresConnectorAsync(space, d.ConnectorId.Value, ["body", "connector_id"], errors, ct);

        var primary = products?.FirstOrDefault();
        if (d.Field is not null && primary is not null
            && !await db.ProductFields.AsNoTracking().AnyAsync(f => f.ProductId == primary.Id && f.Name == d.Field, ct))
            errors.Add(new FieldError(["body", "field"], $"'{d.Field}' is not a field of the primary product '{primary.Slug}'", "unknown_field"));
        // Without valid products, connector and field every default would be guessed: report these first.
        if (errors.Count > 0) throw new RequestValidationException(errors);

        var context = new SpecContext(d.ConnectorId ?? Guid.Empty, d.Field,
            connector => primary!.SourceConnectorId == connector ? SingleDotTable(primary.ExternalId) : null);
        var parsed = CheckSpecs.Parse(d.Type, d.Config, context);
        errors.AddRange(parsed.Errors);
        var badConnectors = new HashSet<Guid>();
        if (parsed.RightConnector is { } right && !await RequirePostgresConnectorAsync(space, right.Id, right.Path, errors, ct))
            badConnectors.Add(right.Id);
        await CheckCatalogAsync(space, parsed.Tables.Where(t => !badConnectors.Contains(t.ConnectorId)).ToList(), errors, ct);
        await CheckRegexesAsync(parsed.Regexes, errors, ct);
        errors.AddRange(CheckSpecs.ThresholdErrors(d.Type, parsed.Config, d.Warning, d.Critical));
        var (warning, critical) = (d.Warning?.ToThreshold(), d.Critical?.ToThreshold());
        if (errors.Count == 0 && CheckSpecs.CompileError(parsed.Config!, warning, critical) is { } compile) errors.Add(compile);
        if (errors.Count > 0) throw new RequestValidationException(errors);
        return new Valid(parsed.Config!, warning, critical, products!.Select(p => p.Id).ToList(), d.Field, d.Schedule, d.ConnectorId);
    }

    /// <summary>A scraped table's <c>schema.name</c> as a reference, when it splits one way only (one dot).</summary>
    internal static TableRef? SingleDotTable(string? externalId)
    {
        var parts = externalId?.Split('.');
        return parts is [{ Length: > 0 } schema, { Length: > 0 } name] ? new TableRef(schema, name) : null;
    }

    private async Task<List<ProductRow>?> ResolveProductsAsync(SpaceContext space, IReadOnlyList<string> keys, List<FieldError> errors, CancellationToken ct)
    {
        var ids = keys.Select(k => Guid.TryParse(k, out var id) ? id : (Guid?)null).OfType<Guid>().Distinct().ToList();
        var slugs = keys.Where(k => !Guid.TryParse(k, out _)).Distinct().ToList();
        var found = await db.Products.AsNoTracking()
            .Where(p => p.SpaceId == space.SpaceId && (ids.Contains(p.Id) || slugs.Contains(p.Slug)))
            .Select(p => new ProductRow(p.Id, p.Slug, p.SourceConnectorId, p.ExternalId)).ToListAsync(ct);
        var rows = new List<ProductRow>();
        var before = errors.Count;
        // A check whose products were all deleted keeps no primary product: a PATCH must name new ones.
        if (keys.Count == 0) errors.Add(new FieldError(["body", "products"], "at least one product", "too_short"));
        for (var i = 0; i < keys.Count; i++)
        {
            var key = keys[i];
            var row = Guid.TryParse(key, out var id) ? found.FirstOrDefault(p => p.Id == id) : found.FirstOrDefault(p => p.Slug == key);
            if (row is null) errors.Add(new FieldError(["body", "products", i], $"no product '{key}' in this space", "unknown_product"));
            else if (rows.Any(r => r.Id == row.Id)) errors.Add(new FieldError(["body", "products", i], $"'{key}' is listed twice", "duplicate"));
            else rows.Add(row);
        }
        return errors.Count > before ? null : rows;
    }

    private async Task<bool> RequirePostgresConnectorAsync(SpaceContext space, Guid id, IReadOnlyList<object> path, List<FieldError> errors, CancellationToken ct)
    {
        var platform = await db.Connectors.AsNoTracking().Where(c => c.Id == id && c.SpaceId == space.SpaceId).Select(c => c.Platform).SingleOrDefaultAsync(ct);
        if (platform is null) errors.Add(new FieldError([.. path], "no connector with this id in this space", "unknown_connector"));
        else if (platform != ConnectorPlatforms.PostgreSql)
            errors.Add(new FieldError([.. path], $"checks run on a postgresql connector, not a {platform} one", "connector_not_runnable"));
        else return true;
        return false;
    }

    /// <summary>
    /// Tables must be products the connector maintains (<c>external_id = schema.name</c>), columns fields of them:
    /// the names are compared exactly, so a name that is not in the catalog is refused whatever it contains.
    /// </summary>
    internal async Task CheckCatalogAsync(SpaceContext space, IReadOnlyList<TableUse> tables, List<FieldError> errors, CancellationToken ct)
    {
        if (tables.Count == 0) return;
        var connectors = tables.Select(t => t.ConnectorId).Distinct().ToList();
        var keys = tables.Select(t => t.Table.ToString()).Distinct().ToList();
        var found = await db.Products.AsNoTracking()
            .Where(p => p.SpaceId == space.SpaceId && p.SourceConnectorId != null && connectors.Contains(p.SourceConnectorId.Value)
                        && p.ExternalId != null && keys.Contains(p.ExternalId))
            .Select(p => new { p.Id, ConnectorId = p.SourceConnectorId!.Value, ExternalId = p.ExternalId! }).ToListAsync(ct);
        var productIds = found.Select(f => f.Id).ToList();
        var fields = (await db.ProductFields.AsNoTracking().Where(f => productIds.Contains(f.ProductId)).Select(f => new { f.ProductId, f.Name }).ToListAsync(ct))
            .ToLookup(f => f.ProductId, f => f.Name);
        foreach (var use in tables)
        {
            var key = use.Table.ToString();
            var product = found.FirstOrDefault(f => f.ConnectorId == use.ConnectorId && f.ExternalId == key);
            if (product is null)
            {
                errors.Add(new FieldError([.. use.Path], $"'{key}' is not a table in the connector's catalog (sync the connector first)", "unknown_table"));
                continue;
            }
            var columns = fields[product.Id].ToHashSet(StringComparer.Ordinal);
            foreach (var column in use.Columns.Where(c => !columns.Contains(c.Column)))
                errors.Add(new FieldError([.. column.Path],
                    $"'{column.Column}'{(column.FromField ? " (the check's field)" : "")} is not a column of {key}", "unknown_column"));
        }
    }

    /// <summary>
    /// Patterns run on PostgreSQL (<c>~</c>, POSIX advanced regular expressions), so PostgreSQL compiles them: Qarion's
    /// own database is one, and compiling against the empty string reads no data.
    /// </summary>
    private async Task CheckRegexesAsync(List<RegexUse> regexes, List<FieldError> errors, CancellationToken ct)
    {
        // On the main pool: a pattern that fails to compile leaves its connection as usable as any other failed
        // statement since auto-prepare is off (docs/decisions/0008-npgsql-auto-prepare.md; AutoPrepareResilienceTests).
        foreach (var regex in regexes)
        {
            try
            {
                await db.Database.SqlQuery<bool>($"SELECT ('' ~ {regex.Pattern}) AS \"Value\"").ToListAsync(ct);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InvalidRegularExpression)
            {
                errors.Add(new FieldError([.. regex.Path], $"not a valid PostgreSQL regular expression: {ex.MessageText}", "invalid_regex"));
            }
        }
    }
}

internal static class CheckQueries
{
    /// <summary>A check of the space by id or slug (slugs never look like UUIDs), or 404.</summary>
    public static async Task<QualityCheck> FindInSpaceAsync(this IQueryable<QualityCheck> checks, SpaceContext space, string idOrSlug, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(idOrSlug);
        checks = checks.Where(c => c.SpaceId == space.SpaceId);
        checks = Guid.TryParse(idOrSlug, out var id) ? checks.Where(c => c.Id == id) : checks.Where(c => c.Slug == idOrSlug);
        return await checks.SingleOrDefaultAsync(ct) ?? throw new NotFoundException("Quality check", idOrSlug);
    }
}
