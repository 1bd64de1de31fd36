using System.Globalization;
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
    /// <remarks>
    /// The body binds as a string and the dequeue count comes from the trigger metadata (<c>DequeueCount</c>), the
    /// plain binding every host sends, rather than the SDK's deferred-binding <c>QueueMessage</c>.
    /// </remarks>
    [Function("Quality_RunCheck")]
    public async Task RunCheck([QueueTrigger(QueueNames.QualityChecks)] string message, FunctionContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var body = CheckQueueMessage.TryParse(message);
        if (body is null)
        {
            // Retrying cannot make it readable; the host poisons it and the poison handler logs it.
            throw new InvalidOperationException($"Message {Metadata(context, "Id")} on {QueueNames.QualityChecks} is not a check execution message.");
        }
        var dequeueCount = long.TryParse(Metadata(context, "DequeueCount"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 1;
        await executor.HandleAsync(body, dequeueCount, ct);
    }

    /// <summary>A message that failed every delivery: its execution is recorded as ERROR, never lost.</summary>
    [Function("Quality_RunCheckPoison")]
    public Task RunCheckPoison([QueueTrigger("quality-checks-poison")] string message, CancellationToken ct)
        => executor.HandlePoisonAsync(message, ct);

    private static string? Metadata(FunctionContext context, string name)
        => context.BindingContext.BindingData.TryGetValue(name, out var value) ? Convert.ToString(value, CultureInfo.InvariantCulture)?.Trim('"') : null;

    /// <summary>Every minute: enqueue the checks whose schedule is due, each exactly once.</summary>
    [Function("Quality_Scheduler")]
    public async Task Schedule([TimerTrigger("0 * * * * *")] TimerInfo timer, CancellationToken ct)
    {
        var enqueued = await executor.EnqueueDueAsync(ct);
        if (enqueued > 0) log.LogInformation("Enqueued {Count} scheduled check run(s)", enqueued);
    }
}
