using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Core.Outbox;
using Qarion.Core.Persistence;
using Qarion.Core.Quality;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;
using Qarion.Tests.Issues;

namespace Qarion.Tests.Notifications;

/// <summary>The relay publishes committed outbox rows to both queues, never uncommitted ones; the sweeper takes stuck rows once.</summary>
public sealed class OutboxRelayTests(NotificationFixture app) : IClassFixture<NotificationFixture>
{
    [Fact]
    public async Task A_product_created_through_the_API_is_on_both_queues_and_marked_dispatched()
    {
        var alice = await app.CreateUserAsync("Alice");
        var space = await app.CreateSpaceAsync(null, (alice, "editor"));
        await NotificationFixture.DrainAsync(app.NotificationsQueue);
        await NotificationFixture.DrainAsync(app.WebhooksQueue);

        var product = (await alice.Client.CreateProductAsync(space, "orders", new { name = "Orders" })).Id();

        var spaceId = await app.SpaceIdAsync(space);
        var row = await app.WithDbAsync(db => db.OutboxEvents.AsNoTracking().SingleAsync(e => e.EventType == OutboxEventTypes.ProductCreated && e.SpaceId == spaceId));
        Assert.Equal(app.Clock.GetUtcNow(), row.DispatchedAt);
        Assert.Equal(1, row.Attempts);
        var notifications = await NotificationFixture.DrainAsync(app.NotificationsQueue);
        var webhooks = await NotificationFixture.DrainAsync(app.WebhooksQueue);
        var sent = Assert.Single(notifications);
        Assert.Equal(row.Id, sent.EventId);
        Assert.Equal(OutboxEventTypes.ProductCreated, sent.EventType);
        Assert.Equal("Orders", sent.Payload.GetProperty("name").GetString());
        Assert.Equal(space, sent.Payload.GetProperty("space").GetString());
        Assert.Equal(alice.Id, sent.Payload.GetProperty("actor_id").GetGuid());
        Assert.Equal($"/spaces/{space}/products/orders", sent.Payload.GetProperty("link").GetString());
        Assert.Equal(row.Id, Assert.Single(webhooks).EventId);

        // An update that changes something writes product.updated with the changed fields; one that changes nothing writes none.
        Assert.Equal(200, (await alice.Client.PatchAsync($"/api/v1/spaces/{space}/products/orders", new { name = "Orders v2", description = "All orders" })).Status);
        Assert.Equal(200, (await alice.Client.PatchAsync($"/api/v1/spaces/{space}/products/orders", new { name = "Orders v2" })).Status);
        var updated = Assert.Single(await NotificationFixture.DrainAsync(app.NotificationsQueue));
        Assert.Equal(OutboxEventTypes.ProductUpdated, updated.EventType);
        Assert.Equal(["description", "name"], updated.Payload.GetProperty("changed_fields").EnumerateArray().Select(x => x.GetString()).Order());
        await NotificationFixture.DrainAsync(app.WebhooksQueue);
    }

    [Fact]
    public async Task Rows_of_an_explicit_transaction_leave_only_after_its_commit_and_never_after_a_rollback()
    {
        await NotificationFixture.DrainAsync(app.NotificationsQueue);
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<QarionDbContext>();

        await using (var tx = await db.Database.BeginTransactionAsync())
        {
            db.AddOutboxEvent(null, OutboxEventTypes.WebhookDisabled, new { name = "rolled back" });
            await db.SaveChangesAsync();
            await tx.RollbackAsync();
        }
        db.ChangeTracker.Clear();
        await using (var tx = await db.Database.BeginTransactionAsync())
        {
            db.AddOutboxEvent(null, OutboxEventTypes.WebhookDisabled, new { name = "disposed" });
            await db.SaveChangesAsync();
        } // disposed without a commit: rolled back
        db.ChangeTracker.Clear();

        Guid committed;
        await using (var tx = await db.Database.BeginTransactionAsync())
        {
            committed = db.AddOutboxEvent(null, OutboxEventTypes.WebhookDisabled, new { name = "committed" }).Id;
            await db.SaveChangesAsync();
            Assert.Empty(await NotificationFixture.DrainAsync(app.NotificationsQueue)); // saved, not committed: nothing sent
            await tx.CommitAsync();
        }
        // A later save without a transaction does not publish the rolled-back rows either.
        db.AddOutboxEvent(null, OutboxEventTypes.WebhookDisabled, new { name = "implicit" });
        await db.SaveChangesAsync();

        var sent = await NotificationFixture.DrainAsync(app.NotificationsQueue);
        Assert.Equal(["committed", "implicit"], sent.Select(m => m.Payload.GetProperty("name").GetString()).Order());
        Assert.Contains(sent, m => m.EventId == committed);
        Assert.Equal(2, await app.WithDbAsync(d => d.OutboxEvents.CountAsync(e => e.EventType == OutboxEventTypes.WebhookDisabled)));
        await NotificationFixture.DrainAsync(app.WebhooksQueue);
    }

