using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Core.AlertConnectors;
using Qarion.Core.Notifications;
using Qarion.Core.Outbox;
using Qarion.Core.Webhooks;

namespace Qarion.Tests.Notifications;

/// <summary>A class of its own (its own database), so the purge's counts are exactly the rows arranged here.</summary>
public sealed class DeliveryLogRetentionTests(NotificationFixture app) : IClassFixture<NotificationFixture>
{
    [Fact]
    public async Task Delivery_logs_older_than_the_period_are_deleted_and_everything_else_is_kept()
    {
        var slug = await app.CreateSpaceAsync();
        var user = await app.CreateUserAsync("Reader");
        var now = app.Clock.GetUtcNow();
        DateTimeOffset Age(int days) => now.AddDays(-days);
        Guid[] outbox = [Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7()];
        Guid[] alerts = [Guid.CreateVersion7(), Guid.CreateVersion7()];
        Guid[] hooks = [Guid.CreateVersion7(), Guid.CreateVersion7()];
        Guid[] emails = [Guid.CreateVersion7(), Guid.CreateVersion7()];
        await app.WithDbAsync(async db =>
        {
            var spaceId = await db.Spaces.Where(s => s.Slug == slug).Select(s => s.Id).SingleAsync();
            var connector = new AlertConnector { SpaceId = spaceId, Name = "slack", Kind = AlertChannelKind.Slack, Config = "{}" };
            var subscription = new WebhookSubscription { SpaceId = spaceId, Name = "hook", Url = "https://example.com/hook", EncryptedSecret = [1, 2, 3] };
            db.AddRange(connector, subscription);
            OutboxEvent Event(Guid id, DateTimeOffset occurred, DateTimeOffset? dispatched) => new()
            {
                Id = id, SpaceId = spaceId, EventType = OutboxEventTypes.ProductCreated, Payload = "{}", OccurredAt = occurred, DispatchedAt = dispatched,
            };
            // Dispatched 31 days ago (deleted), dispatched 29 days ago (kept), never dispatched for 60 days (kept), dispatched now (kept).
            db.OutboxEvents.AddRange(Event(outbox[0], Age(31), Age(31)), Event(outbox[1], Age(29), Age(29)), Event(outbox[2], Age(60), null), Event(outbox[3], now, now));
            foreach (var id in alerts)
                db.Add(new AlertDelivery { Id = id, SpaceId = spaceId, ConnectorId = connector.Id, EventId = Guid.CreateVersion7(), EventType = "x", Status = AlertDeliveryStatus.Sent });
            foreach (var id in hooks)
                db.Add(new WebhookDelivery { Id = id, SpaceId = spaceId, SubscriptionId = subscription.Id, EventType = "x", Body = "{}", Status = WebhookDeliveryStatus.Succeeded });
            foreach (var id in hooks)
                db.Add(new WebhookAttempt { Id = Guid.CreateVersion7(), DeliveryId = id, Attempt = 1, StatusCode = 200, AttemptedAt = now });
            foreach (var id in emails)
                db.Add(new EmailDelivery { EventId = id, UserId = user.Id, Email = user.Email, Status = "sent" });
            await db.SaveChangesAsync();
            // SaveChanges stamps updated_at with the clock: age the first row of each log by hand.
            await db.Set<AlertDelivery>().Where(d => d.Id == alerts[0]).ExecuteUpdateAsync(s => s.SetProperty(d => d.UpdatedAt, Age(31)));
            await db.Set<AlertDelivery>().Where(d => d.Id == alerts[1]).ExecuteUpdateAsync(s => s.SetProperty(d => d.UpdatedAt, Age(29)));
            await db.Set<WebhookDelivery>().Where(d => d.Id == hooks[0]).ExecuteUpdateAsync(s => s.SetProperty(d => d.UpdatedAt, Age(45)));
            return await db.Set<EmailDelivery>().Where(d => d.EventId == emails[0]).ExecuteUpdateAsync(s => s.SetProperty(d => d.UpdatedAt, Age(31)));
        });

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var retention = scope.ServiceProvider.GetRequiredService<DeliveryLogRetention>();
            Assert.Equal(30, retention.RetentionDays);
            Assert.Equal(new DeliveryLogPurge(1, 1, 1, 1), await retention.PurgeAsync(default));
            // A second run finds nothing more.
            Assert.Equal(0, (await retention.PurgeAsync(default)).Total);
        }

        var left = await app.WithDbAsync(async db => (
            Outbox: await db.OutboxEvents.Where(e => outbox.Contains(e.Id)).Select(e => e.Id).ToListAsync(),
            Alerts: await db.Set<AlertDelivery>().Where(d => alerts.Contains(d.Id)).Select(d => d.Id).ToListAsync(),
            Hooks: await db.Set<WebhookDelivery>().Where(d => hooks.Contains(d.Id)).Select(d => d.Id).ToListAsync(),
            Attempts: await db.Set<WebhookAttempt>().Where(a => hooks.Contains(a.DeliveryId)).Select(a => a.DeliveryId).ToListAsync(),
            Emails: await db.Set<EmailDelivery>().Where(d => emails.Contains(d.EventId)).Select(d => d.EventId).ToListAsync()));
        Assert.Equal(outbox[1..].Order(), left.Outbox.Order());
        Assert.Equal([alerts[1]], left.Alerts);
        Assert.Equal([hooks[1]], left.Hooks);
        Assert.Equal([hooks[1]], left.Attempts);
        Assert.Equal([emails[1]], left.Emails);
    }

    [Theory]
    [InlineData("3", 8)]
    [InlineData("8", 8)]
    [InlineData("90", 90)]
    public void The_period_never_goes_below_what_a_queue_message_can_outlive(string configured, int expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Qarion:Outbox:RetentionDays"] = configured }).Build();
        Assert.Equal(expected, new DeliveryLogRetention(null!, configuration).RetentionDays);
    }
}
