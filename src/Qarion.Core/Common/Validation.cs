using System.Text.RegularExpressions;
using FluentValidation;
using FluentValidation.Results;

namespace Qarion.Core.Common;

public static partial class Validation
{
    /// <summary>Lower-case letters, digits and single hyphens; starts and ends with a letter or digit; 2–63 characters.</summary>
    [GeneratedRegex(@"\A[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){1,62}\z", RegexOptions.CultureInvariant)]
    public static partial Regex SlugPattern();

    public const int NameMaxLength = 200;
    public const int DescriptionMaxLength = 4000;

    public static IRuleBuilderOptions<T, string> Slug<T>(this IRuleBuilderInitial<T, string> rule)
        => rule.Cascade(CascadeMode.Stop)
            .NotEmpty().WithErrorCode("missing")
            .Matches(SlugPattern())
            .WithMessage("must be 2-63 lower-case letters, digits or single hyphens, starting and ending with a letter or digit")
            .WithErrorCode("slug_invalid")
            // A slug that reads as a UUID would be ambiguous wherever an id or a slug is accepted.
            .Must(v => !Guid.TryParse(v, out _)).WithMessage("must not have the form of a UUID").WithErrorCode("slug_invalid");

    public static IRuleBuilderOptions<T, string> Name<T>(this IRuleBuilder<T, string> rule, int max = NameMaxLength)
        => rule.Must(v => !string.IsNullOrWhiteSpace(v)).WithMessage("must not be blank").WithErrorCode("string_too_short")
            .MaximumLength(max).WithMessage($"must be at most {max} characters").WithErrorCode("string_too_long");

    /// <summary>Runs a validator and turns its failures into a 422 with <c>loc</c> paths under <paramref name="location"/>.</summary>
    public static async Task ValidateOrThrowAsync<T>(this IValidator<T> validator, T instance, CancellationToken ct, string location = "body")
    {
        var result = await validator.ValidateAsync(instance, ct);
        if (!result.IsValid) throw new RequestValidationException(ToFieldErrors(result.Errors, location));
    }

    public static IReadOnlyList<FieldError> ToFieldErrors(IEnumerable<ValidationFailure> failures, string location)
        => failures.Select(f => new FieldError(Loc(location, f.PropertyName), f.ErrorMessage, TypeOf(f))).ToList();

    private static object[] Loc(string location, string propertyPath)
    {
        var loc = new List<object> { location };
        foreach (var part in propertyPath.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            // "Items[2]" → "items", 2
            var bracket = part.IndexOf('[', StringComparison.Ordinal);
            var name = bracket < 0 ? part : part[..bracket];
            loc.Add(JsonNames.ToSnakeCase(name));
            if (bracket >= 0 && int.TryParse(part[(bracket + 1)..^1], out var index)) loc.Add(index);
        }
        return [.. loc];
    }

    private static string TypeOf(ValidationFailure f) => f.ErrorCode switch
    {
        "NotEmptyValidator" or "NotNullValidator" => "missing",
        "MaximumLengthValidator" or "LengthValidator" => "string_too_long",
        "MinimumLengthValidator" => "string_too_short",
        "RegularExpressionValidator" => "string_pattern_mismatch",
        "EmailValidator" => "value_error.email",
        "EnumValidator" or "IsInEnumValidator" => "enum",
        "GreaterThanOrEqualValidator" or "GreaterThanValidator" => "greater_than_equal",
        "LessThanOrEqualValidator" or "LessThanValidator" => "less_than_equal",
        null or "" => "value_error",
        var code when code.EndsWith("Validator", StringComparison.Ordinal) => "value_error",
        var code => code,
    };
}

public static class JsonNames
{
    /// <summary>The same snake_case the API's JSON uses (System.Text.Json's SnakeCaseLower).</summary>
    public static string ToSnakeCase(string name) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(name);

    /// <summary>How the core writes JSON it stores (outbox payloads, execution details): snake_case names and enums.</summary>
    public static readonly System.Text.Json.JsonSerializerOptions SerializerOptions = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.SnakeCaseLower) },
        // jsonb stores keys shortest first, so a stored object's "type" discriminator need not come first.
        AllowOutOfOrderMetadataProperties = true,
    };
}
