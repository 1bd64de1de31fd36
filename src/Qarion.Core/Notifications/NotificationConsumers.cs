using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Qarion.Core.Outbox;
using Qarion.Core.Persistence;

namespace Qarion.Core.Notifications;

/// <summary>Shared by the consumers: the recipients of an event who have a channel enabled for its category.</summary>
public sealed class NotificationAudience(QarionDbContext db, RecipientResolver resolver)
{
    public async Task<(IReadOnlyList<Recipient> Recipients, string Category, string? SpaceSlug)> ForAsync(OutboxMessage message, string channel, CancellationToken ct)
    {
        var category = NotificationCategories.Of(message.EventType);
        var recipients = await resolver.ResolveAsync(message, ct);
        if (recipients.Count == 0) return ([], category, null);
        var ids = recipients.Select(r => r.UserId).ToList();
        var choices = await db.Set<NotificationPreference>().AsNoTracking()
            .Where(p => ids.Contains(p.UserId) && p.Category == category && p.Channel == channel)
            .ToDictionaryAsync(p => p.UserId, p => p.Enabled, ct);
        var fallback = NotificationCategories.DefaultEnabled(category, channel);
        var slug = message.SpaceId is { } spaceId
            ? await db.Spaces.AsNoTracking().Where(s => s.Id == spaceId).Select(s => s.Slug).SingleOrDefaultAsync(ct)
            : null;
        return (recipients.Where(r => choices.GetValueOrDefault(r.UserId, fallback)).ToList(), category, slug);
    }
}

/// <summary>In-app notifications: one row per (event, user); a redelivered event inserts nothing (ON CONFLICT DO NOTHING).</summary>
public sealed class InboxConsumer(QarionDbContext db, NotificationAudience audience) : IOutboxEventConsumer
{
    public string Name => "inbox";

