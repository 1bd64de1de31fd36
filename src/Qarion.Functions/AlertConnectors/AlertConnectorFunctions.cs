using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Qarion.Core.AlertConnectors;
using Qarion.Core.Common;
using Qarion.Functions.Http;

namespace Qarion.Functions.AlertConnectors;

public sealed class AlertConnectorFunctions(RequestReader reader, AlertConnectorService connectors)
{
    private const string Tag = "Alert connectors";
    private const string Route = "v1/spaces/{space}/alert-connectors";

    [Function("AlertConnectors_List")]
    [ApiOperation("The space's alert connectors, without secrets (Editor)", Response = typeof(Paged<AlertConnectorResponse>), Query = ["page", "size"], Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Route)] HttpRequest request, string space, CancellationToken ct)
        => ApiResults.Ok(await connectors.ListAsync(space, request.Paging(), ct));

    [Function("AlertConnectors_Create")]
    [ApiOperation("Add an alert connector (Admin)",
        Description = "kind `slack` or `teams` with `url` (the incoming-webhook URL: checked against private addresses, stored encrypted, never returned), "
                      + "or `email` with `config.recipients`. Routing: `event_types` (exact, `quality.*`, `*`), `min_severity`, `is_enabled`; only the space's own events.",
        Request = typeof(CreateAlertConnectorRequest), Response = typeof(AlertConnectorResponse), Status = 201, Tag = Tag)]
    public async Task<IActionResult> Create(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Route)] HttpRequest request, string space, CancellationToken ct)
    {
        var connector = await connectors.CreateAsync(space, await reader.ReadAsync<CreateAlertConnectorRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/spaces/{space}/alert-connectors/{connector.Id}", connector, connector.Version);
    }

    [Function("AlertConnectors_Get")]
    [ApiOperation("One alert connector (Editor): whether its URL is set and a hint of it, never the URL", Response = typeof(AlertConnectorResponse), Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Route + "/{connectorId}")] HttpRequest request, string space, string connectorId, CancellationToken ct)
    {
        var connector = await connectors.GetAsync(space, HttpRequestExtensions.RouteId(connectorId, "Alert connector"), ct);
        return ApiResults.Ok(connector, connector.Version);
    }

    [Function("AlertConnectors_Update")]
    [ApiOperation("Change an alert connector (Admin)", Request = typeof(UpdateAlertConnectorRequest), Response = typeof(AlertConnectorResponse), IfMatch = true, Tag = Tag)]
    public async Task<IActionResult> Update(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = Route + "/{connectorId}")] HttpRequest request, string space, string connectorId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(connectorId, "Alert connector");
        var ifMatch = request.IfMatchVersion();
        var connector = await connectors.UpdateAsync(space, id, await reader.ReadAsync<UpdateAlertConnectorRequest>(request, ct), ifMatch, ct);
        return ApiResults.Ok(connector, connector.Version);
    }

    [Function("AlertConnectors_Delete")]
    [ApiOperation("Delete an alert connector and its delivery records (Admin)", Status = 204, Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> Delete(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = Route + "/{connectorId}")] HttpRequest request, string space, string connectorId, CancellationToken ct)
    {
        await connectors.DeleteAsync(space, HttpRequestExtensions.RouteId(connectorId, "Alert connector"), ct);
        return ApiResults.NoContent();
    }

    [Function("AlertConnectors_Test")]
    [ApiOperation("Send a sample message now (Admin)",
        Description = "Always 200 when the connector exists: `success`, the receiver's `status_code`, the `error` and `latency_ms` say how it went.",
        Response = typeof(AlertConnectorTestResult), Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> Test(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Route + "/{connectorId}/test")] HttpRequest request, string space, string connectorId, CancellationToken ct)
        => ApiResults.Ok(await connectors.TestAsync(space, HttpRequestExtensions.RouteId(connectorId, "Alert connector"), ct));

    [Function("AlertConnectors_Deliveries")]
    [ApiOperation("What the connector sent, newest first (Editor): one record per event, with status, attempts, status code and error",
        Response = typeof(Paged<AlertDeliveryResponse>), Query = ["status", "page", "size"], Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> Deliveries(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Route + "/{connectorId}/deliveries")] HttpRequest request, string space, string connectorId, CancellationToken ct)
        => ApiResults.Ok(await connectors.DeliveriesAsync(space, HttpRequestExtensions.RouteId(connectorId, "Alert connector"),
            request.QueryEnum<AlertDeliveryStatus>("status"), request.Paging(), ct));
}
