using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Qarion.Core.Common;
using Qarion.Core.Quality;

namespace Qarion.Functions.Quality;

/// <summary>The queue side of check execution: run a queued check, record a poisoned one, enqueue due checks.</summary>
public sealed class QualityQueueFunctions(CheckExecutor executor, ILogger<QualityQueueFunctions> log)
{
    /// <summary>
    /// Runs one queued execution. An exception (our database or queue failing) makes the host retry the message;
    /// after host.json's maxDequeueCount it moves to the poison queue.
    /// </summary>
    [Function("Quality_RunCheck")]
    public async Task RunCheck([QueueTrigger(QueueNames.QualityChecks)] QueueMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        var body = CheckQueueMessage.TryParse(message.Body?.ToString());
        if (body is null)
        {
            // Retrying cannot make it readable; the poison handler logs it.
            throw new InvalidOperationException($"Message {message.MessageId} on {QueueNames.QualityChecks} is not a check execution message.");
        }
        await executor.HandleAsync(body, message.DequeueCount, ct);
    }

    /// <summary>A message that failed every delivery: its execution is recorded as ERROR, never lost.</summary>
    [Function("Quality_RunCheckPoison")]
    public Task RunCheckPoison([QueueTrigger("quality-checks-poison")] QueueMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        return executor.HandlePoisonAsync(message.Body?.ToString(), ct);
    }

    /// <summary>Every minute: enqueue the checks whose schedule is due, each exactly once.</summary>
    [Function("Quality_Scheduler")]
    public async Task Schedule([TimerTrigger("0 * * * * *")] TimerInfo timer, CancellationToken ct)
    {
        var enqueued = await executor.EnqueueDueAsync(ct);
        if (enqueued > 0) log.LogInformation("Enqueued {Count} scheduled check run(s)", enqueued);
    }
}
