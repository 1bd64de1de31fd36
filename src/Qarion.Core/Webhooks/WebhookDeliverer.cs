using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qarion.Core.Common;
using Qarion.Core.Ingestion;
using Qarion.Core.Outbox;
using Qarion.Core.Persistence;

namespace Qarion.Core.Webhooks;

/// <summary>
/// A retry of a delivery series on the <c>webhooks</c> queue: "attempt <see cref="Attempt"/> of series
/// <see cref="DeliveryId"/>", sent with a visibility delay (the back-off). Told apart from the relay's
/// <see cref="OutboxMessage"/> by its <c>kind</c>.
/// </summary>
public sealed record WebhookDeliveryMessage(Guid DeliveryId, int Attempt)
{
    public const string KindName = "webhook_delivery";
    public string Kind { get; init; } = KindName;

    public string ToJson() => JsonSerializer.Serialize(this, JsonNames.SerializerOptions);

    public static WebhookDeliveryMessage? TryParse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("kind", out var kind) || kind.ValueKind != JsonValueKind.String
                || kind.GetString() != KindName) return null;
            return root.TryGetProperty("delivery_id", out var id) && id.TryGetGuid(out var deliveryId)
                   && root.TryGetProperty("attempt", out var a) && a.TryGetInt32(out var attempt) && attempt >= 1
                ? new WebhookDeliveryMessage(deliveryId, attempt) : null;
        }
        catch (JsonException) { return null; }
    }
}

/// <summary>Sends messages to the webhooks queue (name overridable by <c>Qarion:Webhooks:QueueName</c> for tests).</summary>
public sealed class WebhookMessages(QarionCoreExtensions.StorageQueues storage, IOptions<WebhookOptions> options)
{
    public string QueueName => options.Value.QueueName is { Length: > 0 } name ? name : QueueNames.Webhooks;

    public async Task SendAsync(string body, TimeSpan delay, CancellationToken ct)
    {
        var client = await storage.QueueAsync(QueueName, ct);
        await client.SendMessageAsync(body, visibilityTimeout: delay > TimeSpan.Zero ? delay : null, cancellationToken: ct);
    }
}

