using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Qarion.Core.Common;
using Qarion.Core.Ingestion;
using Qarion.Functions.Http;

namespace Qarion.Functions.Ingestion;

public sealed class ConnectorFunctions(RequestReader reader, ConnectorService connectors, SyncService syncs)
{
    private const string Tag = "Ingestion";

    [Function("Connectors_List")]
    [ApiOperation("The space's connectors (Editor)", Response = typeof(Paged<ConnectorResponse>), Query = ["platform", "page", "size"], Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/connectors")] HttpRequest request, string space, CancellationToken ct)
        => ApiResults.Ok(await connectors.ListAsync(space, request.QueryString("platform", 32), request.Paging(), ct));

    [Function("Connectors_Create")]
    [ApiOperation("Add a connector (Admin)", Description = "Config is validated per platform; credentials are set separately with PUT …/credentials.",
        Request = typeof(CreateConnectorRequest), Response = typeof(ConnectorResponse), Status = 201, Tag = Tag)]
    public async Task<IActionResult> Create(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/spaces/{space}/connectors")] HttpRequest request, string space, CancellationToken ct)
    {
        var connector = await connectors.CreateAsync(space, await reader.ReadAsync<CreateConnectorRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/spaces/{space}/connectors/{connector.Id}", connector, connector.Version);
    }

    [Function("Connectors_Get")]
    [ApiOperation("One connector (Editor); says whether credentials are set, never what they are", Response = typeof(ConnectorResponse), Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/connectors/{connectorId}")] HttpRequest request, string space, string connectorId, CancellationToken ct)
    {
        var connector = await connectors.GetAsync(space, HttpRequestExtensions.RouteId(connectorId, "Connector"), ct);
        return ApiResults.Ok(connector, connector.Version);
    }

    [Function("Connectors_Update")]
    [ApiOperation("Change a connector (Admin)", Request = typeof(UpdateConnectorRequest), Response = typeof(ConnectorResponse), IfMatch = true, Tag = Tag)]
    public async Task<IActionResult> Update(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "v1/spaces/{space}/connectors/{connectorId}")] HttpRequest request, string space, string connectorId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(connectorId, "Connector");
        var ifMatch = request.IfMatchVersion();
        var connector = await connectors.UpdateAsync(space, id, await reader.ReadAsync<UpdateConnectorRequest>(request, ct), ifMatch, ct);
        return ApiResults.Ok(connector, connector.Version);
    }

    [Function("Connectors_Delete")]
    [ApiOperation("Delete a connector and its history (Admin); its products stay in the catalog", Status = 204, Tag = Tag)]
    public async Task<IActionResult> Delete(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/spaces/{space}/connectors/{connectorId}")] HttpRequest request, string space, string connectorId, CancellationToken ct)
    {
        await connectors.DeleteAsync(space, HttpRequestExtensions.RouteId(connectorId, "Connector"), ct);
        return ApiResults.NoContent();
    }

    [Function("Connectors_SetCredentials")]
    [ApiOperation("Set the connector's credentials (Admin)", Description = "postgresql: `{\"username\": …, \"password\": …}`. Stored encrypted; no endpoint ever returns them.",
        Request = typeof(Dictionary<string, string>), Response = typeof(ConnectorResponse), Errors = [403, 404, 503], Tag = Tag)]
    public async Task<IActionResult> SetCredentials(
        [HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "v1/spaces/{space}/connectors/{connectorId}/credentials")] HttpRequest request, string space, string connectorId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(connectorId, "Connector");
        return ApiResults.Ok(await connectors.SetCredentialsAsync(space, id, await reader.ReadObjectAsync(request, ct), ct));
    }

    [Function("Connectors_ClearCredentials")]
    [ApiOperation("Remove the connector's credentials (Admin)", Response = typeof(ConnectorResponse), Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> ClearCredentials(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/spaces/{space}/connectors/{connectorId}/credentials")] HttpRequest request, string space, string connectorId, CancellationToken ct)
        => ApiResults.Ok(await connectors.ClearCredentialsAsync(space, HttpRequestExtensions.RouteId(connectorId, "Connector"), ct));

    [Function("Connectors_Test")]
    [ApiOperation("Try the connection (Admin)", Description = "Always 200: `success` says whether it worked; the message never holds a secret.",
        Response = typeof(ConnectionTestResult), Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> Test(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/spaces/{space}/connectors/{connectorId}/test")] HttpRequest request, string space, string connectorId, CancellationToken ct)
        => ApiResults.Ok(await connectors.TestAsync(space, HttpRequestExtensions.RouteId(connectorId, "Connector"), ct));

    [Function("Connectors_Sync")]
    [ApiOperation("Start a sync now (Admin)", Description = "202 with the job id and its status URL; 409 `sync_in_progress` while one runs.",
        Response = typeof(SyncStarted), Status = 202, Tag = Tag)]
    public async Task<IActionResult> Sync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/spaces/{space}/connectors/{connectorId}/sync")] HttpRequest request, string space, string connectorId,
        [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var started = await syncs.StartAsync(space, HttpRequestExtensions.RouteId(connectorId, "Connector"), durable, ct);
        return new JsonBodyResult(started, StatusCodes.Status202Accepted, location: started.StatusUrl);
    }

    [Function("Connectors_UploadManifest")]
    [ApiOperation("Upload a dbt manifest.json and merge it (Admin)",
        Description = "Schema versions v7 to v12. The body is the manifest itself. 413 above the size limit; 422 when malformed, truncated or of another version (the catalog is unchanged).",
        Request = typeof(Dictionary<string, object>), Response = typeof(SyncJobResponse), Errors = [403, 404, 409, 413], Tag = Tag)]
    public async Task<IActionResult> UploadManifest(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/spaces/{space}/connectors/{connectorId}/manifest")] HttpRequest request, string space, string connectorId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(connectorId, "Connector");
        RequestReader.RequireJsonContentType(request);
        var job = await syncs.UploadManifestAsync(space, id, request.Body, ct);
        return ApiResults.Ok(job);
    }

    [Function("Connectors_SyncHistory")]
    [ApiOperation("The connector's sync jobs, newest first (Editor)", Response = typeof(Paged<SyncJobResponse>), Query = ["status", "page", "size"], Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> History(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/connectors/{connectorId}/sync-history")] HttpRequest request, string space, string connectorId, CancellationToken ct)
        => ApiResults.Ok(await connectors.HistoryAsync(space, HttpRequestExtensions.RouteId(connectorId, "Connector"), request.QueryEnum<SyncStatus>("status"), request.Paging(), ct));

    [Function("Connectors_Tests")]
    [ApiOperation("Tests the connector's source declares (dbt generic tests), kept for the quality checks (Editor)", Response = typeof(Paged<SourceTestResponse>), Query = ["page", "size"], Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> Tests(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/connectors/{connectorId}/tests")] HttpRequest request, string space, string connectorId, CancellationToken ct)
        => ApiResults.Ok(await connectors.TestsAsync(space, HttpRequestExtensions.RouteId(connectorId, "Connector"), request.Paging(), ct));

    [Function("SyncJobs_Get")]
    [ApiOperation("One sync job: status, counts, warnings, error, duration (Editor)", Response = typeof(SyncJobResponse), Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> GetJob(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/sync-jobs/{jobId}")] HttpRequest request, string space, string jobId, CancellationToken ct)
        => ApiResults.Ok(await connectors.GetJobAsync(space, HttpRequestExtensions.RouteId(jobId, "Sync job"), ct));

    [Function("Products_SchemaChanges")]
    [ApiOperation("Columns added, removed or retyped in a product by syncs, newest first (Viewer)", Response = typeof(Paged<SchemaChangeResponse>), Query = ["page", "size"], Errors = [404], Tag = Tag)]
    public async Task<IActionResult> SchemaChanges(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/products/{product}/schema-changes")] HttpRequest request, string space, string product, CancellationToken ct)
        => ApiResults.Ok(await connectors.SchemaChangesAsync(space, product, request.Paging(), ct));
}
