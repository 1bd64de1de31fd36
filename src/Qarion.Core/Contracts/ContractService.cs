using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Ingestion;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Contracts;

public sealed record ContractListQuery(ContractStatus? Status, SlaStatus? SlaStatus, Guid? ProductId);

/// <summary>
/// Data contracts of a space: Viewers read them and their violations, Editors create, change, move them through
/// their lifecycle and evaluate them, Admins delete drafts. Decisions: docs/decisions/0005-contracts.md.
/// </summary>
public sealed class ContractService(QarionDbContext db, SpaceAccess access, CurrentUser me, ContractSlaService sla, TimeProvider clock)
{
    /// <summary>The allowed status changes (a status set to itself is no change).</summary>
    private static readonly HashSet<(ContractStatus From, ContractStatus To)> Transitions =
    [
        (ContractStatus.Draft, ContractStatus.Active),
        (ContractStatus.Active, ContractStatus.Deprecated),
        (ContractStatus.Active, ContractStatus.Expired),
        (ContractStatus.Deprecated, ContractStatus.Active),
        (ContractStatus.Deprecated, ContractStatus.Expired),
    ];

    public async Task<ContractResponse> CreateAsync(string spaceSlug, CreateContractRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var producer = await ResolveProductsAsync(space, [request.Producer], "producer", single: true, ct);
        var consumers = await ResolveConsumersAsync(space, request.Consumers ?? [], producer[0], ct);
        var name = request.Name.Trim();
        var contract = new DataContract
        {
            SpaceId = space.SpaceId,
            Name = name,
            Slug = request.Slug ?? await FreeSlugAsync(space, name, ct),
            Description = request.Description,
            ProducerProductId = producer[0],
            Status = request.Status ?? ContractStatus.Draft,
            FreshnessHours = request.FreshnessHours,
            MinQualityScore = request.MinQualityScore,
            AvailabilityPercent = request.AvailabilityPercent,
            WindowDays = request.WindowDays ?? 30,
            EffectiveFrom = request.EffectiveFrom?.ToUniversalTime(),
            ExpiresAt = request.ExpiresAt?.ToUniversalTime(),
            CreatedById = me.Id,
        };
        if (contract.Status == ContractStatus.Active) RequireActivatable(contract);
        db.DataContracts.Add(contract);
        db.ContractConsumers.AddRange(consumers.Select(p => new ContractConsumer { ContractId = contract.Id, ProductId = p }));
        await db.SaveOrConflictAsync(ct, $"A contract with slug '{contract.Slug}' already exists in this space.");
        return await LoadAsync(contract.Id, ct);
    }

    public async Task<ContractResponse> GetAsync(string spaceSlug, string key, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        return await LoadAsync(await FindIdAsync(space, key, ct), ct);
    }

    public async Task<Paged<ContractResponse>> ListAsync(string spaceSlug, ContractListQuery query, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var contracts = db.DataContracts.AsNoTracking().Where(c => c.SpaceId == space.SpaceId);
        if (query.Status is { } status) contracts = contracts.Where(c => c.Status == status);
        if (query.SlaStatus is { } slaStatus) contracts = contracts.Where(c => c.SlaStatus == slaStatus);
        if (query.ProductId is { } productId)
            contracts = contracts.Where(c => c.ProducerProductId == productId || db.ContractConsumers.Any(cc => cc.ContractId == c.Id && cc.ProductId == productId));
        var paged = await contracts.OrderBy(c => c.Name).ThenBy(c => c.Id).ToPageAsync(page, ct);
        return new Paged<ContractResponse>(await ToResponsesAsync(paged.Items, ct), paged.Total, paged.Page, paged.Size);
    }