/// <summary>
/// The <c>webhooks</c> queue's work: fans an outbox event out into one delivery series per matching enabled
/// subscription (unique per event and subscription), and makes each attempt — signed POST, recorded, retried
/// with back-off through a delayed queue message, the subscription disabled after repeated failed series.
/// </summary>
public sealed class WebhookDeliverer(
    QarionDbContext db, CredentialProtector protector, OutboundHttp outbound, WebhookMessages queue, IOptions<WebhookOptions> options,
    TimeProvider clock, ILogger<WebhookDeliverer> log)
{
    private const int ErrorMax = 1000;
    /// <summary>How long a claimed attempt holds its series: longer than any request may take.</summary>
    private const int LeaseSeconds = 120;
    private WebhookOptions Options => options.Value;

    /// <summary>Handles one queue message; throws only when retrying the message could help (our database or queue failing).</summary>
    public async Task HandleAsync(string text, CancellationToken ct)
    {
        if (WebhookDeliveryMessage.TryParse(text) is { } delivery) await AttemptFromQueueAsync(delivery, ct);
        else if (OutboxMessage.TryParse(text) is { } message) await FanOutAsync(message, ct);
        else throw new InvalidOperationException("The message is neither an outbox event nor a webhook delivery.");
    }

    /// <summary>One series per (event, subscription); a redelivered event finds its series and sends nothing again.</summary>
    public async Task FanOutAsync(OutboxMessage message, CancellationToken ct)
    {
        if (message.SpaceId is not { } spaceId) return;
        var subscriptions = await db.Set<WebhookSubscription>().AsNoTracking()
            .Where(s => s.SpaceId == spaceId && s.IsEnabled).Select(s => new { s.Id, s.EventTypes }).ToListAsync(ct);
        var matching = subscriptions.Where(s => EventTypePatterns.MatchesAny(s.EventTypes, message.EventType)).Select(s => s.Id).ToList();
        if (matching.Count == 0) return;
        var existing = await db.Set<WebhookDelivery>().AsNoTracking().Where(d => d.EventId == message.EventId)
            .Select(d => new { d.Id, d.SubscriptionId, d.Status, d.Attempts, d.CreatedAt }).ToListAsync(ct);
        var body = Body(message.EventId, message.EventType, message.OccurredAt, spaceId, message.Payload);
        var now = clock.GetUtcNow();
        var created = new List<WebhookDelivery>();
        foreach (var subscription in matching.Where(id => existing.All(e => e.SubscriptionId != id)))
        {
            var delivery = new WebhookDelivery
            {
                SpaceId = spaceId, SubscriptionId = subscription, EventId = message.EventId, EventType = message.EventType, Body = body, NextAttemptAt = now,
            };
            db.Add(delivery);
            created.Add(delivery);
        }
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            // Another instance handled the same event at the same moment: its series stand, its messages send them.
            db.ChangeTracker.Clear();
            return;
        }
        var toSend = created.Select(d => d.Id)
            // A series created but never started (its first message lost with a crash) is started again.
            .Concat(existing.Where(e => e.Status == WebhookDeliveryStatus.Pending && e.Attempts == 0 && e.CreatedAt < now.AddMinutes(-2)).Select(e => e.Id));
        foreach (var id in toSend) await queue.SendAsync(new WebhookDeliveryMessage(id, 1).ToJson(), TimeSpan.Zero, ct);
    }

    /// <summary>Attempt <c>n</c> of a series, once: only the first message to claim it (attempts = n − 1, not locked) sends.</summary>
    public async Task AttemptFromQueueAsync(WebhookDeliveryMessage message, CancellationToken ct)
    {
        if (!await ClaimAsync(message.DeliveryId, message.Attempt, fromStatus: WebhookDeliveryStatus.Pending, ct))
        {
            // Already made. If its retry message was lost (a crash after recording it), send it again; a duplicate claims nothing.
            var d = await db.Set<WebhookDelivery>().AsNoTracking().Where(x => x.Id == message.DeliveryId)
                .Select(x => new { x.Status, x.Attempts, x.LockedUntil, x.NextAttemptAt }).SingleOrDefaultAsync(ct);
            if (d is { Status: WebhookDeliveryStatus.Pending, LockedUntil: null, NextAttemptAt: { } next } && d.Attempts == message.Attempt)
                await queue.SendAsync(new WebhookDeliveryMessage(message.DeliveryId, message.Attempt + 1).ToJson(), Max(next - clock.GetUtcNow()), ct);
            return;
        }
        await PerformAsync(message.DeliveryId, message.Attempt, automatic: true, ct);
    }

    /// <summary>
    /// Takes the series for attempt <paramref name="attempt"/>: true when this caller holds it (a lease as long as one
    /// request may take, so an attempt that crashed is made again once the lease has passed).
    /// </summary>
    public async Task<bool> ClaimAsync(Guid deliveryId, int attempt, WebhookDeliveryStatus fromStatus, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var lease = now.AddSeconds(LeaseSeconds);
        return await db.Set<WebhookDelivery>()
            .Where(d => d.Id == deliveryId && d.Status == fromStatus && d.Attempts == attempt - 1 && (d.LockedUntil == null || d.LockedUntil < now))
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.LockedUntil, lease).SetProperty(d => d.Status, WebhookDeliveryStatus.Pending), ct) == 1;
    }

    /// <summary>
    /// Makes attempt <paramref name="attempt"/> of a claimed series and records it. <paramref name="automatic"/>: a queued
    /// attempt, which schedules retries and counts towards disabling; a manual one (test, redelivery) does neither.
    /// </summary>
    public async Task<WebhookSendResult> PerformAsync(Guid deliveryId, int attempt, bool automatic, CancellationToken ct)
    {
        var delivery = await db.Set<WebhookDelivery>().SingleAsync(d => d.Id == deliveryId, ct);
        var subscription = await db.Set<WebhookSubscription>().AsNoTracking().SingleAsync(s => s.Id == delivery.SubscriptionId, ct);
        var now = clock.GetUtcNow();
        if (automatic && !subscription.IsEnabled)
        {
            // Disabled while the series waited: it ends here, unsent.
            delivery.Status = WebhookDeliveryStatus.Failed;
            delivery.LastError = "The subscription was disabled before this attempt.";
            delivery.CompletedAt = now;
            delivery.NextAttemptAt = null;
            delivery.LockedUntil = null;
            await db.SaveChangesAsync(ct);
            return new WebhookSendResult(delivery.Id, false, attempt, null, 0, delivery.LastError);
        }

        var outcome = await SendAsync(subscription, delivery, ct);
        now = clock.GetUtcNow();
        var retry = automatic && !outcome.Success && outcome.Retryable && attempt < Options.MaxAttempts;
        var record = new WebhookAttempt
        {
            DeliveryId = delivery.Id, Attempt = attempt, StatusCode = outcome.StatusCode, LatencyMs = outcome.LatencyMs, Error = outcome.Error,
            WillRetry = retry, AttemptedAt = now,
        };
        db.Add(record);
        delivery.Attempts = attempt;
        delivery.LastStatusCode = outcome.StatusCode;
        delivery.LastError = outcome.Error;
        delivery.LockedUntil = null;
        TimeSpan? delay = null;
        if (outcome.Success)
        {
            delivery.Status = WebhookDeliveryStatus.Succeeded;
            delivery.CompletedAt = now;
            delivery.NextAttemptAt = null;
        }
        else if (retry)
        {
            delay = BackOff(attempt);
            delivery.NextAttemptAt = record.NextAttemptAt = now + delay.Value;
        }
        else
        {
            delivery.Status = WebhookDeliveryStatus.Failed;
            delivery.CompletedAt = now;
            delivery.NextAttemptAt = null;
        }

        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            await db.SaveChangesAsync(ct);
            if (delivery.EventId is not null && outcome.Success)
                await db.Set<WebhookSubscription>().Where(s => s.Id == subscription.Id && s.ConsecutiveFailures != 0)
                    .ExecuteUpdateAsync(s => s.SetProperty(x => x.ConsecutiveFailures, 0), ct);
            else if (delivery.EventId is not null && automatic && delivery.Status == WebhookDeliveryStatus.Failed)
                await CountFailureAsync(subscription, ct);
            await tx.CommitAsync(ct);
        }
        if (delay is { } d) await queue.SendAsync(new WebhookDeliveryMessage(delivery.Id, attempt + 1).ToJson(), d, ct);
        return new WebhookSendResult(delivery.Id, outcome.Success, attempt, outcome.StatusCode, outcome.LatencyMs, outcome.Error);
    }

    /// <summary>One more failed series; at the threshold the subscription is disabled and its owner told (webhook.disabled).</summary>
    private async Task CountFailureAsync(WebhookSubscription subscription, CancellationToken ct)
    {
        await db.Set<WebhookSubscription>().Where(s => s.Id == subscription.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.ConsecutiveFailures, x => x.ConsecutiveFailures + 1), ct);
        var failures = await db.Set<WebhookSubscription>().Where(s => s.Id == subscription.Id).Select(s => s.ConsecutiveFailures).SingleAsync(ct);
        if (failures < Options.DisableAfterFailures) return;
        var now = clock.GetUtcNow();
        var reason = $"Disabled automatically after {failures} consecutive failed deliveries.";
        var disabled = await db.Set<WebhookSubscription>().Where(s => s.Id == subscription.Id && s.IsEnabled)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.IsEnabled, false).SetProperty(x => x.DisabledReason, reason)
                .SetProperty(x => x.DisabledAt, now).SetProperty(x => x.UpdatedAt, now), ct);
        if (disabled == 0) return;
        db.AddOutboxEvent(subscription.SpaceId, OutboxEventTypes.WebhookDisabled, new
        {
            WebhookId = subscription.Id,
            subscription.Name,
            subscription.Url,
            Reason = reason,
            ConsecutiveFailures = failures,
            RecipientIds = subscription.CreatedById is { } owner ? new[] { owner } : [],
        });
        await db.SaveChangesAsync(ct);
        log.LogWarning("Webhook {Webhook} disabled after {Failures} consecutive failed deliveries", subscription.Id, failures);
    }

    private sealed record Outcome(bool Success, bool Retryable, int? StatusCode, long LatencyMs, string? Error);

    private async Task<Outcome> SendAsync(WebhookSubscription subscription, WebhookDelivery delivery, CancellationToken ct)
    {
        var check = await outbound.CheckAsync(subscription.Url, ct);
        if (check is "private_address" or "invalid_url")
            return new Outcome(false, false, null, 0, $"{check}: the URL is refused (private, loopback or link-local addresses are not allowed).");
        if (check is not null) return new Outcome(false, true, null, 0, $"{check}: the host name does not resolve.");

        string secret;
        try { secret = protector.Unprotect(subscription.Id, subscription.EncryptedSecret); }
        catch (System.Security.Cryptography.CryptographicException ex) { return new Outcome(false, false, null, 0, Truncate("secret_unreadable: " + ex.Message)); }

        var id = (delivery.EventId ?? delivery.Id).ToString();
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, subscription.Url)
        {
            Content = new StringContent(delivery.Body, new UTF8Encoding(false), "application/json"),
        };
        request.Headers.TryAddWithoutValidation("webhook-id", id);
        request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("webhook-signature", WebhookSigning.Sign(secret, id, timestamp, delivery.Body));
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("Qarion-Webhooks", "1.0"));
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await outbound.SendAsync(request, ct);
            var latency = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var code = (int)response.StatusCode;
            if (code is >= 200 and < 300) return new Outcome(true, false, code, latency, null);
            var text = await ReadSnippetAsync(response, ct);
            var retryable = code >= 500 || code is 408 or 429;
            return new Outcome(false, retryable, code, latency, Truncate($"HTTP {code} {response.ReasonPhrase}{(text.Length > 0 ? ": " + text : "")}"));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new Outcome(false, true, null, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds, "timeout: the receiver did not answer in time.");
        }
        catch (HttpRequestException ex)
        {
            var latency = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var refused = Chain(ex).Any(e => e.Message.StartsWith("Refused to connect", StringComparison.Ordinal));
            return refused
                ? new Outcome(false, false, null, latency, Truncate("private_address: " + ex.Message))
                : new Outcome(false, true, null, latency, Truncate("connection_error: " + ex.Message));
        }
    }

    private static IEnumerable<Exception> Chain(Exception? e)
    {
        for (; e is not null; e = e.InnerException) yield return e;
    }

    private static async Task<string> ReadSnippetAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            return text.Length > 200 ? text[..200] : text;
        }
        catch (HttpRequestException) { return ""; }
    }

    private static string Truncate(string text) => text.Length > ErrorMax ? text[..(ErrorMax - 1)] + "…" : text;

    private static TimeSpan Max(TimeSpan t) => t > TimeSpan.Zero ? t : TimeSpan.Zero;

    /// <summary>The delay after attempt <paramref name="attempt"/>: base × 2^(attempt−1), plus up to 20 % jitter, capped.</summary>
    public TimeSpan BackOff(int attempt)
    {
        var seconds = Options.BaseDelaySeconds * Math.Pow(2, Math.Min(attempt - 1, 30)) * (1 + Random.Shared.NextDouble() * 0.2);
        return TimeSpan.FromSeconds(Math.Min(seconds, Options.MaxDelaySeconds));
    }

    /// <summary>The JSON body: <c>{id, type, occurred_at, space_id, data}</c>; data is dropped (<c>data_truncated</c>) above the size limit.</summary>
    public string Body(Guid id, string type, DateTimeOffset occurredAt, Guid spaceId, JsonElement? data)
    {
        var body = Write(id, type, occurredAt, spaceId, data, truncated: false);
        return Encoding.UTF8.GetByteCount(body) <= Options.MaxBodyBytes ? body : Write(id, type, occurredAt, spaceId, null, truncated: true);
    }

    private static string Write(Guid id, string type, DateTimeOffset occurredAt, Guid spaceId, JsonElement? data, bool truncated)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("type", type);
            w.WriteString("occurred_at", occurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            w.WriteString("space_id", spaceId);
            w.WritePropertyName("data");
            if (data is { } d) d.WriteTo(w); else w.WriteNullValue();
            if (truncated) w.WriteBoolean("data_truncated", true);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A poisoned message: a delivery series it belonged to ends as failed, never stuck pending.</summary>
    public async Task HandlePoisonAsync(string text, CancellationToken ct)
    {
        if (WebhookDeliveryMessage.TryParse(text) is not { } message)
        {
            log.LogError("Poisoned webhooks message that is no delivery: {Message}", text.Length > 500 ? text[..500] : text);
            return;
        }
        var now = clock.GetUtcNow();
        await db.Set<WebhookDelivery>().Where(d => d.Id == message.DeliveryId && d.Status == WebhookDeliveryStatus.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.Status, WebhookDeliveryStatus.Failed).SetProperty(d => d.LockedUntil, (DateTimeOffset?)null)
                .SetProperty(d => d.NextAttemptAt, (DateTimeOffset?)null).SetProperty(d => d.CompletedAt, now)
                .SetProperty(d => d.LastError, "The delivery could not be processed (poisoned queue message)."), ct);
    }
}
