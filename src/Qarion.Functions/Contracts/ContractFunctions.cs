using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Qarion.Core.Common;
using Qarion.Core.Contracts;
using Qarion.Functions.Http;

namespace Qarion.Functions.Contracts;

public sealed class ContractFunctions(RequestReader reader, ContractService contracts, ContractSlaService sla, ILogger<ContractFunctions> log)
{
    private const string Tag = "Contracts";

    [Function("Contracts_List")]
    [ApiOperation("The space's data contracts (Viewer)", Description = "`product_id` matches the producer or a consumer.",
        Response = typeof(Paged<ContractResponse>), Query = ["status", "sla_status", "product_id", "page", "size"], Errors = [404], Tag = Tag)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/contracts")] HttpRequest request, string space, CancellationToken ct)
    {
        var query = new ContractListQuery(request.QueryEnum<ContractStatus>("status"), request.QueryEnum<SlaStatus>("sla_status"), request.QueryGuid("product_id"));
        return ApiResults.Ok(await contracts.ListAsync(space, query, request.Paging(), ct));
    }

    [Function("Contracts_Create")]
    [ApiOperation("Create a data contract (Editor)", Description = "Producer and consumers by id or slug; the slug is derived from the name when absent. Created as draft unless `status` is active (which needs an SLA term).",
        Request = typeof(CreateContractRequest), Response = typeof(ContractResponse), Status = 201, Tag = Tag)]
    public async Task<IActionResult> Create(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/spaces/{space}/contracts")] HttpRequest request, string space, CancellationToken ct)
    {
        var contract = await contracts.CreateAsync(space, await reader.ReadAsync<CreateContractRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/spaces/{space}/contracts/{contract.Id}", contract, contract.Version);
    }

    [Function("Contracts_Get")]
    [ApiOperation("One data contract by id or slug, with its last SLA evaluation (Viewer)", Response = typeof(ContractResponse), Errors = [404], Tag = Tag)]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/contracts/{contract}")] HttpRequest request, string space, string contract, CancellationToken ct)
    {
        var result = await contracts.GetAsync(space, contract, ct);
        return ApiResults.Ok(result, result.Version);
    }

    [Function("Contracts_Update")]
    [ApiOperation("Change a data contract or its status (Editor)", Description = "Only the fields sent change. Status: draft → active → deprecated or expired; deprecated → active or expired; expired is final.",
        Request = typeof(UpdateContractRequest), Response = typeof(ContractResponse), IfMatch = true, Tag = Tag)]
    public async Task<IActionResult> Update(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "v1/spaces/{space}/contracts/{contract}")] HttpRequest request, string space, string contract, CancellationToken ct)
    {
        var ifMatch = request.IfMatchVersion();
        var result = await contracts.UpdateAsync(space, contract, await reader.ReadAsync<UpdateContractRequest>(request, ct), ifMatch, ct);
        return ApiResults.Ok(result, result.Version);
    }

    [Function("Contracts_Delete")]
    [ApiOperation("Delete a draft contract (Admin)", Description = "409 `contract_not_draft` otherwise: deprecate or expire it instead.", Status = 204, IfMatch = true, Tag = Tag)]
    public async Task<IActionResult> Delete(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/spaces/{space}/contracts/{contract}")] HttpRequest request, string space, string contract, CancellationToken ct)
    {
        await contracts.DeleteAsync(space, contract, request.IfMatchVersion(), ct);
        return ApiResults.NoContent();
    }

    [Function("Contracts_Violations")]
    [ApiOperation("The contract's violations, newest first (Viewer)", Response = typeof(Paged<ContractViolationResponse>), Query = ["state", "page", "size"], Errors = [404], Tag = Tag)]
    public async Task<IActionResult> Violations(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/contracts/{contract}/violations")] HttpRequest request, string space, string contract, CancellationToken ct)
    {
        bool? open = request.QueryString("state", 16) switch
        {
            null => null,
            "open" => true,
            "resolved" => false,
            _ => throw RequestValidationException.For("query", "state", "must be one of: open, resolved", "enum"),
        };
        return ApiResults.Ok(await contracts.ViolationsAsync(space, contract, open, request.Paging(), ct));
    }

    [Function("Contracts_Evaluate")]
    [ApiOperation("Evaluate an active contract's SLA now (Editor)", Description = "409 `contract_not_active` for other statuses. Returns the contract with the new result.",
        Response = typeof(ContractResponse), Tag = Tag)]
    public async Task<IActionResult> Evaluate(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/spaces/{space}/contracts/{contract}/evaluate")] HttpRequest request, string space, string contract, CancellationToken ct)
    {
        var result = await contracts.EvaluateAsync(space, contract, ct);
        return ApiResults.Ok(result, result.Version);
    }

    /// <summary>Every five minutes: evaluate the active contracts (and expire those past their expiry).</summary>
    [Function("Contracts_SlaEvaluator")]
    public async Task EvaluateSla([TimerTrigger("0 */5 * * * *")] TimerInfo timer, CancellationToken ct)
    {
        var evaluated = await sla.EvaluateDueAsync(ct);
        if (evaluated > 0) log.LogInformation("Evaluated {Count} data contract(s)", evaluated);
    }
}
