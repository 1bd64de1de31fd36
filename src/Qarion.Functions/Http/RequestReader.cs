using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using FluentValidation;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Qarion.Core.Common;

namespace Qarion.Functions.Http;

/// <summary>
/// Reads a JSON request body into a typed request, reporting every problem at once as 422
/// <c>{loc, msg, type}</c>: malformed JSON, a non-object body, missing required fields, unknown fields,
/// wrong types, nulls where none are allowed, then the request's FluentValidation rules.
/// </summary>
public sealed class RequestReader(IServiceProvider services, IOptions<HttpOptions> options)
{
    public async Task<T> ReadAsync<T>(HttpRequest request, CancellationToken ct) where T : class
    {
        var bytes = await ReadBodyAsync(request, ct);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = ApiJson.Options.MaxDepth });
        }
        catch (JsonException ex)
        {
            throw new RequestValidationException(new FieldError(
                ["body"], $"invalid JSON at line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1} of the line", "json_invalid"));
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new RequestValidationException(new FieldError(["body"], "the body must be a JSON object", "model_attributes_type"));

            var typeInfo = ApiJson.Options.GetTypeInfo(typeof(T));
            var errors = new List<FieldError>();
            FindControlCharacters(root, ["body"], errors);
            if (errors.Count > 0) throw new RequestValidationException(errors);
            errors = CheckShape(root, typeInfo);
            if (errors.Count > 0) throw new RequestValidationException(errors);

            T value;
            try
            {
                value = root.Deserialize<T>(ApiJson.Options)
                        ?? throw new RequestValidationException(new FieldError(["body"], "the body must be a JSON object", "model_attributes_type"));
            }
            catch (JsonException ex)
            {
                throw new RequestValidationException(new FieldError(PathToLoc(ex.Path), "invalid value", "value_error"));
            }

            if (services.GetService(typeof(IValidator<T>)) is IValidator<T> validator)
                await validator.ValidateOrThrowAsync(value, ct);
            return value;
        }
    }

    /// <summary>
    /// A JSON object whose shape the service checks itself (platform-specific credentials): the same media-type,
    /// size, JSON, object and control-character checks as <see cref="ReadAsync{T}"/>.
    /// </summary>
    public async Task<JsonElement> ReadObjectAsync(HttpRequest request, CancellationToken ct)
    {
        var bytes = await ReadBodyAsync(request, ct);
        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = ApiJson.Options.MaxDepth });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new RequestValidationException(new FieldError(["body"], "the body must be a JSON object", "model_attributes_type"));
            var errors = new List<FieldError>();
            FindControlCharacters(root, ["body"], errors);
            if (errors.Count > 0) throw new RequestValidationException(errors);
            return root.Clone();
        }
        catch (JsonException ex)
        {
            throw new RequestValidationException(new FieldError(
                ["body"], $"invalid JSON at line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1} of the line", "json_invalid"));
        }
    }

    /// <summary>415 unless the request says it is JSON (or says nothing).</summary>
    public static void RequireJsonContentType(HttpRequest request)
    {
        var contentType = request.ContentType;
        if (!string.IsNullOrEmpty(contentType) && !IsJson(contentType))
            throw new RequestRejectedException(415, "unsupported_media_type", $"Send JSON (Content-Type: application/json), not '{contentType}'.");
    }

    private async Task<ReadOnlyMemory<byte>> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        RequireJsonContentType(request);

        var limit = options.Value.MaxRequestBodyBytes;
        if (request.ContentLength > limit) throw TooLarge(limit);

        var buffer = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            var span = buffer.GetMemory(8192);
            var read = await request.Body.ReadAsync(span, ct);
            if (read == 0) break;
            buffer.Advance(read);
            if (buffer.WrittenCount > limit) throw TooLarge(limit);
        }
        if (buffer.WrittenCount == 0)
            throw new RequestValidationException(new FieldError(["body"], "a JSON body is required", "missing"));
        return buffer.WrittenMemory;
    }

    private static RequestRejectedException TooLarge(long limit)
        => new(413, "payload_too_large", $"The request body exceeds the limit of {limit} bytes.");

    private static bool IsJson(string contentType)
    {
        var mediaType = contentType.Split(';', 2)[0].Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
               || (mediaType.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Field-by-field checks, so a client learns about all its mistakes in one round trip.</summary>
    private static List<FieldError> CheckShape(JsonElement root, JsonTypeInfo typeInfo)
    {
        var errors = new List<FieldError>();
        var known = new Dictionary<string, JsonPropertyInfo>(StringComparer.Ordinal);
        foreach (var property in typeInfo.Properties) known[property.Name] = property;

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in root.EnumerateObject())
        {
            if (!seen.Add(member.Name))
            {
                errors.Add(new FieldError(["body", member.Name], "the field appears more than once", "duplicate_field"));
                continue;
            }
            if (!known.TryGetValue(member.Name, out var property))
            {
                errors.Add(new FieldError(["body", member.Name], "unknown field", "extra_forbidden"));
                continue;
            }
            if (member.Value.ValueKind == JsonValueKind.Null)
            {
                if (!AcceptsNull(property))
                    errors.Add(new FieldError(["body", member.Name], "may not be null", "null_forbidden"));
                continue;
            }
            try
            {
                member.Value.Deserialize(property.PropertyType, ApiJson.Options);
            }
            catch (JsonException ex)
            {
                errors.Add(new FieldError(["body", member.Name], TypeMessage(property.PropertyType, ex), "type_error"));
            }
        }
        foreach (var property in typeInfo.Properties)
        {
            if (property.IsRequired && !seen.Contains(property.Name))
                errors.Add(new FieldError(["body", property.Name], "field required", "missing"));
        }
        return errors;
    }

    /// <summary>
    /// NUL cannot be stored in PostgreSQL text, and other C0 controls (tab, CR and LF aside) are never
    /// meant in names or descriptions: both are refused up front rather than failing at the database.
    /// </summary>
    private static void FindControlCharacters(JsonElement element, List<object> loc, List<FieldError> errors)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                string? value;
                try
                {
                    value = element.GetString();
                }
                catch (InvalidOperationException)
                {
                    // JsonDocument validates UTF-8 and escaped surrogates only when a string is read.
                    errors.Add(new FieldError([.. loc], "not valid Unicode (invalid UTF-8 or a lone surrogate)", "string_unicode"));
                    break;
                }
                if (Text.HasForbiddenControlCharacter(value))
                    errors.Add(new FieldError([.. loc], "control characters are not allowed", "string_invalid_character"));
                break;
            case JsonValueKind.Object:
                foreach (var member in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = member.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        errors.Add(new FieldError([.. loc], "a field name is not valid Unicode", "string_unicode"));
                        continue;
                    }
                    if (Text.HasForbiddenControlCharacter(name))
                    {
                        errors.Add(new FieldError([.. loc], "control characters are not allowed in field names", "string_invalid_character"));
                        continue;
                    }
                    FindControlCharacters(member.Value, [.. loc, name], errors);
                }
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray()) FindControlCharacters(item, [.. loc, i++], errors);
                break;
        }
    }

    private static bool AcceptsNull(JsonPropertyInfo property)
    {
        if (property.IsSetNullable) return true;
        var type = property.PropertyType;
        if (!type.IsGenericType || type.GetGenericTypeDefinition() != typeof(Optional<>)) return false;
        // Optional<T> is a struct, so its own nullability says nothing: ask whether T is nullable.
        var inner = type.GetGenericArguments()[0];
        if (Nullable.GetUnderlyingType(inner) is not null) return true;
        if (inner.IsValueType) return false;
        return property.AttributeProvider is not System.Reflection.PropertyInfo clrProperty
               || new System.Reflection.NullabilityInfoContext().Create(clrProperty).GenericTypeArguments[0].ReadState
               != System.Reflection.NullabilityState.NotNull;
    }

    private static string TypeMessage(Type type, JsonException ex)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target.IsGenericType && target.GetGenericTypeDefinition() == typeof(Optional<>)) target = target.GetGenericArguments()[0];
        target = Nullable.GetUnderlyingType(target) ?? target;
        var expected = target switch
        {
            _ when target == typeof(string) => "a string",
            _ when target == typeof(bool) => "true or false",
            _ when target == typeof(int) || target == typeof(long) || target == typeof(uint) => "an integer",
            _ when target == typeof(double) || target == typeof(decimal) => "a number",
            _ when target == typeof(Guid) => "a UUID string",
            _ when target == typeof(DateTimeOffset) => "an ISO-8601 date-time string with an offset or Z",
            _ when target.IsEnum => "one of: " + string.Join(", ", Enum.GetNames(target).Select(JsonNames.ToSnakeCase)),
            _ => null,
        };
        return expected is null ? $"invalid value: {ex.Message}" : $"expected {expected}";
    }

    private static object[] PathToLoc(string? path)
    {
        var loc = new List<object> { "body" };
        if (string.IsNullOrEmpty(path)) return [.. loc];
        foreach (var part in path.TrimStart('$').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            var bracket = part.IndexOf('[', StringComparison.Ordinal);
            loc.Add(bracket < 0 ? part : part[..bracket]);
            if (bracket >= 0 && int.TryParse(part[(bracket + 1)..^1], out var i)) loc.Add(i);
        }
        return [.. loc];
    }
}
