using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Qarion.Core.Notifications;
using Qarion.Core.Outbox;
using Qarion.Core.Persistence;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;
using Qarion.Tests.Issues;

namespace Qarion.Tests.Notifications;

/// <summary>Who receives what, exactly once; the inbox API, preferences, subscriptions, the user e-mail consumer and retention.</summary>
public sealed class NotificationTests(NotificationFixture app) : IClassFixture<NotificationFixture>
{
    private const string Inbox = "/api/v1/me/notifications";

    private Task<List<(Guid User, string Title, string? Link)>> InboxOfEventAsync(Guid eventId)
        => app.WithDbAsync(async db => (await db.Set<Notification>().AsNoTracking().Where(n => n.EventId == eventId).OrderBy(n => n.Title)
            .Select(n => new { n.UserId, n.Title, n.Link }).ToListAsync()).Select(n => (n.UserId, n.Title, n.Link)).ToList());

    private async Task<(TestUser Owner, TestUser Steward, TestUser Viewer, TestUser Outsider, string Space, Guid SpaceId, Guid Product)> ArrangeAsync()
    {
        var owner = await app.CreateUserAsync("Owner");
        var steward = await app.CreateUserAsync("Steward");
        var viewer = await app.CreateUserAsync("Viewer");
        var outsider = await app.CreateUserAsync("Outsider");
        var space = await app.CreateSpaceAsync(null, (owner, "editor"), (steward, "editor"), (viewer, "viewer"));
        var product = (await owner.Client.CreateProductAsync(space, "sales", new { name = "Sales", owner_id = owner.Id, steward_id = steward.Id })).Id();
        await app.ProcessAsync();
        return (owner, steward, viewer, outsider, space, await app.SpaceIdAsync(space), product);
    }

    [Fact]
    public async Task An_alert_reaches_owner_steward_and_subscribers_once_each_however_often_it_is_delivered()
    {
        var (owner, steward, viewer, outsider, space, spaceId, product) = await ArrangeAsync();
        var subscribed = await viewer.Client.PostAsync($"/api/v1/spaces/{space}/products/sales/subscription", new { });
        Assert.Equal(200, subscribed.Status);
        Assert.Equal(product, subscribed.Json.GetProperty("product_id").GetGuid());
        Assert.Equal(space, subscribed.Json.Str("space"));
        Assert.Equal(404, (await outsider.Client.PostAsync($"/api/v1/spaces/{space}/products/sales/subscription", new { })).Status);

        var alertId = Guid.CreateVersion7();
        var message = NotificationFixture.Message(spaceId, OutboxEventTypes.AlertRaised, new
        {
            alert_id = alertId, title = "Rows present failed on Sales", product_id = product, message = "0 rows",
            recipient_ids = new[] { outsider.Id }, // not a member: excluded
        });
        for (var i = 0; i < 3; i++) await app.HandleAsync(message);

        var items = await InboxOfEventAsync(message.EventId);
        Assert.Equal(new[] { owner.Id, steward.Id, viewer.Id }.Order(), items.Select(i => i.User).Order());
        Assert.All(items, i =>
        {
            Assert.Equal("Alert raised: Rows present failed on Sales", i.Title);
            Assert.Equal($"/spaces/{space}/alerts/{alertId}", i.Link);
        });

        // The actor of an event is not told about it; after unsubscribing the viewer is not either.
        Assert.Equal(204, (await viewer.Client.DeleteAsync($"/api/v1/spaces/{space}/products/{product}/subscription")).Status);
        Assert.Equal(204, (await viewer.Client.DeleteAsync($"/api/v1/spaces/{space}/products/{product}/subscription")).Status);
        var byOwner = NotificationFixture.Message(spaceId, OutboxEventTypes.ProductUpdated, new { product_id = product, name = "Sales", actor_id = owner.Id });
        await app.HandleAsync(byOwner);
        Assert.Equal([steward.Id], (await InboxOfEventAsync(byOwner.EventId)).Select(i => i.User));
    }

