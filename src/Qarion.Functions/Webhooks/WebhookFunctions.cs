using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Qarion.Core.Common;
using Qarion.Core.Webhooks;
using Qarion.Functions.Http;

namespace Qarion.Functions.Webhooks;

public sealed class WebhookFunctions(RequestReader reader, WebhookService webhooks)
{
    private const string Tag = "Webhooks";
    private const string Base = "v1/spaces/{space}/webhooks";

    [Function("Webhooks_List")]
    [ApiOperation("The space's webhook subscriptions (Admin); secrets are never shown", Response = typeof(Paged<WebhookResponse>), Query = ["page", "size"], Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Base)] HttpRequest request, string space, CancellationToken ct)
        => ApiResults.Ok(await webhooks.ListAsync(space, request.Paging(), ct));

    [Function("Webhooks_Create")]
    [ApiOperation("Subscribe a URL to events (Admin)",
        Description = "event_types: exact names, `prefix.*` or `*`. The URL must not resolve to a private, loopback or link-local address (422 `private_address`). The signing secret (given or generated, `whsec_…`) is in this answer only.",
        Request = typeof(CreateWebhookRequest), Response = typeof(WebhookResponse), Status = 201, Tag = Tag)]
    public async Task<IActionResult> Create(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Base)] HttpRequest request, string space, CancellationToken ct)
    {
        var webhook = await webhooks.CreateAsync(space, await reader.ReadAsync<CreateWebhookRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/spaces/{space}/webhooks/{webhook.Id}", webhook, webhook.Version);
    }

    [Function("Webhooks_Get")]
    [ApiOperation("One webhook subscription (Admin)", Response = typeof(WebhookResponse), Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Base + "/{webhookId}")] HttpRequest request, string space, string webhookId, CancellationToken ct)
    {
        var webhook = await webhooks.GetAsync(space, HttpRequestExtensions.RouteId(webhookId, "Webhook"), ct);
        return ApiResults.Ok(webhook, webhook.Version);
    }

    [Function("Webhooks_Update")]
    [ApiOperation("Change a webhook subscription (Admin); enabling it clears the failure count", Request = typeof(UpdateWebhookRequest), Response = typeof(WebhookResponse), IfMatch = true, Tag = Tag)]
    public async Task<IActionResult> Update(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = Base + "/{webhookId}")] HttpRequest request, string space, string webhookId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(webhookId, "Webhook");
        var ifMatch = request.IfMatchVersion();
        var webhook = await webhooks.UpdateAsync(space, id, await reader.ReadAsync<UpdateWebhookRequest>(request, ct), ifMatch, ct);
        return ApiResults.Ok(webhook, webhook.Version);
    }

    [Function("Webhooks_Delete")]
    [ApiOperation("Delete a webhook subscription and its delivery log (Admin)", Status = 204, Tag = Tag)]
    public async Task<IActionResult> Delete(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = Base + "/{webhookId}")] HttpRequest request, string space, string webhookId, CancellationToken ct)
    {
        await webhooks.DeleteAsync(space, HttpRequestExtensions.RouteId(webhookId, "Webhook"), ct);
        return ApiResults.NoContent();
    }

    [Function("Webhooks_RotateSecret")]
    [ApiOperation("Replace the signing secret (Admin); the new one is in this answer only", Request = typeof(RotateWebhookSecretRequest), Response = typeof(WebhookResponse), Tag = Tag)]
    public async Task<IActionResult> RotateSecret(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Base + "/{webhookId}/rotate-secret")] HttpRequest request, string space, string webhookId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(webhookId, "Webhook");
        return ApiResults.Ok(await webhooks.RotateSecretAsync(space, id, await reader.ReadAsync<RotateWebhookSecretRequest>(request, ct), ct));
    }

    [Function("Webhooks_Enable")]
    [ApiOperation("Enable a webhook subscription (Admin); clears the failure count and the disabled reason", Response = typeof(WebhookResponse), Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> Enable(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Base + "/{webhookId}/enable")] HttpRequest request, string space, string webhookId, CancellationToken ct)
        => ApiResults.Ok(await webhooks.SetEnabledAsync(space, HttpRequestExtensions.RouteId(webhookId, "Webhook"), true, ct));

    [Function("Webhooks_Disable")]
    [ApiOperation("Disable a webhook subscription (Admin)", Response = typeof(WebhookResponse), Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> Disable(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Base + "/{webhookId}/disable")] HttpRequest request, string space, string webhookId, CancellationToken ct)
        => ApiResults.Ok(await webhooks.SetEnabledAsync(space, HttpRequestExtensions.RouteId(webhookId, "Webhook"), false, ct));

    [Function("Webhooks_Test")]
    [ApiOperation("Send a signed `webhook.test` event now (Admin)", Description = "Always 200: `success` says whether the receiver answered 2xx. One attempt, no retries; logged with the deliveries.",
        Response = typeof(WebhookSendResult), Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> Test(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Base + "/{webhookId}/test")] HttpRequest request, string space, string webhookId, CancellationToken ct)
        => ApiResults.Ok(await webhooks.TestAsync(space, HttpRequestExtensions.RouteId(webhookId, "Webhook"), ct));

    [Function("Webhooks_Deliveries")]
    [ApiOperation("The subscription's deliveries, newest first, each with its attempts (Admin)", Description = "status: pending, succeeded or failed.",
        Response = typeof(Paged<WebhookDeliveryResponse>), Query = ["status", "page", "size"], Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> Deliveries(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Base + "/{webhookId}/deliveries")] HttpRequest request, string space, string webhookId, CancellationToken ct)
        => ApiResults.Ok(await webhooks.DeliveriesAsync(space, HttpRequestExtensions.RouteId(webhookId, "Webhook"), request.QueryEnum<WebhookDeliveryStatus>("status"), request.Paging(), ct));

    [Function("Webhooks_Delivery")]
    [ApiOperation("One delivery and its attempts (Admin)", Response = typeof(WebhookDeliveryResponse), Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> Delivery(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Base + "/{webhookId}/deliveries/{deliveryId}")] HttpRequest request, string space, string webhookId, string deliveryId, CancellationToken ct)
        => ApiResults.Ok(await webhooks.DeliveryAsync(space, HttpRequestExtensions.RouteId(webhookId, "Webhook"), HttpRequestExtensions.RouteId(deliveryId, "Webhook delivery"), ct));

    [Function("Webhooks_Redeliver")]
    [ApiOperation("Send a failed delivery again, now (Admin)", Description = "One more attempt of the same series (same webhook-id), recorded in its log; 409 `delivery_not_failed` unless the delivery failed.",
        Response = typeof(WebhookSendResult), Errors = [403, 404, 409], Tag = Tag)]
    public async Task<IActionResult> Redeliver(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Base + "/{webhookId}/deliveries/{deliveryId}/redeliver")] HttpRequest request, string space, string webhookId, string deliveryId, CancellationToken ct)
        => ApiResults.Ok(await webhooks.RedeliverAsync(space, HttpRequestExtensions.RouteId(webhookId, "Webhook"), HttpRequestExtensions.RouteId(deliveryId, "Webhook delivery"), ct));
}
