using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.AlertConnectors;
using Qarion.Core.Outbox;
using Qarion.Core.Quality;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;
using Qarion.Tests.Issues;

namespace Qarion.Tests.AlertConnectors;

/// <summary>Events from the real pipeline, delivered to a real HTTP receiver and a real SMTP server: exact payloads, exactly once, routing, failures.</summary>
public sealed class AlertConnectorDeliveryTests(AlertConnectorFixture app) : IClassFixture<AlertConnectorFixture>
{
    private async Task<(TestUser Admin, string Space, Guid SpaceId, Guid ProductId)> SpaceWithProductAsync()
    {
        var admin = await app.CreateUserAsync("Ada");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"));
        var product = (await admin.Client.CreateProductAsync(space, "orders", new { name = "Orders" })).Id();
        return (admin, space, await app.SpaceIdAsync(space), product);
    }

    private static async Task<Guid> CreateAsync(TestUser admin, string space, object body)
    {
        var response = await admin.Client.PostAsync($"/api/v1/spaces/{space}/alert-connectors", body);
        Assert.True(response.Status == 201, response.ToString());
        return response.Json.Id();
    }

    private Task<List<AlertDelivery>> DeliveriesAsync(Guid connectorId)
        => app.WithDbAsync(db => db.Set<AlertDelivery>().AsNoTracking().Where(d => d.ConnectorId == connectorId).OrderBy(d => d.CreatedAt).ToListAsync());

    private List<ReceivedMail> MailTo(string address) => app.Smtp.Received.Where(m => m.EnvelopeTo.Contains(address)).ToList();