    [Fact]
    public async Task Assignees_and_mentioned_members_are_notified_from_the_issue_services_events()
    {
        var (owner, steward, viewer, outsider, space, _, product) = await ArrangeAsync();
        var issue = await owner.Client.CreateIssueAsync(space, "Sales totals are off", new { assignee_id = steward.Id, product_ids = new[] { product } });
        await app.ProcessAsync();
        var assigned = await app.WithDbAsync(db => db.Set<Notification>().AsNoTracking().Where(n => n.EventType == OutboxEventTypes.IssueAssigned && n.Link == $"/spaces/{space}/issues/1").ToListAsync());
        Assert.Equal(steward.Id, Assert.Single(assigned).UserId); // the owner assigned it: not told
        Assert.Equal("Issue assigned to you: #1 Sales totals are off", assigned[0].Title);

        var comment = await owner.Client.PostAsync($"/api/v1/spaces/{space}/issues/{issue.Id()}/comments",
            new { body = $"@{viewer.Email} and @{outsider.Email.ToUpperInvariant()} please look; cc @{owner.Email}." });
        Assert.Equal(201, comment.Status);
        var mention = (await app.OutboxAsync(space)).Single(e => e.Type == OutboxEventTypes.IssueCommentMention).Payload;
        Assert.True(mention.GetProperty("mentioned_user_ids").EnumerateArray().Select(x => x.GetGuid()).SequenceEqual([viewer.Id]),
            $"viewer {viewer.Id} owner {owner.Id} steward {steward.Id} outsider {outsider.Id}: {mention}");
        Assert.Equal(owner.Id, mention.GetProperty("actor_id").GetGuid());
        await app.ProcessAsync();
        var mentioned = await app.WithDbAsync(db => db.Set<Notification>().AsNoTracking().Where(n => n.EventType == OutboxEventTypes.IssueCommentMention && n.SpaceId != null).ToListAsync());
        var item = Assert.Single(mentioned, n => n.Link == $"/spaces/{space}/issues/1");
        Assert.Equal(viewer.Id, item.UserId);
        Assert.Equal("Owner mentioned you on #1 Sales totals are off", item.Title);
        Assert.Equal("issues", item.Category);

        // Editing the comment tells only those newly mentioned.
        app.Clock.Advance(TimeSpan.FromSeconds(1));
        var edit = await owner.Client.PatchAsync($"/api/v1/spaces/{space}/issues/{issue.Id()}/comments/{comment.Json.Id()}",
            new { body = $"@{viewer.Email} and @{steward.Email}" });
        Assert.Equal(200, edit.Status);
        var second = (await app.OutboxAsync(space)).Where(e => e.Type == OutboxEventTypes.IssueCommentMention).Last().Payload;
        Assert.Equal([steward.Id], second.GetProperty("mentioned_user_ids").EnumerateArray().Select(x => x.GetGuid()));
        Assert.Equal(["stew@x.io"], Qarion.Core.Issues.Mentions.Emails("mail @stew@X.io."));
        Assert.Empty(Qarion.Core.Issues.Mentions.Emails("alice@example.com wrote"));
        await app.ProcessAsync();
    }

    [Fact]
    public async Task Explicit_recipient_ids_of_access_events_are_notified_if_members()
    {
        var (owner, steward, _, outsider, _, spaceId, _) = await ArrangeAsync();
        var message = NotificationFixture.Message(spaceId, OutboxEventTypes.AccessRequestSubmitted, new
        {
            title = "Access requested to Sales", recipient_ids = new[] { owner.Id, outsider.Id }, approver_ids = new[] { owner.Id }, requester_id = steward.Id, actor_id = steward.Id,
        });
        await app.HandleAsync(message);
        var item = Assert.Single(await InboxOfEventAsync(message.EventId));
        Assert.Equal(owner.Id, item.User);
        Assert.Equal("Access requested to Sales", item.Title);
    }

