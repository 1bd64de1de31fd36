using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Qarion.Core.AlertConnectors;
using Qarion.Core.Notifications;
using Qarion.Core.Persistence;
using Qarion.Core.Webhooks;

namespace Qarion.Core.Outbox;

/// <summary>What one retention run deleted, per table.</summary>
public sealed record DeliveryLogPurge(int OutboxEvents, int EmailDeliveries, int AlertDeliveries, int WebhookDeliveries)
{
    public int Total => OutboxEvents + EmailDeliveries + AlertDeliveries + WebhookDeliveries;
}

/// <summary>
/// Deletes the bookkeeping of delivered events once it is older than <c>Qarion:Outbox:RetentionDays</c> (default 30):
/// dispatched outbox rows, e-mail deliveries, alert-connector deliveries and webhook delivery series with their
/// attempts (a database cascade). Each of those rows is also what makes a redelivered queue message a no-op, so the
/// period never goes below <see cref="MinimumDays"/>, more than a queue message can live (seven days): an event is
/// forgotten only when no copy of its message can still arrive. Undispatched outbox rows are kept whatever their age
/// (the sweeper's business, and evidence when something is wrong). One DELETE per table: it locks only rows
/// nobody writes any more, and one scan beats batches that would each rescan a table with no index on the age.
/// </summary>
public sealed class DeliveryLogRetention(QarionDbContext db, IConfiguration configuration)
{
    public const int MinimumDays = 8;
    public const int DefaultDays = 30;

    public int RetentionDays => Math.Max(MinimumDays, configuration.GetValue("Qarion:Outbox:RetentionDays", DefaultDays));

    public async Task<DeliveryLogPurge> PurgeAsync(CancellationToken ct)
    {
        var cutoff = db.Clock.GetUtcNow() - TimeSpan.FromDays(RetentionDays);
        var outbox = await db.OutboxEvents.Where(e => e.DispatchedAt != null && e.DispatchedAt < cutoff).ExecuteDeleteAsync(ct);
        var emails = await db.Set<EmailDelivery>().Where(d => d.UpdatedAt < cutoff).ExecuteDeleteAsync(ct);
        var alerts = await db.Set<AlertDelivery>().Where(d => d.UpdatedAt < cutoff).ExecuteDeleteAsync(ct);
        // Attempts go with their series (ON DELETE CASCADE).
        var webhooks = await db.Set<WebhookDelivery>().Where(d => d.UpdatedAt < cutoff).ExecuteDeleteAsync(ct);
        return new DeliveryLogPurge(outbox, emails, alerts, webhooks);
    }
}
