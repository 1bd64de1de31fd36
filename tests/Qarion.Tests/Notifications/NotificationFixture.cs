using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Core.Notifications;
using Qarion.Core.Outbox;
using Qarion.Functions.Notifications;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Notifications;

/// <summary>The app with <c>notifications</c> and <c>webhooks</c> queues of its own in Azurite, drained like the host does.</summary>
public class NotificationFixture : AppFixture
{
    private static int _instances;
    private readonly string _suffix = $"{Environment.ProcessId}-{Interlocked.Increment(ref _instances)}-{Guid.NewGuid().ToString("N")[..8]}";

    public string NotificationsQueueName => "ntf-" + _suffix;
    public string WebhooksQueueName => "whk-" + _suffix;

    /// <summary>A real SMTP server (STARTTLS, pinned self-signed certificate) the app's e-mail sender talks to.</summary>
    public SmtpSink Smtp { get; private set; } = null!;

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = Smtp.Settings();
            settings["Qarion:Notifications:QueueName"] = NotificationsQueueName;
            settings["Qarion:Webhooks:QueueName"] = WebhooksQueueName;
            return settings;
        }
    }

    public QueueClient NotificationsQueue => new(TestEnvironment.Storage, NotificationsQueueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
    public QueueClient WebhooksQueue => new(TestEnvironment.Storage, WebhooksQueueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    public override async Task InitializeAsync()
    {
        Smtp = await SmtpSink.StartAsync();
        await base.InitializeAsync();
        await NotificationsQueue.CreateIfNotExistsAsync();
        await WebhooksQueue.CreateIfNotExistsAsync();
    }

    public override async Task DisposeAsync()
    {
        await NotificationsQueue.DeleteIfExistsAsync();
        await WebhooksQueue.DeleteIfExistsAsync();
        await base.DisposeAsync();
        await Smtp.DisposeAsync();
    }

    /// <summary>Receives and deletes every message on the queue, returning the parsed outbox messages.</summary>
    public static async Task<List<OutboxMessage>> DrainAsync(QueueClient queue)
    {
        var all = new List<OutboxMessage>();
        while (true)
        {
            QueueMessage[] batch = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30))).Value;
            if (batch.Length == 0) return all;
            foreach (var m in batch)
            {
                all.Add(OutboxMessage.TryParse(m.Body.ToString()) ?? throw new InvalidOperationException("Not an outbox message: " + m.Body));
                await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
            }
        }
    }

    /// <summary>Drains the webhooks queue (ignored here) and runs every notifications message through the queue function.</summary>
    public async Task<List<OutboxMessage>> ProcessAsync()
    {
        await DrainAsync(WebhooksQueue);
        var messages = await DrainAsync(NotificationsQueue);
        foreach (var message in messages) await HandleAsync(message);
        return messages;
    }

    /// <summary>One delivery of a message to the <c>notifications</c> queue function, in a scope of its own.</summary>
    public async Task HandleAsync(OutboxMessage message)
    {
        await using var scope = Services.CreateAsyncScope();
        var functions = ActivatorUtilities.CreateInstance<NotificationQueueFunctions>(scope.ServiceProvider);
        await functions.Handle(message.ToJson(), CancellationToken.None);
    }

    public static OutboxMessage Message(Guid? spaceId, string type, object payload)
        => new(Guid.CreateVersion7(), spaceId, type, DateTimeOffset.UtcNow, JsonSerializer.SerializeToElement(payload, Qarion.Core.Common.JsonNames.SerializerOptions));
}
