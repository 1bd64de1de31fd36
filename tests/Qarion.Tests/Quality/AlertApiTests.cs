using System.Text.Json;
using Qarion.Core.Quality;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;
using Qarion.Tests.Issues;

namespace Qarion.Tests.Quality;

/// <summary>The alert management API over HTTP: listing, details, annotations, acknowledgement, severity, resolution and issues from alerts.</summary>
public sealed class AlertApiTests(AppFixture app) : IClassFixture<AppFixture>
{
    private sealed record Team(TestUser Admin, TestUser Editor, TestUser Viewer, string Space, JsonElement Orders, JsonElement Billing);

    private async Task<Team> TeamAsync()
    {
        var admin = await app.CreateUserAsync("Admin");
        var editor = await app.CreateUserAsync("Editor");
        var viewer = await app.CreateUserAsync("Viewer");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"), (editor, "editor"), (viewer, "viewer"));
        var orders = await editor.Client.CreateProductAsync(space, "orders", new { name = "Orders" });
        var billing = await editor.Client.CreateProductAsync(space, "billing", new { name = "Billing" });
        return new Team(admin, editor, viewer, space, orders, billing);
    }

    private static string Url(string space) => IssueTestSupport.AlertsUrl(space);

    private void Tick(int minutes = 1) => app.Clock.Advance(TimeSpan.FromMinutes(minutes));

    private static (string Loc, string Type) Error(ApiResponse r)
    {
        Assert.True(r.Status == 422, r.ToString());
        Assert.Equal("validation_failed", r.Code());
        return (r.Loc(), r.ErrorType());
    }

