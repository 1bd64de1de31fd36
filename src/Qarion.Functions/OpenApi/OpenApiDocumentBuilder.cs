using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.OpenApi;
using Qarion.Functions.Http;

namespace Qarion.Functions.OpenApi;

/// <summary>
/// Builds the OpenAPI 3.1 document of every HTTP function from the code alone: <c>[Function]</c> and
/// <c>[HttpTrigger]</c> give paths, methods and operation ids; <see cref="ApiOperationAttribute"/> the
/// summary, bodies, success status and query parameters; <see cref="AllowAnonymousAttribute"/> whether the
/// bearer scheme is required; schemas come from System.Text.Json's contract for <see cref="ApiJson.Options"/>.
/// </summary>
public static class OpenApiDocumentBuilder
{
    public const OpenApiSpecVersion Version = OpenApiSpecVersion.OpenApi3_1;
    public const string SecurityScheme = "bearer";
    public const string ProblemSchema = nameof(ApiProblem);

    // The document depends only on the code, so it is built and serialized once per process.
    private static readonly Lazy<byte[]> CachedJson = new(() => Serialize(Build(typeof(OpenApiDocumentBuilder).Assembly)));

    /// <summary>The serialized document of this app (UTF-8 JSON).</summary>
    public static ReadOnlyMemory<byte> Json => CachedJson.Value;

    private static readonly Dictionary<int, string> StatusTexts = new()
    {
        [200] = "OK", [201] = "Created", [202] = "Accepted", [204] = "No content", [401] = "Not authenticated: a missing, unknown, expired or revoked credential",
        [403] = "Forbidden: the caller may not do this (a role too low, a wrong token)", [404] = "Not found (or not visible to the caller)",
        [409] = "Conflict: a duplicate, a stale version or a rule such as keeping the last admin",
        [413] = "The body exceeds the size limit", [415] = "The body is not JSON",
        [422] = "Validation failed: every problem with the body, query or headers is listed in `errors`", [503] = "Service unavailable",
    };

    public static OpenApiDocument Build(Assembly assembly)
    {
        var document = new OpenApiDocument
        {
            Info = new OpenApiInfo
            {
                Title = "Qarion API",
                Version = "1.0.0",
                Description = """
                    Qarion, a data governance platform: spaces with members and roles, identity and API keys (more features follow).

                    - **Authentication**: `Authorization: Bearer <API key or OIDC token>` on every operation that lists the `bearer` scheme.
                    - **JSON**: `snake_case` names and enum values; ids are UUIDs; timestamps are ISO-8601 UTC with `Z` (sent timestamps must carry an offset). Unknown fields are refused.
                    - **Lists**: `?page=1&size=20` (size 1–100) → `{"items": [...], "total", "page", "size"}`.
                    - **Updates**: `PATCH` with only the fields to change (`null` clears a nullable field); send `If-Match: "<version>"` (from `ETag`) or `version`, and a stale one gets 409.
                    - **Errors**: RFC 9457 `application/problem+json` with a stable `code`; 422 lists every problem in `errors`.
                    """,
            },
            Paths = [],
            Components = new OpenApiComponents(),
        };
        var schemas = new JsonSchemaGenerator(document, ApiJson.Options);
        var problem = schemas.For(typeof(ApiProblem));
        var tags = new SortedSet<string>(StringComparer.Ordinal);
        var requestTypes = new List<Type>();

        foreach (var group in HttpEndpoint.Discover(assembly).GroupBy(e => e.Path, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var item = new OpenApiPathItem();
            foreach (var endpoint in group)
            {
                var tag = endpoint.Operation?.Tag ?? Feature(assembly, endpoint.Method.DeclaringType!);
                tags.Add(tag);
                if (endpoint.Operation?.Request is { } request) requestTypes.Add(request);
                foreach (var method in endpoint.HttpMethods)
                    item.AddOperation(new HttpMethod(method.ToUpperInvariant()), Operation(document, schemas, problem, endpoint, tag));
            }
            document.Paths[group.Key] = item;
        }
        foreach (var request in requestTypes) schemas.MarkAsRequest(request);

        document.Tags = new HashSet<OpenApiTag>(tags.Select(t => new OpenApiTag { Name = t }));
        document.Components.Schemas = schemas.Components.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .ToDictionary(kv => kv.Key, IOpenApiSchema (kv) => kv.Value, StringComparer.Ordinal);
        document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal)
        {
            [SecurityScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key (`qk_…`, issued at bootstrap or by `POST /api/v1/me/api-keys`) or, when single sign-on is configured, "
                              + "an OIDC JWT from the configured issuer: `Authorization: Bearer <token>`. A missing or invalid credential is 401.",
            },
        };
        document.RegisterComponents();
        return document;
    }