    [Fact]
    public async Task The_inbox_lists_filters_counts_and_marks_read_for_its_user_only()
    {
        var (owner, steward, _, _, space, spaceId, product) = await ArrangeAsync();
        // The steward was told of the product's creation: that item is checked elsewhere, start from an empty inbox.
        Assert.Equal(1, await app.WithDbAsync(db => db.Set<Notification>().Where(n => n.UserId == steward.Id).ExecuteDeleteAsync()));
        var alert = NotificationFixture.Message(spaceId, OutboxEventTypes.AlertRaised, new { title = "A", product_id = product });
        var sync = NotificationFixture.Message(spaceId, OutboxEventTypes.SyncFailed, new { connector_name = "Warehouse", error = "timeout", recipient_ids = new[] { steward.Id } });
        var contract = NotificationFixture.Message(spaceId, OutboxEventTypes.ContractViolated, new { contract_name = "Pact", producer_product_id = product });
        foreach (var m in new[] { alert, sync, contract }) { app.Clock.Advance(TimeSpan.FromSeconds(1)); await app.HandleAsync(m); }

        var list = await steward.Client.GetAsync(Inbox);
        Assert.Equal(200, list.Status);
        Assert.Equal(3, list.Json.GetProperty("total").GetInt32());
        Assert.Equal(["Contract violated: Pact", "Sync failed: Warehouse", "Alert raised: A"], list.Items().Select(i => i.Str("title")));
        Assert.Equal("timeout", list.Items()[1].Str("body"));
        Assert.Equal(["contracts", "ingestion", "quality"], list.Items().Select(i => i.Str("category")));
        Assert.Equal(["Sync failed: Warehouse"], (await steward.Client.GetAsync(Inbox + "?category=ingestion")).Items().Select(i => i.Str("title")));
        Assert.Equal(2, (await owner.Client.GetAsync(Inbox)).Json.GetProperty("total").GetInt32()); // sync: admins and named only

        var count = (await steward.Client.GetAsync(Inbox + "/unread-count")).Json;
        Assert.Equal(3, count.GetProperty("count").GetInt32());
        Assert.Equal(1, count.GetProperty("by_category").GetProperty("quality").GetInt32());

        var alertItem = list.Items()[2].Id();
        Assert.Equal(404, (await owner.Client.PostAsync($"{Inbox}/{alertItem}/read", new { })).Status);
        var read = await steward.Client.PostAsync($"{Inbox}/{alertItem}/read", new { });
        Assert.Equal(200, read.Status);
        Assert.True(read.Json.GetProperty("is_read").GetBoolean());
        Assert.Equal(["Contract violated: Pact", "Sync failed: Warehouse"], (await steward.Client.GetAsync(Inbox + "?unread=true")).Items().Select(i => i.Str("title")));
        Assert.Equal(1, (await steward.Client.PostAsync(Inbox + "/read-all?category=contracts", new { })).Json.GetProperty("marked").GetInt32());
        Assert.Equal(1, (await steward.Client.GetAsync(Inbox + "/unread-count")).Json.GetProperty("count").GetInt32());
        Assert.Equal(1, (await steward.Client.PostAsync(Inbox + "/read-all", new { })).Json.GetProperty("marked").GetInt32());
        Assert.Equal(0, (await steward.Client.GetAsync(Inbox + "/unread-count")).Json.GetProperty("count").GetInt32());
        Assert.Equal(2, (await owner.Client.GetAsync(Inbox + "/unread-count")).Json.GetProperty("count").GetInt32());

        Assert.Equal(422, (await steward.Client.GetAsync(Inbox + "?category=gossip")).Status);
        Assert.Equal(422, (await steward.Client.PostAsync(Inbox + "/read-all?category=gossip", new { })).Status);
        Assert.Equal(422, (await steward.Client.GetAsync(Inbox + "?size=1000")).Status);
        Assert.Equal(404, (await steward.Client.PostAsync($"{Inbox}/not-a-guid/read", new { })).Status);
        Assert.Equal(401, (await app.Anonymous().GetAsync(Inbox)).Status);
    }

