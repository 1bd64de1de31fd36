using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Qarion.Core.Ingestion.OpenLineage;
using Qarion.Functions.Http;

namespace Qarion.Functions.Ingestion;

public sealed class OpenLineageFunctions(RequestReader reader, OpenLineageService openLineage)
{
    [Function("OpenLineage_Post")]
    [ApiOperation("Record an OpenLineage RunEvent (Editor)",
        Description = "COMPLETE events record input → output lineage and schema facets; unknown datasets become products marked as discovered. Other event types are accepted and not recorded.",
        Request = typeof(RunEvent), Response = typeof(OpenLineageResult), Errors = [403, 404], Tag = "Ingestion")]
    public async Task<IActionResult> Post(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/spaces/{space}/openlineage")] HttpRequest request, string space, CancellationToken ct)
        => ApiResults.Ok(await openLineage.RecordAsync(space, await reader.ReadAsync<RunEvent>(request, ct), ct));
}
