using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Outbox;
using Qarion.Core.Quality;
using Qarion.Tests.Catalog;

namespace Qarion.Tests.Quality;

/// <summary>
/// Check execution end to end: the API queues a run on a real Azurite queue, the queue function runs it against
/// a real PostgreSQL source, and the recorder stores the execution, the check's status, scores, alerts and
/// outbox events — once, however often a message arrives.
/// </summary>
public sealed class ExecutionTests(QualityFixture app) : IClassFixture<QualityFixture>
{
    private string Space => app.Space;

    private async Task<List<OutboxEvent>> EventsAsync(Guid checkId)
        => (await app.QueryAsync(db => db.OutboxEvents.OrderBy(e => e.OccurredAt).ThenBy(e => e.Id)))
            .Where(e => e.Payload.Contains(checkId.ToString(), StringComparison.Ordinal)).ToList();

    private Task<List<QualityAlert>> AlertsAsync(Guid checkId) => app.QueryAsync(db => db.QualityAlerts.Where(a => a.CheckId == checkId).OrderBy(a => a.RaisedAt));

    [Fact]
    public async Task A_run_is_queued_with_202_and_the_queue_trigger_records_the_exact_metric_the_sql_and_the_score()
    {
        // Defined through the API on the scraped table: the table defaults to the product's.
        var created = await app.Admin.PostAsync($"/api/v1/spaces/{Space}/checks", new
        {
            name = "Track rows", slug = "track-rows", check_type = "row_count", products = new[] { "track" }, connector_id = app.Chinook,
            config = new { }, critical = new { @operator = "gte", value = 3000 }, schedule = "0 0 * * * *",
        });
        Assert.True(created.Status == 201, created.ToString());
        var check = new { Id = created.Json.Id() };

        var run = await app.Admin.PostAsync($"/api/v1/spaces/{Space}/checks/track-rows/run", new { });

        Assert.Equal(202, run.Status);
        Assert.Equal("queued", run.Json.Str("status"));
        Assert.Equal(check.Id, run.Json.GetProperty("check_id").GetGuid());
        var queued = await app.Admin.GetAsync(run.Json.Str("status_url"));
        Assert.Equal("queued", queued.Json.Str("status"));
        Assert.Equal(JsonValueKind.Null, queued.Json.GetProperty("metric").ValueKind);

        Assert.Equal(1, await app.DrainAsync());

        var execution = (await app.Admin.GetAsync(run.Json.Str("status_url"))).Json;
        Assert.Equal("pass", execution.Str("status"));
        Assert.Equal(3503, execution.GetProperty("metric").GetDouble());
        Assert.Equal("manual", execution.Str("trigger"));
        Assert.Equal(1, execution.GetProperty("attempts").GetInt32());
        Assert.Contains("\"public\".\"track\"", execution.Str("sql"), StringComparison.Ordinal);
        Assert.True(execution.GetProperty("duration_ms").GetInt32() >= 0);
        Assert.Equal(JsonValueKind.String, execution.GetProperty("triggered_by_id").ValueKind);
        Assert.Equal(JsonValueKind.String, execution.GetProperty("completed_at").ValueKind);

        var quality = (await app.Admin.GetAsync($"/api/v1/spaces/{Space}/products/track/quality")).Json;
        Assert.Equal(100, quality.GetProperty("score").GetDouble());
        Assert.Equal("healthy", quality.Str("health"));
        var listed = quality.GetProperty("checks").EnumerateArray().Single(c => c.Str("slug") == "track-rows");
        Assert.Equal("pass", listed.Str("last_status"));
        var product = (await app.Admin.GetAsync($"/api/v1/spaces/{Space}/products/track")).Json;
        Assert.Equal(100, product.GetProperty("quality").GetProperty("score").GetDouble());
        Assert.Equal("healthy", product.GetProperty("quality").Str("health"));
    }