    public async Task<ContractResponse> UpdateAsync(string spaceSlug, string key, UpdateContractRequest request, uint? ifMatch, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var id = await FindIdAsync(space, key, ct);
        var contract = await db.DataContracts.SingleAsync(c => c.Id == id, ct);
        Concurrency.ExpectVersion(db, contract, ifMatch ?? request.Version);
        if (contract.Status == ContractStatus.Expired)
            throw new ConflictException("The contract has expired; an expired contract cannot change.", "contract_expired");

        contract.Name = request.Name.Or(contract.Name).Trim();
        contract.Slug = request.Slug.Or(contract.Slug);
        contract.Description = request.Description.Or(contract.Description);
        if (request.Producer.IsSet)
        {
            var producer = (await ResolveProductsAsync(space, [request.Producer.Value], "producer", single: true, ct))[0];
            if (producer != contract.ProducerProductId && contract.Status != ContractStatus.Draft)
                throw new ConflictException("The producer can only change while the contract is a draft.", "producer_locked");
            contract.ProducerProductId = producer;
        }
        var current = await db.ContractConsumers.Where(c => c.ContractId == id).ToListAsync(ct);
        if (request.Consumers.IsSet)
        {
            var wanted = await ResolveConsumersAsync(space, request.Consumers.Value ?? [], contract.ProducerProductId, ct);
            db.ContractConsumers.RemoveRange(current.Where(c => !wanted.Contains(c.ProductId)));
            db.ContractConsumers.AddRange(wanted.Where(p => current.All(c => c.ProductId != p)).Select(p => new ContractConsumer { ContractId = id, ProductId = p }));
        }
        else if (current.Any(c => c.ProductId == contract.ProducerProductId))
            throw RequestValidationException.For("body", "producer", "the producer is one of the contract's consumers", "producer_is_consumer");

        contract.FreshnessHours = request.FreshnessHours.Or(contract.FreshnessHours);
        contract.MinQualityScore = request.MinQualityScore.Or(contract.MinQualityScore);
        contract.AvailabilityPercent = request.AvailabilityPercent.Or(contract.AvailabilityPercent);
        contract.WindowDays = request.WindowDays.Or(contract.WindowDays);
        contract.EffectiveFrom = request.EffectiveFrom.Or(contract.EffectiveFrom)?.ToUniversalTime();
        contract.ExpiresAt = request.ExpiresAt.Or(contract.ExpiresAt)?.ToUniversalTime();
        if (!ContractRules.DatesInOrder(contract.EffectiveFrom, contract.ExpiresAt))
            throw RequestValidationException.For("body", "expires_at", "must be later than effective_from", "date_order");

        if (request.Status.IsSet && request.Status.Value != contract.Status)
        {
            var to = request.Status.Value;
            if (!Transitions.Contains((contract.Status, to)))
                throw new ConflictException($"A {Name(contract.Status)} contract cannot become {Name(to)}.", "invalid_transition");
            if (to == ContractStatus.Active) RequireActivatable(contract);
            if (to is ContractStatus.Deprecated or ContractStatus.Expired)
                await CloseViolationsAsync(id, ct); // no longer in force: nothing is violated any more
            contract.Status = to;
        }
        else if (contract.Status == ContractStatus.Active && !HasTerm(contract))
            throw RequestValidationException.For("body", "status", "an active contract needs at least one SLA term", "terms_required");

        await db.SaveOrConflictAsync(ct, $"A contract with slug '{contract.Slug}' already exists in this space.");
        return await LoadAsync(id, ct);
    }

    /// <summary>Admins delete drafts; a contract that has been in force is deprecated or expired instead, keeping its history.</summary>
    public async Task DeleteAsync(string spaceSlug, string key, uint? ifMatch, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var id = await FindIdAsync(space, key, ct);
        var contract = await db.DataContracts.SingleAsync(c => c.Id == id, ct);
        Concurrency.ExpectVersion(db, contract, ifMatch);
        if (contract.Status != ContractStatus.Draft)
            throw new ConflictException($"Only draft contracts can be deleted; deprecate or expire this {Name(contract.Status)} one instead.", "contract_not_draft");
        db.DataContracts.Remove(contract);
        await db.SaveOrConflictAsync(ct);
    }

