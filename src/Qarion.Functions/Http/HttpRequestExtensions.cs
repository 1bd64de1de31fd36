using System.Globalization;
using Microsoft.AspNetCore.Http;
using Qarion.Core.Common;

namespace Qarion.Functions.Http;

/// <summary>Query-string and header parsing with 422s that name the parameter.</summary>
public static class HttpRequestExtensions
{
    public static PageRequest Paging(this HttpRequest request)
        => new(request.QueryInt("page") ?? 1, request.QueryInt("size") ?? PageRequest.DefaultSize);

    public static int? QueryInt(this HttpRequest request, string name)
    {
        var raw = Single(request, name);
        if (raw is null) return null;
        return int.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw RequestValidationException.For("query", name, "expected an integer", "int_parsing");
    }

    public static bool? QueryBool(this HttpRequest request, string name)
    {
        var raw = Single(request, name);
        return raw?.ToLowerInvariant() switch
        {
            null => null,
            "true" or "1" => true,
            "false" or "0" => false,
            _ => throw RequestValidationException.For("query", name, "expected true or false", "bool_parsing"),
        };
    }

    public static Guid? QueryGuid(this HttpRequest request, string name)
    {
        var raw = Single(request, name);
        if (raw is null) return null;
        return Guid.TryParse(raw, out var value) ? value : throw RequestValidationException.For("query", name, "expected a UUID", "uuid_parsing");
    }

    public static string? QueryString(this HttpRequest request, string name, int maxLength = 200)
    {
        var raw = Single(request, name);
        if (raw is not null && raw.Length > maxLength)
            throw RequestValidationException.For("query", name, $"must be at most {maxLength} characters", "string_too_long");
        return raw;
    }

    /// <summary>UUIDs given as <c>a,b</c> or as the parameter repeated.</summary>
    public static IReadOnlyList<Guid> QueryGuidList(this HttpRequest request, string name, int max = 50)
    {
        return ListValues(request, name, max).Select(p => Guid.TryParse(p, out var id) ? id : throw RequestValidationException.For("query", name, $"'{p}' is not a UUID", "uuid_parsing")).ToList();
    }

    /// <summary>Strings given as <c>a,b</c> or as the parameter repeated.</summary>
    public static IReadOnlyList<string> QueryList(this HttpRequest request, string name, int max = 20)
    {
        var parts = ListValues(request, name, max);
        if (parts.Any(Text.HasForbiddenControlCharacter)) throw RequestValidationException.For("query", name, "control characters are not allowed", "string_invalid_character");
        return parts;
    }

    private static List<string> ListValues(HttpRequest request, string name, int max)
    {
        var parts = request.Query[name].SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        return parts.Count <= max ? parts : throw RequestValidationException.For("query", name, $"at most {max} values", "too_long");
    }

    public static DateTimeOffset? QueryInstant(this HttpRequest request, string name)
    {
        var raw = Single(request, name);
        if (raw is null) return null;
        return DateTimeOffset.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var value)
               && (raw.EndsWith('Z') || raw.EndsWith('z') || raw.LastIndexOfAny(['+', '-']) > raw.IndexOf('T', StringComparison.Ordinal) && raw.Contains('T', StringComparison.Ordinal))
            ? value.ToUniversalTime()
            : throw RequestValidationException.For("query", name, "expected an ISO-8601 date-time with an offset or Z", "datetime_parsing");
    }

    public static T? QueryEnum<T>(this HttpRequest request, string name) where T : struct, Enum
    {
        var raw = Single(request, name);
        if (raw is null) return null;
        foreach (var value in Enum.GetValues<T>())
            if (JsonNames.ToSnakeCase(value.ToString()) == raw) return value;
        throw RequestValidationException.For("query", name,
            "must be one of: " + string.Join(", ", Enum.GetNames<T>().Select(JsonNames.ToSnakeCase)), "enum");
    }

    /// <summary><c>If-Match: "42"</c> (or <c>W/"42"</c>) → 42. A wildcard means "any version".</summary>
    public static uint? IfMatchVersion(this HttpRequest request)
    {
        var raw = request.Headers.IfMatch.ToString().Trim();
        if (raw.Length == 0 || raw == "*") return null;
        var value = raw.StartsWith("W/", StringComparison.Ordinal) ? raw[2..] : raw;
        value = value.Trim('"');
        return uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? version
            : throw RequestValidationException.For("header", "If-Match", "expected an entity tag such as \"42\" from the ETag header", "etag_invalid");
    }

    private static string? Single(HttpRequest request, string name)
    {
        var values = request.Query[name];
        if (values.Count > 1) throw RequestValidationException.For("query", name, "give this parameter once", "duplicate_parameter");
        var raw = values.ToString();
        if (Text.HasForbiddenControlCharacter(raw))
            throw RequestValidationException.For("query", name, "control characters are not allowed", "string_invalid_character");
        return string.IsNullOrEmpty(raw) ? null : raw;
    }

    /// <summary>Ids in routes are UUIDs; anything else cannot name a resource, so it is "not found".</summary>
    public static Guid RouteId(string value, string resource)
        => Guid.TryParse(value, out var id) ? id : throw new NotFoundException(resource, value);
}
