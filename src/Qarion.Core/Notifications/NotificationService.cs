using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Qarion.Core.Catalog;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Notifications;

public sealed record NotificationResponse(
    Guid Id, Guid EventId, string EventType, string Category, Guid? SpaceId, string Title, string? Body, string? Link,
    DateTimeOffset CreatedAt, DateTimeOffset? ReadAt, bool IsRead);

public sealed record UnreadCountResponse(int Count, IReadOnlyDictionary<string, int> ByCategory);

public sealed record MarkedReadResponse(int Marked);

public sealed record PreferenceItem(string Category, string Channel, bool Enabled);

public sealed record PreferencesResponse(IReadOnlyList<PreferenceItem> Preferences);

public sealed record UpdatePreferencesRequest
{
    public IReadOnlyList<PreferenceItem>? Preferences { get; init; }
}

public sealed record SubscriptionResponse(Guid ProductId, string ProductSlug, string ProductName, string Space, DateTimeOffset SubscribedAt);

/// <summary>
/// The caller's own inbox, preferences and product subscriptions. The inbox and preferences are per user, not per
/// space (the routes live under <c>/v1/me</c>); subscribing to a product is space-scoped (Viewer of its space).
/// </summary>
public sealed class NotificationService(QarionDbContext db, CurrentUser me, SpaceAccess access, CatalogSupport catalog)
{
    private Guid UserId => me.Id ?? throw new ForbiddenException("Sign in to read notifications.");

    public async Task<Paged<NotificationResponse>> ListAsync(string? category, bool unreadOnly, PageRequest page, CancellationToken ct)
    {
        var userId = UserId;
        if (category is not null) RequireCategory(category, "query", "category");
        var query = db.Set<Notification>().AsNoTracking().Where(n => n.UserId == userId);
        if (category is not null) query = query.Where(n => n.Category == category);
        if (unreadOnly) query = query.Where(n => n.ReadAt == null);
        return await query.OrderByDescending(n => n.CreatedAt).ThenByDescending(n => n.Id)
            .Select(n => new NotificationResponse(n.Id, n.EventId, n.EventType, n.Category, n.SpaceId, n.Title, n.Body, n.Link, n.CreatedAt, n.ReadAt, n.ReadAt != null))
            .ToPageAsync(page, ct);
    }

    public async Task<UnreadCountResponse> UnreadCountAsync(CancellationToken ct)
    {
        var userId = UserId;
        var counts = await db.Set<Notification>().AsNoTracking().Where(n => n.UserId == userId && n.ReadAt == null)
            .GroupBy(n => n.Category).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
        return new UnreadCountResponse(counts.Sum(c => c.Count), counts.OrderBy(c => c.Key, StringComparer.Ordinal).ToDictionary(c => c.Key, c => c.Count));
    }

    /// <summary>Marks one of the caller's notifications read (again: no change); another user's is 404.</summary>
    public async Task<NotificationResponse> MarkReadAsync(Guid id, CancellationToken ct)
    {
        var userId = UserId;
        var n = await db.Set<Notification>().SingleOrDefaultAsync(x => x.Id == id && x.UserId == userId, ct)
                ?? throw new NotFoundException("Notification", id.ToString());
        n.ReadAt ??= db.Clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return new NotificationResponse(n.Id, n.EventId, n.EventType, n.Category, n.SpaceId, n.Title, n.Body, n.Link, n.CreatedAt, n.ReadAt, true);
    }

    public async Task<MarkedReadResponse> MarkAllReadAsync(string? category, CancellationToken ct)
    {
        var userId = UserId;
        if (category is not null) RequireCategory(category, "query", "category");
        var now = db.Clock.GetUtcNow();
        var query = db.Set<Notification>().Where(n => n.UserId == userId && n.ReadAt == null);
        if (category is not null) query = query.Where(n => n.Category == category);
        return new MarkedReadResponse(await query.ExecuteUpdateAsync(s => s.SetProperty(n => n.ReadAt, now), ct));
    }

    /// <summary>Every category × channel with the caller's choice or the default.</summary>
    public async Task<PreferencesResponse> PreferencesAsync(CancellationToken ct)
    {
        var userId = UserId;
        var chosen = await db.Set<NotificationPreference>().AsNoTracking().Where(p => p.UserId == userId)
            .ToDictionaryAsync(p => (p.Category, p.Channel), p => p.Enabled, ct);
        var items = new List<PreferenceItem>();
        foreach (var category in NotificationCategories.All)
            foreach (var channel in NotificationCategories.Channels)
                items.Add(new PreferenceItem(category, channel,
                    chosen.TryGetValue((category, channel), out var on) ? on : NotificationCategories.DefaultEnabled(category, channel)));
        return new PreferencesResponse(items);
    }

