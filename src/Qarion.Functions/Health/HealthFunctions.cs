using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Qarion.Core.Health;
using Qarion.Functions.Http;

namespace Qarion.Functions.Health;

public sealed class HealthFunctions(HealthService health)
{
    /// <summary>Anonymous liveness and dependency check: 200 when PostgreSQL and storage answer, 503 otherwise.</summary>
    [Function("Health")]
    [ApiOperation("Liveness and dependency check", Description = "200 when PostgreSQL and storage answer, 503 (same body) otherwise.", Response = typeof(HealthResponse), AlternateStatus = 503, Errors = [])]
    [AllowAnonymous]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request, CancellationToken ct)
    {
        var result = await health.CheckAsync(ct);
        return new JsonBodyResult(result, result.Healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }
}
