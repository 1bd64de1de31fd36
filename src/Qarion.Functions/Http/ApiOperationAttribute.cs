using Qarion.Core.Common;

namespace Qarion.Functions.Http;

/// <summary>
/// Describes an HTTP function for the OpenAPI document: what it does, the typed body it reads, the typed
/// body it returns, and the query parameters it understands. Routes and methods come from the trigger,
/// authentication from <see cref="AllowAnonymousAttribute"/>; the document is built from these alone.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ApiOperationAttribute(string summary) : Attribute
{
    public string Summary { get; } = summary;
    public string? Description { get; init; }
    /// <summary>The JSON request body type, if any.</summary>
    public Type? Request { get; init; }
    /// <summary>The JSON response body type on success (null for 204 or non-JSON bodies).</summary>
    public Type? Response { get; init; }
    /// <summary>The success status: 200, 201, 202 or 204.</summary>
    public int Status { get; init; } = 200;
    /// <summary>Another status answered with the same <see cref="Response"/> body (health's 503).</summary>
    public int AlternateStatus { get; init; }
    /// <summary>Names of query parameters, described in <see cref="QueryParameters"/>.</summary>
    public string[] Query { get; init; } = [];
    /// <summary>The response body is streamed in this media type instead of JSON (e.g. text/csv).</summary>
    public string? ResponseMediaType { get; init; }
    /// <summary>True when the function reads <c>If-Match</c>.</summary>
    public bool IfMatch { get; init; }
    /// <summary>
    /// The problem statuses the operation can answer besides those every operation documents (401 unless
    /// anonymous, 413 and 415 when it reads a body, 422 always): by default 403, 404 and 409.
    /// </summary>
    public int[] Errors { get; init; } = [403, 404, 409];
    /// <summary>The OpenAPI tag; by default the feature folder (the function class's namespace).</summary>
    public string? Tag { get; init; }
}

/// <summary>The query parameters the API uses, described once.</summary>
public static class QueryParameters
{
    /// <param name="Minimum">The smallest value accepted (integers), if bounded.</param>
    /// <param name="Maximum">The largest value accepted (integers), if bounded.</param>
    public sealed record Definition(string Name, Type Type, string Description, int? Minimum = null, int? Maximum = null);

    public static readonly IReadOnlyDictionary<string, Definition> All = new Definition[]
    {
        new("page", typeof(int), "Page number, from 1 (default 1).", Minimum: 1),
        new("size", typeof(int), "Page size, 1 to 100 (default 20).", Minimum: 1, Maximum: PageRequest.MaxSize),
        new("search", typeof(string), "Text to search for (at most 200 characters)."),
        new("user_id", typeof(Guid), "A user's id."),
        new("include_revoked", typeof(bool), "Include revoked keys (default false)."),
        new("tags", typeof(string), "Tag ids, comma-separated or repeated; every one must be present."),
        new("product_type", typeof(string), "A product type name."),
        new("owner_id", typeof(Guid), "Only products owned by this user."),
        new("governed_by", typeof(Guid), "Only products where this user holds any governance role."),
        new("include_archived", typeof(bool), "Include archived products (default false)."),
        new("sort", typeof(string), "name, -name, updated_at, -updated_at, created_at or -created_at (default name)."),
        new("direction", typeof(string), "upstream, downstream or both (default both)."),
        new("depth", typeof(int), "Levels to follow, 1 to 50 (default 3).", Minimum: 1, Maximum: 50),
        new("select", typeof(string), "dbt-style selector terms separated by spaces."),
        new("q", typeof(string), "The search text (1 to 200 characters)."),
        new("types", typeof(string), "Result types, comma-separated: products, fields, tags (default all)."),
        new("limit", typeof(int), "Results per type, 1 to 50 (default 10).", Minimum: 1, Maximum: 50),
        new("format", typeof(string), "csv (default) or json."),
        new("action", typeof(string), "create, update, delete, archive or unarchive."),
        new("resource_type", typeof(string), "snake_case entity name, e.g. data_product."),
        new("resource_id", typeof(Guid), "Only entries about this resource."),
        new("from", typeof(DateTimeOffset), "Entries at or after this instant."),
        new("to", typeof(DateTimeOffset), "Entries before this instant."),
        new("platform", typeof(string), "postgresql or dbt_manifest."),
        new("status", typeof(string), "A status to filter by: a sync job's (queued, running, succeeded, failed), an execution's or a check's last result (queued, running, pass, warning, fail, error; checks also never), a contract's (draft, active, deprecated, expired), an issue's (open, in_progress, resolved), an alert's (active, acknowledged, resolved, or open = not resolved), an access request's (pending, approved, rejected, expired, cancelled), an alert connector delivery's (pending, sent, failed, rejected), a webhook delivery's (pending, succeeded, failed)."),
        new("product", typeof(string), "A product's id or slug."),
        new("trigger", typeof(string), "manual, schedule, api or person."),
        new("ignored", typeof(bool), "true: only ignored executions; false: only counted ones (default both)."),
        new("days", typeof(int), "The window in days, 1 to 366 (default 30).", Minimum: 1, Maximum: 366),
        new("sla_status", typeof(string), "A contract's SLA status: unknown, meeting, at_risk or breached."),
        new("product_id", typeof(Guid), "Only items about this data product (for contracts: as producer or consumer)."),
        new("state", typeof(string), "open or resolved."),
        new("check_type", typeof(string), "A quality check type, e.g. null_check."),
        new("connector_id", typeof(Guid), "A connector's id."),
        new("archived", typeof(bool), "Only archived items (default false)."),
        new("priority", typeof(string), "An issue priority: low, medium, high or critical."),
        new("assignee_id", typeof(Guid), "Only issues assigned to this user."),
        new("reporter_id", typeof(Guid), "Only issues reported by this user."),
        new("severity", typeof(string), "An alert severity: low, medium, high or critical."),
        new("check_id", typeof(Guid), "Only items of this quality check."),
        new("view", typeof(string), "Access requests: mine (default; the caller's own), to_approve (pending ones the caller may decide) or all (Admin)."),
        new("active", typeof(bool), "Access grants: true for active only, false for revoked or ended only (default both)."),
        new("category", typeof(string), "A notification category: quality, issues, catalog, ingestion, contracts, access, webhooks or other."),
        new("unread", typeof(bool), "Only unread notifications (default false)."),
    }.ToDictionary(d => d.Name, StringComparer.Ordinal);
}
