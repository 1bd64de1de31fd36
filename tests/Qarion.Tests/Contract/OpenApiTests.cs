using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Azure.Functions.Worker;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;
using Qarion.Functions.Http;
using Qarion.Functions.OpenApi;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Contract;

/// <summary>
/// The served OpenAPI document, read back with the Microsoft.OpenApi reader, against the built
/// <c>functions.metadata</c> (what the host routes) and against what the API really accepts.
/// </summary>
public sealed class OpenApiTests(AppFixture app) : IClassFixture<AppFixture>
{
    private const string Url = "/api/openapi.json";

    private async Task<(ApiResponse Response, OpenApiDocument Document, ReadResult Read)> FetchAsync()
    {
        var response = await app.Anonymous().GetAsync(Url);
        Assert.True(response.Status == 200, response.ToString());
        var read = OpenApiDocument.Parse(response.Body, OpenApiConstants.Json, new OpenApiReaderSettings());
        Assert.NotNull(read.Document);
        return (response, read.Document, read);
    }

    private static IEnumerable<(string Path, HttpMethod Method, OpenApiOperation Operation)> Operations(OpenApiDocument document)
        => document.Paths.SelectMany(p => (p.Value.Operations ?? []).Select(o => (p.Key, o.Key, o.Value)));

    [Fact]
    public async Task The_document_is_served_without_credentials_as_json_and_reads_back_without_errors()
    {
        var (response, document, read) = await FetchAsync();

        Assert.StartsWith("application/json", response.Header("Content-Type"), StringComparison.Ordinal);
        var diagnostic = Assert.IsType<OpenApiDiagnostic>(read.Diagnostic);
        Assert.True(diagnostic.Errors.Count == 0, string.Join('\n', diagnostic.Errors.Select(e => $"{e.Pointer}: {e.Message}")));
        Assert.True(diagnostic.Warnings.Count == 0, string.Join('\n', diagnostic.Warnings.Select(e => $"{e.Pointer}: {e.Message}")));
        Assert.Equal(OpenApiSpecVersion.OpenApi3_1, diagnostic.SpecificationVersion);
        Assert.Equal("Qarion API", document.Info.Title);
        Assert.False(string.IsNullOrWhiteSpace(document.Info.Version));
        Assert.False(string.IsNullOrWhiteSpace(document.Info.Description));

        // Read back and written again, the document says the same thing: nothing was lost or misread.
        var rewritten = JsonNode.Parse(OpenApiDocumentBuilder.Serialize(document));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(response.Body), rewritten), "The document does not round-trip through the reader.");
    }

    [Fact]
    public async Task Every_http_function_in_the_built_metadata_is_an_operation_and_nothing_else_is()
    {
        var (_, document, _) = await FetchAsync();

        var expected = FunctionMetadataEntry.Load()
            .Where(f => f.Trigger?.GetProperty("type").GetString() == "httpTrigger")
            .SelectMany(f => f.Trigger!.Value.GetProperty("methods").EnumerateArray().Select(m =>
                $"{m.GetString()!.ToUpperInvariant()} /api/{f.Trigger!.Value.GetProperty("route").GetString()} {f.Name}"))
            .Order(StringComparer.Ordinal)
            .ToList();
        var documented = Operations(document)
            .Select(o => $"{o.Method.Method.ToUpperInvariant()} {o.Path} {o.Operation.OperationId}")
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.NotEmpty(expected);
        Assert.Contains("GET /api/openapi.json OpenApi", documented);
        Assert.Equal(expected, documented);
    }

    [Fact]
    public async Task Authenticated_operations_require_the_bearer_scheme_and_anonymous_ones_do_not()
    {
        var (_, document, _) = await FetchAsync();
        var anonymous = FunctionMetadataEntry.Load().Where(f => QarionMiddleware.IsAnonymous(f.EntryPoint)).Select(f => f.Name).ToHashSet();
        Assert.Equal(FunctionMetadataContract.AnonymousFunctions.Order(), anonymous.Order());

        var scheme = Assert.IsType<OpenApiSecurityScheme>(document.Components!.SecuritySchemes!["bearer"]);
        Assert.Equal(SecuritySchemeType.Http, scheme.Type);
        Assert.Equal("bearer", scheme.Scheme);
        Assert.Contains("qk_", scheme.Description, StringComparison.Ordinal);
        Assert.Contains("OIDC", scheme.Description, StringComparison.Ordinal);
        Assert.Null(document.Security); // no document-wide default: each operation says what it needs

        foreach (var (path, method, operation) in Operations(document))
        {
            var keys = (operation.Security ?? []).SelectMany(r => r.Keys).ToList();
            Assert.All(keys, k => Assert.Same(scheme, k.Target));
            var schemes = keys.Select(k => k.Reference.Id).ToList();
            if (anonymous.Contains(operation.OperationId!))
                Assert.True(schemes.Count == 0, $"{method} {path} is anonymous but requires {string.Join(", ", schemes)}");
            else
                Assert.True(schemes.SequenceEqual(["bearer"]), $"{method} {path} does not require exactly the bearer scheme");
        }
    }

    [Fact]
    public async Task Every_reference_resolves_within_the_document()
    {
        var (response, document, _) = await FetchAsync();
        var root = JsonNode.Parse(response.Body)!;
        var refs = new List<string>();
        Collect(root, refs);

        Assert.Contains("#/components/schemas/ApiProblem", refs);
        foreach (var reference in refs.Distinct())
        {
            Assert.StartsWith("#/", reference, StringComparison.Ordinal);
            JsonNode? node = root;
            foreach (var segment in reference[2..].Split('/').Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)))
                node = node is JsonObject o && o.TryGetPropertyValue(segment, out var next) ? next : null;
            Assert.True(node is JsonObject, $"$ref {reference} does not resolve");
        }

        // The reader agrees: every schema reference it built has a target.
        foreach (var schema in document.Components!.Schemas!.Values.SelectMany(Walk))
            if (schema is OpenApiSchemaReference r)
                Assert.False(r.UnresolvedReference || r.Target is null, $"unresolved {r.Reference.Id}");

        static void Collect(JsonNode? node, List<string> refs)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (name, value) in o)
                    {
                        if (name == "$ref") refs.Add(value!.GetValue<string>());
                        else Collect(value, refs);
                    }
                    break;
                case JsonArray a:
                    foreach (var item in a) Collect(item, refs);
                    break;
            }
        }
    }

    [Fact]
    public async Task Every_operation_documents_its_errors_as_problems()
    {
        var (_, document, _) = await FetchAsync();
        var problem = Assert.IsType<OpenApiSchema>(document.Components!.Schemas!["ApiProblem"]);
        Assert.Superset(new HashSet<string> { "type", "title", "status", "detail", "code", "instance", "invocation_id" }, problem.Required!.ToHashSet());
        Assert.Contains("errors", problem.Required!); // written in every problem, null unless 422

        foreach (var (path, method, operation) in Operations(document))
        {
            var anonymous = FunctionMetadataContract.AnonymousFunctions.Contains(operation.OperationId!);
            var expected = new List<string> { "422" };
            if (!anonymous) expected.Add("401");
            if (operation.RequestBody is not null) expected.AddRange(["413", "415"]);
            foreach (var status in expected)
            {
                Assert.True(operation.Responses!.TryGetValue(status, out var response), $"{method} {path} does not document {status}");
                var schema = Assert.IsType<OpenApiSchemaReference>(response.Content![Problems.ContentType].Schema);
                Assert.Equal("ApiProblem", schema.Reference.Id);
            }
            Assert.Contains(operation.Responses!.Keys, k => k.StartsWith('2'));
        }
    }

    [Fact]
    public async Task Request_and_response_schemas_use_the_names_and_types_of_the_wire()
    {
        var (_, document, _) = await FetchAsync();

        // POST /api/v1/spaces: slug and name required, description optional and nullable, nothing else accepted.
        var createSpace = Body(document, "/api/v1/spaces", HttpMethod.Post);
        Assert.Equal(["description", "name", "slug"], createSpace.Properties!.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["name", "slug"], createSpace.Required!.Order(StringComparer.Ordinal));
        Assert.False(createSpace.AdditionalPropertiesAllowed);
        Assert.Equal(JsonSchemaType.String | JsonSchemaType.Null, createSpace.Properties["description"].Type);
        Assert.Equal(JsonSchemaType.String, createSpace.Properties["name"].Type);

        // POST …/members: the role is a string enum of snake_case names.
        var addMember = Body(document, "/api/v1/spaces/{space}/members", HttpMethod.Post);
        Assert.Equal(["email", "role", "user_id"], addMember.Properties!.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["role"], addMember.Required);
        Assert.Equal("uuid", addMember.Properties["user_id"].Format);
        var role = Assert.IsType<OpenApiSchemaReference>(addMember.Properties["role"]);
        Assert.Equal("SpaceRole", role.Reference.Id);
        Assert.Equal(JsonSchemaType.String, role.Type);
        Assert.Equal(["viewer", "editor", "admin"], role.Enum!.Select(v => v.GetValue<string>()));

        // PATCH /api/v1/spaces/{space}: Optional<T> fields appear as T, none required; If-Match is a header.
        var updateSpace = Body(document, "/api/v1/spaces/{space}", HttpMethod.Patch);
        Assert.Equal(["description", "name", "slug", "version"], updateSpace.Properties!.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(updateSpace.Required ?? new HashSet<string>());
        Assert.Equal(JsonSchemaType.String, updateSpace.Properties["name"].Type);
        Assert.Equal(JsonSchemaType.String | JsonSchemaType.Null, updateSpace.Properties["description"].Type);
        Assert.Equal(JsonSchemaType.Integer | JsonSchemaType.Null, updateSpace.Properties["version"].Type);
        var patch = document.Paths["/api/v1/spaces/{space}"].Operations![HttpMethod.Patch];
        Assert.Contains(patch.Parameters!, p => p.Name == "If-Match" && p.In == ParameterLocation.Header);
        Assert.Contains(patch.Parameters!, p => p.Name == "space" && p.In == ParameterLocation.Path && p.Required);

        // GET /api/v1/spaces: a page of SpaceResponse, with paging parameters; timestamps are date-times.
        var list = document.Paths["/api/v1/spaces"].Operations![HttpMethod.Get];
        var page = Assert.IsType<OpenApiSchemaReference>(list.Responses!["200"].Content!["application/json"].Schema);
        Assert.Equal("PagedSpaceResponse", page.Reference.Id);
        Assert.Equal(["items", "page", "size", "total"], page.Properties!.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("SpaceResponse", Assert.IsType<OpenApiSchemaReference>(page.Properties["items"].Items).Reference.Id);
        Assert.Equal(["page", "size"], list.Parameters!.Where(p => p.In == ParameterLocation.Query).Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("100", list.Parameters!.Single(p => p.Name == "size").Schema!.Maximum);
        var space = document.Components!.Schemas!["SpaceResponse"];
        Assert.Equal(JsonSchemaType.String, space.Properties!["created_at"].Type);
        Assert.Equal("date-time", space.Properties["created_at"].Format);
        Assert.Contains("created_at", space.Required!);
        Assert.Contains("my_role", space.Required!); // always written, possibly null
        Assert.Contains(space.Properties["my_role"].OneOf!, s => s.Type == JsonSchemaType.Null);

        // The route id of a user is a UUID path parameter; the health check documents its 503.
        var getUser = document.Paths["/api/v1/users/{userId}"].Operations![HttpMethod.Get];
        Assert.Equal("uuid", getUser.Parameters!.Single(p => p.Name == "userId").Schema!.Format);
        Assert.True(document.Paths["/api/health"].Operations![HttpMethod.Get].Responses!.ContainsKey("503"));
        Assert.Equal("204", Assert.Single(document.Paths["/api/v1/spaces/{space}"].Operations![HttpMethod.Delete].Responses!.Keys, k => k.StartsWith('2')));
    }

    [Fact]
    public async Task A_body_built_from_the_documented_required_fields_is_accepted_and_an_undocumented_field_is_not()
    {
        var (_, document, _) = await FetchAsync();
        var createSpace = Body(document, "/api/v1/spaces", HttpMethod.Post);
        var admin = await app.AdminAsync();

        var body = new JsonObject();
        foreach (var name in createSpace.Required!) body[name] = name == "slug" ? "openapi-check" : "OpenAPI check";
        var created = await admin.SendRawAsync("POST", "/api/v1/spaces", body.ToJsonString());
        Assert.True(created.Status == 201, created.ToString());
        foreach (var name in createSpace.Required!) Assert.True(created.Json.TryGetProperty(name, out _), name);

        body["not_in_the_schema"] = 1;
        body["slug"] = "openapi-check-2";
        var refused = await admin.SendRawAsync("POST", "/api/v1/spaces", body.ToJsonString());
        Assert.Equal(422, refused.Status);
        Assert.Equal("extra_forbidden", refused.Json.GetProperty("errors")[0].GetProperty("type").GetString());
    }

    [Fact]
    public void Every_http_function_describes_itself_with_ApiOperation()
    {
        var functions = typeof(Qarion.Functions.QarionApp).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null
                        && m.GetParameters().Any(p => p.GetCustomAttribute<HttpTriggerAttribute>() is not null))
            .ToList();
        Assert.NotEmpty(functions);
        var missing = functions.Where(m => m.GetCustomAttribute<ApiOperationAttribute>() is null)
            .Select(m => $"{m.DeclaringType!.Name}.{m.Name}").ToList();
        Assert.True(missing.Count == 0, "HTTP functions without [ApiOperation]: " + string.Join(", ", missing));

        var unknownQuery = functions.SelectMany(m => m.GetCustomAttribute<ApiOperationAttribute>()!.Query.Select(q => (m.Name, q)))
            .Where(x => !QueryParameters.All.ContainsKey(x.q)).Select(x => $"{x.Name}: {x.q}").ToList();
        Assert.True(unknownQuery.Count == 0, "query parameters missing from QueryParameters.All: " + string.Join(", ", unknownQuery));

        var badStatus = functions.Select(m => (m.Name, Op: m.GetCustomAttribute<ApiOperationAttribute>()!))
            .Where(x => x.Op.Status is not (200 or 201 or 202 or 204) || (x.Op.Status == 204 && x.Op.Response is not null))
            .Select(x => x.Name).ToList();
        Assert.True(badStatus.Count == 0, "bad success status: " + string.Join(", ", badStatus));
    }

    /// <summary>The request body schema of an operation: a reference to a component, resolved.</summary>
    private static IOpenApiSchema Body(OpenApiDocument document, string path, HttpMethod method)
    {
        var operation = document.Paths[path].Operations![method];
        Assert.True(operation.RequestBody!.Required);
        var schema = Assert.IsType<OpenApiSchemaReference>(operation.RequestBody.Content!["application/json"].Schema);
        Assert.False(schema.UnresolvedReference);
        return schema;
    }

    private static IEnumerable<IOpenApiSchema> Walk(IOpenApiSchema schema)
    {
        yield return schema;
        if (schema is OpenApiSchemaReference) yield break;
        var children = (schema.Properties?.Values ?? [])
            .Concat(schema.OneOf ?? []).Concat(schema.AnyOf ?? []).Concat(schema.AllOf ?? [])
            .Concat(new[] { schema.Items, schema.AdditionalProperties }.OfType<IOpenApiSchema>());
        foreach (var child in children)
            foreach (var s in Walk(child))
                yield return s;
    }
}

/// <summary>The schema generator on shapes the current endpoints do not use yet, as later features will.</summary>
public sealed class JsonSchemaGeneratorTests
{
    public enum Shade { Light, DarkGrey }

    public sealed record Node(string Name, IReadOnlyList<Node> Children, Shade? Shade, IReadOnlyDictionary<string, int> Counts);

    public sealed record Sparse(
        string Always,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? OnlyWhenSet = null);

    public sealed record Patch
    {
        public Qarion.Core.Common.Optional<string> Name { get; init; }
        public Qarion.Core.Common.Optional<string?> Note { get; init; }
        public Qarion.Core.Common.Optional<IReadOnlyList<Guid>> Ids { get; init; }
        public required Qarion.Core.Common.Optional<Shade?> Shade { get; init; }
    }

    public static class Other
    {
        public sealed record Node(int Id);
    }

    private static (JsonSchemaGenerator Generator, OpenApiDocument Document) Create()
    {
        var document = new OpenApiDocument();
        return (new JsonSchemaGenerator(document, ApiJson.Options), document);
    }

    [Fact]
    public void Recursive_records_dictionaries_and_nullable_enums_become_components()
    {
        var (generator, _) = Create();
        var reference = Assert.IsType<OpenApiSchemaReference>(generator.For(typeof(Node)));
        Assert.Equal("Node", reference.Reference.Id);

        var node = generator.Components["Node"];
        Assert.Equal(["children", "counts", "name", "shade"], node.Properties!.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("Node", Assert.IsType<OpenApiSchemaReference>(node.Properties["children"].Items).Reference.Id);
        Assert.Equal(JsonSchemaType.Object, node.Properties["counts"].Type);
        Assert.Equal(JsonSchemaType.Integer, node.Properties["counts"].AdditionalProperties!.Type);
        var shade = node.Properties["shade"].OneOf!;
        Assert.Equal("Shade", Assert.IsType<OpenApiSchemaReference>(shade[0]).Reference.Id);
        Assert.Equal(JsonSchemaType.Null, shade[1].Type);
        Assert.Equal(["light", "dark_grey"], generator.Components["Shade"].Enum!.Select(v => v.GetValue<string>()));
    }

    [Fact]
    public void Generic_and_same_named_types_get_distinct_component_names()
    {
        var (generator, _) = Create();
        generator.For(typeof(Qarion.Core.Common.Paged<Node>));
        generator.For(typeof(Other.Node));
        Assert.Contains("PagedNode", generator.Components.Keys);
        Assert.Contains("Node", generator.Components.Keys);
        Assert.Equal(3, generator.Components.Keys.Count(k => k.EndsWith("Node", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_property_skipped_when_null_is_not_required_in_responses()
    {
        var (generator, _) = Create();
        generator.For(typeof(Sparse));
        Assert.Equal(["always"], generator.Components["Sparse"].Required);
    }

    [Fact]
    public void Optional_fields_are_their_value_type_and_requests_list_only_what_must_be_sent()
    {
        var (generator, _) = Create();
        generator.For(typeof(Patch));
        generator.MarkAsRequest(typeof(Patch));
        var patch = generator.Components["Patch"];
        Assert.Equal(JsonSchemaType.String, patch.Properties!["name"].Type);
        Assert.Equal(JsonSchemaType.String | JsonSchemaType.Null, patch.Properties["note"].Type);
        Assert.Equal(JsonSchemaType.Array, patch.Properties["ids"].Type);
        Assert.Equal("uuid", patch.Properties["ids"].Items!.Format);
        Assert.Contains(patch.Properties["shade"].OneOf!, s => s.Type == JsonSchemaType.Null);
        Assert.Equal(["shade"], patch.Required);
        Assert.False(patch.AdditionalPropertiesAllowed);
    }
}
