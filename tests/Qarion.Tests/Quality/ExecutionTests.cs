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
    private static TableRef Track => new("public", "track");

    private async Task<List<OutboxEvent>> EventsAsync(Guid checkId)
        => (await app.QueryAsync(db => db.OutboxEvents.OrderBy(e => e.OccurredAt).ThenBy(e => e.Id)))
            .Where(e => e.Payload.Contains(checkId.ToString(), StringComparison.Ordinal)).ToList();

    private Task<List<QualityAlert>> AlertsAsync(Guid checkId) => app.QueryAsync(db => db.QualityAlerts.Where(a => a.CheckId == checkId).OrderBy(a => a.RaisedAt));

    [Fact]
    public async Task A_run_is_queued_with_202_and_the_queue_trigger_records_the_exact_metric_the_sql_and_the_score()
    {
        var check = await app.AddCheckAsync("track-rows", app.Chinook, ["track"], new RowCountConfig(Track), critical: Threshold.Gte(3000));

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
}