    public async Task ConsumeAsync(OutboxMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        var (recipients, category, slug) = await audience.ForAsync(message, NotificationCategories.InApp, ct);
        if (recipients.Count == 0) return;
        var content = NotificationContent.Describe(message, slug);
        var now = db.Clock.GetUtcNow();
        var ids = recipients.Select(_ => Guid.CreateVersion7(now)).ToArray();
        var users = recipients.Select(r => r.UserId).ToArray();
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO notifications (id, user_id, space_id, event_id, event_type, category, title, body, link, created_at)
            SELECT u.id, u.user_id, {message.SpaceId}::uuid, {message.EventId}, {message.EventType}, {category}, {content.Title}, {content.Body}::text, {content.Link}::text, {now}
            FROM unnest({ids}, {users}) AS u(id, user_id)
            ON CONFLICT (event_id, user_id) DO NOTHING
            """, ct);
    }
}

/// <summary>
/// E-mail to each recipient whose preference enables the e-mail channel for the event's category. Exactly once per
/// (event, user): a delivery row is claimed (<c>sending</c>) before the send and marked <c>sent</c> after; a
/// redelivery finds <c>sent</c> and sends nothing; a failed send drops the claim and throws so the queue retries.
/// A claim left by a crashed worker is taken over after 10 minutes. Without an <see cref="IEmailSender"/> registered
/// no e-mail is sent (logged once per event).
/// </summary>
public sealed class UserEmailConsumer(
    QarionDbContext db, NotificationAudience audience, IEnumerable<IEmailSender> senders, IConfiguration configuration, ILogger<UserEmailConsumer> log)
    : IOutboxEventConsumer
{
    public const string Sending = "sending";
    public const string Sent = "sent";
    public const string Rejected = "rejected";
    private static readonly TimeSpan ClaimTimeout = TimeSpan.FromMinutes(10);

    public string Name => "user-email";

    public async Task ConsumeAsync(OutboxMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        var sender = senders.FirstOrDefault();
        var (recipients, _, slug) = await audience.ForAsync(message, NotificationCategories.Email, ct);
        if (recipients.Count == 0) return;
        if (sender is not { IsConfigured: true })
        {
            log.LogInformation("No e-mail server is configured; event {EventId} ({EventType}) is not e-mailed", message.EventId, message.EventType);
            return;
        }
        var content = NotificationContent.Describe(message, slug);
        var baseUrl = configuration["Qarion:Notifications:AppBaseUrl"];
        foreach (var recipient in recipients)
        {
            if (!await ClaimAsync(message.EventId, recipient, ct)) continue;
            try
            {
                await sender.SendAsync(content.ToEmail(recipient.Email, baseUrl), ct);
            }
            catch (EmailRejectedException ex)
            {
                // A permanent refusal (e.g. an address the server does not accept): recorded, never retried.
                log.LogWarning("E-mail for event {EventId} to user {UserId} was refused: {Reason}", message.EventId, recipient.UserId, ex.Message);
                await db.Database.ExecuteSqlAsync(
                    $"UPDATE notification_email_deliveries SET status = {Rejected}, updated_at = {db.Clock.GetUtcNow()} WHERE event_id = {message.EventId} AND user_id = {recipient.UserId}", ct);
                continue;
            }
            catch
            {
                await db.Database.ExecuteSqlAsync(
                    $"DELETE FROM notification_email_deliveries WHERE event_id = {message.EventId} AND user_id = {recipient.UserId} AND status = {Sending}", CancellationToken.None);
                throw;
            }
            await db.Database.ExecuteSqlAsync(
                $"UPDATE notification_email_deliveries SET status = {Sent}, updated_at = {db.Clock.GetUtcNow()} WHERE event_id = {message.EventId} AND user_id = {recipient.UserId}", ct);
        }
    }

    /// <summary>True when this worker now owns the send; false when it was sent already.</summary>
    private async Task<bool> ClaimAsync(Guid eventId, Recipient recipient, CancellationToken ct)
    {
        var now = db.Clock.GetUtcNow();
        var claimed = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO notification_email_deliveries (event_id, user_id, email, status, updated_at)
            VALUES ({eventId}, {recipient.UserId}, {recipient.Email}, {Sending}, {now})
            ON CONFLICT (event_id, user_id) DO UPDATE SET updated_at = excluded.updated_at
            WHERE notification_email_deliveries.status = {Sending} AND notification_email_deliveries.updated_at < {now - ClaimTimeout}
            """, ct);
        if (claimed == 1) return true;
        var status = await db.Set<EmailDelivery>().AsNoTracking().Where(d => d.EventId == eventId && d.UserId == recipient.UserId)
            .Select(d => d.Status).SingleOrDefaultAsync(ct);
        if (status is Sent or Rejected) return false;
        throw new InvalidOperationException($"The e-mail of event {eventId} to user {recipient.UserId} is being sent by another worker; retry later.");
    }
}

/// <summary>
/// The <c>notifications</c> queue handler: calls every registered <see cref="IOutboxEventConsumer"/>. All run even when
/// one fails (each is idempotent); then the first failure is rethrown so the queue redelivers the message.
/// </summary>
public sealed class NotificationDispatcher(IEnumerable<IOutboxEventConsumer> consumers, QarionDbContext db, ILogger<NotificationDispatcher> log)
{
    public async Task HandleAsync(OutboxMessage message, CancellationToken ct)
    {
        var failures = new List<Exception>();
        foreach (var consumer in consumers)
        {
            try
            {
                await consumer.ConsumeAsync(message, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "Consumer {Consumer} failed on event {EventId} ({EventType})", consumer.Name, message.EventId, message.EventType);
                failures.Add(ex);
            }
        }
        if (failures.Count > 0) throw new AggregateException($"{failures.Count} consumer(s) failed on event {message.EventId}", failures);
    }

    /// <summary>
    /// A message that failed every delivery: recorded in <c>notification_dead_letters</c> with its event id and logged
    /// as an error, so an operator can replay it (reset the outbox row's dispatched_at) — never silently dropped.
    /// </summary>
    public async Task HandlePoisonAsync(string body, CancellationToken ct)
    {
        var message = OutboxMessage.TryParse(body);
        db.Set<NotificationDeadLetter>().Add(new NotificationDeadLetter
        {
            EventId = message?.EventId,
            EventType = message?.EventType,
            Body = body.Length > 100_000 ? body[..100_000] : body,
            ReceivedAt = db.Clock.GetUtcNow(),
        });
        await db.SaveChangesAsync(ct);
        log.LogError("Notification event {EventId} ({EventType}) failed every delivery; kept in notification_dead_letters",
            message?.EventId, message?.EventType);
    }
}
