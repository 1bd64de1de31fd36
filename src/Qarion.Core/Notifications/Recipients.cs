using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Outbox;
using Qarion.Core.Persistence;
using Qarion.Core.Spaces;

namespace Qarion.Core.Notifications;

public sealed record Recipient(Guid UserId, string Email, string DisplayName);

/// <summary>
/// Who receives an event (docs/decisions/0006-notifications.md):
/// <list type="bullet">
/// <item>always the users in the payload's <c>recipient_ids</c> (the contract with access requests and webhooks);</item>
/// <item><c>issue.assigned</c>: the <c>assignee_id</c>; <c>issue.comment.mentioned</c>: the <c>mentioned_user_ids</c>;</item>
/// <item>issue created / resolved: the assignee, plus the owners, stewards and subscribers of the linked products;</item>
/// <item>quality, contract, product and schema events: owners, stewards and subscribers of the products in the payload
/// (<c>product_id</c>, <c>product_ids</c>, <c>producer_product_id</c>, <c>consumer_product_ids</c>);</item>
/// <item>sync events: the space's admins (and the governance of products named, if any).</item>
/// </list>
/// Then: only active users, only members of the event's space (for space events), never the payload's <c>actor_id</c>.
/// </summary>
public sealed class RecipientResolver(QarionDbContext db)
{
    public async Task<IReadOnlyList<Recipient>> ResolveAsync(OutboxMessage message, CancellationToken ct)
    {
        var payload = message.Payload;
        var ids = new HashSet<Guid>(Guids(payload, "recipient_ids"));
        var type = message.EventType;
        var productIds = Guids(payload, "product_id", "product_ids", "producer_product_id", "consumer_product_ids").Distinct().ToList();
        var governance = false;
        switch (type)
        {
            case OutboxEventTypes.IssueAssigned:
                ids.UnionWith(Guids(payload, "assignee_id"));
                break;
            case OutboxEventTypes.IssueCommentMention:
                ids.UnionWith(Guids(payload, "mentioned_user_ids"));
                break;
            case OutboxEventTypes.IssueCreated or OutboxEventTypes.IssueResolved:
                ids.UnionWith(Guids(payload, "assignee_id"));
                governance = true;
                break;
            case OutboxEventTypes.SyncCompleted or OutboxEventTypes.SyncFailed:
                if (message.SpaceId is { } spaceId)
                    ids.UnionWith(await db.SpaceMemberships.AsNoTracking()
                        .Where(m => m.SpaceId == spaceId && m.Role == SpaceRole.Admin).Select(m => m.UserId).ToListAsync(ct));
                governance = true;
                break;
            default:
                governance = type.StartsWith("quality.", StringComparison.Ordinal) || type.StartsWith("contract.", StringComparison.Ordinal)
                             || type.StartsWith("product.", StringComparison.Ordinal) || type == OutboxEventTypes.SchemaChanged;
                break;
        }
        if (governance && productIds.Count > 0)
        {
            var roles = await db.Products.AsNoTracking().Where(p => productIds.Contains(p.Id))
                .Select(p => new { p.OwnerId, p.StewardId }).ToListAsync(ct);
            foreach (var r in roles)
            {
                if (r.OwnerId is { } o) ids.Add(o);
                if (r.StewardId is { } s) ids.Add(s);
            }
            ids.UnionWith(await db.Set<ProductSubscription>().AsNoTracking().Where(s => productIds.Contains(s.ProductId)).Select(s => s.UserId).ToListAsync(ct));
        }
        foreach (var actor in Guids(payload, "actor_id")) ids.Remove(actor);
        if (ids.Count == 0) return [];

        var users = db.Users.AsNoTracking().Where(u => ids.Contains(u.Id) && u.IsActive);
        if (message.SpaceId is { } space)
            users = users.Where(u => db.SpaceMemberships.Any(m => m.SpaceId == space && m.UserId == u.Id));
        return await users.OrderBy(u => u.Id).Select(u => new Recipient(u.Id, u.Email, u.DisplayName)).ToListAsync(ct);
    }

    /// <summary>The ids in the named fields, each a uuid string or an array of them; anything else is ignored.</summary>
    internal static IEnumerable<Guid> Guids(JsonElement payload, params string[] fields)
    {
        if (payload.ValueKind != JsonValueKind.Object) yield break;
        foreach (var field in fields)
        {
            if (!payload.TryGetProperty(field, out var value)) continue;
            if (value.ValueKind == JsonValueKind.String && value.TryGetGuid(out var id)) yield return id;
            else if (value.ValueKind == JsonValueKind.Array)
                foreach (var item in value.EnumerateArray())
                    if (item.ValueKind == JsonValueKind.String && item.TryGetGuid(out var g)) yield return g;
        }
    }
}
