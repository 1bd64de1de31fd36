using System.Text.Json;
using Qarion.Core.Quality;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Contracts;

/// <summary>
/// Each SLA term against rows inserted below the API (checks, executions, scores), evaluated through
/// POST …/evaluate: Meeting, At risk, Breached and Unknown with exact figures, and the violations and
/// <c>contract.violated</c> events they open, escalate and close.
/// </summary>
public sealed class ContractSlaTests(AppFixture app) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Freshness_is_the_latest_freshness_result_aged_since_its_run_and_breaches_open_escalate_and_close_one_violation()
    {
        var a = await app.ArrangeAsync();
        var id = await a.ActiveContractAsync("Fresh orders", new { freshness_hours = 10 });

        // No freshness check: unknown, and nothing opened.
        var r = await a.EvaluateAsync(id);
        Assert.Equal(("unknown", "unknown"), (r.Str("sla_status"), r.Term("freshness").Status));
        Assert.Equal((10.0, (double?)null), (r.Term("freshness").Expected, r.Term("freshness").Actual));
        Assert.Equal(app.Clock.GetUtcNow(), r.GetProperty("last_evaluated_at").GetDateTimeOffset());

        var now = app.Clock.GetUtcNow();
        var fresh = await app.AddCheckAsync(a.SpaceId, a.Producer);
        var rows = await app.AddCheckAsync(a.SpaceId, a.Producer, CheckTypes.RowCount);
        var archived = await app.AddCheckAsync(a.SpaceId, a.Producer, archived: true);
        var elsewhere = await app.AddCheckAsync(a.SpaceId, a.Consumer);
        // Decoys, all newer than the one that counts: ignored, errored, not freshness, archived, another product's, still running.
        await app.AddRunsAsync(a.SpaceId, fresh, ExecutionStatus.Pass, now.AddHours(-1), metric: 3 * 3600);
        await app.AddRunsAsync(a.SpaceId, fresh, ExecutionStatus.Fail, now.AddMinutes(-30), metric: 50 * 3600, ignored: true);
        await app.AddRunsAsync(a.SpaceId, fresh, ExecutionStatus.Error, now.AddMinutes(-20));
        await app.AddRunsAsync(a.SpaceId, fresh, ExecutionStatus.Running, null);
        await app.AddRunsAsync(a.SpaceId, rows, ExecutionStatus.Pass, now.AddMinutes(-10), metric: 90 * 3600);
        await app.AddRunsAsync(a.SpaceId, archived, ExecutionStatus.Pass, now.AddMinutes(-10), metric: 90 * 3600);
        await app.AddRunsAsync(a.SpaceId, elsewhere, ExecutionStatus.Pass, now.AddMinutes(-10), metric: 90 * 3600);

        // 3 h old at the run + 1 h since = 4 h of 10: meeting.
        r = await a.EvaluateAsync(id);
        Assert.Equal(("meeting", ("meeting", 10.0, (double?)4.0)), (r.Str("sla_status"), r.Term("freshness")));
        Assert.Equal("The data is 4 h old; the limit is 10 h.", r.GetProperty("sla_details")[0].Str("message"));
        Assert.Empty(await app.OpenViolationsAsync(id));

        // A newer run: 8 h + 0.5 h = 8.5 h, over 80 % of the limit → at risk; a violation opens, no event.
        await app.AddRunsAsync(a.SpaceId, fresh, ExecutionStatus.Warning, now.AddMinutes(-30), metric: 8 * 3600);
        r = await a.EvaluateAsync(id);
        Assert.Equal(("at_risk", ("at_risk", 10.0, (double?)8.5)), (r.Str("sla_status"), r.Term("freshness")));
        Assert.Equal(1, r.GetProperty("open_violations").GetInt32());
        Assert.Equal([("freshness", "at_risk", (double?)8.5)], await app.OpenViolationsAsync(id));
        Assert.Equal(0L, await app.EventsAsync(id));

        // Time passes with no new run: 8.5 h + 2 h = 10.5 h → breached: the same violation escalates, one event.
        app.Clock.Advance(TimeSpan.FromHours(2));
        r = await a.EvaluateAsync(id);
        Assert.Equal(("breached", ("breached", 10.0, (double?)10.5)), (r.Str("sla_status"), r.Term("freshness")));
        Assert.Equal([("freshness", "breached", (double?)10.5)], await app.OpenViolationsAsync(id));
        Assert.Equal(1L, await app.EventsAsync(id));

        // Evaluated again, unchanged breach: the actual moves on, no second event.
        app.Clock.Advance(TimeSpan.FromMinutes(30));
        r = await a.EvaluateAsync(id);
        Assert.Equal([("freshness", "breached", (double?)11.0)], await app.OpenViolationsAsync(id));
        Assert.Equal(1L, await app.EventsAsync(id));

        var payload = JsonDocument.Parse(await app.Database.ScalarAsync<string>($"SELECT payload::text FROM outbox_events WHERE payload->>'contract_id' = '{id}'")).RootElement;
        var violation = (await a.Editor.Client.GetAsync($"{ContractApiTests.Contracts(a.Space)}/{id}/violations")).Items().Single();
        Assert.Equal((id, "Fresh orders", "fresh-orders", a.SpaceId, a.Producer, violation.Id()),
            (payload.GetProperty("contract_id").GetGuid(), payload.Str("contract_name"), payload.Str("contract_slug"), payload.GetProperty("space_id").GetGuid(),
             payload.GetProperty("producer_product_id").GetGuid(), payload.GetProperty("violation_id").GetGuid()));
        Assert.Equal([a.Consumer], payload.GetProperty("consumer_product_ids").EnumerateArray().Select(x => x.GetGuid()));
        Assert.Equal(("freshness", 10.0, 10.5, "breached"), (payload.Str("term"), payload.GetProperty("expected").GetDouble(), payload.GetProperty("actual").GetDouble(), payload.Str("severity")));
        Assert.Equal(a.SpaceId, await app.Database.ScalarAsync<Guid>($"SELECT space_id FROM outbox_events WHERE payload->>'contract_id' = '{id}'"));

        // A fresh run: met again → the violation is resolved.
        await app.AddRunsAsync(a.SpaceId, fresh, ExecutionStatus.Pass, app.Clock.GetUtcNow(), metric: 3600);
        r = await a.EvaluateAsync(id);
        Assert.Equal(("meeting", ("meeting", 10.0, (double?)1.0), 0), (r.Str("sla_status"), r.Term("freshness"), r.GetProperty("open_violations").GetInt32()));
        Assert.Empty(await app.OpenViolationsAsync(id));
        var resolved = (await a.Editor.Client.GetAsync($"{ContractApiTests.Contracts(a.Space)}/{id}/violations?state=resolved")).Items().Single();
        Assert.Equal((violation.Id(), "breached", 11.0), (resolved.Id(), resolved.Str("severity"), resolved.GetProperty("actual").GetDouble()));
        Assert.Equal(app.Clock.GetUtcNow(), resolved.GetProperty("resolved_at").GetDateTimeOffset());
        Assert.Empty((await a.Editor.Client.GetAsync($"{ContractApiTests.Contracts(a.Space)}/{id}/violations?state=open")).Items());

        // Breaching again is a new violation and a new event.
        app.Clock.Advance(TimeSpan.FromHours(12));
        r = await a.EvaluateAsync(id);
        Assert.Equal(("breached", 13.0), (r.Term("freshness").Status, r.Term("freshness").Actual!.Value));
        Assert.Equal(2L, await app.EventsAsync(id));
        Assert.Equal(2, (await a.Editor.Client.GetAsync($"{ContractApiTests.Contracts(a.Space)}/{id}/violations")).Items().Count);
        // Evaluation is not an edit: no audit entries beyond the creation.
        Assert.Equal(1L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM audit_log WHERE resource_id = '{id}'"));
    }

    [Fact]
    public async Task Quality_score_meets_is_at_risk_within_five_points_and_breaches_below_the_minimum()
    {
        var a = await app.ArrangeAsync();
        var id = await a.ActiveContractAsync("Quality", new { min_quality_score = 80 });

        Assert.Equal(("unknown", (double?)null), (await a.EvaluateAsync(id)).Term("quality_score") is var t0 ? (t0.Status, t0.Actual) : default);
        await app.SetScoreAsync(a.SpaceId, a.Producer, null);
        Assert.Equal("unknown", (await a.EvaluateAsync(id)).Str("sla_status"));

        await app.SetScoreAsync(a.SpaceId, a.Producer, 85.5);
        Assert.Equal(("meeting", 80.0, (double?)85.5), (await a.EvaluateAsync(id)).Term("quality_score"));
        await app.SetScoreAsync(a.SpaceId, a.Producer, 85);
        Assert.Equal(("at_risk", 80.0, (double?)85.0), (await a.EvaluateAsync(id)).Term("quality_score"));
        await app.SetScoreAsync(a.SpaceId, a.Producer, 80);
        Assert.Equal(("at_risk", 80.0, (double?)80.0), (await a.EvaluateAsync(id)).Term("quality_score"));
        Assert.Equal([("quality_score", "at_risk", (double?)80.0)], await app.OpenViolationsAsync(id));
        Assert.Equal(0L, await app.EventsAsync(id));

        await app.SetScoreAsync(a.SpaceId, a.Producer, 79.5);
        var r = await a.EvaluateAsync(id);
        Assert.Equal(("breached", ("breached", 80.0, (double?)79.5)), (r.Str("sla_status"), r.Term("quality_score")));
        Assert.Equal([("quality_score", "breached", (double?)79.5)], await app.OpenViolationsAsync(id));
        Assert.Equal(1L, await app.EventsAsync(id));

        // Unknown (no score any more) leaves the open violation as it was.
        await app.SetScoreAsync(a.SpaceId, a.Producer, null);
        r = await a.EvaluateAsync(id);
        Assert.Equal(("unknown", 1), (r.Str("sla_status"), r.GetProperty("open_violations").GetInt32()));
        Assert.Equal([("quality_score", "breached", (double?)79.5)], await app.OpenViolationsAsync(id));

        await app.SetScoreAsync(a.SpaceId, a.Producer, 92);
        Assert.Equal("meeting", (await a.EvaluateAsync(id)).Str("sla_status"));
        Assert.Empty(await app.OpenViolationsAsync(id));
        Assert.Equal(1L, await app.EventsAsync(id));
        var list = await a.Editor.Client.GetAsync($"{ContractApiTests.Contracts(a.Space)}?sla_status=meeting&status=active");
        Assert.Equal([id], list.Items().Select(x => x.Id()));
    }

    [Fact]
    public async Task Availability_counts_the_producers_completed_unignored_runs_in_the_window()
    {
        var a = await app.ArrangeAsync();
        var id = await a.ActiveContractAsync("Available", new { availability_percent = 95, window_days = 7 });
        Assert.Equal(("unknown", 95.0, (double?)null), (await a.EvaluateAsync(id)).Term("availability"));

        var now = app.Clock.GetUtcNow();
        var check = await app.AddCheckAsync(a.SpaceId, a.Producer, CheckTypes.RowCount);
        var fresh = await app.AddCheckAsync(a.SpaceId, a.Producer);
        await app.AddRunsAsync(a.SpaceId, check, ExecutionStatus.Pass, now.AddDays(-6), count: 15);
        await app.AddRunsAsync(a.SpaceId, fresh, ExecutionStatus.Pass, now.AddHours(-1), metric: 60, count: 4);
        await app.AddRunsAsync(a.SpaceId, check, ExecutionStatus.Warning, now.AddMinutes(-5));
        // Not counted: outside the window, ignored, not completed, an archived check's, another product's.
        await app.AddRunsAsync(a.SpaceId, check, ExecutionStatus.Fail, now.AddDays(-7), count: 5);
        await app.AddRunsAsync(a.SpaceId, check, ExecutionStatus.Fail, now.AddHours(-2), ignored: true, count: 5);
        await app.AddRunsAsync(a.SpaceId, check, ExecutionStatus.Queued, null);
        await app.AddRunsAsync(a.SpaceId, await app.AddCheckAsync(a.SpaceId, a.Producer, CheckTypes.RowCount, archived: true), ExecutionStatus.Fail, now.AddHours(-1), count: 5);
        await app.AddRunsAsync(a.SpaceId, await app.AddCheckAsync(a.SpaceId, a.Consumer, CheckTypes.RowCount), ExecutionStatus.Fail, now.AddHours(-1), count: 5);

        // 20 of 20: meeting.
        Assert.Equal(("meeting", 95.0, (double?)100.0), (await a.EvaluateAsync(id)).Term("availability"));

        // 20 of 21 = 95.238 %: within 1 point above 95 → at risk.
        await app.AddRunsAsync(a.SpaceId, check, ExecutionStatus.Fail, now.AddHours(-3));
        var r = await a.EvaluateAsync(id);
        Assert.Equal(("at_risk", 95.0, (double?)(100.0 * 20 / 21)), r.Term("availability"));
        Assert.Equal("20 of 21 check runs in the last 7 days passed or warned (95.24%); the term is 95%.", r.GetProperty("sla_details")[0].Str("message"));

        // An error counts against too: 20 of 22 = 90.909 % → breached, one event.
        await app.AddRunsAsync(a.SpaceId, check, ExecutionStatus.Error, now.AddHours(-3));
        Assert.Equal(("breached", 95.0, (double?)(100.0 * 20 / 22)), (await a.EvaluateAsync(id)).Term("availability"));
        Assert.Equal(1L, await app.EventsAsync(id));

        // A day later the 15 passes of six days ago have left the window: 5 of 7.
        app.Clock.Advance(TimeSpan.FromDays(1).Add(TimeSpan.FromMinutes(1)));
        Assert.Equal(("breached", 95.0, (double?)(100.0 * 5 / 7)), (await a.EvaluateAsync(id)).Term("availability"));
        Assert.Equal(1L, await app.EventsAsync(id));
    }

    [Fact]
    public async Task Overall_is_the_worst_term_each_term_has_its_own_violation_and_event_and_a_removed_term_closes_its_own()
    {
        var a = await app.ArrangeAsync();
        var id = await a.ActiveContractAsync("Mixed", new { freshness_hours = 24, min_quality_score = 90, availability_percent = 50 });
        await app.SetScoreAsync(a.SpaceId, a.Producer, 70);
        var check = await app.AddCheckAsync(a.SpaceId, a.Producer, CheckTypes.RowCount);
        await app.AddRunsAsync(a.SpaceId, check, ExecutionStatus.Pass, app.Clock.GetUtcNow().AddHours(-1), count: 3);
        await app.AddRunsAsync(a.SpaceId, check, ExecutionStatus.Fail, app.Clock.GetUtcNow().AddHours(-1), count: 3);

        var r = await a.EvaluateAsync(id);
        Assert.Equal("breached", r.Str("sla_status"));
        Assert.Equal(["freshness", "quality_score", "availability"], r.GetProperty("sla_details").EnumerateArray().Select(t => t.Str("term")));
        Assert.Equal(("unknown", "breached", "at_risk"), (r.Term("freshness").Status, r.Term("quality_score").Status, r.Term("availability").Status));
        Assert.Equal([("availability", "at_risk", (double?)50.0), ("quality_score", "breached", (double?)70.0)], await app.OpenViolationsAsync(id));
        Assert.Equal(1L, await app.EventsAsync(id));

        var patched = await a.Editor.Client.PatchAsync($"{ContractApiTests.Contracts(a.Space)}/{id}", new { min_quality_score = (double?)null });
        Assert.Equal(200, patched.Status);
        r = await a.EvaluateAsync(id);
        Assert.Equal("at_risk", r.Str("sla_status"));
        Assert.Equal([("availability", "at_risk", (double?)50.0)], await app.OpenViolationsAsync(id));

        // Deprecating ends the contract's force: its open violations close, and it is no longer evaluated.
        var deprecated = await a.Editor.Client.PatchAsync($"{ContractApiTests.Contracts(a.Space)}/{id}", new { status = "deprecated" });
        Assert.Equal(("deprecated", 0), (deprecated.Json.Str("status"), deprecated.Json.GetProperty("open_violations").GetInt32()));
        Assert.Empty(await app.OpenViolationsAsync(id));
        Assert.Equal("contract_not_active", (await a.Editor.Client.PostAsync($"{ContractApiTests.Contracts(a.Space)}/{id}/evaluate", new { })).Code());
    }

    [Fact]
    public async Task Before_effective_from_the_sla_is_reported_but_nothing_is_violated()
    {
        var a = await app.ArrangeAsync();
        var from = app.Clock.GetUtcNow().AddDays(1);
        var id = await a.ActiveContractAsync("Later", new { min_quality_score = 80, effective_from = from });
        await app.SetScoreAsync(a.SpaceId, a.Producer, 10);
        Assert.Equal(("breached", 0), (await a.EvaluateAsync(id)) is var r ? (r.Str("sla_status"), r.GetProperty("open_violations").GetInt32()) : default);
        Assert.Equal(0L, await app.EventsAsync(id));

        app.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(1, (await a.EvaluateAsync(id)).GetProperty("open_violations").GetInt32());
        Assert.Equal(1L, await app.EventsAsync(id));
    }
}
