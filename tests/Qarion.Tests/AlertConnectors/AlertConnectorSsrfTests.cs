using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Core.AlertConnectors;
using Qarion.Core.Ingestion;
using Qarion.Core.Outbox;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;
using Qarion.Tests.Issues;

namespace Qarion.Tests.AlertConnectors;

/// <summary>The production setting: private networks are not allowed (no test here sends anything beyond loopback).</summary>
public sealed class SsrfFixture : AppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Qarion:Outbound:AllowPrivateNetworks"] = "false" };
}

public sealed class AlertConnectorSsrfTests(SsrfFixture app) : IClassFixture<SsrfFixture>
{
    [Fact]
    public async Task Webhook_urls_in_private_loopback_or_link_local_ranges_are_refused_when_saved_and_when_sent()
    {
        var admin = await app.CreateUserAsync("Sam");
        var space = await app.CreateSpaceAsync(null, (admin, "admin"));
        var url = $"/api/v1/spaces/{space}/alert-connectors";
        foreach (var target in new[]
                 {
                     "http://127.0.0.1:8080/hook", "https://localhost/hook", "https://10.1.2.3/hook", "https://172.16.0.1/hook", "https://192.168.1.20/hook",
                     "https://169.254.169.254/latest/meta-data", "https://[::1]/hook", "https://[fd00::1]/hook", "https://100.64.0.1/hook", "https://0.0.0.0/hook",
                 })
        {
            var response = await admin.Client.PostAsync(url, new { name = "internal", kind = "slack", url = target });
            Assert.True(response.Status == 422, $"{target} → {response}");
            Assert.Equal(("body.url", "private_address"), (response.Loc(), response.ErrorType()));
        }
        // A public address (here from the documentation range, TEST-NET-3) is accepted, over https only. The connector
        // is created disabled and deleted before anything is dispatched: no test sends beyond loopback.
        var plain = await admin.Client.PostAsync(url, new { name = "public", kind = "teams", url = "http://203.0.113.10/hook", is_enabled = false });
        Assert.Equal(("body.url", "https_required"), (plain.Loc(), plain.ErrorType()));
        var created = await admin.Client.PostAsync(url, new { name = "public", kind = "teams", url = "https://203.0.113.10/hook", is_enabled = false });
        Assert.True(created.Status == 201, created.ToString());
        var patch = await admin.Client.PatchAsync($"{url}/{created.Json.Id()}", new { url = "https://10.0.0.8/hook" });
        Assert.Equal(("body.url", "private_address"), (patch.Loc(), patch.ErrorType()));
        Assert.Equal(204, (await admin.Client.DeleteAsync($"{url}/{created.Json.Id()}")).Status);

        // A private URL that reached the database anyway (saved while allowed, or a name that now resolves inside):
        // refused at send time, recorded as rejected, never retried, nothing arrives.
        await using var sink = await HttpSink.StartAsync();
        var spaceId = await app.SpaceIdAsync(space);
        var connectorId = Guid.CreateVersion7();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var protector = scope.ServiceProvider.GetRequiredService<CredentialProtector>();
            var db = scope.ServiceProvider.GetRequiredService<Qarion.Core.Persistence.QarionDbContext>();
            db.Add(new AlertConnector
            {
                Id = connectorId, SpaceId = spaceId, Name = "smuggled", Kind = AlertChannelKind.Slack, Config = "{}", EventTypes = ["*"],
                EncryptedCredentials = protector.Protect(connectorId, sink.Url + "/inside"), SecretHint = "hint",
            });
            await db.SaveChangesAsync();
        }
        var message = new OutboxMessage(Guid.NewGuid(), spaceId, OutboxEventTypes.AlertRaised, app.Clock.GetUtcNow(),
            JsonDocument.Parse("""{"title": "x failed on y", "severity": "critical"}""").RootElement);
        await app.DispatchAsync(message);
        await app.DispatchAsync(message);
        var delivery = await app.WithDbAsync(db => db.Set<AlertDelivery>().AsNoTracking().SingleAsync(d => d.ConnectorId == connectorId));
        Assert.Equal((AlertDeliveryStatus.Rejected, 1, "private_address: the webhook URL may not be called"), (delivery.Status, delivery.Attempts, delivery.Error));
        var test = await admin.Client.PostAsync($"{url}/{connectorId}/test", new { });
        Assert.Equal((false, "private_address: the webhook URL may not be called"), (test.Json.GetProperty("success").GetBoolean(), test.Json.Str("error")));
        Assert.Empty(sink.Received);
    }
}
