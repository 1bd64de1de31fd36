using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Outbox;
using Qarion.Core.Webhooks;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Webhooks;

/// <summary>
/// Deliveries end to end: real outbox rows, their relay messages on a real Azurite queue, the queue function, a real
/// HTTP receiver. Signatures are checked by an independent HMAC implementation on the raw bytes received.
/// </summary>
public sealed class WebhookDeliveryTests(WebhookFixture app) : IClassFixture<WebhookFixture>
{
    private static string Hooks(string space) => $"/api/v1/spaces/{space}/webhooks";

    private string Url(string path) => app.Sink.Url + path;

    private static string NewPath() => "/hook-" + Guid.NewGuid().ToString("N")[..10];

    private static async Task<List<JsonElement>> DeliveriesAsync(ApiClient client, string space, Guid webhook, string? status = null)
        => (await client.GetAsync($"{Hooks(space)}/{webhook}/deliveries{(status is null ? "" : "?status=" + status)}")).Items();

    [Fact]
    public async Task A_delivery_is_signed_so_that_an_independent_verifier_accepts_it_and_rejects_a_tampered_body()
    {
        var (space, spaceId, admin) = await app.SpaceAsync();
        var path = NewPath();
        var hook = await WebhookFixture.CreateWebhookAsync(admin.Client, space, Url(path), ["quality.check.failed"]);
        var secret = hook.Str("secret");
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(secret["whsec_".Length..]).Length);

        var message = await app.EmitAsync(spaceId, OutboxEventTypes.CheckFailed, new { check_id = Guid.Empty, check_name = "Orders not null", metric = 3.5 });
        await app.EnqueueAsync(message);
        await app.DrainAsync();

