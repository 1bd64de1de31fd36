using System.Text.Json;
using Azure.Storage.Queues;
using Qarion.Core.Common;

namespace Qarion.Core.Quality;

/// <summary>
/// The body of a <c>quality-checks</c> message: which pending execution to run. The execution row exists before
/// the message is sent, and <see cref="IdempotencyKey"/> is its unique key, so a redelivered or re-sent message
/// finds the same row and never creates a second execution.
/// </summary>
public sealed record CheckQueueMessage(Guid ExecutionId, Guid SpaceId, Guid CheckId, string IdempotencyKey)
{
    public string ToJson() => JsonSerializer.Serialize(this, JsonNames.SerializerOptions);

    /// <summary>The message, or null when the text is not one (a foreign or corrupted message).</summary>
    public static CheckQueueMessage? TryParse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        try
        {
            var message = JsonSerializer.Deserialize<CheckQueueMessage>(text, JsonNames.SerializerOptions);
            return message is { ExecutionId: var id, IdempotencyKey: not null } && id != Guid.Empty ? message : null;
        }
        catch (JsonException) { return null; }
    }
}

/// <summary>
/// Sends <see cref="CheckQueueMessage"/>s to the <c>quality-checks</c> Storage queue. The name can be overridden
/// (<c>Qarion:Quality:QueueName</c>) only so that test classes sharing one Azurite get a queue each; the queue
/// trigger always reads <see cref="QueueNames.QualityChecks"/>.
/// </summary>
public sealed class CheckMessages(QarionCoreExtensions.StorageQueues storage, Microsoft.Extensions.Configuration.IConfiguration configuration)
{
    public string QueueName => configuration["Qarion:Quality:QueueName"] is { Length: > 0 } name ? name : QueueNames.QualityChecks;

    public async Task SendAsync(CheckQueueMessage message, CancellationToken ct)
        => await (await storage.QueueAsync(QueueName, ct)).SendMessageAsync(message.ToJson(), ct);
}
