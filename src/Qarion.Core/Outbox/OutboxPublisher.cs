using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Npgsql;
using Qarion.Core.Common;

namespace Qarion.Core.Outbox;

/// <summary>
/// Puts outbox rows on BOTH the <c>notifications</c> and <c>webhooks</c> queues as <see cref="OutboxMessage"/> JSON and
/// marks them dispatched. Two paths use it: the relay interceptor right after a unit of work commits, and the sweeper
/// for rows that path missed (a crash, a queue outage). A row may be sent twice (the sweeper racing a slow relay, a
/// crash between send and mark); every consumer is idempotent on the event id, so that changes nothing.
/// Queue names can be overridden (<c>Qarion:Notifications:QueueName</c>, <c>Qarion:Webhooks:QueueName</c>) so test
/// classes sharing one Azurite get queues of their own.
/// </summary>
public sealed class OutboxPublisher(
    QarionCoreExtensions.StorageQueues storage, IConfiguration configuration, NpgsqlDataSource dataSource, TimeProvider clock,
    ILogger<OutboxPublisher> log)
{
    public string NotificationsQueue => configuration["Qarion:Notifications:QueueName"] is { Length: > 0 } n ? n : QueueNames.Notifications;
    public string WebhooksQueue => configuration["Qarion:Webhooks:QueueName"] is { Length: > 0 } n ? n : QueueNames.Webhooks;

    /// <summary>How long a row may stay undispatched before the sweeper takes it (<c>Qarion:Outbox:SweepAfterSeconds</c>, default 180).</summary>
    public TimeSpan SweepAfter => TimeSpan.FromSeconds(configuration.GetValue("Qarion:Outbox:SweepAfterSeconds", 180));

    /// <summary>Sends the messages and marks them dispatched. Throws when a send fails (nothing after it is marked).</summary>
    public async Task PublishAsync(IReadOnlyList<OutboxMessage> messages, CancellationToken ct)
    {
        if (messages.Count == 0) return;
        foreach (var message in messages) await SendAsync(message, ct);
        await using var command = dataSource.CreateCommand(
            "UPDATE outbox_events SET dispatched_at = $1, attempts = attempts + 1 WHERE id = ANY($2) AND dispatched_at IS NULL");
        command.Parameters.Add(new NpgsqlParameter { Value = clock.GetUtcNow() });
        command.Parameters.Add(new NpgsqlParameter { Value = messages.Select(m => m.EventId).ToArray() });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Claims undispatched rows older than <see cref="SweepAfter"/> (FOR UPDATE SKIP LOCKED: concurrent sweeps take
    /// disjoint rows), sends them, marks the sent ones and counts an attempt on each. Returns how many were sent.
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken ct, int batch = 200)
    {
        var now = clock.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var rows = new List<OutboxMessage>();
        await using (var select = new NpgsqlCommand("""
            SELECT id, space_id, event_type, payload::text, occurred_at FROM outbox_events
            WHERE dispatched_at IS NULL AND occurred_at < $1
            ORDER BY occurred_at LIMIT $2 FOR UPDATE SKIP LOCKED
            """, connection, tx))
        {
            select.Parameters.Add(new NpgsqlParameter { Value = now - SweepAfter });
            select.Parameters.Add(new NpgsqlParameter { Value = batch });
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                rows.Add(OutboxMessage.From(new OutboxEvent
                {
                    Id = reader.GetGuid(0),
                    SpaceId = reader.IsDBNull(1) ? null : reader.GetGuid(1),
                    EventType = reader.GetString(2),
                    Payload = reader.GetString(3),
                    OccurredAt = reader.GetFieldValue<DateTimeOffset>(4),
                }));
            }
        }
        if (rows.Count == 0) return 0;
        var sent = new List<Guid>();
        var failed = new List<Guid>();
        foreach (var row in rows)
        {
            try
            {
                await SendAsync(row, ct);
                sent.Add(row.EventId);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "Outbox sweep could not send event {EventId} ({EventType}); it stays pending", row.EventId, row.EventType);
                failed.Add(row.EventId);
            }
        }
        await using (var mark = new NpgsqlCommand("""
            UPDATE outbox_events SET attempts = attempts + 1,
                dispatched_at = CASE WHEN id = ANY($2) THEN $1 ELSE dispatched_at END
            WHERE id = ANY($3)
            """, connection, tx))
        {
            mark.Parameters.Add(new NpgsqlParameter { Value = clock.GetUtcNow() });
            mark.Parameters.Add(new NpgsqlParameter { Value = sent.ToArray() });
            mark.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.EventId).ToArray() });
            await mark.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        if (sent.Count > 0) log.LogInformation("Outbox sweep sent {Count} stuck event(s)", sent.Count);
        return sent.Count;
    }

    private async Task SendAsync(OutboxMessage message, CancellationToken ct)
    {
        var json = message.ToJson();
        await (await storage.QueueAsync(NotificationsQueue, ct)).SendMessageAsync(json, ct);
        await (await storage.QueueAsync(WebhooksQueue, ct)).SendMessageAsync(json, ct);
    }
}
