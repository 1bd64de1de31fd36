using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Qarion.Core.Audit;
using Qarion.Core.Common;
using Qarion.Functions.Http;

namespace Qarion.Functions.Audit;

public sealed class AuditFunctions(AuditService audit)
{
    [Function("Audit_ListSpace")]
    [ApiOperation("A space's audit log, newest first (Admin)", Response = typeof(Paged<AuditEntryResponse>), Query = ["action", "resource_type", "resource_id", "user_id", "from", "to", "page", "size"], Errors = [403, 404], Tag = "Audit")]
    public async Task<IActionResult> ListSpace(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/audit")] HttpRequest request, string space, CancellationToken ct)
        => ApiResults.Ok(await audit.ListSpaceAsync(space, Query(request), request.Paging(), ct));

    [Function("Audit_ResourceHistory")]
    [ApiOperation("The history of one resource of the space, newest first (Viewer)", Response = typeof(Paged<AuditEntryResponse>), Query = ["page", "size"], Errors = [404], Tag = "Audit")]
    public async Task<IActionResult> History(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/audit/resources/{resourceId}")] HttpRequest request, string space, string resourceId, CancellationToken ct)
        => ApiResults.Ok(await audit.HistoryAsync(space, HttpRequestExtensions.RouteId(resourceId, "Resource"), request.Paging(), ct));

    [Function("Audit_ExportSpace")]
    [ApiOperation("Export a space's audit log as CSV or JSON, streamed oldest first (Admin)", Query = ["format", "action", "resource_type", "resource_id", "user_id", "from", "to"], ResponseMediaType = "text/csv", Errors = [403, 404], Tag = "Audit")]
    public async Task<IActionResult> Export(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/spaces/{space}/audit/export")] HttpRequest request, string space, CancellationToken ct)
    {
        var format = request.QueryString("format", 10) ?? "csv";
        if (format is not ("csv" or "json"))
            throw RequestValidationException.For("query", "format", "must be csv or json", "enum");
        var rows = await audit.ExportSpaceAsync(space, Query(request), ct);
        return new AuditExportResult(rows, format, $"audit-{space}");
    }

    [Function("Audit_ListPlatform")]
    [ApiOperation("The whole platform's audit log, newest first (superadmin)", Response = typeof(Paged<AuditEntryResponse>), Query = ["action", "resource_type", "resource_id", "user_id", "from", "to", "page", "size"], Errors = [403], Tag = "Audit")]
    public async Task<IActionResult> ListPlatform(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/audit")] HttpRequest request, CancellationToken ct)
        => ApiResults.Ok(await audit.ListPlatformAsync(Query(request), request.Paging(), ct));

    private static AuditQuery Query(HttpRequest request) => new(
        request.QueryString("action", 32), request.QueryString("resource_type", 64), request.QueryGuid("resource_id"),
        request.QueryGuid("user_id"), request.QueryInstant("from"), request.QueryInstant("to"));
}

/// <summary>Writes rows as they arrive from the database, flushing as it goes: memory stays flat however long the log.</summary>
public sealed class AuditExportResult(IAsyncEnumerable<AuditEntryResponse> rows, string format, string fileName) : IActionResult
{
    private static readonly string[] Columns =
        ["id", "occurred_at", "space_id", "actor_user_id", "actor_email", "actor_api_key_id", "action", "resource_type", "resource_id", "resource_name", "changes"];

    public async Task ExecuteResultAsync(ActionContext context)
    {
        var response = context.HttpContext.Response;
        var ct = context.HttpContext.RequestAborted;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = format == "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8";
        response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}.{format}\"";
        response.Headers.CacheControl = "no-store";
        if (format == "csv") await WriteCsvAsync(response.Body, ct);
        else await WriteJsonAsync(response.Body, ct);
    }

    private async Task WriteCsvAsync(Stream body, CancellationToken ct)
    {
        await using var writer = new StreamWriter(body, new UTF8Encoding(false), 16 * 1024, leaveOpen: true);
        await writer.WriteLineAsync(string.Join(',', Columns));
        var count = 0;
        await foreach (var row in rows.WithCancellation(ct))
        {
            string?[] cells =
            [
                row.Id.ToString(), row.OccurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
                row.SpaceId?.ToString(), row.ActorUserId?.ToString(), row.ActorEmail, row.ActorApiKeyId?.ToString(), row.Action,
                row.ResourceType, row.ResourceId.ToString(), row.ResourceName, row.Changes.GetRawText(),
            ];
            await writer.WriteLineAsync(string.Join(',', cells.Select(Escape)));
            if (++count % 500 == 0) await writer.FlushAsync(ct);
        }
        await writer.FlushAsync(ct);
    }

    private async Task WriteJsonAsync(Stream body, CancellationToken ct)
    {
        await using var json = new Utf8JsonWriter(body);
        json.WriteStartArray();
        var count = 0;
        await foreach (var row in rows.WithCancellation(ct))
        {
            JsonSerializer.Serialize(json, row, ApiJson.Options);
            if (++count % 500 == 0) await json.FlushAsync(ct);
        }
        json.WriteEndArray();
        await json.FlushAsync(ct);
    }

    /// <summary>RFC 4180 quoting, and a leading quote for cells a spreadsheet would run as a formula.</summary>
    private static string Escape(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "";
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r') value = "'" + value;
        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