    [Fact]
    public async Task A_failed_check_posts_one_Slack_message_one_Teams_card_and_one_email_however_often_the_event_is_delivered()
    {
        var (admin, space, spaceId, product) = await SpaceWithProductAsync();
        var tag = Guid.NewGuid().ToString("N")[..8];
        var slackPath = $"/services/{tag}/slack";
        var teamsPath = $"/workflows/{tag}/teams";
        var ops = $"ops-{tag}@example.com";
        var dba = $"dba-{tag}@example.com";
        var slack = await CreateAsync(admin, space, new { name = "Slack #data", kind = "slack", url = app.Http.Url + slackPath, event_types = new[] { "quality.alert.*" }, min_severity = "medium" });
        var teams = await CreateAsync(admin, space, new { name = "Teams data", kind = "teams", url = app.Http.Url + teamsPath, event_types = new[] { "quality.alert.raised" } });
        var email = await CreateAsync(admin, space, new { name = "Ops mail", kind = "email", config = new { recipients = new[] { ops, dba } }, event_types = new[] { "quality.alert.raised" } });

        var (checkId, events) = await app.CreateAndRunCheckAsync(spaceId, product, "orders-rules", "Orders rules", CheckSeverity.High, ExecutionStatus.Fail,
            "12 rows violate amount < 0 & status", 12);
        Assert.Equal([OutboxEventTypes.CheckFailed, OutboxEventTypes.AlertRaised], events.Select(e => e.EventType).Order().Reverse());
        var raised = events.Single(e => e.EventType == OutboxEventTypes.AlertRaised);

        // Three deliveries of every event; two of them at the same time.
        foreach (var message in events) await app.DispatchAsync(message);
        await Task.WhenAll(events.Select(m => app.DispatchAsync(m)).Concat(events.Select(m => app.DispatchAsync(m))));

        var footer = $"Qarion · Space {space} · quality.alert.raised · 2026-03-01 09:30 UTC";
        var slackPost = Assert.Single(app.Http.ReceivedOn(slackPath));
        Assert.Equal(("POST", "application/json; charset=utf-8"), (slackPost.Method, slackPost.Header("content-type")));
        AlertTestSupport.AssertJson($$$"""
            {
              "text": "Alert raised: Orders rules failed on Orders",
              "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "Alert raised: Orders rules failed on Orders", "emoji": false}},
                {"type": "section", "text": {"type": "mrkdwn", "text": "12 rows violate amount &lt; 0 &amp; status"}},
                {"type": "section", "fields": [
                  {"type": "mrkdwn", "text": "*Severity*\nHigh"},
                  {"type": "mrkdwn", "text": "*Product*\nOrders"},
                  {"type": "mrkdwn", "text": "*Check*\nOrders rules"},
                  {"type": "mrkdwn", "text": "*Check type*\ncustom"},
                  {"type": "mrkdwn", "text": "*Result*\nFAIL"},
                  {"type": "mrkdwn", "text": "*Metric*\n12"}
                ]},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": "{{{footer}}}"}]}
              ]
            }
            """, slackPost.BodyText);

        var teamsPost = Assert.Single(app.Http.ReceivedOn(teamsPath));
        AlertTestSupport.AssertJson($$"""
            {
              "type": "message",
              "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {
                  "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                  "type": "AdaptiveCard",
                  "version": "1.4",
                  "body": [
                    {"type": "TextBlock", "text": "Alert raised: Orders rules failed on Orders", "size": "Large", "weight": "Bolder", "wrap": true, "color": "Attention"},
                    {"type": "TextBlock", "text": "12 rows violate amount < 0 & status", "wrap": true},
                    {"type": "FactSet", "facts": [
                      {"title": "Severity", "value": "High"},
                      {"title": "Product", "value": "Orders"},
                      {"title": "Check", "value": "Orders rules"},
                      {"title": "Check type", "value": "custom"},
                      {"title": "Result", "value": "FAIL"},
                      {"title": "Metric", "value": "12"}
                    ]},
                    {"type": "TextBlock", "text": "{{footer}}", "isSubtle": true, "size": "Small", "wrap": true}
                  ]
                }
              }]
            }
            """, teamsPost.BodyText);

        var mail = Assert.Single(MailTo(ops));
        Assert.Equal("[Qarion] Alert raised: Orders rules failed on Orders", mail.Subject);
        Assert.Equal([ops, dba], mail.To);
        Assert.Equal([ops, dba], mail.EnvelopeTo);
        Assert.Equal("alerts@qarion.test", mail.EnvelopeFrom);
        Assert.Equal(("Qarion", "alerts@qarion.test"), (mail.Message.From.Mailboxes.Single().Name, mail.Message.From.Mailboxes.Single().Address));
        Assert.True(mail.Secure, "the session was upgraded with STARTTLS");
        Assert.Equal(SmtpSink.User, mail.AuthenticatedUser);
        Assert.Equal($"""
            Alert raised: Orders rules failed on Orders

            12 rows violate amount < 0 & status

            Severity: High
            Product: Orders
            Check: Orders rules
            Check type: custom
            Result: FAIL
            Metric: 12

            --
            {footer}

            """, AlertTestSupport.Lf(mail.TextBody));
        Assert.Equal(
            "<!DOCTYPE html><html><body style=\"font-family:Arial,Helvetica,sans-serif;color:#1f2328\">"
            + "<h2 style=\"color:#cf222e\">Alert raised: Orders rules failed on Orders</h2>"
            + "<p>12 rows violate amount &lt; 0 &amp; status</p>"
            + "<table cellpadding=\"4\" cellspacing=\"0\">"
            + "<tr><th align=\"left\">Severity</th><td>High</td></tr><tr><th align=\"left\">Product</th><td>Orders</td></tr>"
            + "<tr><th align=\"left\">Check</th><td>Orders rules</td></tr><tr><th align=\"left\">Check type</th><td>custom</td></tr>"
            + "<tr><th align=\"left\">Result</th><td>FAIL</td></tr><tr><th align=\"left\">Metric</th><td>12</td></tr></table>"
            + $"<p style=\"color:#656d76;font-size:12px\">Qarion &#183; Space {space} &#183; quality.alert.raised &#183; 2026-03-01 09:30 UTC</p></body></html>",
            AlertTestSupport.Lf(mail.HtmlBody).TrimEnd('\n'));
        Assert.Empty(MailTo(dba).Except([mail]));

        // One delivery record per (event, connector), sent on the first attempt.
        foreach (var id in new[] { slack, teams, email })
        {
            var delivery = Assert.Single(await DeliveriesAsync(id));
            Assert.Equal((raised.EventId, AlertDeliveryStatus.Sent, 1), (delivery.EventId, delivery.Status, delivery.Attempts));
        }
        var listed = (await admin.Client.GetAsync($"/api/v1/spaces/{space}/alert-connectors/{slack}/deliveries")).Items();
        Assert.Equal((raised.EventId, "quality.alert.raised", "sent", 200, 1), (listed[0].GetProperty("event_id").GetGuid(), listed[0].Str("event_type"),
            listed[0].Str("status"), listed[0].GetProperty("status_code").GetInt32(), listed[0].GetProperty("attempts").GetInt32()));
        var connector = (await admin.Client.GetAsync($"/api/v1/spaces/{space}/alert-connectors/{slack}")).Json;
        Assert.Equal("sent", connector.GetProperty("last_delivery").Str("status"));

        // The check passes again: the alert is resolved, and only the connector routed quality.alert.* hears of it.
        var resolvedEvents = await app.RunCheckAsync(spaceId, checkId, ExecutionStatus.Pass, null, 0);
        Assert.Equal([OutboxEventTypes.AlertResolved, OutboxEventTypes.CheckPassed], resolvedEvents.Select(e => e.EventType).Order());
        foreach (var message in resolvedEvents.Concat(resolvedEvents)) await app.DispatchAsync(message);
        var slackPosts = app.Http.ReceivedOn(slackPath);
        Assert.Equal(2, slackPosts.Count);
        AlertTestSupport.AssertJson($$$"""
            {
              "text": "Alert resolved: Orders rules failed on Orders",
              "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "Alert resolved: Orders rules failed on Orders", "emoji": false}},
                {"type": "section", "text": {"type": "mrkdwn", "text": "Resolved automatically: the check returned PASS."}},
                {"type": "section", "fields": [
                  {"type": "mrkdwn", "text": "*Severity*\nHigh"},
                  {"type": "mrkdwn", "text": "*Product*\nOrders"},
                  {"type": "mrkdwn", "text": "*Resolved by*\nQarion (automatically)"}
                ]},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": "Qarion · Space {{{space}}} · quality.alert.resolved · 2026-03-01 09:30 UTC"}]}
              ]
            }
            """, slackPosts[1].BodyText);
        Assert.Single(app.Http.ReceivedOn(teamsPath));
        Assert.Single(MailTo(ops));
    }

