using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace Qarion.LocalHost;

/// <summary>
/// Queue triggers as the Storage extension runs them: poll each trigger's queue (in the account of
/// <c>AzureWebJobsStorage</c>), invoke the function once per message with the trigger metadata the worker binds
/// (Id, DequeueCount, InsertionTime, ExpirationTime, NextVisibleTime, PopReceipt), delete the message on success,
/// make it visible again on failure (after <c>visibilityTimeout</c>), and move it to <c>&lt;queue&gt;-poison</c> once it
/// has been dequeued <c>maxDequeueCount</c> times (host.json <c>extensions.queues</c>).
/// </summary>
internal sealed class QueueListener(WorkerSession session, LocalHostOptions options)
{
    private static readonly TimeSpan ProcessingVisibility = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan EmptyPollDelay = TimeSpan.FromMilliseconds(250);

    private int MaxDequeueCount => options.Extension("queues", "maxDequeueCount")?.GetInt32() ?? 5;

    private int BatchSize => Math.Clamp(options.Extension("queues", "batchSize")?.GetInt32() ?? 16, 1, 32);

    private TimeSpan RetryVisibility => options.RetryVisibility
        ?? (options.Extension("queues", "visibilityTimeout")?.GetString() is { } v ? TimeSpan.Parse(v, CultureInfo.InvariantCulture) : TimeSpan.Zero);

    private bool Base64 => !string.Equals(options.Extension("queues", "messageEncoding")?.GetString(), "none", StringComparison.OrdinalIgnoreCase);

    /// <summary>The queue a trigger reads: its <c>queueName</c> with %setting% expressions resolved, behind the prefix.</summary>
    public string QueueOf(FunctionInfo function) =>
        options.QueuePrefix + options.Resolve(function.Trigger!.Value.GetProperty("queueName").GetString()!).ToLowerInvariant();

    public IEnumerable<Task> Start(CancellationToken stop)
    {
        var connection = options.Setting("AzureWebJobsStorage");
        var queueFunctions = session.Functions.Where(f => string.Equals(f.TriggerType, "queueTrigger", StringComparison.OrdinalIgnoreCase)).ToList();
        if (queueFunctions.Count == 0)
        {
            yield break;
        }

        if (string.IsNullOrWhiteSpace(connection))
        {
            Console.WriteLine("host: AzureWebJobsStorage is not set; queue triggers are not polled");
            yield break;
        }

        var service = new QueueServiceClient(connection);
        foreach (var function in queueFunctions)
        {
            var queue = QueueOf(function);
            Console.WriteLine($"host: queue trigger {function.Name} polls '{queue}'");
            yield return Task.Run(() => PollAsync(function, service.GetQueueClient(queue), service.GetQueueClient(queue + "-poison"), stop), stop);
        }
    }

    private async Task PollAsync(FunctionInfo function, QueueClient queue, QueueClient poison, CancellationToken stop)
    {
        try
        {
            await queue.CreateIfNotExistsAsync(cancellationToken: stop);
            while (!stop.IsCancellationRequested)
            {
                QueueMessage[] messages;
                try
                {
                    messages = (await queue.ReceiveMessagesAsync(BatchSize, ProcessingVisibility, stop)).Value;
                }
                catch (Azure.RequestFailedException e)
                {
                    Console.WriteLine($"host: receiving from {queue.Name} failed: {e.Message}");
                    await Task.Delay(TimeSpan.FromSeconds(2), stop);
                    continue;
                }

                if (messages.Length == 0)
                {
                    await Task.Delay(EmptyPollDelay, stop);
                    continue;
                }

                await Task.WhenAll(messages.Select(m => ProcessAsync(function, queue, poison, m, stop)));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private string Body(QueueMessage message)
    {
        var text = message.Body.ToString();
        if (!Base64)
        {
            return text;
        }

        // The Storage extension decodes base64; a message that is not base64 is handed over as it is.
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out var written) ? Encoding.UTF8.GetString(buffer, 0, written) : text;
    }

    private static JsonObject Json(DateTimeOffset? time) =>
        new() { ["json"] = JsonSerializer.Serialize(time?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)) };

    private async Task ProcessAsync(FunctionInfo function, QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken stop)
    {
        var body = Body(message);
        var metadata = new JsonObject
        {
            ["Id"] = new JsonObject { ["string"] = message.MessageId },
            ["DequeueCount"] = new JsonObject { ["json"] = message.DequeueCount.ToString(CultureInfo.InvariantCulture) },
            ["InsertionTime"] = Json(message.InsertedOn),
            ["ExpirationTime"] = Json(message.ExpiresOn),
            ["NextVisibleTime"] = Json(message.NextVisibleOn),
            ["PopReceipt"] = new JsonObject { ["string"] = message.PopReceipt },
            [function.TriggerName] = new JsonObject { ["string"] = body },
        };
        var input = new JsonArray(new JsonObject { ["name"] = function.TriggerName, ["data"] = new JsonObject { ["string"] = body } });
        string? error;
        try
        {
            var result = await session.Invoke(Guid.NewGuid().ToString(), function, input, metadata).WaitAsync(TimeSpan.FromMinutes(10), stop);
            error = WorkerSession.Succeeded(result) ? null : WorkerSession.Error(result) ?? "failed";
        }
        catch (TimeoutException)
        {
            error = "timed out";
        }

        if (error is null)
        {
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, stop);
            session.Record(new InvocationRecord(function.Name, "queueTrigger", queue.Name, message.MessageId, message.DequeueCount, "Succeeded", null, DateTimeOffset.UtcNow, body));
            return;
        }

        var poisoned = message.DequeueCount >= MaxDequeueCount;
        if (poisoned)
        {
            await poison.CreateIfNotExistsAsync(cancellationToken: stop);
            await poison.SendMessageAsync(message.Body.ToString(), stop);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, stop);
            Console.WriteLine($"host: {function.Name}: message {message.MessageId} failed {message.DequeueCount} time(s), moved to {poison.Name}");
        }
        else
        {
            await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: RetryVisibility, cancellationToken: stop);
        }

        session.Record(new InvocationRecord(function.Name, "queueTrigger", queue.Name, message.MessageId, message.DequeueCount, "Failed", error, DateTimeOffset.UtcNow, body, poisoned));
    }
}
