using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Core.Outbox;
using Qarion.Core.Persistence;
using Qarion.Functions.Webhooks;
using Qarion.Tests.Catalog;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Webhooks;

/// <summary>
/// The app with a <c>webhooks</c> queue of its own in Azurite (drained as the Functions host would: receive,
/// invoke the queue function, delete on success), a real HTTP receiver, short back-off for the retry tests and
/// private addresses allowed (the receiver listens on 127.0.0.1).
/// </summary>
public class WebhookFixture : AppFixture
{
    private static int _instances;
    private readonly string _queue = $"wh-{Environment.ProcessId}-{Interlocked.Increment(ref _instances)}-{Guid.NewGuid().ToString("N")[..8]}";

    public HttpSink Sink { get; private set; } = null!;
    public QueueClient Queue => new(TestEnvironment.Storage, _queue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    protected virtual bool AllowPrivateNetworks => true;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Qarion:Webhooks:QueueName"] = _queue,
        ["Qarion:Webhooks:BaseDelaySeconds"] = "1",
        ["Qarion:Webhooks:MaxAttempts"] = "4",
        ["Qarion:Webhooks:DisableAfterFailures"] = "2",
        ["Qarion:Webhooks:MaxBodyBytes"] = "4096",
        ["Qarion:Outbound:AllowPrivateNetworks"] = AllowPrivateNetworks ? "true" : "false",
        ["Qarion:Outbound:TimeoutSeconds"] = "2",
    };

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Queue.CreateIfNotExistsAsync();
        Sink = await HttpSink.StartAsync();
    }

    public override async Task DisposeAsync()
    {
        await Sink.DisposeAsync();
        await Queue.DeleteIfExistsAsync();
        await base.DisposeAsync();
    }

    public async Task<(string Space, Guid SpaceId, TestUser Admin)> SpaceAsync()
    {
        var admin = await CreateUserAsync("Hook admin");
        var space = await CreateSpaceAsync(null, (admin, "admin"));
        var id = await WithDbAsync(db => db.Spaces.Where(s => s.Slug == space).Select(s => s.Id).SingleAsync());
        return (space, id, admin);
    }

    /// <summary>Creates a webhook through the API; returns the created JSON (with its one-time secret).</summary>
    public static async Task<JsonElement> CreateWebhookAsync(ApiClient client, string space, string url, string[] types, string? name = null, string? secret = null)
    {
        var body = new Dictionary<string, object?> { ["name"] = name ?? "hook-" + Guid.NewGuid().ToString("N")[..8], ["url"] = url, ["event_types"] = types };
        if (secret is not null) body["secret"] = secret;
        var response = await client.SendJsonAsync("POST", $"/api/v1/spaces/{space}/webhooks", body);
        Assert.True(response.Status == 201, response.ToString());
        return response.Json.Clone();
    }

    /// <summary>Writes a real outbox row (as a service would) and returns the relay's message for it.</summary>
    public async Task<OutboxMessage> EmitAsync(Guid spaceId, string type, object payload)
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<QarionDbContext>();
        var row = db.AddOutboxEvent(spaceId, type, payload);
        await db.SaveChangesAsync();
        return OutboxMessage.From(row);
    }

    /// <summary>Puts the message on the webhooks queue, as the relay does.</summary>
    public async Task EnqueueAsync(OutboxMessage message, int times = 1)
    {
        for (var i = 0; i < times; i++) await Queue.SendMessageAsync(message.ToJson());
    }

    /// <summary>Receives every visible message and runs it through the queue function; returns how many ran.</summary>
    public async Task<int> DrainAsync()
    {
        var ran = 0;
        while (true)
        {
            QueueMessage[] batch = (await Queue.ReceiveMessagesAsync(maxMessages: 32, visibilityTimeout: TimeSpan.FromSeconds(30))).Value;
            if (batch.Length == 0) return ran;
            foreach (var message in batch)
            {
                await using (var scope = Services.CreateAsyncScope())
                    await ActivatorUtilities.CreateInstance<WebhookQueueFunctions>(scope.ServiceProvider).Deliver(message.Body.ToString(), default);
                await Queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                ran++;
            }
        }
    }

    /// <summary>Drains repeatedly (delayed retries become visible) until <paramref name="done"/> holds or the time is up.</summary>
    public async Task DrainUntilAsync(Func<Task<bool>> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            await DrainAsync();
            if (await done()) return;
            Assert.True(DateTime.UtcNow < deadline, "the deliveries did not finish in time");
            await Task.Delay(200);
        }
    }

    public Task<long> CountAsync(string sql) => Database.ScalarAsync<long>(sql);

    /// <summary>
    /// An independent Standard Webhooks verifier: HMAC-SHA256 over the raw bytes "{id}.{timestamp}.{body}" with the
    /// key decoded from the whsec_ secret, compared in constant time with every v1 signature of the header.
    /// </summary>
    public static bool Verify(string secret, ReceivedRequest request, byte[]? body = null)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var id = request.Header("webhook-id")!;
        var timestamp = request.Header("webhook-timestamp")!;
        var signed = Encoding.UTF8.GetBytes($"{id}.{timestamp}.").Concat(body ?? request.Body).ToArray();
        using var hmac = new HMACSHA256(key);
        var expected = hmac.ComputeHash(signed);
        return request.Header("webhook-signature")!.Split(' ')
            .Where(s => s.StartsWith("v1,", StringComparison.Ordinal))
            .Any(s => CryptographicOperations.FixedTimeEquals(Convert.FromBase64String(s[3..]), expected));
    }
}

/// <summary>The same app with private networks refused, as in production (SSRF tests).</summary>
public sealed class SsrfWebhookFixture : WebhookFixture
{
    protected override bool AllowPrivateNetworks => false;
}