    [Fact]
    public async Task Alerts_are_raised_once_on_failure_counted_while_failing_and_resolved_when_the_check_passes()
    {
        var check = await app.AddCheckAsync("order-emails", app.Shop, ["alerting"], new NullCheckConfig(new TableRef("shop", "alerting"), "email"), severity: CheckSeverity.High);

        Assert.Equal("pass", (await app.RunAsync("order-emails")).Str("status"));
        Assert.Empty(await AlertsAsync(check.Id));

        await app.ShopDatabase.ExecuteAsync("UPDATE shop.alerting SET email = NULL WHERE id IN (3, 7)");
        var failed = await app.RunAsync("order-emails");
        Assert.Equal(("fail", 2.0, 20.0), (failed.Str("status"), failed.GetProperty("metric").GetDouble(), failed.GetProperty("total").GetDouble()));
        var alert = Assert.Single(await AlertsAsync(check.Id));
        Assert.Equal((AlertStatus.Active, CheckSeverity.High, ExecutionStatus.Fail, 1), (alert.Status, alert.Severity, alert.RaisedStatus, alert.Occurrences));
        Assert.Equal("order emails failed on alerting", alert.Title);
        var quality = (await app.Admin.GetAsync($"/api/v1/spaces/{Space}/products/alerting/quality")).Json;
        Assert.Equal((0.0, "critical", 1), (quality.GetProperty("score").GetDouble(), quality.Str("health"), quality.GetProperty("failing").GetInt32()));
        Assert.Equal(1, quality.GetProperty("open_alerts").GetInt32());

        var again = await app.RunAsync("order-emails");
        Assert.Equal("fail", again.Str("status"));
        alert = Assert.Single(await AlertsAsync(check.Id));
        Assert.Equal((AlertStatus.Active, 2, again.GetProperty("id").GetGuid()), (alert.Status, alert.Occurrences, alert.LastExecutionId));

        await app.ShopDatabase.ExecuteAsync("UPDATE shop.alerting SET email = 'fixed@example.com' WHERE email IS NULL");
        var passed = await app.RunAsync("order-emails");
        Assert.Equal("pass", passed.Str("status"));
        alert = Assert.Single(await AlertsAsync(check.Id));
        Assert.Equal((AlertStatus.Resolved, true, passed.GetProperty("id").GetGuid()), (alert.Status, alert.AutoResolved, alert.LastExecutionId));
        Assert.NotNull(alert.ResolvedAt);

        // Events of one transaction share its instant; across runs they are in run order.
        var events = (await EventsAsync(check.Id)).GroupBy(e => e.OccurredAt).Select(g => g.Select(e => e.EventType).Order(StringComparer.Ordinal).ToList()).ToList();
        Assert.Equal(2, events.Count);
        Assert.Equal([OutboxEventTypes.AlertRaised, OutboxEventTypes.CheckFailed], events[0]);
        Assert.Equal([OutboxEventTypes.AlertResolved, OutboxEventTypes.CheckPassed], events[1]);
        Assert.Equal(100, (await app.Admin.GetAsync($"/api/v1/spaces/{Space}/products/alerting/quality")).Json.GetProperty("score").GetDouble());
        var raised = (await EventsAsync(check.Id)).Single(e => e.EventType == OutboxEventTypes.AlertRaised);
        using var payload = JsonDocument.Parse(raised.Payload);
        Assert.Equal(alert.Id, payload.RootElement.GetProperty("alert_id").GetGuid());
        Assert.Equal("high", payload.RootElement.GetProperty("severity").GetString());
        Assert.Equal(2, payload.RootElement.GetProperty("metric").GetDouble());

        // A failing run after the alert was resolved raises a new one.
        await app.ShopDatabase.ExecuteAsync("UPDATE shop.alerting SET email = NULL WHERE id = 1");
        Assert.Equal("fail", (await app.RunAsync("order-emails")).Str("status"));
        var alerts = await AlertsAsync(check.Id);
        Assert.Equal(2, alerts.Count);
        Assert.Single(alerts, a => a.Status == AlertStatus.Active);
    }

    [Fact]
    public async Task A_run_repeating_the_last_status_rewrites_no_score_and_a_changed_status_rescores()
    {
        var check = await app.AddCheckAsync("rescored-emails", app.Shop, ["rescored"], new NullCheckConfig(new TableRef("shop", "rescored"), "email"));
        var productId = await app.ProductIdAsync("rescored");
        async Task<ProductQualityScore> ScoreAsync() => (await app.QueryAsync(db => db.ProductQualityScores.Where(s => s.ProductId == productId))).Single();

        Assert.Equal("pass", (await app.RunAsync("rescored-emails")).Str("status"));
        var first = await ScoreAsync();
        Assert.Equal((100.0, "healthy"), (first.Score, first.Health));

        // The clock moved on, but no input of the score did: nothing is rewritten.
        var repeated = await app.RunAsync("rescored-emails");
        Assert.Equal("pass", repeated.Str("status"));
        var unchanged = await ScoreAsync();
        Assert.Equal((100.0, first.ComputedAt), (unchanged.Score, unchanged.ComputedAt));
        var stored = (await app.QueryAsync(db => db.QualityChecks.Where(c => c.Id == check.Id))).Single();
        Assert.Equal((ExecutionStatus.Pass, repeated.GetProperty("completed_at").GetDateTimeOffset()), (stored.LastStatus, stored.LastRunAt));

        await app.ShopDatabase.ExecuteAsync("UPDATE shop.rescored SET email = NULL WHERE id = 5");
        var failed = await app.RunAsync("rescored-emails");
        Assert.Equal("fail", failed.Str("status"));
        var rescored = await ScoreAsync();
        Assert.Equal((0.0, "critical", 1), (rescored.Score, rescored.Health, rescored.Failing));
        Assert.Equal(failed.GetProperty("completed_at").GetDateTimeOffset(), rescored.ComputedAt);
    }

