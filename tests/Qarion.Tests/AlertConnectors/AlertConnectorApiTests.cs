using System.Text;
using System.Text.Json;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.AlertConnectors;

/// <summary>The alert connector API: roles, secrets never returned, validation with a clear loc, and the synchronous test send.</summary>
public sealed class AlertConnectorApiTests(AlertConnectorFixture app) : IClassFixture<AlertConnectorFixture>
{
    private static string Url(string space) => $"/api/v1/spaces/{space}/alert-connectors";

    [Fact]
    public async Task Admins_manage_connectors_editors_read_them_without_the_url_and_viewers_do_not_see_them()
    {
        var admin = await app.CreateUserAsync("Admin");
        var editor = await app.CreateUserAsync("Editor");
        var viewer = await app.CreateUserAsync("Viewer");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"), (editor, "editor"), (viewer, "viewer"));
        var secretPath = "/services/T0001/B0002/Xy7Secret9Token4Zq";
        var created = await admin.Client.PostAsync(Url(space), new { name = "Slack #data", kind = "slack", url = app.Http.Url + secretPath });
        Assert.True(created.Status == 201, created.ToString());
        var json = created.Json;
        var id = json.Id();
        Assert.Equal($"/api/v1/spaces/{space}/alert-connectors/{id}", created.Header("Location"));
        Assert.Equal(("Slack #data", "slack", true, "low", true), (json.Str("name"), json.Str("kind"), json.GetProperty("has_secret").GetBoolean(), json.Str("min_severity"), json.GetProperty("is_enabled").GetBoolean()));
        Assert.Equal($"{app.Http.Url}/…n4Zq", json.Str("secret_hint"));
        Assert.Equal(["quality.alert.*"], json.GetProperty("event_types").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("{}", json.GetProperty("config").GetRawText());
        Assert.False(json.TryGetProperty("url", out _));
        Assert.Equal(JsonValueKind.Null, json.GetProperty("last_delivery").ValueKind);

        // The URL is in no response and not in the database in clear.
        var asEditor = await editor.Client.GetAsync($"{Url(space)}/{id}");
        var list = await editor.Client.GetAsync(Url(space));
        foreach (var body in new[] { created.Body, asEditor.Body, list.Body })
            Assert.DoesNotContain("Secret9Token", body, StringComparison.Ordinal);
        Assert.Equal(200, asEditor.Status);
        Assert.Equal(id, Assert.Single(list.Items()).Id());
        Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM alert_connectors WHERE position(convert_to('Secret9Token', 'UTF8') in encrypted_credentials) > 0"));
        Assert.Equal(1L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM alert_connectors WHERE id = '{id}' AND length(encrypted_credentials) > 37"));
        var audit = await admin.Client.GetAsync($"/api/v1/spaces/{space}/audit?size=100");
        Assert.DoesNotContain("Secret9Token", audit.Body, StringComparison.Ordinal);

        Assert.Equal(403, (await viewer.Client.GetAsync(Url(space))).Status);
        Assert.Equal(403, (await viewer.Client.GetAsync($"{Url(space)}/{id}")).Status);
        Assert.Equal(403, (await editor.Client.PostAsync(Url(space), new { name = "x", kind = "email", config = new { recipients = new[] { "a@example.com" } } })).Status);
        Assert.Equal(403, (await editor.Client.PatchAsync($"{Url(space)}/{id}", new { is_enabled = false })).Status);
        Assert.Equal(403, (await editor.Client.PostAsync($"{Url(space)}/{id}/test", new { })).Status);
        Assert.Equal(403, (await editor.Client.DeleteAsync($"{Url(space)}/{id}")).Status);
        Assert.Equal(200, (await editor.Client.GetAsync($"{Url(space)}/{id}/deliveries")).Status);
        Assert.Equal(403, (await viewer.Client.GetAsync($"{Url(space)}/{id}/deliveries")).Status);

        // PATCH with If-Match: routing and a new URL (a new hint); a stale version is 409.
        var etag = created.Header("ETag")!;
        var patched = await admin.Client.PatchAsync($"{Url(space)}/{id}", new
        {
            min_severity = "high", event_types = new[] { "quality.*", "contract.violated", "quality.*" }, is_enabled = false, url = app.Http.Url + "/services/new/WXYZ",
        }, new Dictionary<string, string> { ["If-Match"] = etag });
        Assert.True(patched.Status == 200, patched.ToString());
        Assert.Equal(("high", false, $"{app.Http.Url}/…WXYZ"), (patched.Json.Str("min_severity"), patched.Json.GetProperty("is_enabled").GetBoolean(), patched.Json.Str("secret_hint")));
        Assert.Equal(["quality.*", "contract.violated"], patched.Json.GetProperty("event_types").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(409, (await admin.Client.PatchAsync($"{Url(space)}/{id}", new { name = "stale" }, new Dictionary<string, string> { ["If-Match"] = etag })).Status);
        Assert.Equal(409, (await admin.Client.PostAsync(Url(space), new { name = "Slack #data", kind = "teams", url = app.Http.Url + "/t" })).Status);

        Assert.Equal(204, (await admin.Client.DeleteAsync($"{Url(space)}/{id}")).Status);
        Assert.Equal(404, (await admin.Client.GetAsync($"{Url(space)}/{id}")).Status);
        Assert.Equal(404, (await admin.Client.PostAsync($"{Url(space)}/{id}/test", new { })).Status);
    }

    [Fact]
    public async Task Test_sends_a_sample_now_and_answers_with_the_receivers_status()
    {
        var admin = await app.CreateUserAsync("Tess");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"));
        var tag = Guid.NewGuid().ToString("N")[..8];
        var okPath = $"/t/{tag}/ok";
        var goneePath = $"/t/{tag}/gone";
        var ok = (await admin.Client.PostAsync(Url(space), new { name = "Ops Slack", kind = "slack", url = app.Http.Url + okPath, event_types = new[] { "quality.*", "issue.created" }, min_severity = "high", is_enabled = false })).Json.Id();
        var gone = (await admin.Client.PostAsync(Url(space), new { name = "Gone Teams", kind = "teams", url = app.Http.Url + goneePath })).Json.Id();
        var recipient = $"test-{tag}@example.com";
        var mail = (await admin.Client.PostAsync(Url(space), new { name = "Ops mail", kind = "email", config = new { recipients = new[] { recipient } } })).Json.Id();
        app.Http.Respond(goneePath, 404);

        var result = await admin.Client.PostAsync($"{Url(space)}/{ok}/test", new { });
        Assert.Equal(200, result.Status);
        Assert.Equal((true, 200, JsonValueKind.Null), (result.Json.GetProperty("success").GetBoolean(), result.Json.GetProperty("status_code").GetInt32(), result.Json.GetProperty("error").ValueKind));
        var post = Assert.Single(app.Http.ReceivedOn(okPath));
        AlertTestSupport.AssertJson($$$"""
            {
              "text": "Test message from Qarion: Ops Slack",
              "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "Test message from Qarion: Ops Slack", "emoji": false}},
                {"type": "section", "text": {"type": "mrkdwn", "text": "This connector is set up correctly: alerts of this space that match its routing will arrive here."}},
                {"type": "section", "fields": [
                  {"type": "mrkdwn", "text": "*Connector*\nOps Slack"},
                  {"type": "mrkdwn", "text": "*Minimum severity*\nHigh"},
                  {"type": "mrkdwn", "text": "*Event types*\nquality.*, issue.created"}
                ]},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": "Qarion · Space {{{space}}} · test · 2026-03-01 09:30 UTC"}]}
              ]
            }
            """, post.BodyText);

        var failed = await admin.Client.PostAsync($"{Url(space)}/{gone}/test", new { });
        Assert.Equal(200, failed.Status);
        Assert.Equal((false, 404, "HTTP 404: error"), (failed.Json.GetProperty("success").GetBoolean(), failed.Json.GetProperty("status_code").GetInt32(), failed.Json.Str("error")));
        var card = JsonDocument.Parse(Assert.Single(app.Http.ReceivedOn(goneePath)).Body).RootElement;
        Assert.Equal("Test message from Qarion: Gone Teams", card.GetProperty("attachments")[0].GetProperty("content").GetProperty("body")[0].Str("text"));

        var emailed = await admin.Client.PostAsync($"{Url(space)}/{mail}/test", new { });
        Assert.True(emailed.Json.GetProperty("success").GetBoolean(), emailed.ToString());
        var received = Assert.Single(app.Smtp.Received, m => m.EnvelopeTo.Contains(recipient));
        Assert.Equal(("[Qarion] Test message from Qarion: Ops mail", true), (received.Subject, received.Secure));
        Assert.StartsWith("Test message from Qarion: Ops mail\n\nThis connector is set up correctly", AlertTestSupport.Lf(received.TextBody), StringComparison.Ordinal);
        Assert.Contains("<h2 style=\"color:#1f2328\">Test message from Qarion: Ops mail</h2>", received.HtmlBody, StringComparison.Ordinal);

        // Test sends leave no delivery records.
        Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM alert_deliveries WHERE connector_id IN ('{ok}', '{gone}', '{mail}')"));
    }

    [Fact]
    public async Task Bad_input_is_a_clear_4xx_naming_the_field()
    {
        var admin = await app.CreateUserAsync("Val");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"));
        var url = app.Http.Url + "/ok";
        async Task Expect(object body, string loc, string type)
        {
            var response = await admin.Client.PostAsync(Url(space), body);
            Assert.True(response.Status == 422, $"{JsonSerializer.Serialize(body)} → {response}");
            Assert.Equal((loc, type), (response.Loc(), response.ErrorType()));
        }

        await Expect(new { name = "a", kind = "slack", url = "not a url" }, "body.url", "invalid_url");
        await Expect(new { name = "a", kind = "slack", url = "ftp://hooks.example.com/x" }, "body.url", "invalid_url");
        await Expect(new { name = "a", kind = "teams", url = "https://user:pw@hooks.example.com/x" }, "body.url", "invalid_url");
        await Expect(new { name = "a", kind = "slack" }, "body.url", "missing");
        await Expect(new { name = "a", kind = "email", url, config = new { recipients = new[] { "a@example.com" } } }, "body.url", "not_applicable");
        await Expect(new { name = "a", kind = "sms", url }, "body.kind", "unsupported_channel");
        var sms = await admin.Client.PostAsync(Url(space), new { name = "a", kind = "sms", url });
        Assert.Equal("unsupported channel 'sms': must be one of slack, teams, email", sms.Json.GetProperty("errors")[0].Str("msg"));
        await Expect(new { name = "a", kind = "slack", url, event_types = new[] { "quality.alert.raised", "quality.nope" } }, "body.event_types.1", "unknown_event_type");
        await Expect(new { name = "a", kind = "slack", url, event_types = new[] { "nothing.*" } }, "body.event_types.0", "unknown_event_type");
        await Expect(new { name = "a", kind = "slack", url, event_types = new[] { "quality*" } }, "body.event_types.0", "unknown_event_type");
        await Expect(new { name = "a", kind = "slack", url, event_types = Array.Empty<string>() }, "body.event_types", "value_error");
        await Expect(new { name = "a", kind = "slack", url, min_severity = "urgent" }, "body.min_severity", "type_error");
        await Expect(new { name = "a", kind = "slack", url, config = new { channel = "#data" } }, "body.config.channel", "extra_forbidden");
        await Expect(new { name = "a", kind = "email" }, "body.config.recipients", "missing");
        await Expect(new { name = "a", kind = "email", config = new { recipients = Array.Empty<string>() } }, "body.config.recipients", "value_error");
        await Expect(new { name = "a", kind = "email", config = new { recipients = new[] { "ok@example.com", "not-an-address" } } }, "body.config.recipients.1", "value_error.email");
        await Expect(new { name = "a", kind = "email", config = new { recipients = new[] { "ok@example.com" }, note = new string('x', 20_000) } }, "body.config", "too_large");
        await Expect(new { name = " ", kind = "slack", url }, "body.name", "string_too_short");

        var id = (await admin.Client.PostAsync(Url(space), new { name = "fine", kind = "slack", url, event_types = new[] { "*", "quality.*", "access.request.*" } })).Json.Id();
        var patch = await admin.Client.PatchAsync($"{Url(space)}/{id}", new { event_types = new[] { "quality.alert.raised", "bogus.type" } });
        Assert.Equal(("body.event_types.1", "unknown_event_type"), (patch.Loc(), patch.ErrorType()));
        patch = await admin.Client.PatchAsync($"{Url(space)}/{id}", new { url = "javascript:alert(1)" });
        Assert.Equal(("body.url", "invalid_url"), (patch.Loc(), patch.ErrorType()));
        patch = await admin.Client.PatchAsync($"{Url(space)}/{id}", new { config = new { recipients = new[] { "a@example.com" } } });
        Assert.Equal(("body.config.recipients", "extra_forbidden"), (patch.Loc(), patch.ErrorType()));

        var huge = await admin.Client.SendRawAsync("POST", Url(space), JsonSerializer.Serialize(new { name = "a", kind = "slack", url, padding = new string('x', 1_100_000) }));
        Assert.Equal(413, huge.Status);
        Assert.Equal(0L, await app.Database.ScalarAsync<long>($"SELECT count(*) FROM alert_connectors c JOIN spaces s ON s.id = c.space_id WHERE s.slug = '{space}' AND c.name <> 'fine'"));
    }
}
