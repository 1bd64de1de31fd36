using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Ingestion;
using Qarion.Core.Outbox;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Webhooks;

/// <summary>Webhook subscriptions of a space and their delivery log (Admin only: URLs and logs may reveal receivers' internals).</summary>
public sealed class WebhookService(
    QarionDbContext db, SpaceAccess access, CurrentUser me, CredentialProtector protector, OutboundHttp outbound, WebhookDeliverer deliverer,
    TimeProvider clock)
{
    private const string Duplicate = "A webhook with this name already exists in this space.";

    public async Task<WebhookResponse> CreateAsync(string spaceSlug, CreateWebhookRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var url = await CheckUrlAsync(request.Url, ct);
        var secret = request.Secret ?? WebhookSigning.NewSecret();
        var webhook = new WebhookSubscription
        {
            Id = Guid.CreateVersion7(clock.GetUtcNow()),
            SpaceId = space.SpaceId,
            Name = request.Name.Trim(),
            Url = url,
            EventTypes = Normalise(request.EventTypes),
            Description = request.Description,
            IsEnabled = request.IsEnabled ?? true,
            CreatedById = me.Id,
            EncryptedSecret = [],
        };
        webhook.EncryptedSecret = protector.Protect(webhook.Id, secret);
        db.Add(webhook);
        await db.SaveOrConflictAsync(ct, Duplicate);
        return await GetAsync(space, webhook.Id, ct) with { Secret = secret };
    }

    public async Task<WebhookResponse> GetAsync(string spaceSlug, Guid id, CancellationToken ct)
        => await GetAsync(await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct), id, ct);

    public async Task<Paged<WebhookResponse>> ListAsync(string spaceSlug, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        return await db.Set<WebhookSubscription>().AsNoTracking().Where(w => w.SpaceId == space.SpaceId)
            .OrderBy(w => w.Name).ThenBy(w => w.Id).Select(Projection).ToPageAsync(page, ct);
    }

    public async Task<WebhookResponse> UpdateAsync(string spaceSlug, Guid id, UpdateWebhookRequest request, uint? ifMatch, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var webhook = await FindAsync(space, id, ct);
        Concurrency.ExpectVersion(db, webhook, ifMatch ?? request.Version);
        if (request.Url.IsSet) webhook.Url = await CheckUrlAsync(request.Url.Value, ct);
        if (request.Name.IsSet) webhook.Name = request.Name.Value.Trim();
        if (request.EventTypes.IsSet) webhook.EventTypes = Normalise(request.EventTypes.Value);
        if (request.Description.IsSet) webhook.Description = request.Description.Value;
        if (request.IsEnabled.IsSet) SetEnabled(webhook, request.IsEnabled.Value);
        await db.SaveOrConflictAsync(ct, Duplicate);
        return await GetAsync(space, id, ct);
    }

    public async Task DeleteAsync(string spaceSlug, Guid id, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        db.Remove(await FindAsync(space, id, ct));
        await db.SaveOrConflictAsync(ct);
    }

    public async Task<WebhookResponse> SetEnabledAsync(string spaceSlug, Guid id, bool enabled, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var webhook = await FindAsync(space, id, ct);
        SetEnabled(webhook, enabled);
        await db.SaveOrConflictAsync(ct);
        return await GetAsync(space, id, ct);
    }

    /// <summary>Replaces the secret (supplied or generated) and returns it, this once.</summary>
    public async Task<WebhookResponse> RotateSecretAsync(string spaceSlug, Guid id, RotateWebhookSecretRequest request, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var webhook = await FindAsync(space, id, ct);
        var secret = request.Secret ?? WebhookSigning.NewSecret();
        webhook.EncryptedSecret = protector.Protect(webhook.Id, secret);
        await db.SaveOrConflictAsync(ct);
        return await GetAsync(space, id, ct) with { Secret = secret };
    }

    /// <summary>Sends a <c>webhook.test</c> event now, once, and reports what the receiver answered (also when disabled).</summary>
    public async Task<WebhookSendResult> TestAsync(string spaceSlug, Guid id, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var webhook = await db.Set<WebhookSubscription>().AsNoTracking().FindWebhookAsync(space, id, ct);
        var deliveryId = Guid.CreateVersion7(clock.GetUtcNow());
        using var data = JsonDocument.Parse(JsonSerializer.Serialize(new
        {
            WebhookId = webhook.Id, webhook.Name, Message = "This is a test delivery from Qarion.",
        }, JsonNames.SerializerOptions));
        var delivery = new WebhookDelivery
        {
            Id = deliveryId, SpaceId = space.SpaceId, SubscriptionId = webhook.Id, EventType = WebhookEvents.Test,
            Body = deliverer.Body(deliveryId, WebhookEvents.Test, clock.GetUtcNow(), space.SpaceId, data.RootElement),
            LockedUntil = clock.GetUtcNow().AddMinutes(2),
        };
        db.Add(delivery);
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
        return await deliverer.PerformAsync(deliveryId, 1, automatic: false, ct);
    }

    /// <summary>Sends a failed delivery again, now, as one more attempt of its series (no automatic retries after it).</summary>
    public async Task<WebhookSendResult> RedeliverAsync(string spaceSlug, Guid id, Guid deliveryId, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var attempts = await db.Set<WebhookDelivery>().AsNoTracking().Where(d => d.Id == deliveryId && d.SubscriptionId == id && d.SpaceId == space.SpaceId)
            .Select(d => new { d.Status, d.Attempts }).SingleOrDefaultAsync(ct) ?? throw new NotFoundException("Webhook delivery", deliveryId.ToString());
        if (attempts.Status != WebhookDeliveryStatus.Failed)
            throw new ConflictException($"Only a failed delivery can be sent again; this one is {JsonNames.ToSnakeCase(attempts.Status.ToString())}.", "delivery_not_failed");
        if (!await deliverer.ClaimAsync(deliveryId, attempts.Attempts + 1, WebhookDeliveryStatus.Failed, ct))
            throw new ConflictException("The delivery is being sent again already.", "delivery_not_failed");
        return await deliverer.PerformAsync(deliveryId, attempts.Attempts + 1, automatic: false, ct);
    }

    public async Task<Paged<WebhookDeliveryResponse>> DeliveriesAsync(string spaceSlug, Guid id, WebhookDeliveryStatus? status, PageRequest page, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        await db.Set<WebhookSubscription>().AsNoTracking().FindWebhookAsync(space, id, ct);
        var query = db.Set<WebhookDelivery>().AsNoTracking().Where(d => d.SubscriptionId == id);
        if (status is not null) query = query.Where(d => d.Status == status);
        var rows = await query.OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id).ToPageAsync(page, ct);
        var ids = rows.Items.Select(d => d.Id).ToList();
        var attempts = (await db.Set<WebhookAttempt>().AsNoTracking().Where(a => ids.Contains(a.DeliveryId)).OrderBy(a => a.Attempt).ToListAsync(ct))
            .ToLookup(a => a.DeliveryId);
        return new Paged<WebhookDeliveryResponse>(rows.Items.Select(d => ToResponse(d, attempts[d.Id])).ToList(), rows.Total, rows.Page, rows.Size);
    }

    public async Task<WebhookDeliveryResponse> DeliveryAsync(string spaceSlug, Guid id, Guid deliveryId, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Admin, ct);
        var delivery = await db.Set<WebhookDelivery>().AsNoTracking().SingleOrDefaultAsync(d => d.Id == deliveryId && d.SubscriptionId == id && d.SpaceId == space.SpaceId, ct)
                       ?? throw new NotFoundException("Webhook delivery", deliveryId.ToString());
        var attempts = await db.Set<WebhookAttempt>().AsNoTracking().Where(a => a.DeliveryId == deliveryId).OrderBy(a => a.Attempt).ToListAsync(ct);
        return ToResponse(delivery, attempts);
    }

    private static WebhookDeliveryResponse ToResponse(WebhookDelivery d, IEnumerable<WebhookAttempt> attempts) => new(
        d.Id, d.SubscriptionId, d.EventId, d.EventType, d.Status, d.Attempts, d.LastStatusCode, d.LastError, d.NextAttemptAt, d.CreatedAt, d.CompletedAt,
        attempts.Select(a => new WebhookAttemptResponse(a.Attempt, a.StatusCode, a.LatencyMs, a.Error, a.WillRetry, a.NextAttemptAt, a.AttemptedAt)).ToList());

    private void SetEnabled(WebhookSubscription webhook, bool enabled)
    {
        if (enabled && !webhook.IsEnabled)
        {
            webhook.DisabledReason = null;
            webhook.DisabledAt = null;
            webhook.ConsecutiveFailures = 0;
        }
        else if (!enabled && webhook.IsEnabled)
        {
            webhook.DisabledReason = "Disabled by an administrator.";
            webhook.DisabledAt = clock.GetUtcNow();
        }
        webhook.IsEnabled = enabled;
    }

    /// <summary>The trimmed URL, or 422 at <c>body.url</c>: <c>private_address</c>, <c>unresolvable_host</c> or <c>invalid_url</c>.</summary>
    private async Task<string> CheckUrlAsync(string url, CancellationToken ct)
    {
        url = url.Trim();
        var error = await outbound.CheckAsync(url, ct);
        if (error is null) return url;
        var message = error switch
        {
            "private_address" => "must not point to a private, loopback or link-local address",
            "unresolvable_host" => "the host name does not resolve",
            _ => "must be an absolute http or https URL without credentials, at most 2048 characters",
        };
        throw RequestValidationException.For("body", "url", message, error);
    }

    private static List<string> Normalise(IReadOnlyList<string> types) => types.Select(t => t.Trim()).Distinct(StringComparer.Ordinal).ToList();

    private Task<WebhookSubscription> FindAsync(SpaceContext space, Guid id, CancellationToken ct) => db.Set<WebhookSubscription>().FindWebhookAsync(space, id, ct);

    private async Task<WebhookResponse> GetAsync(SpaceContext space, Guid id, CancellationToken ct)
        => await db.Set<WebhookSubscription>().AsNoTracking().Where(w => w.Id == id && w.SpaceId == space.SpaceId).Select(Projection).SingleOrDefaultAsync(ct)
           ?? throw new NotFoundException("Webhook", id.ToString());

    private static readonly System.Linq.Expressions.Expression<Func<WebhookSubscription, WebhookResponse>> Projection = w => new WebhookResponse(
        w.Id, w.SpaceId, w.Name, w.Url, w.EventTypes, w.Description, w.IsEnabled, w.DisabledReason, w.DisabledAt, w.ConsecutiveFailures,
        true, w.CreatedById, w.CreatedAt, w.UpdatedAt, w.Version);
}

public static class WebhookEvents
{
    /// <summary>The type of a test delivery (not an outbox event; no subscription filter applies).</summary>
    public const string Test = "webhook.test";
}

internal static class WebhookQueries
{
    public static async Task<WebhookSubscription> FindWebhookAsync(this IQueryable<WebhookSubscription> webhooks, SpaceContext space, Guid id, CancellationToken ct)
        => await webhooks.SingleOrDefaultAsync(w => w.Id == id && w.SpaceId == space.SpaceId, ct) ?? throw new NotFoundException("Webhook", id.ToString());
}
