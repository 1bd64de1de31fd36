using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Core.Persistence;
using Qarion.Core.Quality;
using Qarion.Tests.Catalog;

namespace Qarion.Tests.Quality;

/// <summary>Anomalies, pushed and entered results, reconciliation across sources, ignoring runs, statistics and trends.</summary>
public sealed class ResultTests(QualityFixture app) : IClassFixture<QualityFixture>
{
    private string Space => app.Space;

    private async Task AddHistoryAsync(Guid checkId, params double[] metrics)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<QarionDbContext>();
        foreach (var metric in metrics)
        {
            app.Clock.Advance(TimeSpan.FromMinutes(1));
            var at = app.Clock.GetUtcNow();
            db.CheckExecutions.Add(new CheckExecution
            {
                SpaceId = app.SpaceId, CheckId = checkId, Status = ExecutionStatus.Pass, Trigger = ExecutionTrigger.Schedule,
                IdempotencyKey = $"history:{Guid.NewGuid():N}", Metric = metric, StartedAt = at, CompletedAt = at,
            });
        }
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task An_anomaly_learns_first_then_fails_a_metric_far_from_the_median_of_its_history()
    {
        var config = new AnomalyConfig(new RowCountConfig(new TableRef("shop", "feed")), MinHistory: 5, Sensitivity: 3);
        var check = await app.AddCheckAsync("feed-volume", app.Shop, ["feed"], config);

        var learning = await app.RunAsync("feed-volume");
        Assert.Equal(("pass", 20.0), (learning.Str("status"), learning.GetProperty("metric").GetDouble()));
        Assert.Contains("0 of 5", learning.Str("message"), StringComparison.Ordinal);

        // History 18..22 around 20 (plus the run above): median 20, MAD 1 → spread 1.4826.
        await AddHistoryAsync(check.Id, 18, 19, 21, 22, 20);
        var normal = await app.RunAsync("feed-volume");
        Assert.Equal("pass", normal.Str("status"));
        var baseline = normal.GetProperty("details").GetProperty("baseline");
        Assert.Equal(20, baseline.GetProperty("median").GetDouble());
        Assert.Equal(1.4826, baseline.GetProperty("spread").GetDouble(), 6);
        Assert.Equal(0, normal.GetProperty("details").GetProperty("deviations").GetDouble());

        await app.ShopDatabase.ExecuteAsync("INSERT INTO shop.feed SELECT i, NULL, 0, now() FROM generate_series(21, 30) AS i");
        var spike = await app.RunAsync("feed-volume");
        Assert.Equal(("fail", 30.0), (spike.Str("status"), spike.GetProperty("metric").GetDouble()));
        Assert.Equal(10 / 1.4826, spike.GetProperty("details").GetProperty("deviations").GetDouble(), 6);
        Assert.Contains("from the median 20", spike.Str("message"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Custom_results_are_pushed_and_manual_values_entered_with_idempotency_keys()
    {
        var custom = await app.AddCheckAsync("dq-tool", app.Shop, ["pushed"], new CustomConfig("rows"), critical: Threshold.Lte(5));
        var manual = await app.AddCheckAsync("monthly-attestation", app.Shop, ["pushed"], new ManualConfig(), critical: Threshold.Eq(1));

        var failing = await app.Admin.PostAsync($"/api/v1/spaces/{Space}/checks/dq-tool/results", new { metric = 9, message = "9 orphans", idempotency_key = "run-1" });
        Assert.Equal(201, failing.Status);
        Assert.Equal(("fail", 9.0, "api"), (failing.Json.Str("status"), failing.Json.GetProperty("metric").GetDouble(), failing.Json.Str("trigger")));
        var again = await app.Admin.PostAsync($"/api/v1/spaces/{Space}/checks/dq-tool/results", new { metric = 1, idempotency_key = "run-1" });
        Assert.Equal((200, failing.Json.Id()), (again.Status, again.Json.Id()));
        var verdict = await app.Admin.PostAsync($"/api/v1/spaces/{Space}/checks/dq-tool/results", new { status = "warning", message = "tool says so" });
        Assert.Equal((201, "warning"), (verdict.Status, verdict.Json.Str("status")));

        var entered = await app.Admin.PostAsync($"/api/v1/spaces/{Space}/checks/monthly-attestation/results", new { metric = 1 });
        Assert.Equal((201, "pass", "person"), (entered.Status, entered.Json.Str("status"), entered.Json.Str("trigger")));
        var refused = await app.Admin.PostAsync($"/api/v1/spaces/{Space}/checks/monthly-attestation/results", new { status = "pass" });
        Assert.Equal((422, "not_allowed"), (refused.Status, refused.ErrorType()));
        var missing = await app.Admin.PostAsync($"/api/v1/spaces/{Space}/checks/dq-tool/results", new { message = "no metric" });
        Assert.Equal(422, missing.Status);
        var queued = await app.Admin.PostAsync($"/api/v1/spaces/{Space}/checks/dq-tool/run", new { });
        Assert.Equal((409, "check_not_runnable"), (queued.Status, queued.Code()));

        Assert.Equal(2, (await app.QueryAsync(db => db.CheckExecutions.Where(e => e.CheckId == custom.Id))).Count);
        Assert.Single(await app.QueryAsync(db => db.QualityAlerts.Where(a => a.CheckId == custom.Id && a.Status == AlertStatus.Resolved)));
        Assert.Single(await app.QueryAsync(db => db.CheckExecutions.Where(e => e.CheckId == manual.Id)));
        // Both checks on "pushed": warning (medium, ½) and pass (medium, 1) → 75.
        var quality = (await app.Admin.GetAsync($"/api/v1/spaces/{Space}/products/pushed/quality")).Json;
        Assert.Equal((75.0, "warning"), (quality.GetProperty("score").GetDouble(), quality.Str("health")));
    }

    [Fact]
    public async Task A_reconciliation_reads_its_sides_from_two_connectors()
    {
        var config = new ReconciliationConfig(
            new RowCountConfig(new TableRef("shop", "orders")),
            new SqlMetricConfig("SELECT count(*) FROM public.genre"),
            ToleranceKind.Absolute, 10, RightConnectorId: app.Chinook);
        await app.AddCheckAsync("orders-vs-genres", app.Shop, ["orders"], config);

        var execution = await app.RunAsync("orders-vs-genres");

        // 20 orders against 25 genres: |20 − 25| = 5 within 10.
        Assert.True(execution.GetProperty("metric").ValueKind == JsonValueKind.Number, execution.ToString());
        Assert.Equal(("pass", 5.0), (execution.Str("status"), execution.GetProperty("metric").GetDouble()));
    }

    [Fact]
    public async Task Field_checks_record_each_rule_in_the_execution_details()
    {
        var config = new FieldChecksConfig(new TableRef("shop", "orders"),
        [
            new FieldRule("email_present", "email", FieldRuleKind.NotNull),
            new FieldRule("amount_small", "amount", FieldRuleKind.Range, Min: 0, Max: 100),
        ]);
        await app.AddCheckAsync("orders-rules", app.Shop, ["orders"], config);

        var execution = await app.RunAsync("orders-rules");

        // amounts are 10..200: 10 of them above 100.
        Assert.Equal(("fail", 10.0), (execution.Str("status"), execution.GetProperty("metric").GetDouble()));
        var rules = execution.GetProperty("details").GetProperty("rules").EnumerateArray().ToDictionary(r => r.Str("name"));
        Assert.Equal(("pass", 0.0), (rules["email_present"].Str("status"), rules["email_present"].GetProperty("metric").GetDouble()));
        Assert.Equal(("fail", 10.0), (rules["amount_small"].Str("status"), rules["amount_small"].GetProperty("metric").GetDouble()));
    }

    [Fact]
    public async Task Ignored_runs_leave_the_status_score_and_statistics_and_come_back_when_un_ignored()
    {
        var check = await app.AddCheckAsync("ledger-emails", app.Shop, ["ledger"], new NullCheckConfig(new TableRef("shop", "ledger"), "email"));
        var pass = await app.RunAsync("ledger-emails");
        await app.ShopDatabase.ExecuteAsync("UPDATE shop.ledger SET email = NULL WHERE id = 1");
        var fail = await app.RunAsync("ledger-emails");
        Assert.Equal(("pass", "fail"), (pass.Str("status"), fail.Str("status")));

        var ignored = await app.Admin.PostAsync($"/api/v1/spaces/{Space}/executions/{fail.Id()}/ignore", new { reason = "backfill in progress" });
        Assert.Equal(200, ignored.Status);
        Assert.Equal((true, "backfill in progress"), (ignored.Json.GetProperty("is_ignored").GetBoolean(), ignored.Json.Str("ignore_reason")));
        var stored = Assert.Single(await app.QueryAsync(db => db.QualityChecks.Where(c => c.Id == check.Id)));
        Assert.Equal(ExecutionStatus.Pass, stored.LastStatus);
        Assert.Equal(100, (await app.Admin.GetAsync($"/api/v1/spaces/{Space}/products/ledger/quality")).Json.GetProperty("score").GetDouble());
        var stats = (await app.Admin.GetAsync($"/api/v1/spaces/{Space}/checks/ledger-emails/stats")).Json;
        Assert.Equal((1, 0, 1), (stats.GetProperty("executions").GetProperty("pass").GetInt32(), stats.GetProperty("executions").GetProperty("fail").GetInt32(), stats.GetProperty("ignored").GetInt32()));
        Assert.Equal(100, stats.GetProperty("pass_rate").GetDouble());
        var counted = await app.Admin.GetAsync($"/api/v1/spaces/{Space}/checks/ledger-emails/executions?ignored=false");
        Assert.Equal([pass.Id()], counted.Items().Select(e => e.Id()).ToList());

        var back = await app.Admin.PostAsync($"/api/v1/spaces/{Space}/executions/{fail.Id()}/unignore", new { });
        Assert.False(back.Json.GetProperty("is_ignored").GetBoolean());
        stats = (await app.Admin.GetAsync($"/api/v1/spaces/{Space}/checks/ledger-emails/stats")).Json;
        Assert.Equal((1, 1, 50.0), (stats.GetProperty("executions").GetProperty("pass").GetInt32(), stats.GetProperty("executions").GetProperty("fail").GetInt32(), stats.GetProperty("pass_rate").GetDouble()));
        Assert.Equal(0, (await app.Admin.GetAsync($"/api/v1/spaces/{Space}/products/ledger/quality")).Json.GetProperty("score").GetDouble());
        var all = await app.Admin.GetAsync($"/api/v1/spaces/{Space}/checks/ledger-emails/executions");
        Assert.Equal([fail.Id(), pass.Id()], all.Items().Select(e => e.Id()).ToList());
        var failures = await app.Admin.GetAsync($"/api/v1/spaces/{Space}/executions?status=fail&product=ledger");
        Assert.Equal([fail.Id()], failures.Items().Select(e => e.Id()).ToList());

        var pending = await app.Admin.PostAsync($"/api/v1/spaces/{Space}/executions/{Guid.NewGuid()}/ignore", new { });
        Assert.Equal(404, pending.Status);
        var badWindow = await app.Admin.GetAsync($"/api/v1/spaces/{Space}/executions?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z");
        Assert.Equal((422, "invalid_window"), (badWindow.Status, badWindow.ErrorType()));
        var badDays = await app.Admin.GetAsync($"/api/v1/spaces/{Space}/quality/stats?days=0");
        Assert.Equal(422, badDays.Status);
    }

    [Fact]
    public async Task The_daily_trend_counts_completed_runs_per_utc_day()
    {
        var check = await app.AddCheckAsync("trend-check", app.Shop, ["orders"], new CustomConfig(), critical: Threshold.Eq(0));
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<QarionDbContext>();
            var today = app.Clock.GetUtcNow().UtcDateTime.Date;
            (int DaysAgo, ExecutionStatus Status)[] runs =
                [(2, ExecutionStatus.Pass), (2, ExecutionStatus.Fail), (1, ExecutionStatus.Pass), (1, ExecutionStatus.Pass), (1, ExecutionStatus.Error), (40, ExecutionStatus.Fail)];
            foreach (var (daysAgo, status) in runs)
            {
                var at = new DateTimeOffset(today.AddDays(-daysAgo).AddHours(12), TimeSpan.Zero);
                db.CheckExecutions.Add(new CheckExecution
                {
                    SpaceId = app.SpaceId, CheckId = check.Id, Status = status, Trigger = ExecutionTrigger.Api,
                    IdempotencyKey = $"trend:{Guid.NewGuid():N}", Metric = 0, StartedAt = at, CompletedAt = at, CreatedAt = at,
                });
            }
            await db.SaveChangesAsync();
        }

        var response = await app.Admin.GetAsync($"/api/v1/spaces/{Space}/quality/trend?product=orders&days=7");
        Assert.True(response.Status == 200, response.ToString());
        var trend = response.Json;

        Assert.True(trend.GetProperty("points").GetArrayLength() == 8, trend.ToString());
        var points = trend.GetProperty("points").EnumerateArray().ToDictionary(p => DateOnly.Parse(p.Str("date"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(8, points.Count);
        var today2 = DateOnly.FromDateTime(app.Clock.GetUtcNow().UtcDateTime);
        var twoDaysAgo = points[today2.AddDays(-2)];
        Assert.Equal((1, 1, 50.0), (twoDaysAgo.GetProperty("pass").GetInt32(), twoDaysAgo.GetProperty("fail").GetInt32(), twoDaysAgo.GetProperty("pass_rate").GetDouble()));
        var yesterday = points[today2.AddDays(-1)];
        Assert.Equal((2, 1), (yesterday.GetProperty("pass").GetInt32(), yesterday.GetProperty("error").GetInt32()));
        Assert.Equal(JsonValueKind.Null, points[today2.AddDays(-3)].GetProperty("pass_rate").ValueKind);

        var space = (await app.Admin.GetAsync($"/api/v1/spaces/{Space}/quality/stats?days=7")).Json;
        Assert.True(space.GetProperty("checks").GetInt32() >= 1);
        Assert.True(space.GetProperty("executions").GetProperty("pass").GetInt32() >= 3);
    }

    [Fact]
    public async Task Archiving_or_deleting_a_check_re_scores_its_products()
    {
        await app.AddCheckAsync("graded-pass", app.Shop, ["graded"], new CustomConfig(), critical: Threshold.Eq(0));
        await app.AddCheckAsync("graded-fail", app.Shop, ["graded"], new CustomConfig(), critical: Threshold.Eq(0), severity: CheckSeverity.Critical);
        Assert.Equal(201, (await app.Admin.PostAsync($"/api/v1/spaces/{Space}/checks/graded-pass/results", new { metric = 0 })).Status);
        Assert.Equal(201, (await app.Admin.PostAsync($"/api/v1/spaces/{Space}/checks/graded-fail/results", new { metric = 4 })).Status);
        async Task<(double? Score, string Health)> ScoreAsync()
        {
            var q = (await app.Admin.GetAsync($"/api/v1/spaces/{Space}/products/graded/quality")).Json;
            return (q.GetProperty("score").ValueKind == JsonValueKind.Null ? null : q.GetProperty("score").GetDouble(), q.Str("health"));
        }
        // medium pass (2 × 1) and critical fail (5 × 0): 100 × 2 / 7; a failing critical check makes it critical.
        Assert.Equal((Math.Round(200.0 / 7, 2), "critical"), await ScoreAsync());

        Assert.Equal(200, (await app.Admin.PostAsync($"/api/v1/spaces/{Space}/checks/graded-fail/archive", new { })).Status);
        Assert.Equal((100.0, "healthy"), await ScoreAsync());
        Assert.Equal(200, (await app.Admin.PostAsync($"/api/v1/spaces/{Space}/checks/graded-fail/unarchive", new { })).Status);
        Assert.Equal((Math.Round(200.0 / 7, 2), "critical"), await ScoreAsync());
        Assert.Equal(200, (await app.Admin.PatchAsync($"/api/v1/spaces/{Space}/checks/graded-fail", new { severity = "low" })).Status);
        // low fail (1 × 0): 100 × 2 / 3, no critical failure left → 66.67 is below 70: critical by score.
        Assert.Equal((Math.Round(200.0 / 3, 2), "critical"), await ScoreAsync());
        Assert.Equal(204, (await app.Admin.DeleteAsync($"/api/v1/spaces/{Space}/checks/graded-fail")).Status);
        Assert.Equal((100.0, "healthy"), await ScoreAsync());
        Assert.Equal(204, (await app.Admin.DeleteAsync($"/api/v1/spaces/{Space}/checks/graded-pass")).Status);
        Assert.Equal(((double?)null, "unknown"), await ScoreAsync());
    }
}
