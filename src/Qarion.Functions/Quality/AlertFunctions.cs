using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Qarion.Core.Common;
using Qarion.Core.Issues;
using Qarion.Core.Quality;
using Qarion.Functions.Http;

namespace Qarion.Functions.Quality;

public sealed class AlertFunctions(RequestReader reader, AlertService alerts)
{
    private const string Tag = "Quality";
    private const string Alerts = "v1/spaces/{space}/alerts";
    private const string Alert = "v1/spaces/{space}/alerts/{alertId}";

    [Function("Alerts_List")]
    [ApiOperation("List quality alerts, newest first (Viewer)", Description = "Filters combine with AND: `status` (active, acknowledged, resolved, or open = not resolved), `severity` (low, medium, high, critical), `check_id`, `product_id`, `from`/`to` (raised at).",
        Response = typeof(Paged<AlertSummary>), Query = ["status", "severity", "check_id", "product_id", "from", "to", "page", "size"], Errors = [404], Tag = Tag)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Alerts)] HttpRequest request, string space, CancellationToken ct)
    {
        var query = new AlertListQuery(
            request.QueryString("status", 20), request.QueryEnum<CheckSeverity>("severity"), request.QueryGuid("check_id"),
            request.QueryGuid("product_id"), request.QueryInstant("from"), request.QueryInstant("to"));
        return ApiResults.Ok(await alerts.ListAsync(space, query, request.Paging(), ct));
    }

    [Function("Alerts_Get")]
    [ApiOperation("One alert with its check, product, annotations and executions (Viewer)", Response = typeof(AlertResponse), Errors = [404], Tag = Tag)]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Alert)] HttpRequest request, string space, string alertId, CancellationToken ct)
    {
        var alert = await alerts.GetAsync(space, HttpRequestExtensions.RouteId(alertId, "Alert"), ct);
        return ApiResults.Ok(alert, alert.Version);
    }

    [Function("Alerts_Update")]
    [ApiOperation("Change an open alert's severity (Editor)", Description = "409 `alert_resolved` once resolved.", Request = typeof(UpdateAlertRequest), Response = typeof(AlertResponse), IfMatch = true, Tag = Tag)]
    public async Task<IActionResult> Update(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = Alert)] HttpRequest request, string space, string alertId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(alertId, "Alert");
        var ifMatch = request.IfMatchVersion();
        var alert = await alerts.UpdateAsync(space, id, await reader.ReadAsync<UpdateAlertRequest>(request, ct), ifMatch, ct);
        return ApiResults.Ok(alert, alert.Version);
    }

    [Function("Alerts_Annotate")]
    [ApiOperation("Add a note to an alert (Editor)", Request = typeof(AnnotateAlertRequest), Response = typeof(AnnotationResponse), Status = 201, Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> Annotate(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Alert + "/annotations")] HttpRequest request, string space, string alertId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(alertId, "Alert");
        var annotation = await alerts.AnnotateAsync(space, id, await reader.ReadAsync<AnnotateAlertRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/spaces/{space}/alerts/{id}", annotation);
    }

    [Function("Alerts_Acknowledge")]
    [ApiOperation("Acknowledge an alert (Editor)", Description = "No body. An acknowledged alert stays as first acknowledged; a resolved one is 409 `alert_resolved`.",
        Response = typeof(AlertResponse), IfMatch = true, Tag = Tag)]
    public async Task<IActionResult> Acknowledge(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Alert + "/acknowledge")] HttpRequest request, string space, string alertId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(alertId, "Alert");
        var alert = await alerts.AcknowledgeAsync(space, id, request.IfMatchVersion(), ct);
        return ApiResults.Ok(alert, alert.Version);
    }

    [Function("Alerts_Resolve")]
    [ApiOperation("Resolve an alert by hand (Editor)", Description = "The body (`{\"note\": …}`) is optional. Writes quality.alert.resolved to the outbox; a resolved alert is 409 `alert_resolved`.",
        Request = typeof(ResolveAlertRequest), Response = typeof(AlertResponse), IfMatch = true, Tag = Tag)]
    public async Task<IActionResult> Resolve(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Alert + "/resolve")] HttpRequest request, string space, string alertId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(alertId, "Alert");
        var ifMatch = request.IfMatchVersion();
        var body = HasBody(request) ? await reader.ReadAsync<ResolveAlertRequest>(request, ct) : new ResolveAlertRequest();
        var alert = await alerts.ResolveAsync(space, id, body, ifMatch, ct);
        return ApiResults.Ok(alert, alert.Version);
    }

    [Function("Alerts_CreateIssue")]
    [ApiOperation("Open an issue from an alert (Editor)", Description = "The body (`title`, `priority`, `assignee_id`) is optional: the title defaults to the alert's, the priority follows its severity, the description carries its context; the issue is linked to the alert's product. 409 `alert_has_issue`, naming the issue, when the alert already has one.",
        Request = typeof(CreateIssueFromAlertRequest), Response = typeof(IssueResponse), Status = 201, Tag = Tag)]
    public async Task<IActionResult> CreateIssue(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Alert + "/issue")] HttpRequest request, string space, string alertId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(alertId, "Alert");
        var body = HasBody(request) ? await reader.ReadAsync<CreateIssueFromAlertRequest>(request, ct) : new CreateIssueFromAlertRequest();
        var issue = await alerts.CreateIssueAsync(space, id, body, ct);
        return ApiResults.Created($"/api/v1/spaces/{space}/issues/{issue.Id}", issue, issue.Version);
    }

    /// <summary>An optional body: absent when the request declares no length (and is not chunked) or a length of zero.</summary>
    private static bool HasBody(HttpRequest request)
        => request.ContentLength is > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
}