    [Fact]
    public async Task Routing_sends_nothing_below_the_minimum_severity_for_other_types_other_spaces_or_when_disabled()
    {
        var (admin, space, spaceId, product) = await SpaceWithProductAsync();
        var other = await app.CreateSpaceAsync(null, (admin, "admin"));
        var tag = Guid.NewGuid().ToString("N")[..8];
        string P(string name) => $"/r/{tag}/{name}";
        var critical = $"critical-{tag}@example.com";
        await CreateAsync(admin, space, new { name = "critical only", kind = "slack", url = app.Http.Url + P("critical"), event_types = new[] { "*" }, min_severity = "critical" });
        await CreateAsync(admin, space, new { name = "critical mail", kind = "email", config = new { recipients = new[] { critical } }, event_types = new[] { "quality.*" }, min_severity = "critical" });
        await CreateAsync(admin, space, new { name = "contracts", kind = "teams", url = app.Http.Url + P("contracts"), event_types = new[] { "contract.violated", "issue.*" } });
        await CreateAsync(admin, space, new { name = "disabled", kind = "slack", url = app.Http.Url + P("disabled"), event_types = new[] { "*" }, is_enabled = false });
        await CreateAsync(admin, other, new { name = "other space", kind = "slack", url = app.Http.Url + P("other"), event_types = new[] { "*" } });
        await CreateAsync(admin, space, new { name = "quality", kind = "slack", url = app.Http.Url + P("quality"), event_types = new[] { "quality.check.*" }, min_severity = "high" });

        var (_, events) = await app.CreateAndRunCheckAsync(spaceId, product, "amounts", "Amounts", CheckSeverity.High, ExecutionStatus.Fail, "bad amounts", 3);
        foreach (var message in events) await app.DispatchAsync(message);
        // An event without a space reaches no connector.
        await app.DispatchAsync(events[0] with { EventId = Guid.NewGuid(), SpaceId = null });

        var posts = app.Http.Received.Where(r => r.Path.StartsWith($"/r/{tag}/", StringComparison.Ordinal)).ToList();
        var post = Assert.Single(posts);
        Assert.Equal(P("quality"), post.Path);
        Assert.Equal("Check failed: Amounts", JsonDocument.Parse(post.Body).RootElement.Str("text"));
        Assert.Empty(MailTo(critical));

        // A lower minimum lets the same events through to that connector, once; the others still hear nothing.
        var quality = (await admin.Client.GetAsync($"/api/v1/spaces/{space}/alert-connectors")).Items().Single(c => c.Str("name") == "critical only");
        var patched = await admin.Client.PatchAsync($"/api/v1/spaces/{space}/alert-connectors/{quality.Id()}", new { min_severity = "high" },
            new Dictionary<string, string> { ["If-Match"] = $"\"{quality.GetProperty("version").GetUInt32()}\"" });
        Assert.True(patched.Status == 200, patched.ToString());
        foreach (var message in events) await app.DispatchAsync(message);
        Assert.Equal(2, app.Http.ReceivedOn(P("critical")).Count); // check.failed and alert.raised, once each
        Assert.Single(app.Http.ReceivedOn(P("quality")));
        Assert.Empty(app.Http.ReceivedOn(P("contracts")));
        Assert.Empty(app.Http.ReceivedOn(P("disabled")));
        Assert.Empty(app.Http.ReceivedOn(P("other")));
    }