    [Fact]
    public async Task Preferences_have_documented_defaults_reject_unknown_names_and_gate_the_channels()
    {
        var (owner, steward, _, _, _, spaceId, product) = await ArrangeAsync();
        var prefs = (await owner.Client.GetAsync("/api/v1/me/notification-preferences")).Json.GetProperty("preferences").EnumerateArray()
            .ToDictionary(p => (p.Str("category"), p.Str("channel")), p => p.GetProperty("enabled").GetBoolean());
        Assert.Equal(16, prefs.Count);
        Assert.True(prefs[("quality", "in_app")]);
        Assert.True(prefs[("quality", "email")]);
        Assert.False(prefs[("catalog", "email")]);
        Assert.False(prefs[("ingestion", "email")]);

        var bad = await owner.Client.PutAsync("/api/v1/me/notification-preferences", new { preferences = new[] { new { category = "gossip", channel = "sms", enabled = true } } });
        Assert.Equal(422, bad.Status);
        Assert.Equal(["body.preferences.0.category", "body.preferences.0.channel"], new[] { bad.Loc(0), bad.Loc(1) });
        Assert.Equal(422, (await owner.Client.PutAsync("/api/v1/me/notification-preferences", new { })).Status);

        var put = await owner.Client.PutAsync("/api/v1/me/notification-preferences", new
        {
            preferences = new[] { new { category = "quality", channel = "email", enabled = false }, new { category = "contracts", channel = "in_app", enabled = false } },
        });
        Assert.Equal(200, put.Status);
        var after = put.Json.GetProperty("preferences").EnumerateArray().ToDictionary(p => (p.Str("category"), p.Str("channel")), p => p.GetProperty("enabled").GetBoolean());
        Assert.False(after[("quality", "email")]);
        Assert.False(after[("contracts", "in_app")]);
        Assert.True(after[("quality", "in_app")]);

        // in_app off for contracts: no inbox item for the owner; the steward (defaults) gets one.
        var contract = NotificationFixture.Message(spaceId, OutboxEventTypes.ContractViolated, new { contract_name = "Pact", producer_product_id = product });
        await app.HandleAsync(contract);
        Assert.Equal([steward.Id], (await InboxOfEventAsync(contract.EventId)).Select(i => i.User));

        // e-mail off for quality: the owner gets no e-mail and no delivery record; the steward gets exactly one, however
        // often delivered — through the app's SMTP sender to a real SMTP server.
        var alert = NotificationFixture.Message(spaceId, OutboxEventTypes.AlertRaised, new { title = "Nulls in <email>", product_id = product, message = "12 rows" });
        for (var i = 0; i < 3; i++) await app.HandleAsync(alert);
        var mail = Assert.Single(app.Smtp.Received, m => m.Subject == "[Qarion] Alert raised: Nulls in <email>");
        Assert.Equal([steward.Email], mail.To);
        Assert.Contains("Nulls in &lt;email&gt;", mail.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("12 rows", mail.TextBody, StringComparison.Ordinal);
        var deliveries = await app.WithDbAsync(db => db.Set<EmailDelivery>().AsNoTracking().Where(d => d.EventId == alert.EventId).ToListAsync());
        var delivery = Assert.Single(deliveries);
        Assert.Equal((steward.Id, UserEmailConsumer.Sent), (delivery.UserId, delivery.Status));

        // A refused address is recorded as rejected and not retried: the handler succeeds.
        app.Smtp.Reply(550);
        var refused = NotificationFixture.Message(spaceId, OutboxEventTypes.AlertRaised, new { title = "Refused", product_id = product });
        await app.HandleAsync(refused);
        Assert.Equal(UserEmailConsumer.Rejected, (await app.WithDbAsync(db => db.Set<EmailDelivery>().AsNoTracking().SingleAsync(d => d.EventId == refused.EventId))).Status);

        // Without an e-mail server configured the consumer sends nothing and records nothing.
        var unsent = NotificationFixture.Message(spaceId, OutboxEventTypes.AlertRaised, new { title = "B", product_id = product });
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var sp = scope.ServiceProvider;
            var unconfigured = new SmtpEmailSender(Microsoft.Extensions.Options.Options.Create(new SmtpOptions()));
            await new UserEmailConsumer(sp.GetRequiredService<QarionDbContext>(), sp.GetRequiredService<NotificationAudience>(), [unconfigured],
                sp.GetRequiredService<IConfiguration>(), NullLogger<UserEmailConsumer>.Instance).ConsumeAsync(unsent, default);
        }
        Assert.Equal(0, await app.WithDbAsync(db => db.Set<EmailDelivery>().CountAsync(d => d.EventId == unsent.EventId)));
    }

