using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Common;

namespace Qarion.Functions.Http;

/// <summary>RFC 9457 problem details, with the fields the original API's clients read (<c>detail</c>) and a list of field errors for 422.</summary>
public sealed record ApiProblem(
    string Type,
    string Title,
    int Status,
    string Detail,
    string Code,
    string? Instance,
    string? InvocationId,
    IReadOnlyList<FieldError>? Errors = null);

public static class Problems
{
    public const string ContentType = "application/problem+json";

    /// <summary>Maps an exception to a problem; null when it is not a client's fault (a 500).</summary>
    public static ApiProblem? FromException(Exception exception, string? instance, string? invocationId) => exception switch
    {
        RequestValidationException v => Create(422, "Validation failed", v.Message, v.Code, instance, invocationId, v.Errors),
        NotFoundException n => Create(404, "Not found", n.Message, n.Code, instance, invocationId),
        ForbiddenException f => Create(403, "Forbidden", f.Message, f.Code, instance, invocationId),
        ConflictException c => Create(409, "Conflict", c.Message, c.Code, instance, invocationId),
        UnauthorizedException u => Create(401, "Unauthorized", u.Message, u.Code, instance, invocationId),
        Core.Ingestion.CredentialKeyMissingException k => Create(503, "Service unavailable", k.Message, k.Code, instance, invocationId),
        RequestRejectedException r => Create(r.Status, r.Status == 413 ? "Payload too large" : "Request rejected", r.Message, r.Code, instance, invocationId),
        DbUpdateConcurrencyException => Create(409, "Conflict", "The resource was changed by someone else; reload it and try again.", "version_conflict", instance, invocationId),
        _ => null,
    };

    public static ApiProblem Internal(string? instance, string? invocationId)
        => Create(500, "Internal error", "An unexpected error occurred. Quote the invocation id when reporting it.", "internal_error", instance, invocationId);

    public static ApiProblem Create(int status, string title, string detail, string code, string? instance, string? invocationId, IReadOnlyList<FieldError>? errors = null)
        => new($"urn:qarion:problem:{code.Replace('_', '-')}", title, status, detail, code, instance, invocationId, errors);

    /// <summary>Writes a problem response; for 401 also the RFC 6750 <c>WWW-Authenticate</c> challenge.</summary>
    public static async Task WriteAsync(HttpResponse response, ApiProblem problem, Exception? cause = null)
    {
        if (response.HasStarted) return;
        response.Clear();
        response.StatusCode = problem.Status;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-store";
        if (problem.Status == 401)
        {
            // RFC 6750: a request without credentials gets a bare challenge; a bad one names the error.
            var error = cause is UnauthorizedException u ? u.Error : "invalid_token";
            response.Headers.WWWAuthenticate = error is null
                ? "Bearer realm=\"qarion\""
                : $"Bearer realm=\"qarion\", error=\"{error}\", error_description=\"{problem.Detail.Replace("\"", "'", StringComparison.Ordinal)}\"";
        }
        await JsonSerializer.SerializeAsync(response.Body, problem, ApiJson.Options);
    }
}