    [Fact]
    public async Task A_failed_check_recorded_in_the_recorders_locked_transaction_is_published_after_commit()
    {
        var owner = await app.CreateUserAsync("Owner");
        var space = await app.CreateSpaceAsync(null, (owner, "editor"));
        var product = (await owner.Client.CreateProductAsync(space, "ledger", new { owner_id = owner.Id })).Id();
        var spaceId = await app.SpaceIdAsync(space);
        var check = await app.WithDbAsync(async db =>
        {
            var c = new QualityCheck { SpaceId = spaceId, Slug = "rows", Name = "Rows present", CheckType = CheckTypes.NullCheck, Config = "{}" };
            db.QualityChecks.Add(c);
            db.CheckProducts.Add(new CheckProduct { CheckId = c.Id, ProductId = product, Position = 0 });
            await db.SaveChangesAsync();
            return c.Id;
        });
        await NotificationFixture.DrainAsync(app.NotificationsQueue);

        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ExecutionRecorder>().AddCompletedAsync(new CheckExecution
            {
                SpaceId = spaceId, CheckId = check, Status = ExecutionStatus.Fail, Trigger = ExecutionTrigger.Manual, IdempotencyKey = "relay-1", Message = "0 rows",
            }, default);
        }

        var sent = await NotificationFixture.DrainAsync(app.NotificationsQueue);
        Assert.Equal([OutboxEventTypes.AlertRaised, OutboxEventTypes.CheckFailed], sent.Select(m => m.EventType).Order());
        Assert.Equal(0, await app.WithDbAsync(db => db.OutboxEvents.CountAsync(e => e.SpaceId == spaceId && e.DispatchedAt == null)));
        await NotificationFixture.DrainAsync(app.WebhooksQueue);
    }

    [Fact]
    public async Task Two_concurrent_sweeps_send_each_stuck_row_once_and_leave_fresh_rows()
    {
        await NotificationFixture.DrainAsync(app.NotificationsQueue);
        await NotificationFixture.DrainAsync(app.WebhooksQueue);
        var now = app.Clock.GetUtcNow();
        var stuck = Enumerable.Range(0, 6).Select(_ => Guid.CreateVersion7()).ToArray();
        var fresh = Guid.CreateVersion7();
        await app.WithDbAsync(async db =>
        {
            foreach (var id in stuck)
                await db.Database.ExecuteSqlAsync($"INSERT INTO outbox_events (id, event_type, payload, occurred_at, attempts) VALUES ({id}, 'webhook.disabled', '{{\"name\": \"stuck\"}}'::jsonb, {now.AddMinutes(-10)}, 0)");
            await db.Database.ExecuteSqlAsync($"INSERT INTO outbox_events (id, event_type, payload, occurred_at, attempts) VALUES ({fresh}, 'webhook.disabled', '{{}}'::jsonb, {now.AddMinutes(-1)}, 0)");
            return 0;
        });

        var publisher = app.Services.GetRequiredService<OutboxPublisher>();
        var counts = await Task.WhenAll(publisher.SweepAsync(default, batch: 3), publisher.SweepAsync(default, batch: 3));
        var again = await publisher.SweepAsync(default);

        Assert.Equal(6, counts.Sum());
        Assert.Equal(0, again);
        var sent = await NotificationFixture.DrainAsync(app.NotificationsQueue);
        Assert.Equal(stuck.Order(), sent.Select(m => m.EventId).Order());
        Assert.Equal(stuck.Order(), (await NotificationFixture.DrainAsync(app.WebhooksQueue)).Select(m => m.EventId).Order());
        var rows = await app.WithDbAsync(db => db.OutboxEvents.AsNoTracking().Where(e => stuck.Contains(e.Id) || e.Id == fresh).ToListAsync());
        Assert.All(rows.Where(r => r.Id != fresh), r => { Assert.Equal(now, r.DispatchedAt); Assert.Equal(1, r.Attempts); });
        Assert.Null(rows.Single(r => r.Id == fresh).DispatchedAt);
        await app.WithDbAsync(db => db.Database.ExecuteSqlAsync($"DELETE FROM outbox_events WHERE id = {fresh}"));
    }
}
