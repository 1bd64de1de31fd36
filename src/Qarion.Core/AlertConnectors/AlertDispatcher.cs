using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Qarion.Core.Outbox;
using Qarion.Core.Persistence;

namespace Qarion.Core.AlertConnectors;

/// <summary>A connector's send failed in a way worth retrying (5xx, timeout, network, SMTP 4xx): the queue delivers the event again.</summary>
public sealed class AlertDeliveryFailedException(string message) : Exception(message);

/// <summary>
/// The alert connectors' consumer of the <c>notifications</c> queue: sends each event to every enabled connector of its
/// space whose routing accepts it, exactly once per (event, connector).
/// <para>
/// Each pair gets an <see cref="AlertDelivery"/> row (unique on event and connector, inserted if absent), locked with
/// SELECT … FOR UPDATE in a transaction held while the message is sent; a row already <c>sent</c> or <c>rejected</c> is
/// left alone, so the same event delivered three times — or twice at once — posts once. A failure worth a retry is
/// recorded (<c>failed</c>, attempts, error) and, after the other connectors were served, thrown, so the queue retries
/// only what is not done. A 4xx from Slack or Teams, or a permanent SMTP refusal, is recorded as <c>rejected</c> and
/// not retried: the same request would be refused again.
/// </para>
/// </summary>
public sealed class AlertDispatcher(QarionDbContext db, AlertFormatter formatter, AlertChannels channels, ILogger<AlertDispatcher> log) : IOutboxEventConsumer
{
    public string Name => "alert_connectors";

    public async Task ConsumeAsync(OutboxMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.SpaceId is not { } spaceId) return;
        var severity = AlertRouting.SeverityOf(message.Payload);
        var connectors = (await db.Set<AlertConnector>().AsNoTracking()
                .Where(c => c.SpaceId == spaceId && c.IsEnabled).OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).ToListAsync(ct))
            .Where(c => AlertRouting.Accepts(c, message, severity)).ToList();
        if (connectors.Count == 0) return;
        var notice = await formatter.NoticeAsync(message, ct);
        var failures = new List<string>();
        foreach (var connector in connectors)
        {
            var outcome = await DeliverAsync(connector, message, notice, ct);
            if (outcome is { Status: AlertDeliveryStatus.Failed }) failures.Add($"{connector.Name}: {outcome.Error}");
        }
        if (failures.Count > 0)
            throw new AlertDeliveryFailedException($"Event {message.EventId} ({message.EventType}) could not be delivered to {failures.Count} connector(s): {string.Join("; ", failures)}");
    }

    /// <summary>Sends the event through one connector unless that was done already; null when it was.</summary>
    private async Task<SendOutcome?> DeliverAsync(AlertConnector connector, OutboxMessage message, AlertNotice notice, CancellationToken ct)
    {
        var now = db.Clock.GetUtcNow();
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO alert_deliveries (id, space_id, connector_id, event_id, event_type, status, attempts, created_at, updated_at)
            VALUES ({Guid.CreateVersion7(now)}, {connector.SpaceId}, {connector.Id}, {message.EventId}, {message.EventType}, 'pending', 0, {now}, {now})
            ON CONFLICT (event_id, connector_id) DO NOTHING
            """, ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var delivery = await db.Set<AlertDelivery>()
            .FromSql($"SELECT * FROM alert_deliveries WHERE event_id = {message.EventId} AND connector_id = {connector.Id} FOR UPDATE")
            .SingleAsync(ct);
        if (delivery.Status is AlertDeliveryStatus.Sent or AlertDeliveryStatus.Rejected)
        {
            log.LogInformation("Event {EventId} was already delivered to alert connector {ConnectorId} ({Status})", message.EventId, connector.Id, delivery.Status);
            return null;
        }
        var outcome = await channels.SendAsync(connector, notice, ct);
        delivery.Attempts++;
        delivery.Status = outcome.Status;
        delivery.StatusCode = outcome.StatusCode;
        delivery.Error = outcome.Error is { Length: > 2000 } e ? e[..1999] + "…" : outcome.Error;
        delivery.LatencyMs = outcome.LatencyMs;
        if (outcome.Success) delivery.SentAt = db.Clock.GetUtcNow();
        // The send happened: record it even if the caller gives up now, or a retry would post a second time.
        await db.SaveChangesAsync(CancellationToken.None);
        await tx.CommitAsync(CancellationToken.None);
        if (outcome.Status != AlertDeliveryStatus.Sent)
            log.LogWarning("Alert connector {ConnectorId} did not take event {EventId}: {Status} {Error}", connector.Id, message.EventId, outcome.Status, outcome.Error);
        return outcome;
    }
}
