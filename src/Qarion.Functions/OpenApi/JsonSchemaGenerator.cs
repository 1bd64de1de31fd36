using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.OpenApi;
using Qarion.Core.Common;

namespace Qarion.Functions.OpenApi;

/// <summary>
/// JSON Schemas (OpenAPI 3.1) for .NET types, read from System.Text.Json's contract metadata for the
/// API's own options, so names, requiredness and nullability are those of the wire format: every object
/// and enum becomes a component in <c>components/schemas</c> and is <c>$ref</c>'d; enums are the
/// snake_case strings the API's strict enum converter reads and writes; <see cref="Optional{T}"/> is T.
/// In a response schema <c>required</c> lists the properties always written (possibly as null); in a
/// request schema (<see cref="MarkAsRequest"/>) those that must be sent.
/// </summary>
public sealed class JsonSchemaGenerator(OpenApiDocument document, JsonSerializerOptions options)
{
    private readonly Dictionary<Type, string> _names = [];
    private readonly Dictionary<string, OpenApiSchema> _components = new(StringComparer.Ordinal);
    private readonly Dictionary<Type, HashSet<string>> _requiredInRequests = [];

    /// <summary>The components generated so far, by name.</summary>
    public IReadOnlyDictionary<string, OpenApiSchema> Components => _components;