    /// <summary>The document as OpenAPI 3.1 JSON.</summary>
    public static byte[] Serialize(OpenApiDocument document)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        document.SerializeAs(Version, new OpenApiJsonWriter(text));
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static OpenApiOperation Operation(OpenApiDocument document, JsonSchemaGenerator schemas, IOpenApiSchema problem, HttpEndpoint endpoint, string tag)
    {
        var api = endpoint.Operation;
        var operation = new OpenApiOperation
        {
            OperationId = endpoint.Name,
            Summary = api?.Summary ?? endpoint.Name,
            Description = api?.Description,
            Tags = new HashSet<OpenApiTagReference> { new(tag, document) },
            Parameters = [],
            Responses = [],
        };

        foreach (var name in endpoint.PathParameters)
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = name,
                In = ParameterLocation.Path,
                Required = true,
                Schema = IsId(endpoint, name)
                    ? new OpenApiSchema { Type = JsonSchemaType.String, Format = "uuid" }
                    : new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }
        foreach (var name in api?.Query ?? [])
        {
            var definition = QueryParameters.All.TryGetValue(name, out var d)
                ? d
                : throw new InvalidOperationException($"{endpoint.Name}: query parameter '{name}' is not defined in {nameof(QueryParameters)}.{nameof(QueryParameters.All)}.");
            var schema = schemas.For(definition.Type);
            if (schema is OpenApiSchema inline)
            {
                inline.Minimum = definition.Minimum?.ToString(CultureInfo.InvariantCulture) ?? inline.Minimum;
                inline.Maximum = definition.Maximum?.ToString(CultureInfo.InvariantCulture) ?? inline.Maximum;
            }
            operation.Parameters.Add(new OpenApiParameter { Name = name, In = ParameterLocation.Query, Description = definition.Description, Schema = schema });
        }
        if (api?.IfMatch == true)
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "If-Match",
                In = ParameterLocation.Header,
                Description = "The `ETag` last read (`\"<version>\"`); a stale one gives 409 version_conflict. `*` or absent skips the check.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }

        if (api?.Request is { } request)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, IOpenApiMediaType> { ["application/json"] = new OpenApiMediaType { Schema = schemas.For(request) } },
            };
        }

        var status = api?.Status ?? 200;
        operation.Responses[Code(status)] = Success(schemas, api, status);
        if (api?.AlternateStatus is > 0 and var alternate) operation.Responses[Code(alternate)] = Success(schemas, api, alternate);

        var errors = new SortedSet<int>(api?.Errors ?? [403, 404, 409]) { 422 };
        if (!endpoint.Anonymous) errors.Add(401);
        if (api?.Request is not null) errors.UnionWith([413, 415]);
        foreach (var error in errors)
        {
            operation.Responses[Code(error)] = new OpenApiResponse
            {
                Description = StatusTexts.GetValueOrDefault(error, "Error"),
                Headers = error == 401
                    ? new Dictionary<string, IOpenApiHeader> { ["WWW-Authenticate"] = Header("The RFC 6750 challenge: `Bearer realm=\"qarion\", error=\"invalid_token\", …`.") }
                    : null,
                Content = new Dictionary<string, IOpenApiMediaType> { [Problems.ContentType] = new OpenApiMediaType { Schema = problem } },
            };
        }

        if (!endpoint.Anonymous)
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SecurityScheme, document)] = [] }];
        return operation;
    }

    private static OpenApiResponse Success(JsonSchemaGenerator schemas, ApiOperationAttribute? api, int status)
    {
        var response = new OpenApiResponse { Description = StatusTexts.GetValueOrDefault(status, "Success") };
        if (status == 204) return response;

        var headers = new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal);
        if (status == 201) headers["Location"] = Header("The URL of the created resource.");
        if (api?.Response is { } type && HasVersion(type) && status is 200 or 201)
            headers["ETag"] = Header("The resource's version as an entity tag (`\"<version>\"`), for `If-Match`.");
        if (headers.Count > 0) response.Headers = headers;

        if (api?.ResponseMediaType is { } mediaType)
            response.Content = new Dictionary<string, IOpenApiMediaType> { [mediaType] = new OpenApiMediaType { Schema = api.Response is null ? null : schemas.For(api.Response) } };
        else if (api?.Response is { } body)
            response.Content = new Dictionary<string, IOpenApiMediaType> { ["application/json"] = new OpenApiMediaType { Schema = schemas.For(body) } };
        return response;
    }

    private static OpenApiHeader Header(string description) => new() { Description = description, Schema = new OpenApiSchema { Type = JsonSchemaType.String } };

    private static string Code(int status) => status.ToString(CultureInfo.InvariantCulture);

    /// <summary>Responses that carry <c>version</c> are written with an <c>ETag</c> (see <see cref="ApiResults"/>).</summary>
    private static bool HasVersion(Type type)
        => ApiJson.Options.GetTypeInfo(type) is { Kind: System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object } info
           && info.Properties.Any(p => p.Name == "version");

    /// <summary>
    /// Route ids are UUIDs (parsed with <see cref="HttpRequestExtensions.RouteId"/>; anything else is 404): a parameter
    /// constrained to <c>guid</c>, or named <c>…Id</c>, is documented as one. Other parameters (slugs) are strings.
    /// </summary>
    private static bool IsId(HttpEndpoint endpoint, string name)
        => endpoint.IsGuidParameter(name) || (name.Length > 2 && name.EndsWith("Id", StringComparison.Ordinal)) || name.EndsWith("_id", StringComparison.Ordinal);

    /// <summary>The feature folder: <c>Qarion.Functions.Spaces.SpaceFunctions</c> → <c>Spaces</c> (a class at the root: its name).</summary>
    private static string Feature(Assembly assembly, Type type)
    {
        var root = assembly.GetName().Name + ".";
        var ns = type.Namespace ?? string.Empty;
        return ns.StartsWith(root, StringComparison.Ordinal)
            ? ns[root.Length..].Split('.')[0]
            : type.Name.Replace("Functions", "", StringComparison.Ordinal);
    }
}