    [Fact]
    public async Task My_subscriptions_list_the_products_I_follow_in_my_spaces()
    {
        var (_, _, viewer, _, space, _, product) = await ArrangeAsync();
        var first = await viewer.Client.PostAsync($"/api/v1/spaces/{space}/products/{product}/subscription", new { });
        Assert.True(first.Status == 200, first.ToString());
        Assert.Equal(200, (await viewer.Client.PostAsync($"/api/v1/spaces/{space}/products/sales/subscription", new { })).Status);
        var mine = await viewer.Client.GetAsync("/api/v1/me/subscriptions");
        var only = Assert.Single(mine.Items());
        Assert.Equal(("sales", "Sales", space), (only.Str("product_slug"), only.Str("product_name"), only.Str("space")));
        Assert.Equal(404, (await viewer.Client.PostAsync($"/api/v1/spaces/{space}/products/nope/subscription", new { })).Status);
    }

    [Fact]
    public async Task Retention_deletes_only_read_notifications_older_than_the_period()
    {
        var user = await app.CreateUserAsync("Keeper");
        var now = app.Clock.GetUtcNow();
        Notification Make(string title, int ageDays, bool read) => new()
        {
            UserId = user.Id, EventId = Guid.CreateVersion7(), EventType = "quality.alert.raised", Category = "quality", Title = title,
            CreatedAt = now.AddDays(-ageDays), ReadAt = read ? now.AddDays(-ageDays) : null,
        };
        await app.WithDbAsync(async db =>
        {
            db.AddRange(Make("old read", 91, true), Make("old unread", 200, false), Make("recent read", 89, true));
            return await db.SaveChangesAsync();
        });
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var retention = scope.ServiceProvider.GetRequiredService<NotificationRetention>();
            Assert.Equal(90, retention.RetentionDays);
            Assert.Equal(1, await retention.PurgeAsync(default));
        }
        var left = await app.WithDbAsync(db => db.Set<Notification>().Where(n => n.UserId == user.Id).OrderBy(n => n.Title).Select(n => n.Title).ToListAsync());
        Assert.Equal(["old unread", "recent read"], left);
    }

    [Fact]
    public async Task A_poisoned_message_is_kept_with_its_event_id()
    {
        var message = NotificationFixture.Message(null, OutboxEventTypes.WebhookDisabled, new { name = "x" });
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var dispatcher = scope.ServiceProvider.GetRequiredService<NotificationDispatcher>();
            await dispatcher.HandlePoisonAsync(message.ToJson(), default);
            await dispatcher.HandlePoisonAsync("not json", default);
            await Assert.ThrowsAsync<InvalidOperationException>(() =>
                Microsoft.Extensions.DependencyInjection.ActivatorUtilities.CreateInstance<Qarion.Functions.Notifications.NotificationQueueFunctions>(scope.ServiceProvider).Handle("not json", default));
        }
        var letters = await app.WithDbAsync(db => db.Set<NotificationDeadLetter>().AsNoTracking().OrderBy(d => d.Body).ToListAsync());
        Assert.Contains(letters, l => l.EventId == message.EventId && l.EventType == OutboxEventTypes.WebhookDisabled);
        Assert.Contains(letters, l => l.EventId == null && l.Body == "not json");
    }
}
