namespace Qarion.Core.Common;

/// <summary>One problem with one input value, in the shape the original API's clients read.</summary>
/// <param name="Loc">Where the value is: <c>["body", "name"]</c>, <c>["query", "page"]</c>, <c>["header", "If-Match"]</c>.</param>
/// <param name="Msg">A human-readable message.</param>
/// <param name="Type">A machine-readable code such as <c>missing</c>, <c>string_too_long</c>, <c>json_invalid</c>.</param>
public sealed record FieldError(IReadOnlyList<object> Loc, string Msg, string Type);

/// <summary>Base of the domain exceptions that the HTTP layer maps to problem responses.</summary>
public abstract class QarionException(string message) : Exception(message)
{
    /// <summary>Stable machine-readable code, e.g. <c>not_found</c>.</summary>
    public abstract string Code { get; }
}

/// <summary>The resource does not exist or the caller may not know it exists (404).</summary>
public sealed class NotFoundException(string resource, string? key = null)
    : QarionException(key is null ? $"{resource} not found." : $"{resource} '{key}' not found.")
{
    public string Resource { get; } = resource;
    public override string Code => "not_found";
}

/// <summary>The caller is known and may see the resource but may not do this (403).</summary>
public sealed class ForbiddenException(string message) : QarionException(message)
{
    public override string Code => "forbidden";
}

/// <summary>The request conflicts with the current state: duplicate key, stale version, decided twice (409).</summary>
public sealed class ConflictException(string message, string code = "conflict") : QarionException(message)
{
    public override string Code { get; } = code;
}

/// <summary>The caller is not authenticated (401).</summary>
public sealed class UnauthorizedException(string message, string? error = "invalid_token") : QarionException(message)
{
    /// <summary>RFC 6750 error code for the <c>WWW-Authenticate</c> header; null when no credentials were sent (a bare challenge).</summary>
    public string? Error { get; } = error;
    public override string Code => "unauthorized";
}

/// <summary>The request is well-formed JSON but its values are invalid (422).</summary>
public sealed class RequestValidationException(IReadOnlyList<FieldError> errors)
    : QarionException(Describe(errors))
{
    public IReadOnlyList<FieldError> Errors { get; } = errors;
    public override string Code => "validation_failed";

    public RequestValidationException(FieldError error) : this([error]) { }

    public static RequestValidationException For(string location, string field, string msg, string type)
        => new(new FieldError([location, field], msg, type));

    private static string Describe(IReadOnlyList<FieldError> errors)
    {
        var first = errors.Count > 0 ? $"{string.Join('.', errors[0].Loc)}: {errors[0].Msg}" : "invalid request";
        return errors.Count <= 1 ? first : $"{errors.Count} validation errors; first: {first}";
    }
}

/// <summary>The request itself cannot be processed: body too large (413), wrong media type (415).</summary>
public sealed class RequestRejectedException(int status, string code, string message) : QarionException(message)
{
    public int Status { get; } = status;
    public override string Code { get; } = code;
}
