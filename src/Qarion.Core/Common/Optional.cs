using System.Text.Json;
using System.Text.Json.Serialization;

namespace Qarion.Core.Common;

/// <summary>
/// A PATCH field: tells "not sent" apart from "sent as null". System.Text.Json only calls the
/// converter for properties present in the body, so an absent property stays <see cref="IsSet"/> = false.
/// </summary>
[JsonConverter(typeof(OptionalJsonConverterFactory))]
public readonly record struct Optional<T>
{
    public Optional(T value)
    {
        Value = value;
        IsSet = true;
    }

    public bool IsSet { get; }
    public T Value { get; }

    public static implicit operator Optional<T>(T value) => new(value);

    /// <summary>The sent value, or <paramref name="current"/> when the field was not sent.</summary>
    public T Or(T current) => IsSet ? Value : current;
}

public sealed class OptionalJsonConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert)
        => typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(Optional<>);

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options)
        => (JsonConverter)Activator.CreateInstance(
            typeof(OptionalJsonConverter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]))!;

    private sealed class OptionalJsonConverter<T> : JsonConverter<Optional<T>>
    {
        public override bool HandleNull => true;

        public override Optional<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => new(JsonSerializer.Deserialize<T>(ref reader, options)!);

        public override void Write(Utf8JsonWriter writer, Optional<T> value, JsonSerializerOptions options)
            => JsonSerializer.Serialize(writer, value.IsSet ? value.Value : default, options);
    }
}
