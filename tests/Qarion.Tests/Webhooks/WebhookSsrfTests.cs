using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Core.Ingestion;
using Qarion.Core.Outbox;
using Qarion.Core.Persistence;
using Qarion.Core.Webhooks;
using Qarion.Tests.Catalog;

namespace Qarion.Tests.Webhooks;

/// <summary>With private networks refused (production's setting): URLs to loopback, private and link-local addresses are refused at save and at send time.</summary>
public sealed class WebhookSsrfTests(SsrfWebhookFixture app) : IClassFixture<SsrfWebhookFixture>
{
    public static TheoryData<string> Private => new()
    {
        "http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest/meta-data/", "http://[::1]/hook",
        "http://localhost/hook", "http://192.168.0.10/hook", "http://172.16.5.4/hook", "http://[fd00::1]/hook", "http://0.0.0.0/hook",
    };

    [Theory]
    [MemberData(nameof(Private))]
    public async Task A_private_or_loopback_target_is_refused_at_save(string url)
    {
        var (space, _, admin) = await app.SpaceAsync();
        var created = await admin.Client.PostAsync($"/api/v1/spaces/{space}/webhooks", new { name = "ssrf", url, event_types = new[] { "*" } });
        Assert.Equal(["body.url private_address"], Quality.CheckTestSupport.Errors(created));
        Assert.Equal(0L, await app.CountAsync("SELECT count(*) FROM webhook_subscriptions WHERE name = 'ssrf'"));
    }

    [Fact]
    public async Task A_url_changed_to_a_private_target_is_refused_and_a_public_one_is_accepted()
    {
        var (space, _, admin) = await app.SpaceAsync();
        var hook = await WebhookFixture.CreateWebhookAsync(admin.Client, space, "https://93.184.215.14/hooks/qarion", ["*"]);
        var patched = await admin.Client.PatchAsync($"/api/v1/spaces/{space}/webhooks/{hook.Id()}", new { url = "http://169.254.169.254/" });
        Assert.Equal(["body.url private_address"], Quality.CheckTestSupport.Errors(patched));
        Assert.Equal("https://93.184.215.14/hooks/qarion", (await admin.Client.GetAsync($"/api/v1/spaces/{space}/webhooks/{hook.Id()}")).Json.Str("url"));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task A_stored_url_that_now_points_to_a_private_address_is_refused_at_send_time_without_retry(string host)
    {
        var (space, spaceId, admin) = await app.SpaceAsync();
        // As if the name resolved publicly when saved and to loopback now (DNS rebinding): the row is written below the API.
        var path = "/rebound-" + Guid.NewGuid().ToString("N")[..8];
        var url = app.Sink.Url.Replace("127.0.0.1", host, StringComparison.Ordinal) + path;
        var id = Guid.CreateVersion7();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<QarionDbContext>();
            var protector = scope.ServiceProvider.GetRequiredService<CredentialProtector>();
            db.Add(new WebhookSubscription
            {
                Id = id, SpaceId = spaceId, Name = "rebound", Url = url, EventTypes = ["*"], CreatedById = admin.Id,
                EncryptedSecret = protector.Protect(id, WebhookSigning.NewSecret()),
            });
            await db.SaveChangesAsync();
        }
        await app.EnqueueAsync(await app.EmitAsync(spaceId, OutboxEventTypes.IssueCreated, new { }));
        await app.DrainAsync();
        await Task.Delay(1300);
        await app.DrainAsync();

        Assert.Empty(app.Sink.ReceivedOn(path));
        var delivery = Assert.Single((await admin.Client.GetAsync($"/api/v1/spaces/{space}/webhooks/{id}/deliveries")).Items());
        Assert.Equal(("failed", 1), (delivery.Str("status"), delivery.GetProperty("attempts").GetInt32()));
        Assert.StartsWith("private_address", delivery.Str("last_error"), StringComparison.Ordinal);
        Assert.False(delivery.GetProperty("attempt_log")[0].GetProperty("will_retry").GetBoolean());

        var test = await admin.Client.PostAsync($"/api/v1/spaces/{space}/webhooks/{id}/test", new { });
        Assert.Equal((200, false, JsonValueKind.Null), (test.Status, test.Json.GetProperty("success").GetBoolean(), test.Json.GetProperty("status_code").ValueKind));
        Assert.StartsWith("private_address", test.Json.Str("error"), StringComparison.Ordinal);
        Assert.Empty(app.Sink.ReceivedOn(path));
    }

    [Fact]
    public async Task The_connect_time_guard_refuses_a_loopback_address_even_when_the_save_check_is_skipped()
    {
        await using var scope = app.Services.CreateAsyncScope();
        var outbound = scope.ServiceProvider.GetRequiredService<Qarion.Core.Common.OutboundHttp>();
        using var request = new HttpRequestMessage(HttpMethod.Post, app.Sink.Url + "/direct");
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => outbound.SendAsync(request, default));
        Assert.Contains("Refused to connect", error.Message, StringComparison.Ordinal);
        Assert.Empty(app.Sink.ReceivedOn("/direct"));
        await Task.CompletedTask;
    }
}