    /// <summary>Sets the listed (category, channel) pairs; the others keep their value. Unknown names are 422.</summary>
    public async Task<PreferencesResponse> UpdatePreferencesAsync(UpdatePreferencesRequest request, CancellationToken ct)
    {
        var userId = UserId;
        var items = request.Preferences ?? throw RequestValidationException.For("body", "preferences", "Field required", "missing");
        var errors = new List<FieldError>();
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is null) { errors.Add(new FieldError(["body", "preferences", i], "must be an object", "type_error")); continue; }
            if (!NotificationCategories.All.Contains(items[i].Category))
                errors.Add(new FieldError(["body", "preferences", i, "category"], "must be one of: " + string.Join(", ", NotificationCategories.All), "enum"));
            if (!NotificationCategories.Channels.Contains(items[i].Channel))
                errors.Add(new FieldError(["body", "preferences", i, "channel"], "must be one of: " + string.Join(", ", NotificationCategories.Channels), "enum"));
        }
        if (errors.Count > 0) throw new RequestValidationException(errors);
        var existing = await db.Set<NotificationPreference>().Where(p => p.UserId == userId).ToListAsync(ct);
        var now = db.Clock.GetUtcNow();
        foreach (var item in items)
        {
            var row = existing.FirstOrDefault(p => p.Category == item.Category && p.Channel == item.Channel);
            if (row is null)
            {
                row = new NotificationPreference { UserId = userId, Category = item.Category, Channel = item.Channel };
                db.Add(row);
                existing.Add(row);
            }
            row.Enabled = item.Enabled;
            row.UpdatedAt = now;
        }
        await db.SaveChangesAsync(ct);
        return await PreferencesAsync(ct);
    }

    // ───────────── subscriptions ─────────────

    public async Task<SubscriptionResponse> SubscribeAsync(string spaceSlug, string product, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var userId = UserId;
        var productId = await catalog.FindProductIdAsync(space, product, ct);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO product_subscriptions (user_id, product_id, space_id, created_at) VALUES ({userId}, {productId}, {space.SpaceId}, {db.Clock.GetUtcNow()})
            ON CONFLICT (user_id, product_id) DO NOTHING
            """, ct);
        return await Subscriptions(userId, productId).SingleAsync(ct);
    }

    public async Task UnsubscribeAsync(string spaceSlug, string product, CancellationToken ct)
    {
        var space = await access.RequireAsync(spaceSlug, SpaceRole.Viewer, ct);
        var userId = UserId;
        var productId = await catalog.FindProductIdAsync(space, product, ct);
        await db.Set<ProductSubscription>().Where(s => s.UserId == userId && s.ProductId == productId).ExecuteDeleteAsync(ct);
    }

    /// <summary>The caller's subscriptions in the spaces they are still a member of, newest first.</summary>
    public async Task<Paged<SubscriptionResponse>> MySubscriptionsAsync(PageRequest page, CancellationToken ct)
        => await Subscriptions(UserId, null).ToPageAsync(page, ct);

    private IQueryable<SubscriptionResponse> Subscriptions(Guid userId, Guid? productId) =>
        from s in db.Set<ProductSubscription>().AsNoTracking()
        join p in db.Products.AsNoTracking() on s.ProductId equals p.Id
        join sp in db.Spaces.AsNoTracking() on s.SpaceId equals sp.Id
        where s.UserId == userId && (productId == null || s.ProductId == productId)
              && db.SpaceMemberships.Any(m => m.SpaceId == s.SpaceId && m.UserId == userId)
        orderby s.CreatedAt descending, s.ProductId
        select new SubscriptionResponse(p.Id, p.Slug, p.Name, sp.Slug, s.CreatedAt);

    private static void RequireCategory(string category, string location, string field)
    {
        if (!NotificationCategories.All.Contains(category))
            throw RequestValidationException.For(location, field, "must be one of: " + string.Join(", ", NotificationCategories.All), "enum");
    }
}

/// <summary>Deletes read notifications older than <c>Qarion:Notifications:RetentionDays</c> (default 90) by creation time.</summary>
public sealed class NotificationRetention(QarionDbContext db, IConfiguration configuration)
{
    public int RetentionDays => Math.Max(1, configuration.GetValue("Qarion:Notifications:RetentionDays", 90));

    public async Task<int> PurgeAsync(CancellationToken ct)
    {
        var cutoff = db.Clock.GetUtcNow() - TimeSpan.FromDays(RetentionDays);
        return await db.Set<Notification>().Where(n => n.ReadAt != null && n.CreatedAt < cutoff).ExecuteDeleteAsync(ct);
    }
}