    [Fact]
    public async Task A_redelivered_message_and_a_repeated_idempotency_key_never_make_a_second_execution()
    {
        var check = await app.AddCheckAsync("album-rows", app.Chinook, ["album"], new RowCountConfig(new TableRef("public", "album")));
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = "deploy-42" };

        var first = await app.Admin.PostAsync($"/api/v1/spaces/{Space}/checks/album-rows/run", new { }, key);
        var second = await app.Admin.PostAsync($"/api/v1/spaces/{Space}/checks/album-rows/run", new { }, key);

        Assert.Equal((202, 200), (first.Status, second.Status));
        Assert.Equal(first.Json.GetProperty("execution_id").GetGuid(), second.Json.GetProperty("execution_id").GetGuid());
        // Both requests sent a message (the second because the run was still queued): the same execution twice.
        var messages = (await app.Queue.ReceiveMessagesAsync(maxMessages: 10)).Value;
        Assert.Equal(2, messages.Length);
        foreach (var message in messages) await app.DeliverAsync(message);
        await app.DeliverAsync(messages[0]);

        var executions = await app.QueryAsync(db => db.CheckExecutions.Where(e => e.CheckId == check.Id));
        var execution = Assert.Single(executions);
        Assert.Equal((ExecutionStatus.Pass, 347.0), (execution.Status, execution.Metric));
        var third = await app.Admin.PostAsync($"/api/v1/spaces/{Space}/checks/album-rows/run", new { }, key);
        Assert.Equal((200, "pass"), (third.Status, third.Json.Str("status")));
        // The third request found the run complete and sent nothing.
        Assert.Empty((await app.Queue.PeekMessagesAsync(maxMessages: 10)).Value);
        foreach (var message in messages) await app.Queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);

        var bad = await app.Admin.PostAsync($"/api/v1/spaces/{Space}/checks/album-rows/run", new { }, new Dictionary<string, string> { ["Idempotency-Key"] = "no spaces allowed" });
        Assert.Equal((422, "idempotency_key_invalid"), (bad.Status, bad.ErrorType()));
    }

    [Fact]
    public async Task A_poisoned_message_is_recorded_as_an_error_and_a_late_delivery_changes_nothing()
    {
        var check = await app.AddCheckAsync("genre-rows", app.Chinook, ["genre"], new RowCountConfig(new TableRef("public", "genre")));
        var run = await app.Admin.PostAsync($"/api/v1/spaces/{Space}/checks/genre-rows/run", new { });
        var message = Assert.Single((await app.Queue.ReceiveMessagesAsync(maxMessages: 10)).Value);
        // What the host does after maxDequeueCount failed deliveries: the same body on <queue>-poison.
        await app.PoisonQueue.SendMessageAsync(message.Body);
        await app.Queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        var poisoned = Assert.Single((await app.PoisonQueue.ReceiveMessagesAsync(maxMessages: 10)).Value);

        await app.DeliverPoisonAsync(poisoned);

        var execution = (await app.Admin.GetAsync(run.Json.Str("status_url"))).Json;
        Assert.Equal("error", execution.Str("status"));
        Assert.Contains("poison queue", execution.Str("message"), StringComparison.Ordinal);
        var alert = Assert.Single(await AlertsAsync(check.Id));
        Assert.Equal(ExecutionStatus.Error, alert.RaisedStatus);
        Assert.Equal("genre rows could not run on genre", alert.Title);

        // The original message arriving late (or the poison message twice) leaves the recorded result alone.
        await app.DeliverAsync(message);
        await app.DeliverPoisonAsync(poisoned);
        var after = Assert.Single(await app.QueryAsync(db => db.CheckExecutions.Where(e => e.CheckId == check.Id)));
        Assert.Equal((ExecutionStatus.Error, execution.GetProperty("completed_at").GetDateTimeOffset()), (after.Status, after.CompletedAt!.Value));
        Assert.Single(await AlertsAsync(check.Id));
        await app.PoisonQueue.DeleteMessageAsync(poisoned.MessageId, poisoned.PopReceipt);
    }

    [Fact]
    public async Task A_message_that_is_not_a_check_run_is_retried_by_the_host_and_dropped_from_the_poison_queue()
    {
        await app.Queue.SendMessageAsync("{\"not\": \"ours\"}");
        var message = Assert.Single((await app.Queue.ReceiveMessagesAsync(maxMessages: 10)).Value);
        await Assert.ThrowsAsync<InvalidOperationException>(() => app.DeliverAsync(message));
        await app.Queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        var executions = await app.QueryAsync(db => db.CheckExecutions.Select(e => e.Id));
        await app.DeliverPoisonAsync(message);
        Assert.Equal(executions.Count, (await app.QueryAsync(db => db.CheckExecutions.Select(e => e.Id))).Count);
    }

    [Fact]
    public async Task Source_errors_are_error_results_with_a_readable_message()
    {
        var check = await app.AddCheckAsync("missing-column", app.Chinook, ["artist"], new NullCheckConfig(new TableRef("public", "artist"), "no_such_column"));
        var execution = await app.RunAsync("missing-column");
        Assert.Equal("error", execution.Str("status"));
        Assert.Contains("42703", execution.Str("message"), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, execution.GetProperty("metric").ValueKind);
        Assert.Single(await AlertsAsync(check.Id));
    }

    [Fact]
    public async Task Two_scheduler_runs_at_the_same_minute_enqueue_each_due_check_once_and_advance_its_next_run()
    {
        var now = app.Clock.GetUtcNow();
        var due = new List<QualityCheck>();
        for (var i = 0; i < 3; i++)
            due.Add(await app.AddCheckAsync($"scheduled-{i}", app.Shop, ["scheduled"], new RowCountConfig(new TableRef("shop", "scheduled")),
                schedule: "0 */5 * * * *", nextRunAt: now.AddMinutes(-1 - i)));
        var later = await app.AddCheckAsync("scheduled-later", app.Shop, ["scheduled"], new RowCountConfig(new TableRef("shop", "scheduled")),
            schedule: "0 */5 * * * *", nextRunAt: now.AddMinutes(3));
        var archived = await app.AddCheckAsync("scheduled-archived", app.Shop, ["scheduled"], new RowCountConfig(new TableRef("shop", "scheduled")),
            schedule: "0 */5 * * * *", nextRunAt: now.AddMinutes(-1));
        await app.Database.ExecuteAsync($"UPDATE quality_checks SET is_archived = true WHERE id = '{archived.Id}'");

        var counts = await Task.WhenAll(app.RunSchedulerAsync(), app.RunSchedulerAsync());

        Assert.Equal(3, counts.Sum());
        Assert.Equal(0, await app.RunSchedulerAsync());
        var ids = due.Select(c => c.Id).ToList();
        var executions = await app.QueryAsync(db => db.CheckExecutions.Where(e => ids.Contains(e.CheckId) || e.CheckId == later.Id || e.CheckId == archived.Id));
        Assert.Equal(ids.Order(), executions.Select(e => e.CheckId).Order());
        Assert.All(executions, e => Assert.Equal((ExecutionTrigger.Schedule, ExecutionStatus.Queued), (e.Trigger, e.Status)));
        var nextRuns = await app.QueryAsync(db => db.QualityChecks.Where(c => ids.Contains(c.Id)).Select(c => c.NextRunAt));
        var expectedNext = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute / 5 * 5, 0, TimeSpan.Zero).AddMinutes(5);
        Assert.All(nextRuns, n => Assert.Equal(expectedNext, n));

        Assert.Equal(3, await app.DrainAsync());
        var done = await app.QueryAsync(db => db.CheckExecutions.Where(e => ids.Contains(e.CheckId)));
        Assert.All(done, e => Assert.Equal((ExecutionStatus.Pass, 20.0), (e.Status, e.Metric)));
    }

    [Fact]
    public async Task A_queued_execution_whose_message_was_lost_is_sent_again_by_the_scheduler()
    {
        var check = await app.AddCheckAsync("lost-message", app.Chinook, ["media-type"], new RowCountConfig(new TableRef("public", "media_type")));
        var run = await app.Admin.PostAsync($"/api/v1/spaces/{Space}/checks/lost-message/run", new { });
        var lost = Assert.Single((await app.Queue.ReceiveMessagesAsync(maxMessages: 10)).Value);
        await app.Queue.DeleteMessageAsync(lost.MessageId, lost.PopReceipt);

        await app.RunSchedulerAsync();
        Assert.Empty((await app.Queue.PeekMessagesAsync(maxMessages: 10)).Value);
        app.Clock.Advance(CheckExecutor.ResendAfter + TimeSpan.FromSeconds(1));
        await app.RunSchedulerAsync();
        await app.RunSchedulerAsync();

        Assert.Equal(1, await app.DrainAsync());
        var execution = (await app.Admin.GetAsync(run.Json.Str("status_url"))).Json;
        Assert.Equal(("pass", 5.0), (execution.Str("status"), execution.GetProperty("metric").GetDouble()));
        Assert.Single(await app.QueryAsync(db => db.CheckExecutions.Where(e => e.CheckId == check.Id)));
    }
}
