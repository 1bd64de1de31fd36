using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Qarion.Core.Common;

namespace Qarion.Functions.Http;

/// <summary>The API's one JSON dialect: snake_case names, snake_case enum strings, UTC timestamps with <c>Z</c>.</summary>
public static class ApiJson
{
    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            PropertyNameCaseInsensitive = false,
            DictionaryKeyPolicy = null,
            // Unknown fields are an error (422 extra_forbidden), so a misspelt field is never silently ignored.
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            RespectNullableAnnotations = true,
            RespectRequiredConstructorParameters = true,
            NumberHandling = JsonNumberHandling.Strict,
            AllowTrailingCommas = false,
            ReadCommentHandling = JsonCommentHandling.Disallow,
            MaxDepth = 64,
        };
        options.Converters.Add(new StrictEnumConverterFactory());
        options.Converters.Add(new UtcDateTimeOffsetConverter());
        options.Converters.Add(new OptionalJsonConverterFactory());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>
    /// Enums as exactly one snake_case name. The framework's string-enum converter also accepts
    /// "viewer, editor" (OR-ing the values: viewer|editor == admin) and other spellings; this one does not.
    /// </summary>
    private sealed class StrictEnumConverterFactory : JsonConverterFactory
    {
        public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

        public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options)
            => (JsonConverter)Activator.CreateInstance(typeof(StrictEnumConverter<>).MakeGenericType(typeToConvert))!;
    }

    private sealed class StrictEnumConverter<T> : JsonConverter<T> where T : struct, Enum
    {
        private static readonly Dictionary<string, T> ByName = Enum.GetValues<T>()
            .ToDictionary(v => JsonNames.ToSnakeCase(v.ToString()), v => v, StringComparer.Ordinal);
        private static readonly Dictionary<T, string> ToName = ByName.ToDictionary(kv => kv.Value, kv => kv.Key);

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.String && reader.GetString() is { } name && ByName.TryGetValue(name, out var value))
                return value;
            throw new JsonException($"expected one of: {string.Join(", ", ByName.Keys)}");
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
            => writer.WriteStringValue(ToName.TryGetValue(value, out var name) ? name : throw new JsonException($"{value} is not a defined {typeof(T).Name}"));
    }

    /// <summary>Reads any ISO-8601 instant (an offset is required) and writes it in UTC as <c>…Z</c>.</summary>
    private sealed class UtcDateTimeOffsetConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.GetString();
            if (text is null || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var value)
                || !HasExplicitOffset(text))
                throw new JsonException("expected an ISO-8601 date-time with an offset or Z, e.g. 2026-01-31T12:00:00Z");
            return value.ToUniversalTime();
        }

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
            => writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));

        private static bool HasExplicitOffset(string text)
        {
            var t = text.IndexOf('T', StringComparison.Ordinal);
            if (t < 0) return false;
            var time = text.AsSpan(t);
            return time.EndsWith("Z", StringComparison.OrdinalIgnoreCase) || time.LastIndexOfAny('+', '-') > 0;
        }
    }
}