    [Fact]
    public async Task A_5xx_timeout_or_transient_SMTP_refusal_is_recorded_and_retried_a_4xx_is_recorded_and_not_retried()
    {
        var (admin, space, spaceId, product) = await SpaceWithProductAsync();
        var tag = Guid.NewGuid().ToString("N")[..8];
        var slackPath = $"/f/{tag}/slack";
        var teamsPath = $"/f/{tag}/teams";
        var slowPath = $"/f/{tag}/slow";
        var ops = $"retry-{tag}@example.com";
        var slack = await CreateAsync(admin, space, new { name = "slack", kind = "slack", url = app.Http.Url + slackPath });
        var teams = await CreateAsync(admin, space, new { name = "teams", kind = "teams", url = app.Http.Url + teamsPath });
        var slow = await CreateAsync(admin, space, new { name = "slow", kind = "slack", url = app.Http.Url + slowPath });
        var email = await CreateAsync(admin, space, new { name = "mail", kind = "email", config = new { recipients = new[] { ops } } });
        app.Http.Respond(slackPath, 503);
        app.Http.Respond(teamsPath, 400);
        app.Http.Delay(slowPath, TimeSpan.FromSeconds(4));
        var (_, events) = await app.CreateAndRunCheckAsync(spaceId, product, "retry", "Retry check", CheckSeverity.Medium, ExecutionStatus.Error, "source unreachable", null);
        var raised = events.Single(e => e.EventType == OutboxEventTypes.AlertRaised);

        app.Smtp.Reply(451);
        var first = await Assert.ThrowsAsync<AlertDeliveryFailedException>(() => app.DispatchAsync(raised));
        Assert.Contains("slack: HTTP 503", first.Message, StringComparison.Ordinal);
        Assert.Contains("slow: timeout", first.Message, StringComparison.Ordinal);
        Assert.Contains("mail: SmtpCommandException", first.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("teams", first.Message, StringComparison.Ordinal);
        var slackFailed = Assert.Single(await DeliveriesAsync(slack));
        Assert.Equal((AlertDeliveryStatus.Failed, 1, 503, "HTTP 503: error"), (slackFailed.Status, slackFailed.Attempts, slackFailed.StatusCode, slackFailed.Error));
        var teamsRejected = Assert.Single(await DeliveriesAsync(teams));
        Assert.Equal((AlertDeliveryStatus.Rejected, 1, 400, "HTTP 400: error"), (teamsRejected.Status, teamsRejected.Attempts, teamsRejected.StatusCode, teamsRejected.Error));
        var slowFailed = Assert.Single(await DeliveriesAsync(slow));
        Assert.Equal((AlertDeliveryStatus.Failed, "timeout: the webhook did not answer in time"), (slowFailed.Status, slowFailed.Error));
        var mailFailed = Assert.Single(await DeliveriesAsync(email));
        Assert.Equal((AlertDeliveryStatus.Failed, 451), (mailFailed.Status, mailFailed.StatusCode));
        Assert.Empty(MailTo(ops));

        // The queue retries: the receivers are healthy again; only what failed is sent, and only once.
        app.Http.Delay(slowPath, TimeSpan.Zero);
        await app.DispatchAsync(raised);
        await app.DispatchAsync(raised);
        Assert.Equal(2, app.Http.ReceivedOn(slackPath).Count);
        Assert.Single(app.Http.ReceivedOn(teamsPath));
        Assert.Equal(2, app.Http.ReceivedOn(slowPath).Count);
        Assert.Single(MailTo(ops));
        Assert.Equal((AlertDeliveryStatus.Sent, 2, 200), (await DeliveriesAsync(slack)) is [var s] ? (s.Status, s.Attempts, s.StatusCode) : default);
        Assert.Equal((AlertDeliveryStatus.Rejected, 1), (await DeliveriesAsync(teams)) is [var t] ? (t.Status, t.Attempts) : default);
        Assert.Equal((AlertDeliveryStatus.Sent, 2), (await DeliveriesAsync(email)) is [var m] ? (m.Status, m.Attempts) : default);

        // A permanent SMTP refusal is recorded and not retried.
        var permanent = $"permanent-{tag}@example.com";
        var refused = await CreateAsync(admin, space, new { name = "refused mail", kind = "email", config = new { recipients = new[] { permanent } }, event_types = new[] { "quality.check.failed" } });
        var checkFailed = events.Single(e => e.EventType == OutboxEventTypes.CheckFailed);
        app.Smtp.Reply(550);
        await app.DispatchAsync(checkFailed);
        await app.DispatchAsync(checkFailed);
        var rejected = Assert.Single(await DeliveriesAsync(refused));
        Assert.Equal((AlertDeliveryStatus.Rejected, 1, 550), (rejected.Status, rejected.Attempts, rejected.StatusCode));
        Assert.Empty(MailTo(permanent));
    }

    [Fact]
    public async Task Issue_and_contract_events_are_formatted_with_names()
    {
        var (admin, space, spaceId, product) = await SpaceWithProductAsync();
        var tag = Guid.NewGuid().ToString("N")[..8];
        var path = $"/i/{tag}";
        await CreateAsync(admin, space, new { name = "issues", kind = "slack", url = app.Http.Url + path, event_types = new[] { "issue.*", "contract.violated", "access.request.*" } });
        var issue = await IssueTestSupport.CreateIssueAsync(admin.Client, space, "Orders are late", new { product_ids = new[] { product }, priority = "high", assignee_id = admin.Id });
        var rows = await app.WithDbAsync(db => db.Set<OutboxEvent>().AsNoTracking().Where(e => e.SpaceId == spaceId && e.EventType.StartsWith("issue.")).OrderBy(e => e.EventType).ToListAsync());
        Assert.Equal([OutboxEventTypes.IssueAssigned, OutboxEventTypes.IssueCreated], rows.Select(r => r.EventType));
        foreach (var row in rows) await app.DispatchAsync(OutboxMessage.From(row));
        var violated = new OutboxMessage(Guid.NewGuid(), spaceId, OutboxEventTypes.ContractViolated, app.Clock.GetUtcNow(), JsonSerializer.SerializeToElement(
            new Qarion.Core.Contracts.ContractViolatedEvent(Guid.NewGuid(), "Orders pact", "orders-pact", spaceId, product, [], Guid.NewGuid(), "min_quality_score", 80, 61.5,
                Qarion.Core.Contracts.SlaStatus.Breached, "Quality score 61.5 is below 80", app.Clock.GetUtcNow()), Qarion.Core.Common.JsonNames.SerializerOptions));
        await app.DispatchAsync(violated);
        var access = new OutboxMessage(Guid.NewGuid(), spaceId, OutboxEventTypes.AccessRequestSubmitted, app.Clock.GetUtcNow(),
            JsonDocument.Parse($$"""{"request_id": "{{Guid.NewGuid()}}", "product_id": "{{product}}", "requester_name": "Bo", "access_level": "read", "justification": "Quarterly report"}""").RootElement);
        await app.DispatchAsync(access);

        var posts = app.Http.ReceivedOn(path).Select(p => JsonDocument.Parse(p.Body).RootElement).ToList();
        Assert.Equal(4, posts.Count);
        string Fields(JsonElement post) => string.Join(" | ", post.GetProperty("blocks")[2].GetProperty("fields").EnumerateArray().Select(f => f.Str("text").Replace("\n", " ", StringComparison.Ordinal)));
        string Summary(JsonElement post) => post.GetProperty("blocks")[1].GetProperty("text").Str("text");
        Assert.Equal(("Issue #1 assigned: Orders are late", "Assigned to Ada."), (posts[0].Str("text"), Summary(posts[0])));
        Assert.Equal("*Priority* High | *Status* Open | *Assignee* Ada | *Products* Orders", Fields(posts[0]));
        Assert.Equal(("Issue #1 created: Orders are late", "A new issue was opened."), (posts[1].Str("text"), Summary(posts[1])));
        Assert.Equal(("Contract violated: Orders pact", "Quality score 61.5 is below 80"), (posts[2].Str("text"), Summary(posts[2])));
        Assert.Equal("*SLA status* Breached | *Term* min_quality_score | *Expected* 80 | *Actual* 61.5 | *Producer* Orders", Fields(posts[2]));
        Assert.Equal(("Access request submitted", "Quarterly report"), (posts[3].Str("text"), Summary(posts[3])));
        Assert.Equal("*Product* Orders | *Requester name* Bo | *Access level* read", Fields(posts[3]));
    }

    [Fact]
    public async Task An_alert_resolved_by_a_person_names_them_and_carries_their_note()
    {
        var (admin, space, spaceId, product) = await SpaceWithProductAsync();
        var path = $"/resolved/{Guid.NewGuid():N}";
        await CreateAsync(admin, space, new { name = "resolutions", kind = "teams", url = app.Http.Url + path, event_types = new[] { "quality.alert.resolved" }, min_severity = "critical" });
        var alert = await app.SeedAlertAsync(space, product, "emails", severity: CheckSeverity.Critical);
        var resolved = await admin.Client.PostAsync($"/api/v1/spaces/{space}/alerts/{alert.Id}/resolve", new { note = "Backfilled the missing emails" });
        Assert.True(resolved.Status == 200, resolved.ToString());
        var row = await app.WithDbAsync(db => db.Set<OutboxEvent>().AsNoTracking().SingleAsync(e => e.SpaceId == spaceId && e.EventType == OutboxEventTypes.AlertResolved));
        await app.DispatchAsync(OutboxMessage.From(row));

        var card = JsonDocument.Parse(Assert.Single(app.Http.ReceivedOn(path)).Body).RootElement.GetProperty("attachments")[0].GetProperty("content").GetProperty("body");
        Assert.Equal(("Alert resolved: Emails are present failed", "Good"), (card[0].Str("text"), card[0].Str("color")));
        Assert.Equal("Backfilled the missing emails", card[1].Str("text"));
        Assert.Equal(["Severity=Critical", "Product=Orders", "Resolved by=Ada"],
            card[2].GetProperty("facts").EnumerateArray().Select(f => $"{f.Str("title")}={f.Str("value")}"));
    }
}
