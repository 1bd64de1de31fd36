using System.Text.Json;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Issues;

/// <summary>Issues over the HTTP API: lifecycle, numbering, status rules, history, comments, links, outbox events and roles.</summary>
public sealed class IssueApiTests(AppFixture app) : IClassFixture<AppFixture>
{
    private sealed record Team(TestUser Admin, TestUser Editor, TestUser Editor2, TestUser Viewer, string Space);

    private async Task<Team> TeamAsync()
    {
        var admin = await app.CreateUserAsync("Admin");
        var editor = await app.CreateUserAsync("Editor");
        var editor2 = await app.CreateUserAsync("Editor2");
        var viewer = await app.CreateUserAsync("Viewer");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"), (editor, "editor"), (editor2, "editor"), (viewer, "viewer"));
        return new Team(admin, editor, editor2, viewer, space);
    }

    private static string Url(string space) => IssueTestSupport.IssuesUrl(space);

    private Task<long> CountAsync(string sql) => app.Database.ScalarAsync<long>(sql);

    private void Tick(int minutes = 1) => app.Clock.Advance(TimeSpan.FromMinutes(minutes));

    // ───────────── lifecycle ─────────────

    [Fact]
    public async Task An_issue_is_created_read_by_id_and_by_number_updated_under_If_Match_and_deleted_by_its_reporter()
    {
        var t = await TeamAsync();
        var orders = await t.Editor.Client.CreateProductAsync(t.Space, "orders", new { name = "Orders" });
        var customers = await t.Editor.Client.CreateProductAsync(t.Space, "customers", new { name = "Customers" });
        var now = app.Clock.GetUtcNow();

        var created = await t.Editor.Client.PostAsync(Url(t.Space), new
        {
            title = "  Null emails in customers  ", description = "Since Monday's load.", priority = "high",
            assignee_id = t.Editor2.Id, product_ids = new[] { orders.Id(), customers.Id(), orders.Id() },
        });
        Assert.True(created.Status == 201, created.ToString());
        var issue = created.Json;
        var id = issue.Id();
        Assert.Equal($"/api/v1/spaces/{t.Space}/issues/{id}", created.Header("Location"));
        Assert.Equal($"\"{issue.GetProperty("version").GetUInt32()}\"", created.Header("ETag"));
        Assert.Equal(1, issue.Number());
        Assert.Equal("Null emails in customers", issue.Str("title"));
        Assert.Equal("Since Monday's load.", issue.Str("description"));
        Assert.Equal(("open", "high"), (issue.Str("status"), issue.Str("priority")));
        Assert.Equal(t.Editor2.Id, issue.GetProperty("assignee").Id());
        Assert.Equal(t.Editor2.Email, issue.GetProperty("assignee").Str("email"));
        Assert.Equal(t.Editor.Id, issue.GetProperty("reporter").Id());
        Assert.Equal([("customers", "Customers", customers.Id()), ("orders", "Orders", orders.Id())],
            issue.GetProperty("products").EnumerateArray().Select(p => (p.Str("slug"), p.Str("name"), p.Id())));
        Assert.Equal(0, issue.GetProperty("comment_count").GetInt32());
        Assert.Equal(JsonValueKind.Null, issue.GetProperty("resolved_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, issue.GetProperty("alert_id").ValueKind);
        Assert.Equal(now, issue.GetProperty("created_at").GetDateTimeOffset());

        // By id, by number, and by #number (URL-encoded); nonsense keys are 404.
        foreach (var key in new[] { id.ToString(), "1", "%231" })
        {
            var got = await t.Viewer.Client.GetAsync($"{Url(t.Space)}/{key}");
            Assert.True(got.Status == 200, $"{key}: {got}");
            Assert.Equal(id, got.Json.Id());
            Assert.Equal(created.Header("ETag"), got.Header("ETag"));
        }
        foreach (var key in new[] { "2", "%232", "0", "-1", "one", Guid.NewGuid().ToString(), "99999999999" })
        {
            var missing = await t.Viewer.Client.GetAsync($"{Url(t.Space)}/{key}");
            Assert.True(missing.Status == 404, $"{key}: {missing}");
            Assert.Equal("not_found", missing.Code());
        }

        // A stale If-Match is 409 and changes nothing; the current one works and moves the ETag on.
        Tick();
        var stale = await t.Editor.Client.PatchAsync($"{Url(t.Space)}/1", new { title = "Stale" }, CatalogTestSupport.IfMatch("\"1\""));
        Assert.Equal(409, stale.Status);
        Assert.Equal("version_conflict", stale.Code());
        var badTag = await t.Editor.Client.PatchAsync($"{Url(t.Space)}/1", new { title = "Bad" }, CatalogTestSupport.IfMatch("yesterday"));
        Assert.Equal("etag_invalid", badTag.ErrorType());
        var patched = await t.Editor.Client.PatchAsync($"{Url(t.Space)}/{id}", new { title = "Null emails", description = (string?)null }, CatalogTestSupport.IfMatch(created.Header("ETag")));
        Assert.True(patched.Status == 200, patched.ToString());
        Assert.Equal("Null emails", patched.Json.Str("title"));
        Assert.Equal(JsonValueKind.Null, patched.Json.GetProperty("description").ValueKind);
        Assert.Equal("high", patched.Json.Str("priority")); // not sent, not changed
        Assert.Equal(t.Editor2.Id, patched.Json.GetProperty("assignee").Id());
        Assert.NotEqual(created.Header("ETag"), patched.Header("ETag"));
        Assert.Equal(app.Clock.GetUtcNow(), patched.Json.GetProperty("updated_at").GetDateTimeOffset());
        // The version in the body works like If-Match.
        var staleBody = await t.Editor.Client.PatchAsync($"{Url(t.Space)}/{id}", new { title = "Again", version = issue.GetProperty("version").GetUInt32() });
        Assert.Equal("version_conflict", staleBody.Code());
        Assert.Equal("Null emails", (await t.Viewer.Client.GetAsync($"{Url(t.Space)}/{id}")).Json.Str("title"));

        // A second issue gets the next number; deleting by the reporter removes it with its links, history and comments.
        var second = await t.Editor.Client.CreateIssueAsync(t.Space, "Second");
        Assert.Equal(2, second.Number());
        Assert.Equal(201, (await t.Editor.Client.PostAsync($"{Url(t.Space)}/{id}/comments", new { body = "Looking" })).Status);
        Assert.Equal(409, (await t.Editor.Client.DeleteAsync($"{Url(t.Space)}/{id}", CatalogTestSupport.IfMatch(created.Header("ETag")))).Status);
        Assert.Equal(204, (await t.Editor.Client.DeleteAsync($"{Url(t.Space)}/{id}", CatalogTestSupport.IfMatch(patched.Header("ETag")))).Status);
        Assert.Equal(404, (await t.Editor.Client.GetAsync($"{Url(t.Space)}/{id}")).Status);
        Assert.Equal(404, (await t.Editor.Client.DeleteAsync($"{Url(t.Space)}/{id}")).Status);
        foreach (var table in new[] { "issue_products", "issue_comments", "issue_events" })
            Assert.Equal(0L, await CountAsync($"SELECT count(*) FROM {table} WHERE issue_id = '{id}'"));
        Assert.Equal(2L, await CountAsync($"SELECT count(*) FROM data_products WHERE id IN ('{orders.Id()}', '{customers.Id()}')"));
        Assert.Equal(["Second"], (await t.Viewer.Client.GetAsync(Url(t.Space))).Items().Select(i => i.Str("title")));
    }

    [Fact]
    public async Task Ten_concurrent_creates_in_one_space_get_ten_distinct_consecutive_numbers()
    {
        var t = await TeamAsync();
        var other = await app.CreateSpaceAsync(null, (t.Editor, "editor"));
        var responses = await Task.WhenAll(Enumerable.Range(1, 10).Select(i =>
            (i % 2 == 0 ? t.Editor : t.Editor2).Client.PostAsync(Url(t.Space), new { title = $"Concurrent {i}" })));
        Assert.All(responses, r => Assert.True(r.Status == 201, r.ToString()));
        Assert.Equal(Enumerable.Range(1, 10), responses.Select(r => r.Json.Number()).Order());
        // Numbers are per space: another space starts at 1.
        Assert.Equal(1, (await t.Editor.Client.CreateIssueAsync(other, "Elsewhere")).Number());
        Assert.Equal(11, (await t.Editor.Client.CreateIssueAsync(t.Space, "After")).Number());
    }

    [Fact]
    public async Task Bad_input_is_422_naming_the_field_and_writes_nothing()
    {
        var t = await TeamAsync();
        var stranger = await app.CreateUserAsync("Stranger");
        var elsewhere = await app.CreateSpaceAsync(null, (t.Editor, "editor"));
        var foreign = await t.Editor.Client.CreateProductAsync(elsewhere, "foreign");
        var mine = await t.Editor.Client.CreateProductAsync(t.Space, "mine");
        var url = Url(t.Space);

        Assert.Equal(("body.title", "missing"), Error(await t.Editor.Client.PostAsync(url, new { description = "x" })));
        Assert.Equal(("body.title", "string_too_short"), Error(await t.Editor.Client.PostAsync(url, new { title = "   " })));
        Assert.Equal(("body.title", "string_too_long"), Error(await t.Editor.Client.PostAsync(url, new { title = new string('t', 501) })));
        Assert.Equal(("body.description", "string_too_long"), Error(await t.Editor.Client.PostAsync(url, new { title = "x", description = new string('d', 20001) })));
        Assert.Equal(("body.priority", "type_error"), Error(await t.Editor.Client.PostAsync(url, new { title = "x", priority = "urgent" })));
        Assert.Equal(("body.assignee_id", "not_a_member"), Error(await t.Editor.Client.PostAsync(url, new { title = "x", assignee_id = stranger.Id })));
        Assert.Equal(("body.assignee_id", "type_error"), Error(await t.Editor.Client.PostAsync(url, new { title = "x", assignee_id = "bob" })));
        Assert.Equal(("body.product_ids.1", "unknown_product"), Error(await t.Editor.Client.PostAsync(url, new { title = "x", product_ids = new[] { mine.Id(), foreign.Id() } })));
        Assert.Equal(("body.product_ids", "type_error"), Error(await t.Editor.Client.PostAsync(url, new { title = "x", product_ids = new[] { "orders" } })));
        Assert.Equal(("body.status", "extra_forbidden"), Error(await t.Editor.Client.PostAsync(url, new { title = "x", status = "resolved" })));
        Assert.Equal(("body.title", "string_invalid_character"), Error(await t.Editor.Client.SendRawAsync("POST", url, "{\"title\":\"a\\u0000b\"}")));
        Assert.Equal(("body", "json_invalid"), Error(await t.Editor.Client.SendRawAsync("POST", url, "{\"title\": ")));
        Assert.Equal(415, (await t.Editor.Client.SendRawAsync("POST", url, "title=x", "application/x-www-form-urlencoded")).Status);

        // Query parameters.
        Assert.Equal(("query.status", "enum"), Error(await t.Viewer.Client.GetAsync($"{url}?status=closed")));
        Assert.Equal(("query.priority", "enum"), Error(await t.Viewer.Client.GetAsync($"{url}?priority=urgent")));
        Assert.Equal(("query.sort", "enum"), Error(await t.Viewer.Client.GetAsync($"{url}?sort=title")));
        Assert.Equal(("query.assignee_id", "uuid_parsing"), Error(await t.Viewer.Client.GetAsync($"{url}?assignee_id=me")));
        Assert.Equal(("query.from", "datetime_parsing"), Error(await t.Viewer.Client.GetAsync($"{url}?from=yesterday")));
        Assert.Equal(("query.to", "value_error"), Error(await t.Viewer.Client.GetAsync($"{url}?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z")));
        Assert.Equal(("query.size", "less_than_equal"), Error(await t.Viewer.Client.GetAsync($"{url}?size=101")));

        var spaceId = await app.SpaceIdAsync(t.Space);
        Assert.Equal(0L, await CountAsync($"SELECT count(*) FROM issues WHERE space_id = '{spaceId}'"));
        Assert.Equal(0L, await CountAsync($"SELECT count(*) FROM outbox_events WHERE space_id = '{spaceId}' AND event_type NOT LIKE 'product.%'"));

        // PATCH: the same rules, plus a status that is not one.
        var issue = await t.Editor.Client.CreateIssueAsync(t.Space, "Valid");
        var before = await t.Viewer.Client.GetAsync($"{url}/{issue.Id()}");
        Assert.Equal(("body.status", "type_error"), Error(await t.Editor.Client.PatchAsync($"{url}/{issue.Id()}", new { status = "closed" })));
        Assert.Equal(("body.status", "null_forbidden"), Error(await t.Editor.Client.PatchAsync($"{url}/{issue.Id()}", new { status = (string?)null })));
        Assert.Equal(("body.title", "null_forbidden"), Error(await t.Editor.Client.PatchAsync($"{url}/{issue.Id()}", new { title = (string?)null })));
        Assert.Equal(("body.title", "string_too_short"), Error(await t.Editor.Client.PatchAsync($"{url}/{issue.Id()}", new { title = "" })));
        Assert.Equal(("body.assignee_id", "not_a_member"), Error(await t.Editor.Client.PatchAsync($"{url}/{issue.Id()}", new { assignee_id = stranger.Id })));
        Assert.Equal(("body.number", "extra_forbidden"), Error(await t.Editor.Client.PatchAsync($"{url}/{issue.Id()}", new { number = 7 })));
        var after = await t.Viewer.Client.GetAsync($"{url}/{issue.Id()}");
        Assert.Equal(before.Body, after.Body);
        Assert.Equal([("created", null, "Valid")], await t.Viewer.Client.HistoryAsync(t.Space, issue.Id()));
    }

    private static (string Loc, string Type) Error(ApiResponse r)
    {
        Assert.True(r.Status == 422, r.ToString());
        Assert.Equal("validation_failed", r.Code());
        Assert.Equal("application/problem+json", r.Header("Content-Type"));
        return (r.Loc(), r.ErrorType());
    }

    // ───────────── status ─────────────

    [Fact]
    public async Task Status_follows_the_workflow_sets_and_clears_resolved_at_and_refuses_resolved_to_in_progress()
    {
        var t = await TeamAsync();
        var issue = await t.Editor.Client.CreateIssueAsync(t.Space, "Workflow");
        var url = $"{Url(t.Space)}/{issue.Id()}";

        async Task<JsonElement> Move(string status)
        {
            Tick();
            var r = await t.Editor.Client.PatchAsync(url, new { status });
            Assert.True(r.Status == 200, $"→ {status}: {r}");
            Assert.Equal(status, r.Json.Str("status"));
            return r.Json;
        }

        Assert.Equal(JsonValueKind.Null, (await Move("in_progress")).GetProperty("resolved_at").ValueKind);
        var resolved = await Move("resolved");
        Assert.Equal(app.Clock.GetUtcNow(), resolved.GetProperty("resolved_at").GetDateTimeOffset());

        var refused = await t.Editor.Client.PatchAsync(url, new { status = "in_progress" });
        Assert.Equal(("body.status", "invalid_transition"), Error(refused));
        Assert.Contains("reopen", refused.Json.GetProperty("errors")[0].Str("msg"), StringComparison.Ordinal);
        Assert.Equal("resolved", (await t.Viewer.Client.GetAsync(url)).Json.Str("status"));

        // Sending the current status is no change at all.
        var same = await t.Editor.Client.PatchAsync(url, new { status = "resolved" });
        Assert.Equal(resolved.GetProperty("version").GetUInt32(), same.Json.GetProperty("version").GetUInt32());
        Assert.Equal(resolved.GetProperty("resolved_at").GetDateTimeOffset(), same.Json.GetProperty("resolved_at").GetDateTimeOffset());

        Assert.Equal(JsonValueKind.Null, (await Move("open")).GetProperty("resolved_at").ValueKind); // reopen
        var direct = await Move("resolved"); // open → resolved directly
        Assert.Equal(app.Clock.GetUtcNow(), direct.GetProperty("resolved_at").GetDateTimeOffset());
        await Move("open");
        await Move("in_progress");
        Assert.Equal(JsonValueKind.Null, (await Move("open")).GetProperty("resolved_at").ValueKind); // in_progress → open

        Assert.Equal(
            [("created", null, "Workflow"), ("status", "open", "in_progress"), ("status", "in_progress", "resolved"),
             ("status", "resolved", "open"), ("status", "open", "resolved"), ("status", "resolved", "open"),
             ("status", "open", "in_progress"), ("status", "in_progress", "open")],
            await t.Viewer.Client.HistoryAsync(t.Space, issue.Number()));
        var outbox = await app.OutboxAsync(t.Space);
        Assert.Equal(["issue.created", "issue.resolved", "issue.resolved"], outbox.Select(o => o.Type));
    }

    // ───────────── history ─────────────

    [Fact]
    public async Task Every_change_writes_one_history_row_with_its_actor_and_old_and_new_values()
    {
        var t = await TeamAsync();
        var orders = await t.Editor.Client.CreateProductAsync(t.Space, "orders");
        var issue = await t.Editor.Client.CreateIssueAsync(t.Space, "Original", new { description = "First words" });
        var url = $"{Url(t.Space)}/{issue.Id()}";
        var created = app.Clock.GetUtcNow();

        Tick();
        Assert.Equal(200, (await t.Editor2.Client.PatchAsync(url, new { title = "Renamed" })).Status);
        Tick();
        Assert.Equal(200, (await t.Editor2.Client.PatchAsync(url, new { description = "Second words" })).Status);
        Tick();
        Assert.Equal(200, (await t.Admin.Client.PatchAsync(url, new { priority = "critical" })).Status);
        Tick();
        Assert.Equal(200, (await t.Admin.Client.PatchAsync(url, new { assignee_id = t.Editor.Id })).Status);
        Tick();
        Assert.Equal(200, (await t.Admin.Client.PatchAsync(url, new { assignee_id = t.Editor2.Id })).Status);
        Tick();
        Assert.Equal(200, (await t.Admin.Client.PatchAsync(url, new { assignee_id = (Guid?)null })).Status);
        Tick();
        Assert.Equal(200, (await t.Editor.Client.PatchAsync(url, new { status = "in_progress" })).Status);
        Tick();
        var comment = (await t.Editor.Client.PostAsync($"{url}/comments", new { body = "On it" })).Json.Id();
        Tick();
        Assert.Equal(200, (await t.Editor.Client.PatchAsync($"{url}/comments/{comment}", new { body = "On it, ETA Friday" })).Status);
        Tick();
        Assert.Equal(204, (await t.Editor.Client.DeleteAsync($"{url}/comments/{comment}")).Status);
        Tick();
        Assert.Equal(200, (await t.Editor.Client.PostAsync($"{url}/products", new { product_id = orders.Id() })).Status);
        Tick();
        Assert.Equal(204, (await t.Editor.Client.DeleteAsync($"{url}/products/{orders.Id()}")).Status);
        // No-op changes write nothing: the same title, linking twice is covered in the link test.
        Assert.Equal(200, (await t.Editor.Client.PatchAsync(url, new { title = "Renamed", priority = "critical" })).Status);

        var history = await t.Viewer.Client.GetAsync($"{url}/history?size=100");
        var rows = history.Items();
        Assert.Equal(
            [
                ("created", null, "Original", t.Editor.Id),
                ("title", "Original", "Renamed", t.Editor2.Id),
                ("description", "First words", "Second words", t.Editor2.Id),
                ("priority", "medium", "critical", t.Admin.Id),
                ("assignee", null, t.Editor.Id.ToString(), t.Admin.Id),
                ("assignee", t.Editor.Id.ToString(), t.Editor2.Id.ToString(), t.Admin.Id),
                ("assignee", t.Editor2.Id.ToString(), null, t.Admin.Id),
                ("status", "open", "in_progress", t.Editor.Id),
                ("comment", null, "On it", t.Editor.Id),
                ("comment", "On it", "On it, ETA Friday", t.Editor.Id),
                ("comment", "On it, ETA Friday", null, t.Editor.Id),
                ("product_linked", null, orders.Id().ToString(), t.Editor.Id),
                ("product_unlinked", orders.Id().ToString(), null, t.Editor.Id),
            ],
            rows.Select(e => (e.Str("kind"), e.NullableStr("old_value"), e.NullableStr("new_value"), e.GetProperty("actor").Id())));
        Assert.Equal(t.Editor.Email, rows[0].GetProperty("actor").Str("email"));
        Assert.Equal(Enumerable.Range(0, 13).Select(i => created.AddMinutes(i)), rows.Select(e => e.GetProperty("occurred_at").GetDateTimeOffset()));
        Assert.Equal(13, history.Json.GetProperty("total").GetInt32());
        Assert.Equal(["created", "title"], (await t.Viewer.Client.GetAsync($"{url}/history?size=2")).Items().Select(e => e.Str("kind")));

        // Text longer than an event value is cut at 4000 characters.
        var longText = new string('x', 5000);
        Tick();
        Assert.Equal(200, (await t.Editor.Client.PatchAsync(url, new { description = longText })).Status);
        var last = (await t.Viewer.Client.GetAsync($"{url}/history?size=100")).Items()[^1];
        Assert.Equal(4000, last.Str("new_value").Length);
        Assert.EndsWith("x…", last.Str("new_value"), StringComparison.Ordinal);
        Assert.Equal(longText, (await t.Viewer.Client.GetAsync(url)).Json.Str("description"));
    }

    // ───────────── comments ─────────────

    [Fact]
    public async Task Comments_are_added_by_editors_edited_by_their_author_only_and_deleted_by_author_or_admin()
    {
        var t = await TeamAsync();
        var issue = await t.Editor.Client.CreateIssueAsync(t.Space, "Discussed");
        var url = $"{Url(t.Space)}/{issue.Number()}/comments";
        var other = await t.Editor.Client.CreateIssueAsync(t.Space, "Other");

        var first = await t.Editor.Client.PostAsync(url, new { body = "First" });
        Assert.True(first.Status == 201, first.ToString());
        Assert.Equal($"/api/v1/spaces/{t.Space}/issues/{issue.Id()}/comments/{first.Json.Id()}", first.Header("Location"));
        Assert.Equal(t.Editor.Id, first.Json.GetProperty("author").Id());
        Assert.False(first.Json.GetProperty("edited").GetBoolean());
        Tick();
        var second = (await t.Editor2.Client.PostAsync(url, new { body = "Second" })).Json;
        Assert.Equal(403, (await t.Viewer.Client.PostAsync(url, new { body = "Viewer" })).Status);
        Assert.Equal(("body.body", "string_too_short"), Error(await t.Editor.Client.PostAsync(url, new { body = " " })));
        Assert.Equal(("body.body", "missing"), Error(await t.Editor.Client.PostAsync(url, new { })));

        var list = await t.Viewer.Client.GetAsync(url);
        Assert.Equal(["First", "Second"], list.Items().Select(c => c.Str("body")));
        Assert.Equal(2, (await t.Viewer.Client.GetAsync($"{Url(t.Space)}/{issue.Id()}")).Json.GetProperty("comment_count").GetInt32());

        // Only the author edits, not another editor, not even an admin.
        var firstUrl = $"{url}/{first.Json.Id()}";
        Assert.Equal(403, (await t.Editor2.Client.PatchAsync(firstUrl, new { body = "Hijacked" })).Status);
        Assert.Equal(403, (await t.Admin.Client.PatchAsync(firstUrl, new { body = "Hijacked" })).Status);
        Assert.Equal(403, (await t.Viewer.Client.PatchAsync(firstUrl, new { body = "Hijacked" })).Status);
        Tick();
        var edited = await t.Editor.Client.PatchAsync(firstUrl, new { body = "First, edited" });
        Assert.Equal(("First, edited", true), (edited.Json.Str("body"), edited.Json.GetProperty("edited").GetBoolean()));
        Assert.Equal(app.Clock.GetUtcNow(), edited.Json.GetProperty("updated_at").GetDateTimeOffset());
        // A comment is reached through its own issue only.
        Assert.Equal(404, (await t.Editor.Client.PatchAsync($"{Url(t.Space)}/{other.Id()}/comments/{first.Json.Id()}", new { body = "x" })).Status);
        Assert.Equal(404, (await t.Editor.Client.DeleteAsync($"{Url(t.Space)}/{other.Id()}/comments/{first.Json.Id()}")).Status);
        Assert.Equal(404, (await t.Editor.Client.PatchAsync($"{url}/{Guid.NewGuid()}", new { body = "x" })).Status);
        Assert.Equal(404, (await t.Editor.Client.PatchAsync($"{url}/not-a-uuid", new { body = "x" })).Status);

        // The author or an admin deletes; another editor does not.
        Assert.Equal(403, (await t.Editor.Client.DeleteAsync($"{url}/{second.Id()}")).Status);
        Assert.Equal(403, (await t.Viewer.Client.DeleteAsync($"{url}/{second.Id()}")).Status);
        Tick();
        Assert.Equal(204, (await t.Admin.Client.DeleteAsync($"{url}/{second.Id()}")).Status);
        Tick();
        Assert.Equal(204, (await t.Editor.Client.DeleteAsync(firstUrl)).Status);
        Assert.Equal(404, (await t.Editor.Client.DeleteAsync(firstUrl)).Status);
        Assert.Empty((await t.Viewer.Client.GetAsync(url)).Items());
        Assert.Equal(
            [("comment", null, "First"), ("comment", null, "Second"), ("comment", "First", "First, edited"), ("comment", "Second", null), ("comment", "First, edited", null)],
            (await t.Viewer.Client.HistoryAsync(t.Space, issue.Id())).Where(h => h.Kind == "comment"));
        // Comments touch neither the issue's version nor its updated_at.
        Assert.Equal(issue.GetProperty("version").GetUInt32(), (await t.Viewer.Client.GetAsync($"{Url(t.Space)}/{issue.Id()}")).Json.GetProperty("version").GetUInt32());
    }

    // ───────────── linked products ─────────────

    [Fact]
    public async Task Products_of_the_space_are_linked_once_and_unlinked()
    {
        var t = await TeamAsync();
        var elsewhere = await app.CreateSpaceAsync(null, (t.Editor, "editor"));
        var foreign = await t.Editor.Client.CreateProductAsync(elsewhere, "foreign");
        var orders = await t.Editor.Client.CreateProductAsync(t.Space, "orders", new { name = "Orders" });
        var billing = await t.Editor.Client.CreateProductAsync(t.Space, "billing", new { name = "Billing" });
        var issue = await t.Editor.Client.CreateIssueAsync(t.Space, "Linked", new { product_ids = new[] { orders.Id() } });
        var url = $"{Url(t.Space)}/{issue.Id()}/products";

        Tick();
        var linked = await t.Editor.Client.PostAsync(url, new { product_id = billing.Id() });
        Assert.True(linked.Status == 200, linked.ToString());
        Assert.Equal([("billing", "Billing"), ("orders", "Orders")], linked.Json.EnumerateArray().Select(p => (p.Str("slug"), p.Str("name"))));
        var again = await t.Editor.Client.PostAsync(url, new { product_id = billing.Id() });
        Assert.Equal(linked.Body, again.Body);
        Assert.Equal(("body.product_id", "unknown_product"), Error(await t.Editor.Client.PostAsync(url, new { product_id = foreign.Id() })));
        Assert.Equal(("body.product_id", "missing"), Error(await t.Editor.Client.PostAsync(url, new { })));
        Assert.Equal(403, (await t.Viewer.Client.PostAsync(url, new { product_id = billing.Id() })).Status);
        Assert.Equal(403, (await t.Viewer.Client.DeleteAsync($"{url}/{billing.Id()}")).Status);

        Assert.Equal(["billing", "orders"], (await t.Viewer.Client.GetAsync($"{Url(t.Space)}/{issue.Id()}")).Json.GetProperty("products").EnumerateArray().Select(p => p.Str("slug")));
        Tick();
        Assert.Equal(204, (await t.Editor.Client.DeleteAsync($"{url}/{orders.Id()}")).Status);
        Assert.Equal(404, (await t.Editor.Client.DeleteAsync($"{url}/{orders.Id()}")).Status);
        Assert.Equal(404, (await t.Editor.Client.DeleteAsync($"{url}/{foreign.Id()}")).Status);
        Assert.Equal(["billing"], (await t.Viewer.Client.GetAsync($"{Url(t.Space)}/{issue.Id()}")).Json.GetProperty("products").EnumerateArray().Select(p => p.Str("slug")));
        Assert.Equal([("product_linked", null, billing.Id().ToString()), ("product_unlinked", orders.Id().ToString(), null)],
            (await t.Viewer.Client.HistoryAsync(t.Space, issue.Id())).Where(h => h.Kind.StartsWith("product_", StringComparison.Ordinal)));

        // A deleted product leaves the issue's list.
        Assert.Equal(204, (await t.Admin.Client.DeleteAsync($"/api/v1/spaces/{t.Space}/products/billing")).Status);
        Assert.Empty((await t.Viewer.Client.GetAsync($"{Url(t.Space)}/{issue.Id()}")).Json.GetProperty("products").EnumerateArray());
    }

    // ───────────── outbox ─────────────

    [Fact]
    public async Task Created_assigned_and_resolved_are_written_to_the_outbox_with_the_change_and_never_for_a_failed_request()
    {
        var t = await TeamAsync();
        var orders = await t.Editor.Client.CreateProductAsync(t.Space, "orders");
        var spaceId = await app.SpaceIdAsync(t.Space);

        var issue = await t.Editor.Client.CreateIssueAsync(t.Space, "Outboxed", new { assignee_id = t.Editor2.Id, product_ids = new[] { orders.Id() } });
        var events = await app.OutboxAsync(t.Space);
        Assert.Equal(["issue.assigned", "issue.created"], events.Select(e => e.Type).Order(StringComparer.Ordinal));
        foreach (var (_, payload) in events)
        {
            Assert.Equal(issue.Id(), payload.GetProperty("issue_id").GetGuid());
            Assert.Equal(1, payload.GetProperty("number").GetInt32());
            Assert.Equal("Outboxed", payload.Str("title"));
            Assert.Equal(spaceId, payload.GetProperty("space_id").GetGuid());
            Assert.Equal([orders.Id()], payload.GetProperty("product_ids").EnumerateArray().Select(p => p.GetGuid()));
            Assert.Equal(t.Editor2.Id, payload.GetProperty("assignee_id").GetGuid());
            Assert.Equal(t.Editor.Id, payload.GetProperty("actor_id").GetGuid());
        }

        var url = $"{Url(t.Space)}/{issue.Id()}";
        // Failed requests write nothing: a stale version, an invalid transition, a non-member assignee.
        Assert.Equal(409, (await t.Editor.Client.PatchAsync(url, new { status = "resolved", assignee_id = t.Admin.Id }, CatalogTestSupport.IfMatch("\"1\""))).Status);
        Assert.Equal(422, (await t.Editor.Client.PatchAsync(url, new { status = "resolved", assignee_id = Guid.NewGuid() })).Status);
        Assert.Equal(422, (await t.Editor.Client.PostAsync(Url(t.Space), new { title = "", assignee_id = t.Editor.Id })).Status);
        Assert.Equal(2, (await app.OutboxAsync(t.Space)).Count);

        // Reassigning writes issue.assigned; unassigning and other changes write nothing.
        Tick();
        Assert.Equal(200, (await t.Admin.Client.PatchAsync(url, new { assignee_id = t.Admin.Id, priority = "low" })).Status);
        Tick();
        Assert.Equal(200, (await t.Admin.Client.PatchAsync(url, new { assignee_id = (Guid?)null, title = "Unassigned" })).Status);
        Tick();
        Assert.Equal(200, (await t.Admin.Client.PatchAsync(url, new { assignee_id = (Guid?)null })).Status);
        Tick();
        Assert.Equal(200, (await t.Editor2.Client.PatchAsync(url, new { status = "resolved", assignee_id = t.Editor2.Id })).Status);
        events = await app.OutboxAsync(t.Space);
        Assert.Equal(5, events.Count);
        var reassigned = events[2];
        Assert.Equal("issue.assigned", reassigned.Type);
        Assert.Equal((t.Admin.Id, t.Admin.Id, "Outboxed"), (reassigned.Payload.GetProperty("assignee_id").GetGuid(), reassigned.Payload.GetProperty("actor_id").GetGuid(), reassigned.Payload.Str("title")));
        Assert.Equal(["issue.assigned", "issue.resolved"], events.Skip(3).Select(e => e.Type).Order(StringComparer.Ordinal));
        var resolved = events.Single(e => e.Type == "issue.resolved").Payload;
        Assert.Equal(("Unassigned", "resolved", t.Editor2.Id, t.Editor2.Id),
            (resolved.Str("title"), resolved.Str("status"), resolved.GetProperty("assignee_id").GetGuid(), resolved.GetProperty("actor_id").GetGuid()));
        Assert.Equal([orders.Id()], resolved.GetProperty("product_ids").EnumerateArray().Select(p => p.GetGuid()));
    }

    // ───────────── list ─────────────

    [Fact]
    public async Task The_list_filters_sorts_and_pages_with_exact_results()
    {
        var t = await TeamAsync();
        var orders = await t.Editor.Client.CreateProductAsync(t.Space, "orders");
        var billing = await t.Editor.Client.CreateProductAsync(t.Space, "billing");
        var start = app.Clock.GetUtcNow();

        // #1..#5, one minute apart.
        await t.Editor.Client.CreateIssueAsync(t.Space, "Orders late", new { priority = "high", product_ids = new[] { orders.Id() }, assignee_id = t.Editor2.Id });
        Tick();
        await t.Editor2.Client.CreateIssueAsync(t.Space, "Billing 100% wrong", new { priority = "critical", product_ids = new[] { billing.Id() } });
        Tick();
        await t.Editor.Client.CreateIssueAsync(t.Space, "orders duplicated", new { priority = "low", product_ids = new[] { orders.Id(), billing.Id() }, assignee_id = t.Editor.Id });
        Tick();
        await t.Admin.Client.CreateIssueAsync(t.Space, "Docs missing");
        Tick();
        await t.Editor.Client.CreateIssueAsync(t.Space, "Schema drift", new { priority = "high" });
        Tick();
        Assert.Equal(200, (await t.Editor.Client.PatchAsync($"{Url(t.Space)}/2", new { status = "in_progress" })).Status);
        Tick();
        Assert.Equal(200, (await t.Editor.Client.PatchAsync($"{Url(t.Space)}/3", new { status = "resolved" })).Status);
        Tick();
        Assert.Equal(200, (await t.Editor.Client.PatchAsync($"{Url(t.Space)}/1", new { description = "touched" })).Status);

        async Task<List<int>> Numbers(string query)
        {
            var r = await t.Viewer.Client.GetAsync($"{Url(t.Space)}?{query}");
            return r.Items().Select(i => i.Number()).ToList();
        }

        Assert.Equal([5, 4, 3, 2, 1], await Numbers(""));
        Assert.Equal([1, 2, 3, 4, 5], await Numbers("sort=oldest"));
        Assert.Equal([2, 5, 1, 4, 3], await Numbers("sort=priority"));
        Assert.Equal([1, 3, 2, 5, 4], await Numbers("sort=updated"));
        Assert.Equal([5, 4, 1], await Numbers("status=open"));
        Assert.Equal([2], await Numbers("status=in_progress"));
        Assert.Equal([3], await Numbers("status=resolved"));
        Assert.Equal([5, 1], await Numbers("priority=high"));
        Assert.Equal([1], await Numbers($"assignee_id={t.Editor2.Id}"));
        Assert.Equal([5, 3, 1], await Numbers($"reporter_id={t.Editor.Id}"));
        Assert.Equal([3, 1], await Numbers($"product_id={orders.Id()}"));
        Assert.Equal([3, 2], await Numbers($"product_id={billing.Id()}"));
        Assert.Equal([3, 1], await Numbers("q=ORDERS"));
        Assert.Equal([2], await Numbers("q=100%25"));
        Assert.Empty(await Numbers("q=_"));
        Assert.Equal([3, 2], await Numbers($"from={Iso(start.AddMinutes(1))}&to={Iso(start.AddMinutes(3))}"));
        Assert.Equal([5, 4], await Numbers($"from={Iso(start.AddMinutes(3))}"));
        Assert.Equal([1], await Numbers($"status=open&product_id={orders.Id()}&priority=high&q=late"));
        Assert.Empty(await Numbers($"assignee_id={Guid.NewGuid()}"));

        var page = await t.Viewer.Client.GetAsync($"{Url(t.Space)}?size=2&page=2&sort=oldest");
        Assert.Equal([3, 4], page.Items().Select(i => i.Number()));
        Assert.Equal((5, 2, 2), (page.Json.GetProperty("total").GetInt32(), page.Json.GetProperty("page").GetInt32(), page.Json.GetProperty("size").GetInt32()));
        Assert.Empty((await t.Viewer.Client.GetAsync($"{Url(t.Space)}?page=9")).Items());

        var first = (await t.Viewer.Client.GetAsync($"{Url(t.Space)}?sort=oldest&size=1")).Items()[0];
        Assert.Equal(("Orders late", "high", t.Editor2.Id, t.Editor.Id), (first.Str("title"), first.Str("priority"), first.GetProperty("assignee").Id(), first.GetProperty("reporter_id").GetGuid()));
        Assert.Equal(["orders"], first.GetProperty("products").EnumerateArray().Select(p => p.Str("slug")));
        Assert.False(first.TryGetProperty("description", out _));
    }

    private static string Iso(DateTimeOffset value) => Uri.EscapeDataString(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture));

    // ───────────── roles ─────────────

    [Fact]
    public async Task Viewers_read_editors_write_and_only_the_reporter_or_an_admin_deletes()
    {
        var t = await TeamAsync();
        var issue = await t.Editor.Client.CreateIssueAsync(t.Space, "Roles");
        var url = $"{Url(t.Space)}/{issue.Id()}";

        foreach (var path in new[] { Url(t.Space), url, $"{url}/history", $"{url}/comments" })
            Assert.Equal(200, (await t.Viewer.Client.GetAsync(path)).Status);
        var denied = await t.Viewer.Client.PostAsync(Url(t.Space), new { title = "Viewer's" });
        Assert.Equal(403, denied.Status);
        Assert.Equal("forbidden", denied.Code());
        Assert.Equal(403, (await t.Viewer.Client.PatchAsync(url, new { title = "Viewer's" })).Status);
        Assert.Equal(403, (await t.Viewer.Client.DeleteAsync(url)).Status);

        // Another editor changes it but may not delete it; the admin may.
        Assert.Equal(200, (await t.Editor2.Client.PatchAsync(url, new { priority = "high" })).Status);
        var notReporter = await t.Editor2.Client.DeleteAsync(url);
        Assert.Equal(403, notReporter.Status);
        Assert.Contains("reporter", notReporter.Json.Str("detail"), StringComparison.Ordinal);
        Assert.Equal(204, (await t.Admin.Client.DeleteAsync(url)).Status);

        // The superadmin (not a member) acts as an admin; a non-member is 404.
        var stranger = await app.CreateUserAsync("Stranger");
        Assert.Equal(404, (await stranger.Client.GetAsync(Url(t.Space))).Status);
        var root = await app.AdminAsync();
        Assert.Equal(201, (await root.PostAsync(Url(t.Space), new { title = "By root" })).Status);
    }
}
