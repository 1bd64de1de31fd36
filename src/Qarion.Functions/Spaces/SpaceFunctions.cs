using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Qarion.Core.Spaces;
using Qarion.Functions.Http;

namespace Qarion.Functions.Spaces;

public sealed class SpaceFunctions(RequestReader reader, SpaceService spaces, MemberService members)
{
    [Function("Spaces_Create")]
    public async Task<IActionResult> Create(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/spaces")] HttpRequest request, CancellationToken ct)
    {
        var space = await spaces.CreateAsync(await reader.ReadAsync<CreateSpaceRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/spaces/{space.Slug}", space, space.Version);
    }

    [Function("Spaces_List")]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces")] HttpRequest request, CancellationToken ct)
        => ApiResults.Ok(await spaces.ListAsync(request.Paging(), ct));

    [Function("Spaces_Get")]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}")] HttpRequest request, string space, CancellationToken ct)
    {
        var result = await spaces.GetAsync(space, ct);
        return ApiResults.Ok(result, result.Version);
    }

    [Function("Spaces_Update")]
    public async Task<IActionResult> Update(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "v1/spaces/{space}")] HttpRequest request, string space, CancellationToken ct)
    {
        var ifMatch = request.IfMatchVersion();
        var result = await spaces.UpdateAsync(space, await reader.ReadAsync<UpdateSpaceRequest>(request, ct), ifMatch, ct);
        return ApiResults.Ok(result, result.Version);
    }

    [Function("Spaces_Delete")]
    public async Task<IActionResult> Delete(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/spaces/{space}")] HttpRequest request, string space, CancellationToken ct)
    {
        await spaces.DeleteAsync(space, request.IfMatchVersion(), ct);
        return ApiResults.NoContent();
    }

    [Function("Members_List")]
    public async Task<IActionResult> ListMembers(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/members")] HttpRequest request, string space, CancellationToken ct)
        => ApiResults.Ok(await members.ListAsync(space, request.Paging(), ct));

    [Function("Members_Add")]
    public async Task<IActionResult> AddMember(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/spaces/{space}/members")] HttpRequest request, string space, CancellationToken ct)
    {
        var member = await members.AddAsync(space, await reader.ReadAsync<AddMemberRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/spaces/{space}/members/{member.UserId}", member);
    }

    [Function("Members_ChangeRole")]
    public async Task<IActionResult> ChangeMemberRole(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "v1/spaces/{space}/members/{userId}")] HttpRequest request, string space, string userId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(userId, "Member");
        return ApiResults.Ok(await members.ChangeRoleAsync(space, id, await reader.ReadAsync<ChangeMemberRoleRequest>(request, ct), ct));
    }

    [Function("Members_Remove")]
    public async Task<IActionResult> RemoveMember(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/spaces/{space}/members/{userId}")] HttpRequest request, string space, string userId, CancellationToken ct)
    {
        await members.RemoveAsync(space, HttpRequestExtensions.RouteId(userId, "Member"), ct);
        return ApiResults.NoContent();
    }
}
