using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Qarion.Core.Common;
using Qarion.Core.Quality;
using Qarion.Functions.Http;

namespace Qarion.Functions.Quality;

public sealed class ExecutionFunctions(RequestReader reader, ExecutionService executions)
{
    private const string Tag = "Quality";
    private const string Check = "v1/spaces/{space}/checks/{check}";
    private const string Executions = "v1/spaces/{space}/executions";

    [Function("Checks_Run")]
    [ApiOperation("Run a check now (Editor)",
        Description = "Queues the run on the quality-checks queue and answers 202 with the execution to follow. An Idempotency-Key header makes a retried request return the first execution (200).",
        Response = typeof(RunCheckResponse), Status = 202, AlternateStatus = 200, Errors = [403, 404, 409], Tag = Tag)]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Check + "/run")] HttpRequest request, string space, string check, CancellationToken ct)
    {
        var (run, created) = await executions.RunAsync(space, check, IdempotencyKey(request), ct);
        return created ? ApiResults.Accepted(run) : ApiResults.Ok(run);
    }

    [Function("Checks_PushResult")]
    [ApiOperation("Record a result of a custom or manual check (Editor)",
        Description = "custom: a metric judged by the thresholds, or the tool's own status; manual: a value a person entered. The same idempotency_key returns the first result (200).",
        Request = typeof(PushResultRequest), Response = typeof(ExecutionResponse), Status = 201, AlternateStatus = 200, Tag = Tag)]
    public async Task<IActionResult> PushResult(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Check + "/results")] HttpRequest request, string space, string check, CancellationToken ct)
    {
        var (execution, created) = await executions.PushResultAsync(space, check, await reader.ReadAsync<PushResultRequest>(request, ct), ct);
        return created ? ApiResults.Created($"/api/v1/spaces/{space}/executions/{execution.Id}", execution) : ApiResults.Ok(execution);
    }

    [Function("Checks_Executions")]
    [ApiOperation("A check's executions, newest first (Viewer)", Response = typeof(Paged<ExecutionResponse>),
        Query = ["status", "trigger", "ignored", "from", "to", "page", "size"], Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> ListForCheck(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Check + "/executions")] HttpRequest request, string space, string check, CancellationToken ct)
        => ApiResults.Ok(await executions.ListAsync(space, check, Filter(request, withProduct: false), request.Paging(), ct));

    [Function("Checks_Stats")]
    [ApiOperation("A check's statistics over a window; ignored runs left out (Viewer)", Response = typeof(CheckStatsResponse), Query = ["days"], Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> CheckStats(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Check + "/stats")] HttpRequest request, string space, string check, CancellationToken ct)
        => ApiResults.Ok(await executions.CheckStatsAsync(space, check, request.QueryInt("days"), ct));

    [Function("Executions_List")]
    [ApiOperation("The space's executions, newest first (Viewer)", Response = typeof(Paged<ExecutionResponse>),
        Query = ["status", "trigger", "ignored", "product", "from", "to", "page", "size"], Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Executions)] HttpRequest request, string space, CancellationToken ct)
        => ApiResults.Ok(await executions.ListAsync(space, null, Filter(request, withProduct: true), request.Paging(), ct));

    [Function("Executions_Get")]
    [ApiOperation("One execution: status, metric, the SQL that ran, duration, trigger (Viewer)", Response = typeof(ExecutionResponse), Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Executions + "/{executionId}")] HttpRequest request, string space, string executionId, CancellationToken ct)
        => ApiResults.Ok(await executions.GetAsync(space, HttpRequestExtensions.RouteId(executionId, "Execution"), ct));

    [Function("Executions_Ignore")]
    [ApiOperation("Leave an execution out of statistics, scores and the check's status (Editor)", Request = typeof(IgnoreExecutionRequest), Response = typeof(ExecutionResponse), Tag = Tag)]
    public async Task<IActionResult> Ignore(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Executions + "/{executionId}/ignore")] HttpRequest request, string space, string executionId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(executionId, "Execution");
        var body = request.ContentLength is null or 0 ? new IgnoreExecutionRequest() : await reader.ReadAsync<IgnoreExecutionRequest>(request, ct);
        return ApiResults.Ok(await executions.SetIgnoredAsync(space, id, true, body.Reason, ct));
    }

    [Function("Executions_Unignore")]
    [ApiOperation("Count an ignored execution again (Editor)", Response = typeof(ExecutionResponse), Tag = Tag)]
    public async Task<IActionResult> Unignore(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Executions + "/{executionId}/unignore")] HttpRequest request, string space, string executionId, CancellationToken ct)
        => ApiResults.Ok(await executions.SetIgnoredAsync(space, HttpRequestExtensions.RouteId(executionId, "Execution"), false, null, ct));

    [Function("Quality_SpaceStats")]
    [ApiOperation("The space's quality at a glance: checks by last status, runs, open alerts, scores (Viewer)", Response = typeof(SpaceQualityStatsResponse), Query = ["days"], Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> SpaceStats(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/quality/stats")] HttpRequest request, string space, CancellationToken ct)
        => ApiResults.Ok(await executions.SpaceStatsAsync(space, request.QueryInt("days"), ct));

    [Function("Quality_Trend")]
    [ApiOperation("Completed runs per UTC day, for the space or one product (Viewer)", Response = typeof(TrendResponse), Query = ["product", "days"], Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> Trend(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/quality/trend")] HttpRequest request, string space, CancellationToken ct)
        => ApiResults.Ok(await executions.TrendAsync(space, request.QueryString("product"), request.QueryInt("days"), ct));

    [Function("Products_Quality")]
    [ApiOperation("A product's quality score, health and the checks that make it (Viewer)", Response = typeof(ProductQualityResponse), Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> ProductQuality(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/products/{product}/quality")] HttpRequest request, string space, string product, CancellationToken ct)
        => ApiResults.Ok(await executions.ProductQualityAsync(space, product, ct));

    private static ExecutionFilter Filter(HttpRequest request, bool withProduct) => new(
        request.QueryEnum<ExecutionStatus>("status"), request.QueryInstant("from"), request.QueryInstant("to"),
        withProduct ? request.QueryString("product") : null, request.QueryEnum<ExecutionTrigger>("trigger"), request.QueryBool("ignored"));

    private static string? IdempotencyKey(HttpRequest request)
    {
        var raw = request.Headers["Idempotency-Key"].ToString().Trim();
        if (raw.Length == 0) return null;
        if (raw.Length > 120 || !raw.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-'))
            throw RequestValidationException.For("header", "Idempotency-Key", "1–120 characters of letters, digits, '.', '_', ':' or '-'", "idempotency_key_invalid");
        return raw;
    }
}