    /// <summary>A schema for a value of <paramref name="type"/> (a <c>$ref</c> for objects and enums).</summary>
    public IOpenApiSchema For(Type type, bool nullable = false)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying) return For(underlying, nullable: true);
        if (IsOptional(type)) return For(type.GetGenericArguments()[0], nullable);

        if (Primitive(type) is var (jsonType, format))
            return new OpenApiSchema { Type = nullable ? jsonType | JsonSchemaType.Null : jsonType, Format = format, Minimum = IsUnsigned(type) ? "0" : null };
        if (type == typeof(object) || type == typeof(JsonElement) || typeof(JsonNode).IsAssignableFrom(type) || type == typeof(JsonDocument))
            return new OpenApiSchema(); // any JSON value

        if (type.IsEnum) return Reference(type, nullable, EnumSchema);

        var info = options.GetTypeInfo(type);
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Enumerable:
                return new OpenApiSchema
                {
                    Type = nullable ? JsonSchemaType.Array | JsonSchemaType.Null : JsonSchemaType.Array,
                    Items = For(info.ElementType!),
                };
            case JsonTypeInfoKind.Dictionary:
                return new OpenApiSchema
                {
                    Type = nullable ? JsonSchemaType.Object | JsonSchemaType.Null : JsonSchemaType.Object,
                    AdditionalProperties = For(info.ElementType!),
                };
            case JsonTypeInfoKind.Object:
                return Reference(type, nullable, _ => ObjectSchema(info));
            default:
                throw new NotSupportedException(
                    $"No JSON Schema mapping for {type} (it has a custom converter): add one to {nameof(JsonSchemaGenerator)}.");
        }
    }

    /// <summary>
    /// Marks the component of <paramref name="type"/> and of every object it contains as a request body:
    /// <c>required</c> lists what must be sent (rather than what a response always carries), and the object
    /// is closed (<c>additionalProperties: false</c>), as the request reader refuses unknown fields (422
    /// extra_forbidden). A type that is both read and written is described as the request it must be.
    /// </summary>
    public void MarkAsRequest(Type type)
    {
        var visited = new HashSet<Type>();
        Visit(type);

        void Visit(Type t)
        {
            t = Unwrap(t);
            if (!visited.Add(t) || t.IsEnum || Primitive(t) is not null || t == typeof(object)) return;
            var info = options.GetTypeInfo(t);
            switch (info.Kind)
            {
                case JsonTypeInfoKind.Enumerable or JsonTypeInfoKind.Dictionary:
                    Visit(info.ElementType!);
                    break;
                case JsonTypeInfoKind.Object when _names.TryGetValue(t, out var name):
                    _components[name].AdditionalPropertiesAllowed = false;
                    _components[name].Required = _requiredInRequests[t];
                    foreach (var property in info.Properties) Visit(property.PropertyType);
                    break;
            }
        }
    }

    /// <summary>The component name of a type (unique in the document): <c>Paged&lt;SpaceResponse&gt;</c> → <c>PagedSpaceResponse</c>.</summary>
    public string NameOf(Type type)
    {
        if (_names.TryGetValue(type, out var known)) return known;
        var name = BaseName(type);
        if (_components.ContainsKey(name))
        {
            // Another type has this name (same name, other namespace): qualify it with its feature.
            var feature = type.Namespace?.Split('.')[^1] ?? "Global";
            var candidate = feature + name;
            for (var i = 2; _components.ContainsKey(candidate); i++) candidate = feature + name + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            name = candidate;
        }
        _names[type] = name;
        return name;
    }

    private IOpenApiSchema Reference(Type type, bool nullable, Func<Type, OpenApiSchema> create)
    {
        if (!_names.TryGetValue(type, out var name))
        {
            name = NameOf(type);
            var schema = new OpenApiSchema(); // registered before it is filled, so recursive types terminate
            _components[name] = schema;
            Fill(schema, create(type));
        }
        var reference = new OpenApiSchemaReference(name, document);
        return nullable ? new OpenApiSchema { OneOf = [reference, new OpenApiSchema { Type = JsonSchemaType.Null }] } : reference;
    }

    private static void Fill(OpenApiSchema target, OpenApiSchema source)
    {
        target.Type = source.Type;
        target.Enum = source.Enum;
        target.Properties = source.Properties;
        target.Required = source.Required;
        target.AdditionalPropertiesAllowed = source.AdditionalPropertiesAllowed;
    }

    private static OpenApiSchema EnumSchema(Type type) => new()
    {
        Type = JsonSchemaType.String,
        // Exactly the names ApiJson's strict enum converter reads and writes.
        Enum = Enum.GetValues(type).Cast<object>()
            .Select(v => JsonNames.ToSnakeCase(v.ToString()!)).Distinct(StringComparer.Ordinal)
            .Select(n => (JsonNode)JsonValue.Create(n)).ToList(),
    };

    private OpenApiSchema ObjectSchema(JsonTypeInfo info)
    {
        var properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal);
        var written = new HashSet<string>(StringComparer.Ordinal);
        var toSend = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in info.Properties)
        {
            var readOnly = property.Set is null && property.AssociatedParameter is null;
            var schema = For(property.PropertyType, IsNullable(property));
            if (readOnly && schema is OpenApiSchema inline) inline.ReadOnly = true;
            properties[property.Name] = schema;
            // Written in every response unless an ignore condition may skip it (null values are written as null).
            if (property.Get is not null && property.ShouldSerialize is null) written.Add(property.Name);
            // Must be sent: required members and constructor parameters without a default.
            if (property.IsRequired) toSend.Add(property.Name);
        }
        _requiredInRequests[info.Type] = toSend;
        return new OpenApiSchema { Type = JsonSchemaType.Object, Properties = properties, Required = written };
    }

    /// <summary>Whether the property's JSON value may be null, as <see cref="Http.RequestReader"/> and the serializer decide it.</summary>
    private static bool IsNullable(JsonPropertyInfo property)
    {
        var type = property.PropertyType;
        if (!IsOptional(type)) return property.IsGetNullable || property.IsSetNullable;
        // Optional<T> is a struct, so its own nullability says nothing: ask whether T is nullable.
        var inner = type.GetGenericArguments()[0];
        if (Nullable.GetUnderlyingType(inner) is not null) return true;
        if (inner.IsValueType) return false;
        return property.AttributeProvider is not PropertyInfo clrProperty
               || new NullabilityInfoContext().Create(clrProperty).GenericTypeArguments[0].ReadState != NullabilityState.NotNull;
    }

    private static bool IsOptional(Type type) => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Optional<>);

    private static Type Unwrap(Type type)
    {
        while (true)
        {
            if (Nullable.GetUnderlyingType(type) is { } underlying) type = underlying;
            else if (IsOptional(type)) type = type.GetGenericArguments()[0];
            else return type;
        }
    }

    private static bool IsUnsigned(Type type) => type == typeof(uint) || type == typeof(ulong) || type == typeof(ushort) || type == typeof(byte);

    private static (JsonSchemaType Type, string? Format)? Primitive(Type type) => type switch
    {
        _ when type == typeof(string) || type == typeof(char) => (JsonSchemaType.String, null),
        _ when type == typeof(bool) => (JsonSchemaType.Boolean, null),
        _ when type == typeof(int) || type == typeof(short) || type == typeof(sbyte) || type == typeof(ushort) || type == typeof(byte) => (JsonSchemaType.Integer, "int32"),
        _ when type == typeof(long) || type == typeof(uint) || type == typeof(ulong) => (JsonSchemaType.Integer, "int64"),
        _ when type == typeof(double) => (JsonSchemaType.Number, "double"),
        _ when type == typeof(float) => (JsonSchemaType.Number, "float"),
        _ when type == typeof(decimal) => (JsonSchemaType.Number, null),
        _ when type == typeof(Guid) => (JsonSchemaType.String, "uuid"),
        _ when type == typeof(DateTimeOffset) || type == typeof(DateTime) => (JsonSchemaType.String, "date-time"),
        _ when type == typeof(DateOnly) => (JsonSchemaType.String, "date"),
        _ when type == typeof(TimeOnly) => (JsonSchemaType.String, "time"),
        _ when type == typeof(TimeSpan) => (JsonSchemaType.String, null),
        _ when type == typeof(Uri) => (JsonSchemaType.String, "uri"),
        _ when type == typeof(byte[]) => (JsonSchemaType.String, "byte"),
        _ => null,
    };

    private static string BaseName(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying) return "Nullable" + BaseName(underlying);
        if (type.IsArray) return BaseName(type.GetElementType()!) + "Array";
        if (!type.IsGenericType) return type.Name;
        var name = type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)];
        if (typeof(System.Collections.IEnumerable).IsAssignableFrom(type) && type.GetGenericArguments().Length == 1)
            return BaseName(type.GetGenericArguments()[0]) + "List";
        return name + string.Concat(type.GetGenericArguments().Select(BaseName));
    }
}
