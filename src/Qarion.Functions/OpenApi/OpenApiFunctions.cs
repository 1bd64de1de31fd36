using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Qarion.Functions.Http;

namespace Qarion.Functions.OpenApi;

public static class OpenApiFunctions
{
    /// <summary>The OpenAPI 3.1 document of every HTTP endpoint, generated from the code (built once per process).</summary>
    [Function("OpenApi")]
    [AllowAnonymous]
    [ApiOperation("The OpenAPI 3.1 document of this API", Description = "Generated from the functions' code; needs no credentials.",
        ResponseMediaType = "application/json", Errors = [], Tag = "Meta")]
    public static Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "openapi.json")] HttpRequest request)
        => Task.FromResult<IActionResult>(new OpenApiDocumentResult(OpenApiDocumentBuilder.Json));
}

/// <summary>Writes the cached document bytes as <c>application/json</c>.</summary>
public sealed class OpenApiDocumentResult(ReadOnlyMemory<byte> json) : IActionResult
{
    public async Task ExecuteResultAsync(ActionContext context)
    {
        var response = context.HttpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = json.Length;
        // The document changes only with a deployment.
        response.Headers.CacheControl = "public, max-age=300";
        await response.Body.WriteAsync(json, context.HttpContext.RequestAborted);
    }
}
