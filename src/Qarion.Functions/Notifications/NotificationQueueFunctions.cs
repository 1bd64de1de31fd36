using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Qarion.Core.Common;
using Qarion.Core.Notifications;
using Qarion.Core.Outbox;

namespace Qarion.Functions.Notifications;

/// <summary>The outbox's queue side: the <c>notifications</c> trigger and its poison handler, the sweeper, retention.</summary>
public sealed class NotificationQueueFunctions(
    NotificationDispatcher dispatcher, OutboxPublisher publisher, NotificationRetention retention, DeliveryLogRetention deliveryLogs,
    ILogger<NotificationQueueFunctions> log)
{
    /// <summary>Calls every outbox consumer; a failure makes the host retry, after maxDequeueCount it goes to the poison queue.</summary>
    [Function("Notifications_Handle")]
    public async Task Handle([QueueTrigger(QueueNames.Notifications)] string message, CancellationToken ct)
    {
        var body = OutboxMessage.TryParse(message)
                   ?? throw new InvalidOperationException($"A message on {QueueNames.Notifications} is not an outbox message.");
        await dispatcher.HandleAsync(body, ct);
    }

    /// <summary>A message that failed every delivery: recorded in notification_dead_letters with its event id.</summary>
    [Function("Notifications_Poison")]
    public Task Poison([QueueTrigger("notifications-poison")] string message, CancellationToken ct)
        => dispatcher.HandlePoisonAsync(message, ct);

    /// <summary>Every minute: publish outbox rows the relay missed (older than Qarion:Outbox:SweepAfterSeconds).</summary>
    [Function("Outbox_Sweep")]
    public async Task Sweep([TimerTrigger("30 * * * * *")] TimerInfo timer, CancellationToken ct)
        => await publisher.SweepAsync(ct);

    /// <summary>Daily: delete read notifications older than Qarion:Notifications:RetentionDays.</summary>
    [Function("Notifications_Retention")]
    public async Task Retention([TimerTrigger("0 17 3 * * *")] TimerInfo timer, CancellationToken ct)
    {
        var deleted = await retention.PurgeAsync(ct);
        if (deleted > 0) log.LogInformation("Deleted {Count} read notification(s) past retention", deleted);
    }

    /// <summary>Daily: delete dispatched outbox rows and e-mail, alert-connector and webhook delivery logs past Qarion:Outbox:RetentionDays.</summary>
    [Function("Outbox_Retention")]
    public async Task DeliveryLogRetention([TimerTrigger("0 37 3 * * *")] TimerInfo timer, CancellationToken ct)
    {
        var purged = await deliveryLogs.PurgeAsync(ct);
        if (purged.Total > 0) log.LogInformation("Delivery logs past retention deleted: {Purge}", purged);
    }
}
