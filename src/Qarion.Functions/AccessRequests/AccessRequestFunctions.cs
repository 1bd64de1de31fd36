using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Qarion.Core.AccessRequests;
using Qarion.Core.Common;
using Qarion.Functions.Http;

namespace Qarion.Functions.AccessRequests;

/// <summary>Access requests and grants over HTTP (logic in <see cref="AccessRequestService"/>).</summary>
public sealed class AccessRequestFunctions(RequestReader reader, AccessRequestService requests)
{
    private const string Tag = "AccessRequests";
    private const string Requests = "v1/spaces/{space}/access-requests";

    [Function("AccessRequests_Submit")]
    [ApiOperation("Ask for access to a product or a source-system role (any member)",
        Description = "Give `product_id`, or `connector_id` with `role_name`. Permanent unless `ends_at` (future, within the configured maximum) or `duration_days` is given. The approvers (the product's owner and steward, the space's admins) are notified; undecided requests are reminded once and expire at `expires_at`.",
        Request = typeof(SubmitAccessRequest), Response = typeof(AccessRequestResponse), Status = 201, Tag = Tag)]
    public async Task<IActionResult> Submit(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Requests)] HttpRequest request, string space,
        [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var created = await requests.SubmitAsync(space, await reader.ReadAsync<SubmitAccessRequest>(request, ct), durable, ct);
        return ApiResults.Created($"/api/v1/spaces/{space}/access-requests/{created.Id}", created, created.Version);
    }

    [Function("AccessRequests_List")]
    [ApiOperation("Access requests: the caller's own, those waiting for the caller's decision, or all (Admin); newest first",
        Response = typeof(Paged<AccessRequestResponse>), Query = ["view", "status", "page", "size"], Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Requests)] HttpRequest request, string space, CancellationToken ct)
        => ApiResults.Ok(await requests.ListAsync(space, request.QueryEnum<AccessRequestView>("view") ?? AccessRequestView.Mine,
            request.QueryEnum<AccessRequestStatus>("status"), request.Paging(), ct));

    [Function("AccessRequests_Get")]
    [ApiOperation("One access request (its requester, its approvers, space admins)", Response = typeof(AccessRequestResponse), Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Requests + "/{requestId}")] HttpRequest request, string space, string requestId, CancellationToken ct)
    {
        var found = await requests.GetAsync(space, HttpRequestExtensions.RouteId(requestId, "Access request"), ct);
        return ApiResults.Ok(found, found.Version);
    }

    [Function("AccessRequests_Approve")]
    [ApiOperation("Approve a pending request (an approver, not the requester)", Description = "403 for the requester or a non-approver; 409 `already_decided` once decided.",
        Request = typeof(AccessDecisionRequest), Response = typeof(AccessRequestResponse), Tag = Tag)]
    public async Task<IActionResult> Approve(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Requests + "/{requestId}/approve")] HttpRequest request, string space, string requestId,
        [DurableClient] DurableTaskClient durable, CancellationToken ct)
        => await DecideAsync(request, space, requestId, true, durable, ct);

    [Function("AccessRequests_Reject")]
    [ApiOperation("Reject a pending request with a comment (an approver, not the requester)", Description = "403 for the requester or a non-approver; 409 `already_decided` once decided.",
        Request = typeof(AccessDecisionRequest), Response = typeof(AccessRequestResponse), Tag = Tag)]
    public async Task<IActionResult> Reject(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Requests + "/{requestId}/reject")] HttpRequest request, string space, string requestId,
        [DurableClient] DurableTaskClient durable, CancellationToken ct)
        => await DecideAsync(request, space, requestId, false, durable, ct);

    [Function("AccessRequests_Cancel")]
    [ApiOperation("Withdraw one's own pending request", Response = typeof(AccessRequestResponse), Tag = Tag)]
    public async Task<IActionResult> Cancel(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Requests + "/{requestId}/cancel")] HttpRequest request, string space, string requestId,
        [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var cancelled = await requests.CancelAsync(space, HttpRequestExtensions.RouteId(requestId, "Access request"), durable, ct);
        return ApiResults.Ok(cancelled, cancelled.Version);
    }

    [Function("AccessGrants_List")]
    [ApiOperation("Access grants of the space, per product or per user (any member)", Response = typeof(Paged<AccessGrantResponse>),
        Query = ["product_id", "user_id", "active", "page", "size"], Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> Grants(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/access-grants")] HttpRequest request, string space, CancellationToken ct)
        => ApiResults.Ok(await requests.ListGrantsAsync(space, request.QueryGuid("product_id"), request.QueryGuid("user_id"), request.QueryBool("active"), request.Paging(), ct));

    [Function("AccessGrants_Revoke")]
    [ApiOperation("Revoke an active grant (the product's owner or steward, or a space admin)", Description = "409 `already_revoked` when it is no longer active.",
        Request = typeof(RevokeGrantRequest), Response = typeof(AccessGrantResponse), IfMatch = true, Tag = Tag)]
    public async Task<IActionResult> Revoke(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/spaces/{space}/access-grants/{grantId}/revoke")] HttpRequest request, string space, string grantId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(grantId, "Access grant");
        var ifMatch = request.IfMatchVersion();
        var revoked = await requests.RevokeGrantAsync(space, id, await reader.ReadAsync<RevokeGrantRequest>(request, ct), ifMatch, ct);
        return ApiResults.Ok(revoked, revoked.Version);
    }

    [Function("Products_MyAccess")]
    [ApiOperation("Whether the caller has active access to a product, and their pending request for it", Response = typeof(ProductAccessResponse), Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> ProductAccess(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/products/{product}/access")] HttpRequest request, string space, string product, CancellationToken ct)
        => ApiResults.Ok(await requests.ProductAccessAsync(space, product, ct));

    private async Task<IActionResult> DecideAsync(HttpRequest request, string space, string requestId, bool approve, DurableTaskClient durable, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(requestId, "Access request");
        var decided = await requests.DecideAsync(space, id, approve, await reader.ReadAsync<AccessDecisionRequest>(request, ct), durable, ct);
        return ApiResults.Ok(decided, decided.Version);
    }
}

/// <summary>The Functions bindings of <see cref="AccessOrchestration"/>: the orchestrator and one thin wrapper per activity.</summary>
public sealed class AccessOrchestrationFunctions(AccessRequestRunner runner)
{
    [Function(AccessOrchestration.Name)]
    public static Task<string> Orchestrate([OrchestrationTrigger] TaskOrchestrationContext context)
        => AccessOrchestration.RunAsync(context, context.GetInput<AccessInput>()!);

    [Function(AccessOrchestration.NotifySubmitted)]
    public async Task<bool> NotifySubmitted([ActivityTrigger] Guid requestId, CancellationToken ct)
    {
        await runner.NotifySubmittedAsync(requestId, ct);
        return true;
    }

    [Function(AccessOrchestration.Remind)]
    public Task<bool> Remind([ActivityTrigger] Guid requestId, CancellationToken ct) => runner.RemindAsync(requestId, ct);

    [Function(AccessOrchestration.Expire)]
    public Task<AccessRequestStatus> Expire([ActivityTrigger] Guid requestId, CancellationToken ct) => runner.ExpireAsync(requestId, ct);

    [Function(AccessOrchestration.Complete)]
    public Task<AccessOutcome> Complete([ActivityTrigger] Guid requestId, CancellationToken ct) => runner.CompleteAsync(requestId, ct);

    [Function(AccessOrchestration.EndGrant)]
    public Task<bool> EndGrant([ActivityTrigger] Guid grantId, CancellationToken ct) => runner.EndGrantAsync(grantId, ct);
}
