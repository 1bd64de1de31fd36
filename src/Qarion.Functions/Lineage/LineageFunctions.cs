using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Qarion.Core.Lineage;
using Qarion.Functions.Http;

namespace Qarion.Functions.Lineage;

public sealed class LineageFunctions(RequestReader reader, LineageService lineage)
{
    private const string Upstream = "v1/spaces/{space}/products/{product}/lineage/upstream";

    [Function("Lineage_AddUpstream")]
    [ApiOperation("Add an upstream edge (Editor of the downstream's space)", Description = "The upstream may be in any space the caller can see.", Request = typeof(AddUpstreamRequest), Response = typeof(LineageEdgeResponse), Status = 201, Tag = "Lineage")]
    public async Task<IActionResult> AddUpstream(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Upstream)] HttpRequest request, string space, string product, CancellationToken ct)
    {
        var edge = await lineage.AddUpstreamAsync(space, product, await reader.ReadAsync<AddUpstreamRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/spaces/{space}/products/{product}/lineage/upstream/{edge.UpstreamId}", edge);
    }

    [Function("Lineage_ReplaceUpstream")]
    [ApiOperation("Replace all upstream edges in one transaction (Editor)", Request = typeof(ReplaceUpstreamRequest), Response = typeof(IReadOnlyList<LineageEdgeResponse>), Tag = "Lineage")]
    public async Task<IActionResult> ReplaceUpstream(
        [HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = Upstream)] HttpRequest request, string space, string product, CancellationToken ct)
        => ApiResults.Ok(await lineage.ReplaceUpstreamAsync(space, product, await reader.ReadAsync<ReplaceUpstreamRequest>(request, ct), ct));

    [Function("Lineage_RemoveUpstream")]
    [ApiOperation("Remove an upstream edge (Editor)", Status = 204, Tag = "Lineage")]
    public async Task<IActionResult> RemoveUpstream(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = Upstream + "/{upstreamId}")] HttpRequest request, string space, string product, string upstreamId, CancellationToken ct)
    {
        await lineage.RemoveUpstreamAsync(space, product, HttpRequestExtensions.RouteId(upstreamId, "Lineage edge"), ct);
        return ApiResults.NoContent();
    }

    [Function("Lineage_Traverse")]
    [ApiOperation("Lineage around a product (Viewer)", Description = "`direction` upstream, downstream or both (default); `depth` 1 to 50 (default 3). Nodes in spaces the caller cannot see are returned as `{id, restricted: true}` only.", Response = typeof(LineageGraphResponse), Query = ["direction", "depth"], Errors = [404], Tag = "Lineage")]
    public async Task<IActionResult> Traverse(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/products/{product}/lineage")] HttpRequest request, string space, string product, CancellationToken ct)
        => ApiResults.Ok(await lineage.TraverseAsync(space, product,
            request.QueryEnum<LineageDirection>("direction") ?? LineageDirection.Both, request.QueryInt("depth") ?? 3, ct));

    [Function("Lineage_Graph")]
    [ApiOperation("The space's lineage graph, optionally narrowed by dbt-style selectors (Viewer)", Description = "`select` takes terms separated by spaces: `name`, `+name` (all ancestors), `name+` (all descendants), `+name+`, `2+name`, `name+3`.", Response = typeof(LineageGraphResponse), Query = ["select"], Errors = [404], Tag = "Lineage")]
    public async Task<IActionResult> Graph(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/lineage")] HttpRequest request, string space, CancellationToken ct)
        => ApiResults.Ok(await lineage.GraphAsync(space, request.QueryString("select", 1000), ct));
}
