using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Qarion.Core.Search;
using Qarion.Functions.Http;

namespace Qarion.Functions.Search;

public sealed class SearchFunctions(SearchService search)
{
    [Function("Search")]
    [ApiOperation("Search a space (Viewer)", Description = "Weighted full-text search (name first, then description and tags, fields, documentation) with typo tolerance; `types` among products, fields, tags; `limit` per type (1 to 50, default 10). Matches are wrapped in `<mark>`.", Response = typeof(SearchResponse), Query = ["q", "types", "limit"], Errors = [404], Tag = "Search")]
    public async Task<IActionResult> Search(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/search")] HttpRequest request, string space, CancellationToken ct)
        => ApiResults.Ok(await search.SearchAsync(space, request.QueryString("q", 200), request.QueryList("types"), request.QueryInt("limit") ?? 10, ct));
}
