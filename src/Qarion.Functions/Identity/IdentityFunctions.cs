using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Qarion.Core.Identity;
using Qarion.Functions.Http;

namespace Qarion.Functions.Identity;

public sealed class IdentityFunctions(RequestReader reader, UserService users, ApiKeyService apiKeys, BootstrapService bootstrap)
{
    [Function("Bootstrap")]
    [AllowAnonymous]
    public async Task<IActionResult> Bootstrap(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/bootstrap")] HttpRequest request, CancellationToken ct)
    {
        var body = await reader.ReadAsync<BootstrapRequest>(request, ct);
        var result = await bootstrap.BootstrapAsync(body, ct);
        return ApiResults.Created($"/api/v1/users/{result.User.Id}", result);
    }

    [Function("Me_Get")]
    public async Task<IActionResult> Me(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/me")] HttpRequest request, CancellationToken ct)
        => ApiResults.Ok(await users.GetMeAsync(ct));

    [Function("Users_Create")]
    public async Task<IActionResult> CreateUser(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/users")] HttpRequest request, CancellationToken ct)
    {
        var user = await users.CreateAsync(await reader.ReadAsync<CreateUserRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/users/{user.Id}", user, user.Version);
    }

    [Function("Users_List")]
    public async Task<IActionResult> ListUsers(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/users")] HttpRequest request, CancellationToken ct)
        => ApiResults.Ok(await users.ListAsync(request.QueryString("search"), request.Paging(), ct));

    [Function("Users_Get")]
    public async Task<IActionResult> GetUser(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/users/{userId}")] HttpRequest request, string userId, CancellationToken ct)
    {
        var user = await users.GetAsync(HttpRequestExtensions.RouteId(userId, "User"), ct);
        return ApiResults.Ok(user, user.Version);
    }

    [Function("Users_Update")]
    public async Task<IActionResult> UpdateUser(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "v1/users/{userId}")] HttpRequest request, string userId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(userId, "User");
        var ifMatch = request.IfMatchVersion();
        var user = await users.UpdateAsync(id, await reader.ReadAsync<UpdateUserRequest>(request, ct), ifMatch, ct);
        return ApiResults.Ok(user, user.Version);
    }

    [Function("ApiKeys_Create")]
    public async Task<IActionResult> CreateApiKey(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/me/api-keys")] HttpRequest request, CancellationToken ct)
    {
        var key = await apiKeys.CreateAsync(await reader.ReadAsync<CreateApiKeyRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/me/api-keys/{key.Id}", key);
    }

    [Function("ApiKeys_List")]
    public async Task<IActionResult> ListApiKeys(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/me/api-keys")] HttpRequest request, CancellationToken ct)
        => ApiResults.Ok(await apiKeys.ListAsync(
            request.QueryGuid("user_id"), request.QueryBool("include_revoked") ?? false, request.Paging(), ct));

    [Function("ApiKeys_Revoke")]
    public async Task<IActionResult> RevokeApiKey(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/me/api-keys/{keyId}")] HttpRequest request, string keyId, CancellationToken ct)
    {
        await apiKeys.RevokeAsync(HttpRequestExtensions.RouteId(keyId, "API key"), ct);
        return ApiResults.NoContent();
    }
}
