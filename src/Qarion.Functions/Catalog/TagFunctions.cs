using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Qarion.Core.Catalog;
using Qarion.Core.Common;
using Qarion.Functions.Http;

namespace Qarion.Functions.Catalog;

public sealed class TagFunctions(RequestReader reader, TagService tags, ProductTypeService types)
{
    [Function("Tags_List")]
    [ApiOperation("The space's tag library with usage counts (Viewer)", Response = typeof(Paged<TagResponse>), Query = ["search", "page", "size"], Errors = [404], Tag = "Catalog")]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/tags")] HttpRequest request, string space, CancellationToken ct)
        => ApiResults.Ok(await tags.ListAsync(space, request.QueryString("search"), request.Paging(), ct));

    [Function("Tags_Create")]
    [ApiOperation("Add a tag to the library (Admin)", Request = typeof(CreateTagRequest), Response = typeof(TagResponse), Status = 201, Tag = "Catalog")]
    public async Task<IActionResult> Create(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/spaces/{space}/tags")] HttpRequest request, string space, CancellationToken ct)
    {
        var tag = await tags.CreateAsync(space, await reader.ReadAsync<CreateTagRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/spaces/{space}/tags/{tag.Id}", tag, tag.Version);
    }

    [Function("Tags_Update")]
    [ApiOperation("Rename or recolour a tag (Admin)", Request = typeof(UpdateTagRequest), Response = typeof(TagResponse), IfMatch = true, Tag = "Catalog")]
    public async Task<IActionResult> Update(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "v1/spaces/{space}/tags/{tagId}")] HttpRequest request, string space, string tagId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(tagId, "Tag");
        var ifMatch = request.IfMatchVersion();
        var tag = await tags.UpdateAsync(space, id, await reader.ReadAsync<UpdateTagRequest>(request, ct), ifMatch, ct);
        return ApiResults.Ok(tag, tag.Version);
    }

    [Function("Tags_Delete")]
    [ApiOperation("Delete a tag and detach it everywhere (Admin)", Status = 204, Tag = "Catalog")]
    public async Task<IActionResult> Delete(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/spaces/{space}/tags/{tagId}")] HttpRequest request, string space, string tagId, CancellationToken ct)
    {
        await tags.DeleteAsync(space, HttpRequestExtensions.RouteId(tagId, "Tag"), ct);
        return ApiResults.NoContent();
    }

    [Function("ProductTags_Attach")]
    [ApiOperation("Tag a product (Editor)", Description = "By `tag_id`, or by `name` (created inline when missing).", Request = typeof(AttachTagRequest), Response = typeof(IReadOnlyList<TagRef>), Tag = "Catalog")]
    public async Task<IActionResult> Attach(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/spaces/{space}/products/{product}/tags")] HttpRequest request, string space, string product, CancellationToken ct)
        => ApiResults.Ok(await tags.AttachAsync(space, product, await reader.ReadAsync<AttachTagRequest>(request, ct), ct));

    [Function("ProductTags_Detach")]
    [ApiOperation("Remove a tag from a product (Editor)", Status = 204, Tag = "Catalog")]
    public async Task<IActionResult> Detach(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/spaces/{space}/products/{product}/tags/{tagId}")] HttpRequest request, string space, string product, string tagId, CancellationToken ct)
    {
        await tags.DetachAsync(space, product, HttpRequestExtensions.RouteId(tagId, "Tag"), ct);
        return ApiResults.NoContent();
    }

    [Function("ProductTypes_List")]
    [ApiOperation("Built-in and custom product types with usage counts (Viewer)", Response = typeof(IReadOnlyList<ProductTypeResponse>), Errors = [404], Tag = "Catalog")]
    public async Task<IActionResult> ListTypes(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/product-types")] HttpRequest request, string space, CancellationToken ct)
        => ApiResults.Ok(await types.ListAsync(space, ct));

    [Function("ProductTypes_Create")]
    [ApiOperation("Add a custom product type (Admin)", Request = typeof(CreateProductTypeRequest), Response = typeof(ProductTypeResponse), Status = 201, Tag = "Catalog")]
    public async Task<IActionResult> CreateType(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/spaces/{space}/product-types")] HttpRequest request, string space, CancellationToken ct)
    {
        var type = await types.CreateAsync(space, await reader.ReadAsync<CreateProductTypeRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/spaces/{space}/product-types/{type.Name}", type);
    }

    [Function("ProductTypes_Delete")]
    [ApiOperation("Delete an unused custom product type (Admin)", Status = 204, Tag = "Catalog")]
    public async Task<IActionResult> DeleteType(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/spaces/{space}/product-types/{name}")] HttpRequest request, string space, string name, CancellationToken ct)
    {
        await types.DeleteAsync(space, name, ct);
        return ApiResults.NoContent();
    }
}
