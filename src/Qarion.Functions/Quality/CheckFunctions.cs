using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Qarion.Core.Common;
using Qarion.Core.Quality;
using Qarion.Functions.Http;

namespace Qarion.Functions.Quality;

public sealed class CheckFunctions(RequestReader reader, CheckService checks, DbtTestImportService imports)
{
    private const string Tag = "Quality";
    private const string Checks = "v1/spaces/{space}/checks";
    private const string Check = "v1/spaces/{space}/checks/{check}";

    [Function("Checks_Create")]
    [ApiOperation("Define a quality check (Editor)",
        Description = "The config is validated per check_type; tables and columns must be in the connector's catalog (a table defaults to the primary product's, a column to `field`). See decision 0005 for every type's keys.",
        Request = typeof(CreateCheckRequest), Response = typeof(CheckResponse), Status = 201, Tag = Tag)]
    public async Task<IActionResult> Create(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Checks)] HttpRequest request, string space, CancellationToken ct)
    {
        var check = await checks.CreateAsync(space, await reader.ReadAsync<CreateCheckRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/spaces/{space}/checks/{check.Id}", check, check.Version);
    }

    [Function("Checks_List")]
    [ApiOperation("List quality checks, by name (Viewer)",
        Description = "Filters combine with AND. `status` is the last result (pass, warning, fail, error, queued, running) or `never`. Archived checks are left out unless `include_archived=true`; `archived=true` lists only them.",
        Response = typeof(Paged<CheckResponse>), Query = ["product", "check_type", "status", "connector_id", "include_archived", "archived", "q", "page", "size"], Errors = [404], Tag = Tag)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Checks)] HttpRequest request, string space, CancellationToken ct)
    {
        var query = new CheckListQuery(
            request.QueryString("product", 100), request.QueryString("check_type", 32), request.QueryString("status", 16),
            request.QueryGuid("connector_id"), request.QueryBool("include_archived") ?? false, request.QueryBool("archived") ?? false,
            request.QueryString("q"));
        return ApiResults.Ok(await checks.ListAsync(space, query, request.Paging(), ct));
    }

    [Function("Checks_Get")]
    [ApiOperation("A quality check by id or slug (Viewer)", Response = typeof(CheckResponse), Errors = [404], Tag = Tag)]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Check)] HttpRequest request, string space, string check, CancellationToken ct)
    {
        var result = await checks.GetAsync(space, check, ct);
        return ApiResults.Ok(result, result.Version);
    }

    [Function("Checks_Update")]
    [ApiOperation("Change a quality check (Editor)",
        Description = "Only the fields sent change; `null` clears a threshold. The whole definition is validated again.",
        Request = typeof(UpdateCheckRequest), Response = typeof(CheckResponse), IfMatch = true, Tag = Tag)]
    public async Task<IActionResult> Update(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = Check)] HttpRequest request, string space, string check, CancellationToken ct)
    {
        var ifMatch = request.IfMatchVersion();
        var result = await checks.UpdateAsync(space, check, await reader.ReadAsync<UpdateCheckRequest>(request, ct), ifMatch, ct);
        return ApiResults.Ok(result, result.Version);
    }

    [Function("Checks_Archive")]
    [ApiOperation("Archive a quality check: it stops running, its history stays (Editor)", Response = typeof(CheckResponse), IfMatch = true, Tag = Tag)]
    public async Task<IActionResult> Archive(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Check + "/archive")] HttpRequest request, string space, string check, CancellationToken ct)
    {
        var result = await checks.SetArchivedAsync(space, check, true, request.IfMatchVersion(), ct);
        return ApiResults.Ok(result, result.Version);
    }

    [Function("Checks_Unarchive")]
    [ApiOperation("Unarchive a quality check (Editor)", Response = typeof(CheckResponse), IfMatch = true, Tag = Tag)]
    public async Task<IActionResult> Unarchive(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Check + "/unarchive")] HttpRequest request, string space, string check, CancellationToken ct)
    {
        var result = await checks.SetArchivedAsync(space, check, false, request.IfMatchVersion(), ct);
        return ApiResults.Ok(result, result.Version);
    }

    [Function("Checks_Delete")]
    [ApiOperation("Delete a quality check with its executions and alerts (Admin)", Status = 204, IfMatch = true, Tag = Tag)]
    public async Task<IActionResult> Delete(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = Check)] HttpRequest request, string space, string check, CancellationToken ct)
    {
        await checks.DeleteAsync(space, check, request.IfMatchVersion(), ct);
        return ApiResults.NoContent();
    }

    [Function("Checks_ImportDbtTests")]
    [ApiOperation("Turn a dbt connector's tests into quality checks (Editor)",
        Description = "not_null → null_check, unique → uniqueness, accepted_values → accepted_values, relationships → sql_condition, run on `run_connector_id` (the postgresql connector where the models are materialised). Idempotent: one check per test; tests whose table or column is not in that catalog are listed in `skipped`.",
        Request = typeof(ImportTestsRequest), Response = typeof(ImportTestsResponse), Tag = Tag)]
    public async Task<IActionResult> ImportTests(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/spaces/{space}/connectors/{connectorId}/tests/import")] HttpRequest request, string space, string connectorId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(connectorId, "Connector");
        return ApiResults.Ok(await imports.ImportAsync(space, id, await reader.ReadAsync<ImportTestsRequest>(request, ct), ct));
    }
}
