using System.Text.Json;
using Qarion.Core.Common;

namespace Qarion.Core.Outbox;

/// <summary>
/// The body the outbox relay puts on the <c>notifications</c> and <c>webhooks</c> queues: one outbox row.
/// <see cref="EventId"/> (the row's id) is the idempotency key of every downstream effect.
/// </summary>
public sealed record OutboxMessage(Guid EventId, Guid? SpaceId, string EventType, DateTimeOffset OccurredAt, JsonElement Payload)
{
    public static OutboxMessage From(OutboxEvent row)
    {
        using var doc = JsonDocument.Parse(row.Payload);
        return new OutboxMessage(row.Id, row.SpaceId, row.EventType, row.OccurredAt.ToUniversalTime(), doc.RootElement.Clone());
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonNames.SerializerOptions);

    /// <summary>The message, or null when the text is not one (a foreign or corrupted message).</summary>
    public static OutboxMessage? TryParse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        try
        {
            var message = JsonSerializer.Deserialize<OutboxMessage>(text, JsonNames.SerializerOptions);
            return message is { EventId: var id, EventType.Length: > 0 } && id != Guid.Empty ? message : null;
        }
        catch (JsonException) { return null; }
    }
}

/// <summary>
/// One downstream effect of the <c>notifications</c> queue (in-app inbox, user e-mail, alert connectors). The queue
/// handler calls every registered consumer for each message; each must be idempotent on
/// <see cref="OutboxMessage.EventId"/> (a redelivered message changes nothing) and throw only for failures worth a retry.
/// </summary>
public interface IOutboxEventConsumer
{
    string Name { get; }
    Task ConsumeAsync(OutboxMessage message, CancellationToken ct);
}
