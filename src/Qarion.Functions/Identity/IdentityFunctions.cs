using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Qarion.Core.Common;
using Qarion.Core.Identity;
using Qarion.Functions.Http;

namespace Qarion.Functions.Identity;

public sealed class IdentityFunctions(RequestReader reader, UserService users, ApiKeyService apiKeys, BootstrapService bootstrap)
{
    [Function("Bootstrap")]
    [ApiOperation("Create the first superadmin and an API key for them", Description = "Needs the configured bootstrap token. Works once: after any superadmin exists the answer is 409; without a configured token the endpoint does not exist (404). The key is shown only in this response.", Request = typeof(BootstrapRequest), Response = typeof(BootstrapResponse), Status = 201)]
    [AllowAnonymous]
    public async Task<IActionResult> Bootstrap(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/bootstrap")] HttpRequest request, CancellationToken ct)
    {
        var body = await reader.ReadAsync<BootstrapRequest>(request, ct);
        var result = await bootstrap.BootstrapAsync(body, ct);
        return ApiResults.Created($"/api/v1/users/{result.User.Id}", result);
    }

    [Function("Me_Get")]
    [ApiOperation("Who am I: the caller, how they signed in, their spaces and roles", Response = typeof(MeResponse), Errors = [])]
    public async Task<IActionResult> Me(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/me")] HttpRequest request, CancellationToken ct)
        => ApiResults.Ok(await users.GetMeAsync(ct));

    [Function("Users_Create")]
    [ApiOperation("Create a user (superadmin)", Request = typeof(CreateUserRequest), Response = typeof(UserResponse), Status = 201, Errors = [403, 409])]
    public async Task<IActionResult> CreateUser(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/users")] HttpRequest request, CancellationToken ct)
    {
        var user = await users.CreateAsync(await reader.ReadAsync<CreateUserRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/users/{user.Id}", user, user.Version);
    }

    [Function("Users_List")]
    [ApiOperation("List users (superadmin)", Description = "Ordered by email; `search` matches email or display name.", Response = typeof(Paged<UserResponse>), Query = ["search", "page", "size"], Errors = [403])]
    public async Task<IActionResult> ListUsers(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/users")] HttpRequest request, CancellationToken ct)
        => ApiResults.Ok(await users.ListAsync(request.QueryString("search"), request.Paging(), ct));

    [Function("Users_Get")]
    [ApiOperation("Get a user", Description = "Callers read themselves; superadmins read anyone (others are 404).", Response = typeof(UserResponse), Errors = [404])]
    public async Task<IActionResult> GetUser(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/users/{userId}")] HttpRequest request, string userId, CancellationToken ct)
    {
        var user = await users.GetAsync(HttpRequestExtensions.RouteId(userId, "User"), ct);
        return ApiResults.Ok(user, user.Version);
    }

    [Function("Users_Update")]
    [ApiOperation("Update a user (superadmin): rename, (de)activate, grant or revoke superadmin", Description = "Send only the fields to change. The last active superadmin cannot be demoted or deactivated (409).", Request = typeof(UpdateUserRequest), Response = typeof(UserResponse), IfMatch = true)]
    public async Task<IActionResult> UpdateUser(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "v1/users/{userId}")] HttpRequest request, string userId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(userId, "User");
        var ifMatch = request.IfMatchVersion();
        var user = await users.UpdateAsync(id, await reader.ReadAsync<UpdateUserRequest>(request, ct), ifMatch, ct);
        return ApiResults.Ok(user, user.Version);
    }

    [Function("ApiKeys_Create")]
    [ApiOperation("Create an API key for the caller", Description = "The secret `key` is shown only in this response.", Request = typeof(CreateApiKeyRequest), Response = typeof(ApiKeyCreatedResponse), Status = 201, Errors = [409])]
    public async Task<IActionResult> CreateApiKey(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/me/api-keys")] HttpRequest request, CancellationToken ct)
    {
        var key = await apiKeys.CreateAsync(await reader.ReadAsync<CreateApiKeyRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/me/api-keys/{key.Id}", key);
    }

    [Function("ApiKeys_List")]
    [ApiOperation("List the caller's API keys (superadmins: any user's, with `user_id`)", Description = "Newest first; revoked keys only with `include_revoked=true`.", Response = typeof(Paged<ApiKeyResponse>), Query = ["user_id", "include_revoked", "page", "size"], Errors = [404])]
    public async Task<IActionResult> ListApiKeys(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/me/api-keys")] HttpRequest request, CancellationToken ct)
        => ApiResults.Ok(await apiKeys.ListAsync(
            request.QueryGuid("user_id"), request.QueryBool("include_revoked") ?? false, request.Paging(), ct));

    [Function("ApiKeys_Revoke")]
    [ApiOperation("Revoke an API key (the caller's own; superadmins any)", Description = "Effective on the next request; revoking twice is harmless.", Status = 204, Errors = [404])]
    public async Task<IActionResult> RevokeApiKey(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/me/api-keys/{keyId}")] HttpRequest request, string keyId, CancellationToken ct)
    {
        await apiKeys.RevokeAsync(HttpRequestExtensions.RouteId(keyId, "API key"), ct);
        return ApiResults.NoContent();
    }
}