    [Fact]
    public async Task Alerts_are_listed_newest_first_with_exact_filters_and_read_with_their_context()
    {
        var t = await TeamAsync();
        var start = app.Clock.GetUtcNow();
        var a1 = await app.SeedAlertAsync(t.Space, t.Orders.Id(), "orders-nulls", CheckSeverity.High, raisedAt: start);
        var a2 = await app.SeedAlertAsync(t.Space, t.Billing.Id(), "billing-fresh", CheckSeverity.Critical, AlertStatus.Acknowledged, start.AddMinutes(1), "Billing is fresh", CheckTypes.Freshness);
        var a3 = await app.SeedAlertAsync(t.Space, t.Orders.Id(), "orders-rows", CheckSeverity.Low, AlertStatus.Resolved, start.AddMinutes(2), "Orders row count", CheckTypes.RowCount);
        var a4 = await app.SeedAlertAsync(t.Space, t.Billing.Id(), "billing-unique", CheckSeverity.High, raisedAt: start.AddMinutes(3), checkName: "Invoice ids unique", checkType: CheckTypes.Uniqueness);
        var elsewhere = await app.CreateSpaceAsync(null, (t.Editor, "editor"));
        var foreignProduct = await t.Editor.Client.CreateProductAsync(elsewhere, "foreign");
        var foreign = await app.SeedAlertAsync(elsewhere, foreignProduct.Id(), "foreign-check");

        async Task<List<Guid>> Ids(string query) => (await t.Viewer.Client.GetAsync($"{Url(t.Space)}?{query}")).Items().Select(a => a.Id()).ToList();

        Assert.Equal([a4.Id, a3.Id, a2.Id, a1.Id], await Ids(""));
        Assert.Equal([a4.Id, a1.Id], await Ids("status=active"));
        Assert.Equal([a2.Id], await Ids("status=acknowledged"));
        Assert.Equal([a3.Id], await Ids("status=resolved"));
        Assert.Equal([a4.Id, a2.Id, a1.Id], await Ids("status=open"));
        Assert.Equal([a4.Id, a1.Id], await Ids("severity=high"));
        Assert.Equal([a2.Id], await Ids($"check_id={a2.CheckId}"));
        Assert.Equal([a3.Id, a1.Id], await Ids($"product_id={t.Orders.Id()}"));
        Assert.Equal([a3.Id, a2.Id], await Ids($"from={Iso(start.AddMinutes(1))}&to={Iso(start.AddMinutes(3))}"));
        Assert.Equal([a4.Id], await Ids($"status=open&product_id={t.Billing.Id()}&severity=high"));
        Assert.Empty(await Ids($"check_id={foreign.CheckId}"));
        var page = await t.Viewer.Client.GetAsync($"{Url(t.Space)}?size=3&page=2");
        Assert.Equal([a1.Id], page.Items().Select(a => a.Id()));
        Assert.Equal(4, page.Json.GetProperty("total").GetInt32());

        var summary = (await t.Viewer.Client.GetAsync($"{Url(t.Space)}?check_id={a2.CheckId}")).Items()[0];
        Assert.Equal(("acknowledged", "critical", "Billing is fresh failed", 2), (summary.Str("status"), summary.Str("severity"), summary.Str("title"), summary.GetProperty("occurrences").GetInt32()));
        Assert.Equal(("billing-fresh", "freshness"), (summary.GetProperty("check").Str("slug"), summary.GetProperty("check").Str("check_type")));
        Assert.Equal(("billing", "Billing"), (summary.GetProperty("product").Str("slug"), summary.GetProperty("product").Str("name")));

        var got = await t.Viewer.Client.GetAsync($"{Url(t.Space)}/{a1.Id}");
        Assert.True(got.Status == 200, got.ToString());
        var alert = got.Json;
        Assert.Equal($"\"{alert.GetProperty("version").GetUInt32()}\"", got.Header("ETag"));
        Assert.Equal((a1.CheckId, "orders-nulls", "Emails are present", "null_check"),
            (alert.GetProperty("check").Id(), alert.GetProperty("check").Str("slug"), alert.GetProperty("check").Str("name"), alert.GetProperty("check").Str("check_type")));
        Assert.Equal((t.Orders.Id(), "orders", "Orders"), (alert.GetProperty("product").Id(), alert.GetProperty("product").Str("slug"), alert.GetProperty("product").Str("name")));
        Assert.Equal((a1.RaisedBy, a1.LastExecution), (alert.GetProperty("raised_by_execution_id").GetGuid(), alert.GetProperty("last_execution_id").GetGuid()));
        Assert.Equal((2, "fail", "active", "high"), (alert.GetProperty("occurrences").GetInt32(), alert.Str("raised_status"), alert.Str("status"), alert.Str("severity")));
        Assert.Equal(start, alert.GetProperty("raised_at").GetDateTimeOffset());
        Assert.Equal(start.AddHours(1), alert.GetProperty("last_seen_at").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, alert.GetProperty("issue_id").ValueKind);
        Assert.Empty(alert.GetProperty("annotations").EnumerateArray());

        // Another space's alert, unknown and malformed ids are 404; bad filters are 422.
        Assert.Equal(404, (await t.Editor.Client.GetAsync($"{Url(t.Space)}/{foreign.Id}")).Status);
        Assert.Equal(404, (await t.Viewer.Client.GetAsync($"{Url(t.Space)}/{Guid.NewGuid()}")).Status);
        Assert.Equal(404, (await t.Viewer.Client.GetAsync($"{Url(t.Space)}/latest")).Status);
        Assert.Equal(("query.status", "enum"), Error(await t.Viewer.Client.GetAsync($"{Url(t.Space)}?status=closed")));
        Assert.Equal(("query.severity", "enum"), Error(await t.Viewer.Client.GetAsync($"{Url(t.Space)}?severity=urgent")));
        Assert.Equal(("query.check_id", "uuid_parsing"), Error(await t.Viewer.Client.GetAsync($"{Url(t.Space)}?check_id=orders-nulls")));
        Assert.Equal(("query.from", "datetime_parsing"), Error(await t.Viewer.Client.GetAsync($"{Url(t.Space)}?from=2026-03-01")));
        Assert.Equal(("query.to", "value_error"), Error(await t.Viewer.Client.GetAsync($"{Url(t.Space)}?from={Iso(start)}&to={Iso(start)}")));
    }