    public async Task<Paged<ContractViolationResponse>> ViolationsAsync(string spaceSlug, string key, bool? open, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var id = await FindIdAsync(space, key, ct);
        var violations = db.ContractViolations.AsNoTracking().Where(v => v.ContractId == id);
        if (open is true) violations = violations.Where(v => v.ResolvedAt == null);
        if (open is false) violations = violations.Where(v => v.ResolvedAt != null);
        return await violations.OrderByDescending(v => v.OccurredAt).ThenByDescending(v => v.Id)
            .Select(v => new ContractViolationResponse(v.Id, v.ContractId, v.Term, v.Severity, v.Expected, v.Actual, v.Message, v.OccurredAt, v.ResolvedAt))
            .ToPageAsync(page, ct);
    }

    /// <summary>Evaluates an active contract now (Editor) and returns it with the result.</summary>
    public async Task<ContractResponse> EvaluateAsync(string spaceSlug, string key, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Editor, ct);
        var id = await FindIdAsync(space, key, ct);
        var status = await db.DataContracts.Where(c => c.Id == id).Select(c => c.Status).SingleAsync(ct);
        if (status != ContractStatus.Active)
            throw new ConflictException($"Only active contracts are evaluated; this one is {Name(status)}.", "contract_not_active");
        await sla.EvaluateAsync(id, null, ct);
        return await LoadAsync(id, ct);
    }

    // ---- helpers ----------------------------------------------------------------------------------------

    private static string Name(ContractStatus status) => JsonNames.ToSnakeCase(status.ToString());

    private static bool HasTerm(DataContract c) => c.FreshnessHours is not null || c.MinQualityScore is not null || c.AvailabilityPercent is not null;

    private void RequireActivatable(DataContract contract)
    {
        if (!HasTerm(contract))
            throw RequestValidationException.For("body", "status", "an active contract needs at least one SLA term (freshness_hours, min_quality_score or availability_percent)", "terms_required");
        if (contract.ExpiresAt <= clock.GetUtcNow())
            throw RequestValidationException.For("body", "expires_at", "the contract would be active after it expires", "already_expired");
    }

    private async Task CloseViolationsAsync(Guid id, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        foreach (var v in await db.ContractViolations.Where(v => v.ContractId == id && v.ResolvedAt == null).ToListAsync(ct)) v.ResolvedAt = now;
    }

    /// <summary>A contract of the space by id or slug (slugs never look like UUIDs), or 404.</summary>
    private async Task<Guid> FindIdAsync(SpaceContext space, string key, CancellationToken ct)
    {
        var contracts = db.DataContracts.AsNoTracking().Where(c => c.SpaceId == space.SpaceId);
        contracts = Guid.TryParse(key, out var id) ? contracts.Where(c => c.Id == id) : contracts.Where(c => c.Slug == key);
        return await contracts.Select(c => (Guid?)c.Id).SingleOrDefaultAsync(ct) ?? throw new NotFoundException("Contract", key);
    }

    /// <summary>The name's slug, or with the lowest free <c>-n</c> suffix, as products discovered by connectors get theirs.</summary>
    private async Task<string> FreeSlugAsync(SpaceContext space, string name, CancellationToken ct)
    {
        var baseSlug = CatalogMerger.Slugify(name);
        var taken = (await db.DataContracts.AsNoTracking().Where(c => c.SpaceId == space.SpaceId && c.Slug.StartsWith(baseSlug))
            .Select(c => c.Slug).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
        return CatalogMerger.FreeSlug([baseSlug], taken.Contains);
    }

    /// <summary>Products of the space by id or slug, in order; 422 at each index that names none.</summary>
    private async Task<List<Guid>> ResolveProductsAsync(SpaceContext space, IReadOnlyList<string> keys, string field, bool single, CancellationToken ct)
    {
        var ids = keys.Select(k => Guid.TryParse(k, out var g) ? g : (Guid?)null).Where(g => g is not null).Select(g => g!.Value).Distinct().ToList();
        var slugs = keys.Where(k => !Guid.TryParse(k, out _)).Distinct().ToList();
        var found = await db.Products.AsNoTracking()
            .Where(p => p.SpaceId == space.SpaceId && (ids.Contains(p.Id) || slugs.Contains(p.Slug)))
            .Select(p => new { p.Id, p.Slug }).ToListAsync(ct);
        var result = new List<Guid>();
        var errors = new List<FieldError>();
        for (var i = 0; i < keys.Count; i++)
        {
            var key = keys[i];
            var match = Guid.TryParse(key, out var g) ? found.FirstOrDefault(p => p.Id == g) : found.FirstOrDefault(p => p.Slug == key);
            if (match is null)
                errors.Add(new FieldError(single ? ["body", field] : ["body", field, i], "no data product with this id or slug in the space", "unknown_product"));
            else result.Add(match.Id);
        }
        if (errors.Count > 0) throw new RequestValidationException(errors);
        return result;
    }

    private async Task<List<Guid>> ResolveConsumersAsync(SpaceContext space, IReadOnlyList<string> keys, Guid producer, CancellationToken ct)
    {
        var ids = await ResolveProductsAsync(space, keys, "consumers", single: false, ct);
        var errors = new List<FieldError>();
        var seen = new HashSet<Guid>();
        for (var i = 0; i < ids.Count; i++)
        {
            if (ids[i] == producer) errors.Add(new FieldError(["body", "consumers", i], "the producer cannot be its own contract's consumer", "producer_is_consumer"));
            else if (!seen.Add(ids[i])) errors.Add(new FieldError(["body", "consumers", i], "this product is already listed", "duplicate"));
        }
        if (errors.Count > 0) throw new RequestValidationException(errors);
        return ids;
    }

    private async Task<ContractResponse> LoadAsync(Guid id, CancellationToken ct)
        => (await ToResponsesAsync(await db.DataContracts.AsNoTracking().Where(c => c.Id == id).ToListAsync(ct), ct)).Single();

    private async Task<List<ContractResponse>> ToResponsesAsync(IReadOnlyList<DataContract> contracts, CancellationToken ct)
    {
        if (contracts.Count == 0) return [];
        var ids = contracts.Select(c => c.Id).ToList();
        var consumers = await db.ContractConsumers.AsNoTracking().Where(c => ids.Contains(c.ContractId)).ToListAsync(ct);
        var productIds = consumers.Select(c => c.ProductId).Concat(contracts.Select(c => c.ProducerProductId)).Distinct().ToList();
        var products = await db.Products.AsNoTracking().Where(p => productIds.Contains(p.Id))
            .Select(p => new ContractProductRef(p.Id, p.Slug, p.Name)).ToDictionaryAsync(p => p.Id, ct);
        var open = await db.ContractViolations.AsNoTracking().Where(v => ids.Contains(v.ContractId) && v.ResolvedAt == null)
            .GroupBy(v => v.ContractId).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.Key, x => x.Count, ct);
        return contracts.Select(c => new ContractResponse(
            c.Id, c.SpaceId, c.Slug, c.Name, c.Description, c.Status,
            products[c.ProducerProductId],
            consumers.Where(x => x.ContractId == c.Id).Select(x => products[x.ProductId]).OrderBy(p => p.Slug, StringComparer.Ordinal).ToList(),
            c.FreshnessHours, c.MinQualityScore, c.AvailabilityPercent, c.WindowDays, c.EffectiveFrom, c.ExpiresAt,
            c.SlaStatus, Details(c.SlaDetails), c.LastEvaluatedAt, open.GetValueOrDefault(c.Id),
            c.CreatedById, c.CreatedAt, c.UpdatedAt, c.Version)).ToList();
    }

    private static List<ContractTermResult> Details(string? json)
        => json is null ? [] : JsonSerializer.Deserialize<List<ContractTermResult>>(json, JsonNames.SerializerOptions) ?? [];
}
