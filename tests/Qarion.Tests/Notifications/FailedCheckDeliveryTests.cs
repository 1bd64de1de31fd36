using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Core.Notifications;
using Qarion.Core.Outbox;
using Qarion.Core.Quality;
using Qarion.Functions.Notifications;
using Qarion.Functions.Webhooks;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;
using Qarion.Tests.Quality;
using Qarion.Tests.Webhooks;

namespace Qarion.Tests.Notifications;

/// <summary>
/// The quality fixture (a synced scratch source, its own <c>quality-checks</c> queue) plus its own <c>notifications</c>
/// and <c>webhooks</c> queues, a real SMTP server and a real HTTP receiver standing in for Slack and a webhook endpoint.
/// </summary>
public sealed class FailedCheckDeliveryFixture : QualityFixture
{
    private readonly string _suffix = $"{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    public HttpSink Http { get; private set; } = null!;
    public SmtpSink Smtp { get; private set; } = null!;

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = base.Settings;
            foreach (var (key, value) in Smtp.Settings()) settings[key] = value;
            settings["Qarion:Notifications:QueueName"] = "e2e-ntf-" + _suffix;
            settings["Qarion:Webhooks:QueueName"] = "e2e-whk-" + _suffix;
            settings["Qarion:Outbound:AllowPrivateNetworks"] = "true";
            return settings;
        }
    }

    public QueueClient NotificationsQueue => new(TestEnvironment.Storage, "e2e-ntf-" + _suffix, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
    public QueueClient WebhooksQueue => new(TestEnvironment.Storage, "e2e-whk-" + _suffix, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    public override async Task InitializeAsync()
    {
        Http = await HttpSink.StartAsync();
        Smtp = await SmtpSink.StartAsync();
        await NotificationsQueue.CreateIfNotExistsAsync();
        await WebhooksQueue.CreateIfNotExistsAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await NotificationsQueue.DeleteIfExistsAsync();
        await WebhooksQueue.DeleteIfExistsAsync();
        await base.DisposeAsync();
        await Http.DisposeAsync();
        await Smtp.DisposeAsync();
    }

    /// <summary>Takes every message off a queue (the bodies, as the host would hand them to the trigger).</summary>
    public static async Task<List<string>> TakeAllAsync(QueueClient queue)
    {
        var bodies = new List<string>();
        while (true)
        {
            QueueMessage[] batch = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(60))).Value;
            if (batch.Length == 0) return bodies;
            foreach (var m in batch)
            {
                bodies.Add(m.Body.ToString());
                await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
            }
        }
    }
}