    private static string Name<T>(T value) where T : struct, Enum => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    private static string Iso(DateTimeOffset value) => Uri.EscapeDataString(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task Editors_annotate_acknowledge_and_regrade_an_alert_and_viewers_may_not()
    {
        var t = await TeamAsync();
        var a = await app.SeedAlertAsync(t.Space, t.Orders.Id(), "orders-nulls", CheckSeverity.Medium);
        var url = $"{Url(t.Space)}/{a.Id}";

        var note = await t.Editor.Client.PostAsync($"{url}/annotations", new { body = "Upstream load failed" });
        Assert.True(note.Status == 201, note.ToString());
        Assert.Equal(("Upstream load failed", t.Editor.Id, a.Id), (note.Json.Str("body"), note.Json.GetProperty("author").Id(), note.Json.GetProperty("alert_id").GetGuid()));
        Tick();
        Assert.Equal(201, (await t.Admin.Client.PostAsync($"{url}/annotations", new { body = "Rerun scheduled" })).Status);
        Assert.Equal(403, (await t.Viewer.Client.PostAsync($"{url}/annotations", new { body = "Viewer" })).Status);
        Assert.Equal(("body.body", "string_too_short"), Error(await t.Editor.Client.PostAsync($"{url}/annotations", new { body = "" })));
        Assert.Equal(("body.body", "string_too_long"), Error(await t.Editor.Client.PostAsync($"{url}/annotations", new { body = new string('b', 4001) })));
        Assert.Equal(404, (await t.Editor.Client.PostAsync($"{Url(t.Space)}/{Guid.NewGuid()}/annotations", new { body = "x" })).Status);
        var annotations = (await t.Viewer.Client.GetAsync(url)).Json.GetProperty("annotations").EnumerateArray().ToList();
        Assert.Equal([("Upstream load failed", t.Editor.Id), ("Rerun scheduled", t.Admin.Id)], annotations.Select(n => (n.Str("body"), n.GetProperty("author").Id())));

        // Acknowledge: once; a second acknowledgement keeps the first.
        Assert.Equal(403, (await t.Viewer.Client.PostAsync($"{url}/acknowledge", new { })).Status);
        Tick();
        var acknowledgedAt = app.Clock.GetUtcNow();
        var ack = await t.Editor.Client.SendAsync("POST", $"{url}/acknowledge", null, null, null);
        Assert.True(ack.Status == 200, ack.ToString());
        Assert.Equal(("acknowledged", t.Editor.Id), (ack.Json.Str("status"), ack.Json.GetProperty("acknowledged_by_id").GetGuid()));
        Assert.Equal(acknowledgedAt, ack.Json.GetProperty("acknowledged_at").GetDateTimeOffset());
        Tick();
        var again = await t.Admin.Client.PostAsync($"{url}/acknowledge", new { });
        Assert.Equal((t.Editor.Id, acknowledgedAt), (again.Json.GetProperty("acknowledged_by_id").GetGuid(), again.Json.GetProperty("acknowledged_at").GetDateTimeOffset()));
        Assert.Equal(ack.Header("ETag"), again.Header("ETag"));

        // Severity under If-Match.
        Assert.Equal(403, (await t.Viewer.Client.PatchAsync(url, new { severity = "low" })).Status);
        var stale = await t.Editor.Client.PatchAsync(url, new { severity = "critical" }, CatalogTestSupport.IfMatch("\"1\""));
        Assert.Equal((409, "version_conflict"), (stale.Status, stale.Code()));
        Assert.Equal(("body.severity", "type_error"), Error(await t.Editor.Client.PatchAsync(url, new { severity = "urgent" })));
        Assert.Equal(("body.severity", "missing"), Error(await t.Editor.Client.PatchAsync(url, new { })));
        Assert.Equal(("body.status", "extra_forbidden"), Error(await t.Editor.Client.PatchAsync(url, new { severity = "low", status = "resolved" })));
        var regraded = await t.Editor.Client.PatchAsync(url, new { severity = "critical" }, CatalogTestSupport.IfMatch(again.Header("ETag")));
        Assert.True(regraded.Status == 200, regraded.ToString());
        Assert.Equal(("critical", "acknowledged"), (regraded.Json.Str("severity"), regraded.Json.Str("status")));
        Assert.NotEqual(again.Header("ETag"), regraded.Header("ETag"));
        Assert.Equal(("critical", "acknowledged"), await app.WithDbAsync(async db =>
        {
            var row = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(db.QualityAlerts.Where(x => x.Id == a.Id));
            return (Name(row.Severity), Name(row.Status));
        }));
        Assert.Empty(await app.OutboxAsync(t.Space));
    }

    [Fact]
    public async Task Resolving_by_hand_records_who_and_why_emits_the_event_once_and_closes_the_alert()
    {
        var t = await TeamAsync();
        var a = await app.SeedAlertAsync(t.Space, t.Orders.Id(), "orders-nulls", CheckSeverity.High);
        var b = await app.SeedAlertAsync(t.Space, t.Billing.Id(), "billing-nulls", CheckSeverity.Low);
        var url = $"{Url(t.Space)}/{a.Id}";
        var spaceId = await app.SpaceIdAsync(t.Space);

        Assert.Equal(403, (await t.Viewer.Client.PostAsync($"{url}/resolve", new { note = "x" })).Status);
        Assert.Equal(("body.note", "string_too_long"), Error(await t.Editor.Client.PostAsync($"{url}/resolve", new { note = new string('n', 4001) })));
        Assert.Equal(("body.reason", "extra_forbidden"), Error(await t.Editor.Client.PostAsync($"{url}/resolve", new { reason = "x" })));
        Assert.Equal(409, (await t.Editor.Client.PostAsync($"{url}/resolve", new { note = "x" }, CatalogTestSupport.IfMatch("\"1\""))).Status);
        Assert.Empty(await app.OutboxAsync(t.Space));

        Tick();
        var resolved = await t.Editor.Client.PostAsync($"{url}/resolve", new { note = "Backfilled the emails" });
        Assert.True(resolved.Status == 200, resolved.ToString());
        var alert = resolved.Json;
        Assert.Equal(("resolved", "Backfilled the emails", false, t.Editor.Id),
            (alert.Str("status"), alert.Str("resolution_note"), alert.GetProperty("auto_resolved").GetBoolean(), alert.GetProperty("resolved_by_id").GetGuid()));
        Assert.Equal(app.Clock.GetUtcNow(), alert.GetProperty("resolved_at").GetDateTimeOffset());

        var events = await app.OutboxAsync(t.Space);
        var (type, payload) = Assert.Single(events);
        Assert.Equal("quality.alert.resolved", type);
        Assert.Equal((a.Id, spaceId, a.CheckId, t.Orders.Id()), (payload.GetProperty("alert_id").GetGuid(), payload.GetProperty("space_id").GetGuid(), payload.GetProperty("check_id").GetGuid(), payload.GetProperty("product_id").GetGuid()));
        Assert.Equal(("high", false, t.Editor.Id, "Backfilled the emails"), (payload.Str("severity"), payload.GetProperty("auto_resolved").GetBoolean(), payload.GetProperty("resolved_by_id").GetGuid(), payload.Str("note")));

        // Closed: resolve, acknowledge and re-grade are 409 and write nothing; notes may still be added.
        foreach (var (method, path, body) in new (string, string, object?)[] { ("POST", $"{url}/resolve", new { }), ("POST", $"{url}/acknowledge", null), ("PATCH", url, new { severity = "low" }) })
        {
            var refused = await t.Editor.Client.SendJsonAsync(method, path, body);
            Assert.True(refused.Status == 409, $"{method} {path}: {refused}");
            Assert.Equal("alert_resolved", refused.Code());
        }
        Assert.Single(await app.OutboxAsync(t.Space));
        Assert.Equal(201, (await t.Editor.Client.PostAsync($"{url}/annotations", new { body = "Post-mortem: source job fixed" })).Status);
        var after = (await t.Viewer.Client.GetAsync(url)).Json;
        Assert.Equal(("high", "Backfilled the emails"), (after.Str("severity"), after.Str("resolution_note")));

        // No body at all is a resolution without a note.
        var bare = await t.Admin.Client.SendAsync("POST", $"{Url(t.Space)}/{b.Id}/resolve", null, null, null);
        Assert.True(bare.Status == 200, bare.ToString());
        Assert.Equal((JsonValueKind.Null, t.Admin.Id), (bare.Json.GetProperty("resolution_note").ValueKind, bare.Json.GetProperty("resolved_by_id").GetGuid()));
        Assert.Equal(2, (await app.OutboxAsync(t.Space)).Count);
        Assert.Equal(["resolved", "resolved"], (await t.Viewer.Client.GetAsync(Url(t.Space))).Items().Select(x => x.Str("status")));
    }

    [Fact]
    public async Task An_issue_from_an_alert_carries_its_context_links_both_ways_and_a_second_one_is_409()
    {
        var t = await TeamAsync();
        var raised = app.Clock.GetUtcNow();
        var a = await app.SeedAlertAsync(t.Space, t.Orders.Id(), "orders-nulls", CheckSeverity.High, AlertStatus.Acknowledged, raised);
        var url = $"{Url(t.Space)}/{a.Id}/issue";

        Assert.Equal(403, (await t.Viewer.Client.PostAsync(url, new { })).Status);
        var stranger = await app.CreateUserAsync("Stranger");
        Assert.Equal(("body.assignee_id", "not_a_member"), Error(await t.Editor.Client.PostAsync(url, new { assignee_id = stranger.Id })));
        Assert.Equal(("body.priority", "type_error"), Error(await t.Editor.Client.PostAsync(url, new { priority = "urgent" })));
        Assert.Equal(("body.title", "string_too_short"), Error(await t.Editor.Client.PostAsync(url, new { title = " " })));
        Assert.Equal(JsonValueKind.Null, (await t.Viewer.Client.GetAsync($"{Url(t.Space)}/{a.Id}")).Json.GetProperty("issue_id").ValueKind);
        Assert.Empty(await app.OutboxAsync(t.Space));

        var created = await t.Editor.Client.SendAsync("POST", url, null, null, null);
        Assert.True(created.Status == 201, created.ToString());
        var issue = created.Json;
        Assert.Equal($"/api/v1/spaces/{t.Space}/issues/{issue.Id()}", created.Header("Location"));
        Assert.Equal(("Emails are present failed", "high", "open", 1), (issue.Str("title"), issue.Str("priority"), issue.Str("status"), issue.Number()));
        Assert.Equal((a.Id, a.CheckId, t.Editor.Id), (issue.GetProperty("alert_id").GetGuid(), issue.GetProperty("check_id").GetGuid(), issue.GetProperty("reporter").Id()));
        Assert.Equal([(t.Orders.Id(), "orders", "Orders")], issue.GetProperty("products").EnumerateArray().Select(p => (p.Id(), p.Str("slug"), p.Str("name"))));
        var description = issue.Str("description");
        foreach (var expected in new[]
                 {
                     $"Created from quality alert \"Emails are present failed\" ({a.Id}).",
                     "- Check: Emails are present (orders-nulls), type null_check",
                     "- Product: Orders (orders)",
                     $"- Alert: severity high, status acknowledged, raised on fail at {raised.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}, 2 occurrences, last seen at {raised.AddHours(1).UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}",
                     "- Alert message: Null emails found",
                     $"- Last execution: {a.LastExecution}, status fail, metric 12 of 1000 rows, completed at {raised.AddHours(1).UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}",
                     "- Execution message: 12 of 1000 rows have a null email",
                 })
            Assert.Contains(expected, description, StringComparison.Ordinal);

        var alert = (await t.Viewer.Client.GetAsync($"{Url(t.Space)}/{a.Id}")).Json;
        Assert.Equal(issue.Id(), alert.GetProperty("issue_id").GetGuid());
        Assert.Equal("acknowledged", alert.Str("status")); // the alert itself is not otherwise changed
        Assert.Equal([issue.Id()], (await t.Viewer.Client.GetAsync($"{IssueTestSupport.IssuesUrl(t.Space)}?product_id={t.Orders.Id()}")).Items().Select(i => i.Id()));
        Assert.Equal([("created", null, "Emails are present failed")], await t.Viewer.Client.HistoryAsync(t.Space, issue.Id()));
        var (type, payload) = Assert.Single(await app.OutboxAsync(t.Space));
        Assert.Equal(("issue.created", issue.Id(), a.Id), (type, payload.GetProperty("issue_id").GetGuid(), payload.GetProperty("alert_id").GetGuid()));

        // A second call names the existing issue and creates nothing.
        var second = await t.Admin.Client.PostAsync(url, new { title = "Another" });
        Assert.Equal((409, "alert_has_issue"), (second.Status, second.Code()));
        Assert.Contains(issue.Id().ToString(), second.Json.Str("detail"), StringComparison.Ordinal);
        Assert.Contains("#1", second.Json.Str("detail"), StringComparison.Ordinal);
        Assert.Single((await t.Viewer.Client.GetAsync(IssueTestSupport.IssuesUrl(t.Space))).Items());
        Assert.Single(await app.OutboxAsync(t.Space));

        // Deleting the issue frees the alert: a new issue may be opened, with the caller's title, priority and assignee.
        Assert.Equal(204, (await t.Editor.Client.DeleteAsync($"{IssueTestSupport.IssuesUrl(t.Space)}/{issue.Id()}")).Status);
        Assert.Equal(JsonValueKind.Null, (await t.Viewer.Client.GetAsync($"{Url(t.Space)}/{a.Id}")).Json.GetProperty("issue_id").ValueKind);
        var custom = await t.Editor.Client.PostAsync(url, new { title = "Fix the email backfill", priority = "critical", assignee_id = t.Admin.Id });
        Assert.True(custom.Status == 201, custom.ToString());
        Assert.Equal(("Fix the email backfill", "critical", t.Admin.Id), (custom.Json.Str("title"), custom.Json.Str("priority"), custom.Json.GetProperty("assignee").Id()));
        Assert.Equal(["issue.assigned", "issue.created", "issue.created"], (await app.OutboxAsync(t.Space)).Select(e => e.Type).Order(StringComparer.Ordinal));
        Assert.Equal(custom.Json.Id(), (await t.Viewer.Client.GetAsync($"{Url(t.Space)}/{a.Id}")).Json.GetProperty("issue_id").GetGuid());
    }

    [Fact]
    public async Task Priority_follows_severity_and_concurrent_calls_on_one_alert_make_one_issue()
    {
        var t = await TeamAsync();
        foreach (var (severity, priority) in new[] { (CheckSeverity.Low, "low"), (CheckSeverity.Medium, "medium"), (CheckSeverity.High, "high"), (CheckSeverity.Critical, "critical") })
        {
            var a = await app.SeedAlertAsync(t.Space, t.Orders.Id(), $"check-{priority}", severity, metric: null, message: null);
            var issue = await t.Editor.Client.PostAsync($"{Url(t.Space)}/{a.Id}/issue", new { });
            Assert.True(issue.Status == 201, issue.ToString());
            Assert.Equal(priority, issue.Json.Str("priority"));
            Assert.Contains($"- Last execution: {a.LastExecution}, status fail, completed at", issue.Json.Str("description"), StringComparison.Ordinal);
            Assert.DoesNotContain("Execution message", issue.Json.Str("description"), StringComparison.Ordinal);
        }

        var contested = await app.SeedAlertAsync(t.Space, t.Billing.Id(), "contested");
        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => t.Editor.Client.PostAsync($"{Url(t.Space)}/{contested.Id}/issue", new { })));
        Assert.Equal([201, 409, 409, 409, 409, 409], responses.Select(r => r.Status).Order());
        var winner = responses.Single(r => r.Status == 201).Json.Id();
        Assert.All(responses.Where(r => r.Status == 409), r => Assert.Contains(winner.ToString(), r.Json.Str("detail"), StringComparison.Ordinal));
        Assert.Equal([winner], (await t.Viewer.Client.GetAsync($"{IssueTestSupport.IssuesUrl(t.Space)}?product_id={t.Billing.Id()}")).Items().Select(i => i.Id()));
        Assert.Equal([1, 2, 3, 4, 5], (await t.Viewer.Client.GetAsync($"{IssueTestSupport.IssuesUrl(t.Space)}?sort=oldest")).Items().Select(i => i.Number()));
    }
}
