using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Qarion.Core.Common;
using Qarion.Core.Spaces;
using Qarion.Functions.Http;

namespace Qarion.Functions.Spaces;

public sealed class SpaceFunctions(RequestReader reader, SpaceService spaces, MemberService members)
{
    [Function("Spaces_Create")]
    [ApiOperation("Create a space (superadmin); the creator becomes its admin", Request = typeof(CreateSpaceRequest), Response = typeof(SpaceResponse), Status = 201, Errors = [403, 409])]
    public async Task<IActionResult> Create(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/spaces")] HttpRequest request, CancellationToken ct)
    {
        var space = await spaces.CreateAsync(await reader.ReadAsync<CreateSpaceRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/spaces/{space.Slug}", space, space.Version);
    }

    [Function("Spaces_List")]
    [ApiOperation("List the caller's spaces (superadmins: all)", Description = "Ordered by slug.", Response = typeof(Paged<SpaceResponse>), Query = ["page", "size"], Errors = [])]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces")] HttpRequest request, CancellationToken ct)
        => ApiResults.Ok(await spaces.ListAsync(request.Paging(), ct));

    [Function("Spaces_Get")]
    [ApiOperation("Get a space (members)", Response = typeof(SpaceResponse), Errors = [404])]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}")] HttpRequest request, string space, CancellationToken ct)
    {
        var result = await spaces.GetAsync(space, ct);
        return ApiResults.Ok(result, result.Version);
    }

    [Function("Spaces_Update")]
    [ApiOperation("Update a space (space admins)", Description = "Send only the fields to change; `null` clears `description`.", Request = typeof(UpdateSpaceRequest), Response = typeof(SpaceResponse), IfMatch = true)]
    public async Task<IActionResult> Update(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "v1/spaces/{space}")] HttpRequest request, string space, CancellationToken ct)
    {
        var ifMatch = request.IfMatchVersion();
        var result = await spaces.UpdateAsync(space, await reader.ReadAsync<UpdateSpaceRequest>(request, ct), ifMatch, ct);
        return ApiResults.Ok(result, result.Version);
    }

    [Function("Spaces_Delete")]
    [ApiOperation("Delete a space and everything in it (space admins)", Status = 204, IfMatch = true)]
    public async Task<IActionResult> Delete(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/spaces/{space}")] HttpRequest request, string space, CancellationToken ct)
    {
        await spaces.DeleteAsync(space, request.IfMatchVersion(), ct);
        return ApiResults.NoContent();
    }

    [Function("Members_List")]
    [ApiOperation("List a space's members (members)", Description = "Ordered by email.", Response = typeof(Paged<MemberResponse>), Query = ["page", "size"], Errors = [404])]
    public async Task<IActionResult> ListMembers(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/members")] HttpRequest request, string space, CancellationToken ct)
        => ApiResults.Ok(await members.ListAsync(space, request.Paging(), ct));

    [Function("Members_Add")]
    [ApiOperation("Add a member by `user_id` or `email` with a role (space admins)", Request = typeof(AddMemberRequest), Response = typeof(MemberResponse), Status = 201)]
    public async Task<IActionResult> AddMember(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/spaces/{space}/members")] HttpRequest request, string space, CancellationToken ct)
    {
        var member = await members.AddAsync(space, await reader.ReadAsync<AddMemberRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/spaces/{space}/members/{member.UserId}", member);
    }

    [Function("Members_ChangeRole")]
    [ApiOperation("Change a member's role (space admins)", Description = "The last admin cannot be demoted (409).", Request = typeof(ChangeMemberRoleRequest), Response = typeof(MemberResponse))]
    public async Task<IActionResult> ChangeMemberRole(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "v1/spaces/{space}/members/{userId}")] HttpRequest request, string space, string userId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(userId, "Member");
        return ApiResults.Ok(await members.ChangeRoleAsync(space, id, await reader.ReadAsync<ChangeMemberRoleRequest>(request, ct), ct));
    }

    [Function("Members_Remove")]
    [ApiOperation("Remove a member (space admins) or leave a space (anyone)", Description = "The last admin cannot leave (409).", Status = 204)]
    public async Task<IActionResult> RemoveMember(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/spaces/{space}/members/{userId}")] HttpRequest request, string space, string userId, CancellationToken ct)
    {
        await members.RemoveAsync(space, HttpRequestExtensions.RouteId(userId, "Member"), ct);
        return ApiResults.NoContent();
    }
}