        var received = Assert.Single(app.Sink.ReceivedOn(path));
        Assert.Equal("POST", received.Method);
        Assert.StartsWith("application/json", received.Header("content-type"), StringComparison.Ordinal);
        Assert.Equal(message.EventId.ToString(), received.Header("webhook-id"));
        Assert.Equal(app.Clock.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), received.Header("webhook-timestamp"));
        Assert.True(WebhookFixture.Verify(secret, received), "the signature does not verify");

        using var body = JsonDocument.Parse(received.Body);
        var root = body.RootElement;
        Assert.Equal(["id", "type", "occurred_at", "space_id", "data"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(message.EventId, root.GetProperty("id").GetGuid());
        Assert.Equal("quality.check.failed", root.Str("type"));
        Assert.Equal("2026-03-01T09:30:00.000Z", root.Str("occurred_at"));
        Assert.Equal(spaceId, root.GetProperty("space_id").GetGuid());
        Assert.Equal("Orders not null", root.GetProperty("data").Str("check_name"));
        Assert.Equal(3.5, root.GetProperty("data").GetProperty("metric").GetDouble());

        // One byte changed, or another secret: the verifier refuses.
        var tampered = received.Body.ToArray();
        tampered[Array.IndexOf(tampered, (byte)'3')] = (byte)'9';
        Assert.False(WebhookFixture.Verify(secret, received, tampered));
        Assert.False(WebhookFixture.Verify(WebhookSigning.NewSecret(), received));
    }

    [Fact]
    public async Task The_same_outbox_message_delivered_three_times_makes_one_delivery_series_and_one_POST()
    {
        var (space, spaceId, admin) = await app.SpaceAsync();
        var path = NewPath();
        var hook = (await WebhookFixture.CreateWebhookAsync(admin.Client, space, Url(path), ["issue.created"])).Id();
        var message = await app.EmitAsync(spaceId, OutboxEventTypes.IssueCreated, new { issue_id = Guid.NewGuid(), title = "Broken feed" });

        await app.EnqueueAsync(message, times: 3);
        await app.DrainAsync();
        await app.EnqueueAsync(message); // and once more after the series finished
        await app.DrainAsync();

        Assert.Single(app.Sink.ReceivedOn(path));
        var delivery = Assert.Single(await DeliveriesAsync(admin.Client, space, hook));
        Assert.Equal(("succeeded", 1, 200), (delivery.Str("status"), delivery.GetProperty("attempts").GetInt32(), delivery.GetProperty("last_status_code").GetInt32()));
        Assert.Equal(message.EventId, delivery.GetProperty("event_id").GetGuid());
        Assert.Equal(1L, await app.CountAsync($"SELECT count(*) FROM webhook_deliveries WHERE event_id = '{message.EventId}'"));
    }

    [Fact]
    public async Task A_receiver_answering_500_500_200_gets_three_attempts_with_growing_back_off_and_the_series_succeeds()
    {
        var (space, spaceId, admin) = await app.SpaceAsync();
        var path = NewPath();
        app.Sink.Respond(path, 500, 500);
        var hook = (await WebhookFixture.CreateWebhookAsync(admin.Client, space, Url(path), ["sync.*"])).Id();
        await app.EnqueueAsync(await app.EmitAsync(spaceId, OutboxEventTypes.SyncFailed, new { job_id = Guid.NewGuid() }));

        await app.DrainUntilAsync(async () => (await DeliveriesAsync(admin.Client, space, hook, "succeeded")).Count == 1);

        var delivery = Assert.Single(await DeliveriesAsync(admin.Client, space, hook));
        Assert.Equal(("succeeded", 3), (delivery.Str("status"), delivery.GetProperty("attempts").GetInt32()));
        Assert.Equal(JsonValueKind.Null, delivery.GetProperty("next_attempt_at").ValueKind);
        var log = delivery.GetProperty("attempt_log").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3], log.Select(a => a.GetProperty("attempt").GetInt32()));
        Assert.Equal([500, 500, 200], log.Select(a => a.GetProperty("status_code").GetInt32()));
        Assert.Equal([true, true, false], log.Select(a => a.GetProperty("will_retry").GetBoolean()));
        Assert.Equal("HTTP 500 Internal Server Error: error", log[0].Str("error"));
        Assert.Equal(JsonValueKind.Null, log[2].GetProperty("error").ValueKind);
        Assert.All(log, a => Assert.True(a.GetProperty("latency_ms").GetInt64() >= 0));
        // Base 1 s doubling, with at most 20 % jitter: 1–1.2 s, then 2–2.4 s.
        var delays = log.Take(2).Select(a => (a.GetProperty("next_attempt_at").GetDateTimeOffset() - a.GetProperty("attempted_at").GetDateTimeOffset()).TotalSeconds).ToList();
        Assert.InRange(delays[0], 1.0, 1.2);
        Assert.InRange(delays[1], 2.0, 2.4);
        // The queue really held the retries back.
        var times = app.Sink.ReceivedOn(path).Select(r => r.ReceivedAt).ToList();
        Assert.Equal(3, times.Count);
        Assert.True((times[1] - times[0]).TotalSeconds >= 0.9, $"second attempt after {(times[1] - times[0]).TotalSeconds} s");
        Assert.True((times[2] - times[1]).TotalSeconds >= 1.9, $"third attempt after {(times[2] - times[1]).TotalSeconds} s");
        // Every attempt carries the same id and a valid signature.
        Assert.All(app.Sink.ReceivedOn(path), r => Assert.Equal(app.Sink.ReceivedOn(path)[0].Header("webhook-id"), r.Header("webhook-id")));
        Assert.Equal(0, (await admin.Client.GetAsync($"{Hooks(space)}/{hook}")).Json.GetProperty("consecutive_failures").GetInt32());
    }

    [Theory]
    [InlineData(410)]
    [InlineData(400)]
    public async Task A_4xx_other_than_408_and_429_fails_the_series_without_retry(int status)
    {
        var (space, spaceId, admin) = await app.SpaceAsync();
        var path = NewPath();
        app.Sink.Respond(path, status);
        var hook = (await WebhookFixture.CreateWebhookAsync(admin.Client, space, Url(path), ["*"])).Id();
        await app.EnqueueAsync(await app.EmitAsync(spaceId, OutboxEventTypes.ProductCreated, new { product_id = Guid.NewGuid() }));
        await app.DrainAsync();
        await Task.Delay(1500);
        await app.DrainAsync();

        Assert.Single(app.Sink.ReceivedOn(path));
        var delivery = Assert.Single(await DeliveriesAsync(admin.Client, space, hook, "failed"));
        Assert.Equal((1, status), (delivery.GetProperty("attempts").GetInt32(), delivery.GetProperty("last_status_code").GetInt32()));
        var attempt = Assert.Single(delivery.GetProperty("attempt_log").EnumerateArray());
        Assert.False(attempt.GetProperty("will_retry").GetBoolean());
        Assert.Equal(JsonValueKind.Null, attempt.GetProperty("next_attempt_at").ValueKind);
        Assert.Empty(await DeliveriesAsync(admin.Client, space, hook, "pending"));
    }

    [Fact]
    public async Task A_receiver_that_times_out_is_retried_and_the_error_says_timeout()
    {
        var (space, spaceId, admin) = await app.SpaceAsync();
        var path = NewPath();
        app.Sink.Delay(path, TimeSpan.FromSeconds(5));
        var hook = (await WebhookFixture.CreateWebhookAsync(admin.Client, space, Url(path), ["schema.changed"])).Id();
        await app.EnqueueAsync(await app.EmitAsync(spaceId, OutboxEventTypes.SchemaChanged, new { product_id = Guid.NewGuid() }));
        await app.DrainAsync();

        var delivery = Assert.Single(await DeliveriesAsync(admin.Client, space, hook, "pending"));
        var attempt = Assert.Single(delivery.GetProperty("attempt_log").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, attempt.GetProperty("status_code").ValueKind);
        Assert.StartsWith("timeout", attempt.Str("error"), StringComparison.Ordinal);
        Assert.True(attempt.GetProperty("will_retry").GetBoolean());
        Assert.True(attempt.GetProperty("latency_ms").GetInt64() >= 1900);
        await admin.Client.DeleteAsync($"{Hooks(space)}/{hook}"); // the pending retry finds nothing to send
        await Task.Delay(1300);
        await app.DrainAsync();
        Assert.Single(app.Sink.ReceivedOn(path));
    }

    [Fact]
    public async Task Repeated_failed_series_disable_the_subscription_and_tell_its_owner_through_webhook_disabled()
    {
        var (space, spaceId, admin) = await app.SpaceAsync();
        var path = NewPath();
        app.Sink.Respond(path, 400, 400, 400);
        var hook = (await WebhookFixture.CreateWebhookAsync(admin.Client, space, Url(path), ["issue.*"], name: "Failing hook")).Id();

        await app.EnqueueAsync(await app.EmitAsync(spaceId, OutboxEventTypes.IssueCreated, new { n = 1 }));
        await app.DrainAsync();
        var after1 = (await admin.Client.GetAsync($"{Hooks(space)}/{hook}")).Json;
        Assert.Equal((true, 1), (after1.GetProperty("is_enabled").GetBoolean(), after1.GetProperty("consecutive_failures").GetInt32()));

        await app.EnqueueAsync(await app.EmitAsync(spaceId, OutboxEventTypes.IssueResolved, new { n = 2 }));
        await app.DrainAsync();
        var after2 = (await admin.Client.GetAsync($"{Hooks(space)}/{hook}")).Json;
        Assert.False(after2.GetProperty("is_enabled").GetBoolean());
        Assert.Equal(2, after2.GetProperty("consecutive_failures").GetInt32());
        Assert.Equal("Disabled automatically after 2 consecutive failed deliveries.", after2.Str("disabled_reason"));
        Assert.Equal(app.Clock.GetUtcNow(), after2.GetProperty("disabled_at").GetDateTimeOffset());

        var events = await app.WithDbAsync(db => db.OutboxEvents.AsNoTracking().Where(e => e.EventType == OutboxEventTypes.WebhookDisabled && e.SpaceId == spaceId).ToListAsync());
        var disabled = Assert.Single(events);
        using var payload = JsonDocument.Parse(disabled.Payload);
        Assert.Equal([admin.Id], payload.RootElement.GetProperty("recipient_ids").EnumerateArray().Select(x => x.GetGuid()));
        Assert.Equal(hook, payload.RootElement.GetProperty("webhook_id").GetGuid());
        Assert.Equal("Failing hook", payload.RootElement.Str("name"));
        Assert.Equal(2, payload.RootElement.GetProperty("consecutive_failures").GetInt32());

        // Disabled: a third event makes no delivery.
        await app.EnqueueAsync(await app.EmitAsync(spaceId, OutboxEventTypes.IssueAssigned, new { n = 3 }));
        await app.DrainAsync();
        Assert.Equal(2, app.Sink.ReceivedOn(path).Count);
        Assert.Equal(2, (await DeliveriesAsync(admin.Client, space, hook)).Count);

        // Enabling again clears the count and the reason; deliveries resume.
        var enabled = await admin.Client.PostAsync($"{Hooks(space)}/{hook}/enable", new { });
        Assert.Equal((true, 0, JsonValueKind.Null), (enabled.Json.GetProperty("is_enabled").GetBoolean(), enabled.Json.GetProperty("consecutive_failures").GetInt32(), enabled.Json.GetProperty("disabled_reason").ValueKind));
        await app.EnqueueAsync(await app.EmitAsync(spaceId, OutboxEventTypes.IssueCreated, new { n = 4 }));
        await app.DrainAsync();
        Assert.Equal(3, app.Sink.ReceivedOn(path).Count);
        Assert.Equal(1L, await app.CountAsync($"SELECT count(*) FROM outbox_events WHERE event_type = 'webhook.disabled' AND space_id = '{spaceId}'"));
    }

    [Fact]
    public async Task Wildcards_pick_the_subscriptions_an_event_goes_to_within_its_space_only()
    {
        var (space, spaceId, admin) = await app.SpaceAsync();
        var (_, otherSpaceId, _) = await app.SpaceAsync();
        var quality = (await WebhookFixture.CreateWebhookAsync(admin.Client, space, Url(NewPath()), ["quality.*"])).Id();
        var all = (await WebhookFixture.CreateWebhookAsync(admin.Client, space, Url(NewPath()), ["*"])).Id();
        var exact = (await WebhookFixture.CreateWebhookAsync(admin.Client, space, Url(NewPath()), ["issue.created", "quality.alert.raised"])).Id();
        var alerts = (await WebhookFixture.CreateWebhookAsync(admin.Client, space, Url(NewPath()), ["quality.alert.*"])).Id();
        var off = (await WebhookFixture.CreateWebhookAsync(admin.Client, space, Url(NewPath()), ["*"])).Id();
        Assert.Equal(200, (await admin.Client.PostAsync($"{Hooks(space)}/{off}/disable", new { })).Status);

        var failed = await app.EmitAsync(spaceId, OutboxEventTypes.CheckFailed, new { });
        var raised = await app.EmitAsync(spaceId, OutboxEventTypes.AlertRaised, new { });
        var issue = await app.EmitAsync(spaceId, OutboxEventTypes.IssueCreated, new { });
        var elsewhere = await app.EmitAsync(otherSpaceId, OutboxEventTypes.IssueCreated, new { });
        foreach (var m in new[] { failed, raised, issue, elsewhere }) await app.EnqueueAsync(m);
        await app.DrainAsync();

        var pairs = await app.WithDbAsync(db => db.Set<WebhookDelivery>().AsNoTracking().Where(d => d.SpaceId == spaceId || d.SpaceId == otherSpaceId)
            .Select(d => new { d.EventId, d.SubscriptionId }).ToListAsync());
        string Name(Guid id) => id == quality ? "quality" : id == all ? "all" : id == exact ? "exact" : id == alerts ? "alerts" : "off";
        string Event(Guid? id) => id == failed.EventId ? "failed" : id == raised.EventId ? "raised" : id == issue.EventId ? "issue" : "elsewhere";
        Assert.Equal(
            ["failed all", "failed quality", "issue all", "issue exact", "raised alerts", "raised all", "raised exact", "raised quality"],
            pairs.Select(p => $"{Event(p.EventId)} {Name(p.SubscriptionId)}").Order(StringComparer.Ordinal));

        Assert.True(EventTypePatterns.Matches("quality.*", "quality.alert.raised"));
        Assert.False(EventTypePatterns.Matches("quality.*", "qualityx.check"));
        Assert.False(EventTypePatterns.Matches("issue.created", "issue.created.extra"));
        Assert.True(EventTypePatterns.Matches("*", "webhook.disabled"));
    }

    [Fact]
    public async Task Secrets_are_shown_once_on_create_and_rotate_and_never_again()
    {
        var (space, spaceId, admin) = await app.SpaceAsync();
        var path = NewPath();
        var given = "whsec_" + Convert.ToBase64String(Encoding.UTF8.GetBytes("a-supplied-secret-of-32-bytes!!!"));
        var created = await WebhookFixture.CreateWebhookAsync(admin.Client, space, Url(path), ["*"], name: "Secretive", secret: given);
        var id = created.Id();
        Assert.Equal(given, created.Str("secret"));
        Assert.True(created.GetProperty("has_secret").GetBoolean());

        var rotated = await admin.Client.PostAsync($"{Hooks(space)}/{id}/rotate-secret", new { });
        Assert.Equal(200, rotated.Status);
        var fresh = rotated.Json.Str("secret");
        Assert.NotEqual(given, fresh);
        Assert.StartsWith("whsec_", fresh, StringComparison.Ordinal);

        await app.EnqueueAsync(await app.EmitAsync(spaceId, OutboxEventTypes.ProductUpdated, new { }));
        await app.DrainAsync();
        var received = Assert.Single(app.Sink.ReceivedOn(path));
        Assert.True(WebhookFixture.Verify(fresh, received));
        Assert.False(WebhookFixture.Verify(given, received));

        var responses = new List<ApiResponse>
        {
            await admin.Client.GetAsync(Hooks(space)),
            await admin.Client.GetAsync($"{Hooks(space)}/{id}"),
            await admin.Client.PatchAsync($"{Hooks(space)}/{id}", new { description = "no secrets here" }),
            await admin.Client.PostAsync($"{Hooks(space)}/{id}/disable", new { }),
            await admin.Client.PostAsync($"{Hooks(space)}/{id}/enable", new { }),
            await admin.Client.PostAsync($"{Hooks(space)}/{id}/test", new { }),
            await admin.Client.GetAsync($"{Hooks(space)}/{id}/deliveries"),
            await admin.Client.GetAsync($"/api/v1/spaces/{space}/audit?size=100"),
        };
        foreach (var r in responses)
        {
            Assert.True(r.Status == 200, r.ToString());
            Assert.DoesNotContain(fresh["whsec_".Length..], r.Body, StringComparison.Ordinal);
            Assert.DoesNotContain(given["whsec_".Length..], r.Body, StringComparison.Ordinal);
            Assert.DoesNotContain("\"secret\"", r.Body, StringComparison.Ordinal);
        }
        // At rest: ciphertext only.
        var stored = await app.WithDbAsync(db => db.Set<WebhookSubscription>().AsNoTracking().Where(w => w.Id == id).Select(w => w.EncryptedSecret).SingleAsync());
        Assert.Equal(-1, stored.AsSpan().IndexOf(Encoding.UTF8.GetBytes(fresh)));
    }

    [Fact]
    public async Task The_test_endpoint_sends_a_signed_webhook_test_now_and_reports_the_answer_without_retrying()
    {
        var (space, spaceId, admin) = await app.SpaceAsync();
        var path = NewPath();
        var created = await WebhookFixture.CreateWebhookAsync(admin.Client, space, Url(path), ["contract.violated"], name: "Tested");
        var id = created.Id();

        var ok = await admin.Client.PostAsync($"{Hooks(space)}/{id}/test", new { });
        Assert.Equal(200, ok.Status);
        Assert.Equal((true, 1, 200, JsonValueKind.Null), (ok.Json.GetProperty("success").GetBoolean(), ok.Json.GetProperty("attempt").GetInt32(),
            ok.Json.GetProperty("status_code").GetInt32(), ok.Json.GetProperty("error").ValueKind));
        var received = Assert.Single(app.Sink.ReceivedOn(path));
        Assert.True(WebhookFixture.Verify(created.Str("secret"), received));
        using var body = JsonDocument.Parse(received.Body);
        Assert.Equal("webhook.test", body.RootElement.Str("type"));
        Assert.Equal(ok.Json.GetProperty("delivery_id").GetGuid(), body.RootElement.GetProperty("id").GetGuid());
        Assert.Equal(id, body.RootElement.GetProperty("data").GetProperty("webhook_id").GetGuid());
        Assert.Equal(spaceId, body.RootElement.GetProperty("space_id").GetGuid());

        app.Sink.Respond(path, 503);
        var bad = await admin.Client.PostAsync($"{Hooks(space)}/{id}/test", new { });
        Assert.Equal((false, 503), (bad.Json.GetProperty("success").GetBoolean(), bad.Json.GetProperty("status_code").GetInt32()));
        Assert.Equal("HTTP 503 Service Unavailable: error", bad.Json.Str("error"));
        await Task.Delay(1300);
        await app.DrainAsync();
        Assert.Equal(2, app.Sink.ReceivedOn(path).Count);
        var failed = Assert.Single(await DeliveriesAsync(admin.Client, space, id, "failed"));
        Assert.Equal(("webhook.test", JsonValueKind.Null), (failed.Str("event_type"), failed.GetProperty("event_id").ValueKind));
        // Test deliveries never count towards disabling.
        Assert.Equal(0, (await admin.Client.GetAsync($"{Hooks(space)}/{id}")).Json.GetProperty("consecutive_failures").GetInt32());
    }

    [Fact]
    public async Task A_failed_delivery_can_be_sent_again_once_as_the_next_attempt_of_its_series()
    {
        var (space, spaceId, admin) = await app.SpaceAsync();
        var path = NewPath();
        app.Sink.Respond(path, 400);
        var secret = "whsec_" + Convert.ToBase64String(new byte[32]);
        var hook = (await WebhookFixture.CreateWebhookAsync(admin.Client, space, Url(path), ["issue.created"], secret: secret)).Id();
        var message = await app.EmitAsync(spaceId, OutboxEventTypes.IssueCreated, new { title = "again" });
        await app.EnqueueAsync(message);
        await app.DrainAsync();
        var delivery = Assert.Single(await DeliveriesAsync(admin.Client, space, hook, "failed")).Id();

        var again = await admin.Client.PostAsync($"{Hooks(space)}/{hook}/deliveries/{delivery}/redeliver", new { });
        Assert.Equal(200, again.Status);
        Assert.Equal((true, 2, 200), (again.Json.GetProperty("success").GetBoolean(), again.Json.GetProperty("attempt").GetInt32(), again.Json.GetProperty("status_code").GetInt32()));
        var one = (await admin.Client.GetAsync($"{Hooks(space)}/{hook}/deliveries/{delivery}")).Json;
        Assert.Equal(("succeeded", 2), (one.Str("status"), one.GetProperty("attempts").GetInt32()));
        Assert.Equal([400, 200], one.GetProperty("attempt_log").EnumerateArray().Select(a => a.GetProperty("status_code").GetInt32()));
        var requests = app.Sink.ReceivedOn(path);
        Assert.Equal(2, requests.Count);
        Assert.Equal(requests[0].BodyText, requests[1].BodyText);
        Assert.Equal(message.EventId.ToString(), requests[1].Header("webhook-id"));
        Assert.True(WebhookFixture.Verify(secret, requests[1]));

        var twice = await admin.Client.PostAsync($"{Hooks(space)}/{hook}/deliveries/{delivery}/redeliver", new { });
        Assert.Equal((409, "delivery_not_failed"), (twice.Status, twice.Code()));
        Assert.Equal(404, (await admin.Client.PostAsync($"{Hooks(space)}/{hook}/deliveries/{Guid.NewGuid()}/redeliver", new { })).Status);
    }

    [Fact]
    public async Task An_event_larger_than_the_body_limit_is_sent_without_its_data()
    {
        var (space, spaceId, admin) = await app.SpaceAsync();
        var path = NewPath();
        var created = await WebhookFixture.CreateWebhookAsync(admin.Client, space, Url(path), ["product.updated"]);
        var message = await app.EmitAsync(spaceId, OutboxEventTypes.ProductUpdated, new { description = new string('x', 5000) });
        await app.EnqueueAsync(message);
        await app.DrainAsync();
        var received = Assert.Single(app.Sink.ReceivedOn(path));
        Assert.True(WebhookFixture.Verify(created.Str("secret"), received));
        using var body = JsonDocument.Parse(received.Body);
        Assert.Equal(JsonValueKind.Null, body.RootElement.GetProperty("data").ValueKind);
        Assert.True(body.RootElement.GetProperty("data_truncated").GetBoolean());
        Assert.Equal(message.EventId, body.RootElement.GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task Only_admins_manage_webhooks_and_bad_input_is_a_422_with_its_location()
    {
        var (space, _, admin) = await app.SpaceAsync();
        var editor = await app.CreateUserAsync("Editor");
        Assert.Equal(201, (await (await app.AdminAsync()).PostAsync($"/api/v1/spaces/{space}/members", new { user_id = editor.Id, role = "editor" })).Status);
        var viewer = await app.CreateUserAsync("Viewer");
        Assert.Equal(201, (await (await app.AdminAsync()).PostAsync($"/api/v1/spaces/{space}/members", new { user_id = viewer.Id, role = "viewer" })).Status);
        Assert.Equal(403, (await viewer.Client.GetAsync(Hooks(space))).Status);
        Assert.Equal(403, (await editor.Client.GetAsync(Hooks(space))).Status);
        Assert.Equal(403, (await editor.Client.PostAsync(Hooks(space), new { name = "x", url = Url("/x"), event_types = new[] { "*" } })).Status);

        async Task<List<string>> Errors(object body, string method = "POST", string? path = null)
            => CheckTestSupportErrors(await admin.Client.SendJsonAsync(method, path ?? Hooks(space), body));

        Assert.Equal(["body.url invalid_url"], await Errors(new { name = "a", url = "ftp://example.com/hook", event_types = new[] { "*" } }));
        Assert.Equal(["body.url invalid_url"], await Errors(new { name = "a", url = "not a url", event_types = new[] { "*" } }));
        Assert.Equal(["body.url invalid_url"], await Errors(new { name = "a", url = "https://user:pw@example.com/", event_types = new[] { "*" } }));
        Assert.Equal(["body.url invalid_url"], await Errors(new { name = "a", url = "https://example.com/" + new string('a', 2100), event_types = new[] { "*" } }));
        Assert.Equal(["body.event_types.1 unknown_event_type", "body.event_types.2 unknown_event_type", "body.event_types.3 unknown_event_type"],
            await Errors(new { name = "a", url = Url("/a"), event_types = new[] { "quality.*", "quality.nope", "nosuch.*", "qual*" } }));
        Assert.Equal(["body.event_types too_short"], await Errors(new { name = "a", url = Url("/a"), event_types = Array.Empty<string>() }));
        Assert.Equal(["body.event_types too_long"], await Errors(new { name = "a", url = Url("/a"), event_types = Enumerable.Repeat("*", 31).ToArray() }));
        Assert.Equal(["body.description string_too_long", "body.name string_too_long"],
            await Errors(new { name = new string('n', 201), url = Url("/a"), event_types = new[] { "*" }, description = new string('d', 1001) }));
        Assert.Equal(["body.secret invalid_secret"], await Errors(new { name = "a", url = Url("/a"), event_types = new[] { "*" }, secret = "hunter2" }));
        Assert.Equal(["body.secret invalid_secret"], await Errors(new { name = "a", url = Url("/a"), event_types = new[] { "*" }, secret = "whsec_" + Convert.ToBase64String(new byte[8]) }));
        Assert.Equal(["body.event_types missing"], await Errors(new { name = "a", url = Url("/a") }));

        var hook = (await WebhookFixture.CreateWebhookAsync(admin.Client, space, Url("/a"), ["*"], name: "Taken")).Id();
        Assert.Equal(403, (await editor.Client.GetAsync($"{Hooks(space)}/{hook}/deliveries")).Status);
        Assert.Equal(403, (await editor.Client.PostAsync($"{Hooks(space)}/{hook}/test", new { })).Status);
        Assert.Equal(403, (await viewer.Client.PostAsync($"{Hooks(space)}/{hook}/rotate-secret", new { })).Status);
        Assert.Equal(["body.event_types.0 unknown_event_type"], await Errors(new { event_types = new[] { "nope" } }, "PATCH", $"{Hooks(space)}/{hook}"));
        Assert.Equal(["body.url invalid_url"], await Errors(new { url = "javascript:alert(1)" }, "PATCH", $"{Hooks(space)}/{hook}"));
        Assert.Equal(["body.secret invalid_secret"], await Errors(new { secret = "whsec_!!" }, "POST", $"{Hooks(space)}/{hook}/rotate-secret"));
        var duplicate = await admin.Client.PostAsync(Hooks(space), new { name = "Taken", url = Url("/b"), event_types = new[] { "*" } });
        Assert.Equal((409, "duplicate"), (duplicate.Status, duplicate.Code()));
        Assert.Equal(422, (await admin.Client.GetAsync($"{Hooks(space)}/{hook}/deliveries?status=bogus")).Status);
        // Patched types are de-duplicated and kept in order.
        var patched = await admin.Client.PatchAsync($"{Hooks(space)}/{hook}", new { event_types = new[] { "issue.*", "sync.failed", "issue.*" } });
        Assert.Equal(["issue.*", "sync.failed"], patched.Json.GetProperty("event_types").EnumerateArray().Select(e => e.GetString()));
    }

    private static List<string> CheckTestSupportErrors(ApiResponse r) => Quality.CheckTestSupport.Errors(r).Order(StringComparer.Ordinal).ToList();
}
