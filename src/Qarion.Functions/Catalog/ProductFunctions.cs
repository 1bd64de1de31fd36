using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Qarion.Core.Catalog;
using Qarion.Core.Common;
using Qarion.Functions.Http;

namespace Qarion.Functions.Catalog;

public sealed class ProductFunctions(RequestReader reader, ProductService products, FieldService fields)
{
    private const string Products = "v1/spaces/{space}/products";
    private const string Product = "v1/spaces/{space}/products/{product}";

    [Function("Products_Create")]
    [ApiOperation("Create a data product (Editor)", Description = "Tags may be given by id (`tag_ids`) or by name (`tags`, created when missing); governance users must be members of the space.", Request = typeof(CreateProductRequest), Response = typeof(ProductResponse), Status = 201, Tag = "Catalog")]
    public async Task<IActionResult> Create(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Products)] HttpRequest request, string space, CancellationToken ct)
    {
        var product = await products.CreateAsync(space, await reader.ReadAsync<CreateProductRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/spaces/{space}/products/{product.Id}", product, product.Version);
    }

    [Function("Products_List")]
    [ApiOperation("List data products (Viewer)", Description = "Filters combine with AND; `tags` requires every listed tag. Archived products are left out unless `include_archived=true`.", Response = typeof(Paged<ProductSummary>), Query = ["search", "tags", "product_type", "owner_id", "governed_by", "include_archived", "sort", "page", "size"], Errors = [404], Tag = "Catalog")]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Products)] HttpRequest request, string space, CancellationToken ct)
    {
        var query = new ProductListQuery(
            request.QueryString("search"), request.QueryGuidList("tags"), request.QueryString("product_type", 63),
            request.QueryGuid("owner_id"), request.QueryGuid("governed_by"), request.QueryBool("include_archived") ?? false,
            request.QueryString("sort", 20) ?? "name");
        return ApiResults.Ok(await products.ListAsync(space, query, request.Paging(), ct));
    }

    [Function("Products_Get")]
    [ApiOperation("Get a data product by id or slug (Viewer)", Response = typeof(ProductResponse), Errors = [404], Tag = "Catalog")]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Product)] HttpRequest request, string space, string product, CancellationToken ct)
    {
        var result = await products.GetAsync(space, product, ct);
        return ApiResults.Ok(result, result.Version);
    }

    [Function("Products_Update")]
    [ApiOperation("Update a data product (Editor)", Description = "Only the fields sent change; `null` clears. Every attribute sent is marked as set by a person, so scrapers leave it alone.", Request = typeof(UpdateProductRequest), Response = typeof(ProductResponse), IfMatch = true, Tag = "Catalog")]
    public async Task<IActionResult> Update(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = Product)] HttpRequest request, string space, string product, CancellationToken ct)
    {
        var ifMatch = request.IfMatchVersion();
        var result = await products.UpdateAsync(space, product, await reader.ReadAsync<UpdateProductRequest>(request, ct), ifMatch, ct);
        return ApiResults.Ok(result, result.Version);
    }

    [Function("Products_SetGovernance")]
    [ApiOperation("Assign, change or clear governance roles (Editor)", Description = "owner, steward, custodian, data architect: members of the space; `null` clears a role.", Request = typeof(GovernanceRequest), Response = typeof(ProductResponse), IfMatch = true, Tag = "Catalog")]
    public async Task<IActionResult> SetGovernance(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = Product + "/governance")] HttpRequest request, string space, string product, CancellationToken ct)
    {
        var ifMatch = request.IfMatchVersion();
        var result = await products.UpdateGovernanceAsync(space, product, await reader.ReadAsync<GovernanceRequest>(request, ct), ifMatch, ct);
        return ApiResults.Ok(result, result.Version);
    }

    [Function("Products_Archive")]
    [ApiOperation("Archive a data product (Editor)", Response = typeof(ProductResponse), IfMatch = true, Tag = "Catalog")]
    public async Task<IActionResult> Archive(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Product + "/archive")] HttpRequest request, string space, string product, CancellationToken ct)
    {
        var result = await products.SetArchivedAsync(space, product, true, request.IfMatchVersion(), ct);
        return ApiResults.Ok(result, result.Version);
    }

    [Function("Products_Unarchive")]
    [ApiOperation("Unarchive a data product (Editor)", Response = typeof(ProductResponse), IfMatch = true, Tag = "Catalog")]
    public async Task<IActionResult> Unarchive(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Product + "/unarchive")] HttpRequest request, string space, string product, CancellationToken ct)
    {
        var result = await products.SetArchivedAsync(space, product, false, request.IfMatchVersion(), ct);
        return ApiResults.Ok(result, result.Version);
    }

    [Function("Products_Delete")]
    [ApiOperation("Delete a data product with its fields, tags and lineage (Admin)", Status = 204, IfMatch = true, Tag = "Catalog")]
    public async Task<IActionResult> Delete(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = Product)] HttpRequest request, string space, string product, CancellationToken ct)
    {
        await products.DeleteAsync(space, product, request.IfMatchVersion(), ct);
        return ApiResults.NoContent();
    }

    [Function("Fields_List")]
    [ApiOperation("List a product's fields in ordinal order (Viewer)", Response = typeof(IReadOnlyList<FieldResponse>), Errors = [404], Tag = "Catalog")]
    public async Task<IActionResult> ListFields(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Product + "/fields")] HttpRequest request, string space, string product, CancellationToken ct)
        => ApiResults.Ok(await fields.ListAsync(space, product, ct));

    [Function("Fields_Replace")]
    [ApiOperation("Replace the whole schema (Editor)", Description = "Fields are matched by name: kept ones are updated, new ones added, missing ones removed.", Request = typeof(ReplaceFieldsRequest), Response = typeof(IReadOnlyList<FieldResponse>), IfMatch = true, Tag = "Catalog")]
    public async Task<IActionResult> ReplaceFields(
        [HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = Product + "/fields")] HttpRequest request, string space, string product, CancellationToken ct)
    {
        var ifMatch = request.IfMatchVersion();
        return ApiResults.Ok(await fields.ReplaceAsync(space, product, await reader.ReadAsync<ReplaceFieldsRequest>(request, ct), ifMatch, ct));
    }

    [Function("Fields_Add")]
    [ApiOperation("Add a field (Editor)", Request = typeof(FieldInput), Response = typeof(FieldResponse), Status = 201, Tag = "Catalog")]
    public async Task<IActionResult> AddField(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Product + "/fields")] HttpRequest request, string space, string product, CancellationToken ct)
    {
        var field = await fields.AddAsync(space, product, await reader.ReadAsync<FieldInput>(request, ct), ct);
        return ApiResults.Created($"/api/v1/spaces/{space}/products/{product}/fields/{field.Id}", field);
    }

    [Function("Fields_Update")]
    [ApiOperation("Update a field (Editor)", Request = typeof(UpdateFieldRequest), Response = typeof(FieldResponse), Tag = "Catalog")]
    public async Task<IActionResult> UpdateField(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = Product + "/fields/{fieldId}")] HttpRequest request, string space, string product, string fieldId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(fieldId, "Field");
        return ApiResults.Ok(await fields.UpdateAsync(space, product, id, await reader.ReadAsync<UpdateFieldRequest>(request, ct), ct));
    }

    [Function("Fields_Remove")]
    [ApiOperation("Remove a field (Editor)", Status = 204, Tag = "Catalog")]
    public async Task<IActionResult> RemoveField(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = Product + "/fields/{fieldId}")] HttpRequest request, string space, string product, string fieldId, CancellationToken ct)
    {
        await fields.RemoveAsync(space, product, HttpRequestExtensions.RouteId(fieldId, "Field"), ct);
        return ApiResults.NoContent();
    }

    [Function("Users_GovernedProducts")]
    [ApiOperation("Products a user governs, in the spaces the caller can see", Response = typeof(Paged<GovernedProduct>), Query = ["page", "size"], Errors = [404], Tag = "Catalog")]
    public async Task<IActionResult> GovernedProducts(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/users/{userId}/governed-products")] HttpRequest request, string userId, CancellationToken ct)
        => ApiResults.Ok(await products.GovernedByAsync(HttpRequestExtensions.RouteId(userId, "User"), request.Paging(), ct));
}
