using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Qarion.Core.Common;
using Qarion.Core.Issues;
using Qarion.Functions.Http;

namespace Qarion.Functions.Issues;

public sealed class IssueFunctions(RequestReader reader, IssueService issues)
{
    private const string Tag = "Issues";
    private const string Issues = "v1/spaces/{space}/issues";
    private const string Issue = "v1/spaces/{space}/issues/{issue}";
    private const string KeyNote = " `{issue}` is the issue's id or its number in the space (`12`, or `%2312` for `#12`).";

    [Function("Issues_Create")]
    [ApiOperation("Open an issue (Editor)", Description = "The assignee must be a member of the space and the products belong to it. Writes issue.created (and issue.assigned with an assignee) to the outbox.",
        Request = typeof(CreateIssueRequest), Response = typeof(IssueResponse), Status = 201, Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> Create(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Issues)] HttpRequest request, string space, CancellationToken ct)
    {
        var issue = await issues.CreateAsync(space, await reader.ReadAsync<CreateIssueRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/spaces/{space}/issues/{issue.Id}", issue, issue.Version);
    }

    [Function("Issues_List")]
    [ApiOperation("List issues (Viewer)", Description = "Filters combine with AND: `status` (open, in_progress, resolved), `priority` (low, medium, high, critical), `assignee_id`, `reporter_id`, `product_id`, `q` (in the title), `from`/`to` (created at). `sort`: newest (default), oldest, priority (critical first), updated.",
        Response = typeof(Paged<IssueSummary>), Query = ["status", "priority", "assignee_id", "reporter_id", "product_id", "q", "from", "to", "sort", "page", "size"], Errors = [404], Tag = Tag)]
    public async Task<IActionResult> List(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Issues)] HttpRequest request, string space, CancellationToken ct)
    {
        var query = new IssueListQuery(
            request.QueryEnum<IssueStatus>("status"), request.QueryEnum<IssuePriority>("priority"), request.QueryGuid("assignee_id"),
            request.QueryGuid("product_id"), request.QueryGuid("reporter_id"), request.QueryString("q"),
            request.QueryInstant("from"), request.QueryInstant("to"), request.QueryString("sort", 20) ?? "newest");
        return ApiResults.Ok(await issues.ListAsync(space, query, request.Paging(), ct));
    }

    [Function("Issues_Get")]
    [ApiOperation("One issue with its linked products (Viewer)", Description = KeyNote, Response = typeof(IssueResponse), Errors = [404], Tag = Tag)]
    public async Task<IActionResult> Get(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Issue)] HttpRequest request, string space, string issue, CancellationToken ct)
    {
        var result = await issues.GetAsync(space, Key(issue), ct);
        return ApiResults.Ok(result, result.Version);
    }

    [Function("Issues_Update")]
    [ApiOperation("Change an issue (Editor)", Description = "Only the fields sent change. Status: open → in_progress → resolved, open → resolved, in_progress → open, resolved → open (reopen); anything else is 422 `invalid_transition`. Every change is recorded in the history; assigning writes issue.assigned and resolving issue.resolved to the outbox." + KeyNote,
        Request = typeof(UpdateIssueRequest), Response = typeof(IssueResponse), IfMatch = true, Tag = Tag)]
    public async Task<IActionResult> Update(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = Issue)] HttpRequest request, string space, string issue, CancellationToken ct)
    {
        var ifMatch = request.IfMatchVersion();
        var result = await issues.UpdateAsync(space, Key(issue), await reader.ReadAsync<UpdateIssueRequest>(request, ct), ifMatch, ct);
        return ApiResults.Ok(result, result.Version);
    }

    [Function("Issues_Delete")]
    [ApiOperation("Delete an issue with its comments and history (its reporter, or an Admin)", Description = KeyNote, Status = 204, IfMatch = true, Tag = Tag)]
    public async Task<IActionResult> Delete(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = Issue)] HttpRequest request, string space, string issue, CancellationToken ct)
    {
        await issues.DeleteAsync(space, Key(issue), request.IfMatchVersion(), ct);
        return ApiResults.NoContent();
    }

    [Function("Issues_History")]
    [ApiOperation("The issue's changes, oldest first, with actor and old/new values (Viewer)", Description = KeyNote, Response = typeof(Paged<IssueEventResponse>), Query = ["page", "size"], Errors = [404], Tag = Tag)]
    public async Task<IActionResult> History(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Issue + "/history")] HttpRequest request, string space, string issue, CancellationToken ct)
        => ApiResults.Ok(await issues.HistoryAsync(space, Key(issue), request.Paging(), ct));

    [Function("Issues_LinkProduct")]
    [ApiOperation("Link a product of the space (Editor); returns the linked products", Description = "Linking a linked product changes nothing." + KeyNote,
        Request = typeof(LinkProductRequest), Response = typeof(IReadOnlyList<IssueProductRef>), Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> LinkProduct(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Issue + "/products")] HttpRequest request, string space, string issue, CancellationToken ct)
        => ApiResults.Ok(await issues.LinkProductAsync(space, Key(issue), await reader.ReadAsync<LinkProductRequest>(request, ct), ct));

    [Function("Issues_UnlinkProduct")]
    [ApiOperation("Unlink a product (Editor)", Description = KeyNote, Status = 204, Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> UnlinkProduct(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = Issue + "/products/{productId}")] HttpRequest request, string space, string issue, string productId, CancellationToken ct)
    {
        await issues.UnlinkProductAsync(space, Key(issue), HttpRequestExtensions.RouteId(productId, "Product linked to this issue"), ct);
        return ApiResults.NoContent();
    }

    [Function("Issues_Comments")]
    [ApiOperation("The issue's comments, oldest first (Viewer)", Description = KeyNote, Response = typeof(Paged<CommentResponse>), Query = ["page", "size"], Errors = [404], Tag = Tag)]
    public async Task<IActionResult> Comments(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Issue + "/comments")] HttpRequest request, string space, string issue, CancellationToken ct)
        => ApiResults.Ok(await issues.ListCommentsAsync(space, Key(issue), request.Paging(), ct));

    [Function("Issues_AddComment")]
    [ApiOperation("Comment on an issue (Editor)", Description = KeyNote, Request = typeof(CommentRequest), Response = typeof(CommentResponse), Status = 201, Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> AddComment(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Issue + "/comments")] HttpRequest request, string space, string issue, CancellationToken ct)
    {
        var comment = await issues.AddCommentAsync(space, Key(issue), await reader.ReadAsync<CommentRequest>(request, ct), ct);
        return ApiResults.Created($"/api/v1/spaces/{space}/issues/{comment.IssueId}/comments/{comment.Id}", comment);
    }

    [Function("Issues_EditComment")]
    [ApiOperation("Edit a comment (its author only)", Description = KeyNote, Request = typeof(CommentRequest), Response = typeof(CommentResponse), Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> EditComment(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = Issue + "/comments/{commentId}")] HttpRequest request, string space, string issue, string commentId, CancellationToken ct)
    {
        var id = HttpRequestExtensions.RouteId(commentId, "Comment");
        return ApiResults.Ok(await issues.EditCommentAsync(space, Key(issue), id, await reader.ReadAsync<CommentRequest>(request, ct), ct));
    }

    [Function("Issues_DeleteComment")]
    [ApiOperation("Delete a comment (its author, or an Admin)", Description = KeyNote, Status = 204, Errors = [403, 404], Tag = Tag)]
    public async Task<IActionResult> DeleteComment(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = Issue + "/comments/{commentId}")] HttpRequest request, string space, string issue, string commentId, CancellationToken ct)
    {
        await issues.DeleteCommentAsync(space, Key(issue), HttpRequestExtensions.RouteId(commentId, "Comment"), ct);
        return ApiResults.NoContent();
    }

    /// <summary>The route value, unescaped once more in case the host leaves <c>%23</c> (a URL-encoded <c>#</c>) as it came.</summary>
    private static string Key(string issue) => issue.Contains('%', StringComparison.Ordinal) ? Uri.UnescapeDataString(issue) : issue;
}