/// <summary>
/// The issue's "done when": a failed quality check produces, exactly once, an in-app notification to the product's
/// owner, a Slack message, an e-mail and a signed webhook — every queue message delivered three times.
/// </summary>
public sealed class FailedCheckDeliveryTests(FailedCheckDeliveryFixture app) : IClassFixture<FailedCheckDeliveryFixture>
{
    [Fact]
    public async Task A_failed_check_reaches_the_owner_slack_email_and_a_signed_webhook_exactly_once()
    {
        var space = app.Space;
        var owner = await app.CreateUserAsync("Owner");
        var member = await app.Admin.PostAsync($"/api/v1/spaces/{space}/members", new { user_id = owner.Id, role = "viewer" });
        Assert.True(member.Status == 201, member.ToString());
        var (ownerId, ownerEmail) = (owner.Id, owner.Email);
        Assert.Equal(200, (await app.Admin.PatchAsync($"/api/v1/spaces/{space}/products/orders/governance", new { owner_id = ownerId })).Status);
        var slack = await app.Admin.PostAsync($"/api/v1/spaces/{space}/alert-connectors",
            new { name = "Slack #data", kind = "slack", url = app.Http.Url + "/slack", event_types = new[] { "quality.alert.raised" } });
        Assert.True(slack.Status == 201, slack.ToString());
        var hook = await app.Admin.PostAsync($"/api/v1/spaces/{space}/webhooks",
            new { name = "Warehouse", url = app.Http.Url + "/hook", event_types = new[] { "quality.alert.*" } });
        Assert.True(hook.Status == 201, hook.ToString());
        var secret = hook.Json.Str("secret");
        // Whatever setup published (sync events, product updates) is handled first, so only the run's events remain.
        foreach (var body in await FailedCheckDeliveryFixture.TakeAllAsync(app.NotificationsQueue)) await HandleNotificationAsync(body);
        await FailedCheckDeliveryFixture.TakeAllAsync(app.WebhooksQueue);
        var mailsBefore = app.Smtp.Received.Count;

        await app.ShopDatabase.ExecuteAsync("UPDATE shop.orders SET email = NULL WHERE id IN (2, 4)");
        var check = await app.AddCheckAsync("order-emails", app.Shop, ["orders"], new NullCheckConfig(new TableRef("shop", "orders"), "email"), severity: CheckSeverity.High);
        var run = await app.RunAsync("order-emails");
        Assert.Equal(("fail", 2.0), (run.Str("status"), run.GetProperty("metric").GetDouble()));

        // The relay published the run's events after the recorder committed; each message is delivered three times.
        var notifications = await FailedCheckDeliveryFixture.TakeAllAsync(app.NotificationsQueue);
        var webhooks = await FailedCheckDeliveryFixture.TakeAllAsync(app.WebhooksQueue);
        var raised = (await app.WithDbAsync(db => db.OutboxEvents.AsNoTracking().Where(e => e.EventType == OutboxEventTypes.AlertRaised).ToListAsync()))
            .Single(e => e.Payload.Contains(check.Id.ToString(), StringComparison.Ordinal));
        Assert.NotNull(raised.DispatchedAt);
        Assert.Contains(notifications, b => OutboxMessage.TryParse(b)!.EventId == raised.Id);
        Assert.Contains(webhooks, b => OutboxMessage.TryParse(b)!.EventId == raised.Id);
        for (var i = 0; i < 3; i++)
        {
            foreach (var body in notifications) await HandleNotificationAsync(body);
            foreach (var body in webhooks) await DeliverWebhookAsync(body);
        }
        // The webhook handler queues each attempt as a message of its own: run those too (each three times) until none is left.
        for (var round = 0; round < 5; round++)
        {
            var attempts = await FailedCheckDeliveryFixture.TakeAllAsync(app.WebhooksQueue);
            if (attempts.Count == 0) break;
            for (var i = 0; i < 3; i++)
                foreach (var body in attempts) await DeliverWebhookAsync(body);
        }

        var inbox = await app.WithDbAsync(db => db.Set<Notification>().AsNoTracking().Where(n => n.EventId == raised.Id).ToListAsync());
        var item = Assert.Single(inbox);
        Assert.Equal((ownerId, "quality"), (item.UserId, item.Category));
        var listed = (await owner.Client.GetAsync("/api/v1/me/notifications?category=quality")).Items();
        Assert.Single(listed, n => n.Str("event_type") == OutboxEventTypes.AlertRaised);

        var post = Assert.Single(app.Http.ReceivedOn("/slack"));
        Assert.Contains("order emails failed on orders", post.BodyText, StringComparison.Ordinal);

        var emailed = await app.WithDbAsync(db => db.Set<EmailDelivery>().AsNoTracking().Where(d => d.EventId == raised.Id).ToListAsync());
        Assert.Equal([(ownerId, UserEmailConsumer.Sent)], emailed.Select(d => (d.UserId, d.Status)));
        var mail = Assert.Single(app.Smtp.Received.Skip(mailsBefore), m => m.Subject!.Contains("Alert raised", StringComparison.Ordinal));
        Assert.Equal([ownerEmail], mail.To);
        Assert.Contains("order emails failed on orders", mail.Subject, StringComparison.Ordinal);

        var series = Assert.Single(await app.WithDbAsync(db => db.Set<Qarion.Core.Webhooks.WebhookDelivery>().AsNoTracking().Where(d => d.EventId == raised.Id).ToListAsync()));
        Assert.Equal((Qarion.Core.Webhooks.WebhookDeliveryStatus.Succeeded, 1), (series.Status, series.Attempts));
        var delivered = app.Http.ReceivedOn("/hook");
        var signed = Assert.Single(delivered, r => r.Header("webhook-id") == raised.Id.ToString());
        Assert.True(WebhookFixture.Verify(secret, signed), "the webhook signature does not verify");
        Assert.Contains("\"type\":\"quality.alert.raised\"", signed.BodyText, StringComparison.Ordinal);
        Assert.Equal(delivered.Count, delivered.Select(r => r.Header("webhook-id")).Distinct().Count());
    }

    private async Task HandleNotificationAsync(string body)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await ActivatorUtilities.CreateInstance<NotificationQueueFunctions>(scope.ServiceProvider).Handle(body, default);
    }

    private async Task DeliverWebhookAsync(string body)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await ActivatorUtilities.CreateInstance<WebhookQueueFunctions>(scope.ServiceProvider).Deliver(body, default);
    }
}
