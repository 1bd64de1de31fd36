using Microsoft.Azure.Functions.Worker;
using Qarion.Core.Common;
using Qarion.Core.Webhooks;

namespace Qarion.Functions.Webhooks;

/// <summary>
/// The <c>webhooks</c> queue: outbox events from the relay (fanned out into delivery series) and this feature's own
/// delayed retry messages (one attempt each). An exception (our database or queue failing) makes the host retry.
/// </summary>
public sealed class WebhookQueueFunctions(WebhookDeliverer deliverer)
{
    [Function("Webhooks_Deliver")]
    public Task Deliver([QueueTrigger(QueueNames.Webhooks)] string message, CancellationToken ct) => deliverer.HandleAsync(message, ct);

    /// <summary>A message that failed every delivery: its series ends as failed rather than pending for ever.</summary>
    [Function("Webhooks_DeliverPoison")]
    public Task DeliverPoison([QueueTrigger("webhooks-poison")] string message, CancellationToken ct) => deliverer.HandlePoisonAsync(message, ct);
}
