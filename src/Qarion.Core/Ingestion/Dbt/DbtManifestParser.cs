using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text.Unicode;

namespace Qarion.Core.Ingestion.Dbt;

/// <summary>An uploaded manifest cannot be read. <see cref="Code"/> is the error code the API returns.</summary>
public sealed class ManifestException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <param name="ResourceTypes">Which of <c>model</c>, <c>source</c>, <c>seed</c>, <c>snapshot</c> become products; null means all four.</param>
public sealed record DbtParseOptions(SourceFilters Filters, IReadOnlySet<string>? ResourceTypes = null);

/// <summary>
/// Turns a dbt <c>manifest.json</c> (schema v7 to v12) into a <see cref="CatalogSnapshot"/>. Manifests come from
/// users and many dbt versions, so every optional value is read defensively: a missing or wrong-typed value is
/// treated as absent rather than failing the whole import.
/// </summary>
public static partial class DbtManifestParser
{
    public const int MinSchemaVersion = 7, MaxSchemaVersion = 12;

    private static readonly string[] ImportedTestTypes = ["not_null", "unique", "accepted_values", "relationships"];

    // Test arguments hold dbt Jinja such as ref('x'); the default encoder would store the quotes as \u0027.
    private static readonly JsonWriterOptions ConfigWriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A model, seed, snapshot or source, read while its document is still open.</summary>
    /// <param name="NodeName">The node's own <c>name</c>, which is what <c>ref()</c> and <c>source()</c> use.</param>
    private sealed record Candidate(string Id, string Kind, string NodeName, string Name, string? Schema, string Location, JsonElement Json);

    /// <summary>What the imported tests say about one column.</summary>
    private sealed class ColumnFacts
    {
        public bool NotNull { get; set; }
        public bool Unique { get; set; }
        public string? ForeignKey { get; set; }
    }

    public static CatalogSnapshot Parse(ReadOnlyMemory<byte> utf8Json, DbtParseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var document = Open(utf8Json);
        var root = document.RootElement;
        var version = SchemaVersionOf(root);
        if (version is < MinSchemaVersion or > MaxSchemaVersion)
            throw new ManifestException("manifest_unsupported_version",
                $"dbt manifest schema v{version} is not supported; supported versions are v{MinSchemaVersion} to v{MaxSchemaVersion}.");
        if (!root.TryGetProperty("nodes", out var nodes) || nodes.ValueKind != JsonValueKind.Object)
            throw new ManifestException("manifest_invalid", "The manifest has no 'nodes' object.");

        var warnings = new List<string>();
        var all = new Dictionary<string, Candidate>(StringComparer.Ordinal);
        var tests = new List<(string Id, JsonElement Json)>();
        foreach (var (key, node) in Entries(nodes, "nodes", warnings))
        {
            // Ephemeral models are kept although no relation exists for them: they carry lineage between the
            // models that do, and dropping them would cut those chains.
            var kind = Str(node, "resource_type");
            if (kind is "model" or "seed" or "snapshot") Add(all, Describe(key, kind, node), warnings);
            else if (kind == "test") tests.Add((NonBlank(Str(node, "unique_id")) ?? key, node));
        }
        if (root.TryGetProperty("sources", out var sources))
            foreach (var (key, node) in Entries(sources, "sources", warnings)) Add(all, Describe(key, "source", node), warnings);

        var kept = all.Values.Where(c => IsSelected(c, options)).ToDictionary(c => c.Id, StringComparer.Ordinal);
        var columns = new Dictionary<string, Dictionary<string, ColumnFacts>>(StringComparer.Ordinal);
        var imported = ReadTests(tests, all, kept, columns, warnings);
        var products = kept.Values.OrderBy(c => c.Id, StringComparer.Ordinal)
            .Select(c => ToProduct(c, columns.GetValueOrDefault(c.Id))).ToList();
        var edges = kept.Values
            .SelectMany(c => Strings(Prop(c.Json, "depends_on"), "nodes")
                .Where(upstream => upstream != c.Id && kept.ContainsKey(upstream))
                .Select(upstream => new SnapshotEdge(upstream, c.Id)))
            .Distinct()
            .OrderBy(e => e.UpstreamExternalId, StringComparer.Ordinal).ThenBy(e => e.DownstreamExternalId, StringComparer.Ordinal)
            .ToList();
        return new CatalogSnapshot(products, edges, warnings, imported);
    }

    /// <summary>The number in <c>metadata.dbt_schema_version</c>, e.g. 12 for <c>…/dbt/manifest/v12.json</c>.</summary>
    public static int SchemaVersionOf(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new ManifestException("manifest_invalid", "The manifest is not a JSON object.");
        if (NonBlank(Str(Prop(root, "metadata"), "dbt_schema_version")) is not { } schema)
            throw new ManifestException("manifest_invalid", "The manifest has no metadata.dbt_schema_version.");
        var match = SchemaUrl().Match(schema);
        // catalog.json and run_results.json also carry a schema URL; naming the artifact helps more than a version error.
        if (match.Success && match.Groups["kind"].Value != "manifest")
            throw new ManifestException("manifest_invalid", $"'{schema}' is a dbt {match.Groups["kind"].Value} artifact, not a manifest.");
        if (!match.Success || !int.TryParse(match.Groups["version"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            throw new ManifestException("manifest_unsupported_version",
                $"dbt manifest schema '{schema}' is not recognised; supported versions are v{MinSchemaVersion} to v{MaxSchemaVersion}.");
        return version;
    }

    private static JsonDocument Open(ReadOnlyMemory<byte> utf8Json)
    {
        // Editors on Windows save a byte order mark, which JsonDocument rejects from memory.
        if (utf8Json.Span.StartsWith("\uFEFF"u8)) utf8Json = utf8Json[3..];
        // JsonDocument accepts bad UTF-8 inside strings and fails only when a string is read, deep in the mapping.
        if (!Utf8.IsValid(utf8Json.Span)) throw InvalidUtf8(utf8Json.Span);
        try
        {
            return JsonDocument.Parse(utf8Json, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            // The exception's message repeats the position in its own words; keep only the reason.
            var reason = e.Message;
            var cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut > 0) reason = reason[..cut];
            throw new ManifestException("manifest_invalid_json",
                $"The manifest is not valid JSON at line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1}: {reason}");
        }
    }

    private static ManifestException InvalidUtf8(ReadOnlySpan<byte> utf8)
    {
        var offset = 0;
        while (Rune.DecodeFromUtf8(utf8[offset..], out _, out var length) == OperationStatus.Done) offset += length;
        var lineStart = utf8[..offset].LastIndexOf((byte)'\n') + 1;
        return new ManifestException("manifest_invalid_json",
            $"The manifest is not valid JSON at line {utf8[..offset].Count((byte)'\n') + 1}, byte {offset - lineStart + 1}: it is not valid UTF-8.");
    }

    private static IEnumerable<(string Key, JsonElement Node)> Entries(JsonElement map, string section, List<string> warnings)
    {
        if (map.ValueKind != JsonValueKind.Object)
        {
            warnings.Add($"'{section}' is not an object; skipped");
            yield break;
        }
        foreach (var entry in map.EnumerateObject())
        {
            if (entry.Value.ValueKind == JsonValueKind.Object) yield return (entry.Name, entry.Value);
            else warnings.Add($"{section} entry '{entry.Name}' is not an object; skipped");
        }
    }

    private static void Add(Dictionary<string, Candidate> all, Candidate candidate, List<string> warnings)
    {
        if (!all.TryAdd(candidate.Id, candidate)) warnings.Add($"duplicate node '{candidate.Id}'; the first is kept");
    }

    private static Candidate Describe(string key, string kind, JsonElement node)
    {
        var id = NonBlank(Str(node, "unique_id")) ?? key;
        var nodeName = NonBlank(Str(node, "name")) ?? id[(id.LastIndexOf('.') + 1)..];
        // Versions (v9+) share one name; the suffix is what dbt itself uses for the relation of a versioned model.
        var name = Prop(node, "version") is { ValueKind: JsonValueKind.String or JsonValueKind.Number } v
                   && (v.ValueKind == JsonValueKind.Number ? v.GetRawText() : v.GetString()) is { Length: > 0 } version
            ? $"{nodeName}_v{version}"
            : nodeName;
        var schema = NonBlank(Str(node, "schema"));
        var relation = NonBlank(Str(node, kind == "source" ? "identifier" : "alias")) ?? name;
        var location = string.Join('.', new[] { NonBlank(Str(node, "database")), schema, relation }.OfType<string>());
        return new Candidate(id, kind, nodeName, name, schema, location, node);
    }

    private static bool IsSelected(Candidate c, DbtParseOptions options)
        => (options.ResourceTypes?.Contains(c.Kind) ?? true)
           && options.Filters.IncludesSchema(c.Schema ?? "")
           && options.Filters.IncludesTable(c.Name);

    private static List<ImportedTest> ReadTests(List<(string Id, JsonElement Json)> tests, Dictionary<string, Candidate> all,
        Dictionary<string, Candidate> kept, Dictionary<string, Dictionary<string, ColumnFacts>> columns, List<string> warnings)
    {
        var imported = new List<ImportedTest>();
        // Sorted first so that warnings, and which relationships test wins for a column, do not depend on file order.
        foreach (var (id, node) in tests.OrderBy(t => t.Id, StringComparer.Ordinal).DistinctBy(t => t.Id))
        {
            var metadata = Prop(node, "test_metadata");
            var kwargs = Prop(metadata, "kwargs");
            var dependsOn = Strings(Prop(node, "depends_on"), "nodes").Distinct(StringComparer.Ordinal).ToList();
            var productId = NonBlank(Str(node, "attached_node")) ?? Attach(dependsOn, kwargs, kept);
            if (productId is null || !kept.ContainsKey(productId)) continue;

            var name = NonBlank(Str(node, "name")) ?? id;
            var type = NonBlank(Str(metadata, "name"));
            // A package's generic test may reuse a built-in name (dbt_utils has its own tests) but not its meaning.
            var ns = NonBlank(Str(metadata, "namespace"));
            if (type is null || !ImportedTestTypes.Contains(type) || ns is not (null or "dbt"))
            {
                var label = type is null ? "singular" : ns is null ? type : $"{ns}.{type}";
                warnings.Add($"test '{name}' (type {label}) is not imported: only not_null, unique, accepted_values and relationships are");
                continue;
            }
            var column = NonBlank(Str(node, "column_name")) ?? NonBlank(Str(kwargs, "column_name"));
            imported.Add(new ImportedTest(id, name, type, productId, column, ConfigJson(kwargs)));

            // A test with a where clause holds for some rows only, so it says nothing about the column as a whole.
            if (column is null || NonBlank(Str(Prop(node, "config"), "where")) is not null) continue;
            if (!columns.TryGetValue(productId, out var byColumn))
                columns[productId] = byColumn = new Dictionary<string, ColumnFacts>(StringComparer.OrdinalIgnoreCase);
            if (!byColumn.TryGetValue(column, out var facts)) byColumn[column] = facts = new ColumnFacts();
            switch (type)
            {
                case "not_null": facts.NotNull = true; break;
                case "unique": facts.Unique = true; break;
                case "relationships": facts.ForeignKey ??= ForeignKey(productId, dependsOn, kwargs, all); break;
            }
        }
        return imported;
    }

    /// <summary>
    /// The tested product when the manifest predates <c>attached_node</c> (v7, v8). A relationships test depends on
    /// two products; the one it tests is named in its <c>model</c> argument, e.g. <c>get_where_subquery(ref('orders'))</c>.
    /// </summary>
    private static string? Attach(List<string> dependsOn, JsonElement? kwargs, Dictionary<string, Candidate> kept)
    {
        var products = dependsOn.Where(kept.ContainsKey).ToList();
        if (Str(kwargs, "model") is { } model)
            foreach (var id in products)
            {
                var nodeName = kept[id].NodeName;
                if (model.Contains($"'{nodeName}'", StringComparison.Ordinal) || model.Contains($"\"{nodeName}\"", StringComparison.Ordinal)) return id;
            }
        return products.FirstOrDefault();
    }

    /// <summary>
    /// The referenced column as <c>location.field</c>. The target is looked up among all of the manifest's
    /// products, filtered or not: where the referenced table lives is a fact of the warehouse, not of this import.
    /// </summary>
    private static string? ForeignKey(string productId, List<string> dependsOn, JsonElement? kwargs, Dictionary<string, Candidate> all)
    {
        if (NonBlank(Str(kwargs, "field")) is not { } field) return null;
        var others = dependsOn.Where(n => n != productId).ToList();
        // A test relating a model to itself (a parent id, say) depends on that model only.
        var target = others.Count == 0 && dependsOn.Count > 0 ? productId : others.FirstOrDefault(all.ContainsKey);
        return target is not null && all.TryGetValue(target, out var t) ? $"{t.Location}.{field}" : null;
    }

    private static string ConfigJson(JsonElement? kwargs)
    {
        if (kwargs is not { ValueKind: JsonValueKind.Object } args) return "{}";
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, ConfigWriterOptions))
        {
            writer.WriteStartObject();
            // column_name is ImportedTest.Column; model is the Jinja for the tested relation, which is the product.
            foreach (var property in args.EnumerateObject().Where(p => p.Name is not ("column_name" or "model")))
                property.WriteTo(writer);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static SnapshotProduct ToProduct(Candidate c, Dictionary<string, ColumnFacts>? facts)
    {
        var config = Prop(c.Json, "config");
        var tags = Strings(c.Json, "tags").Concat(Strings(config, "tags")).Distinct(StringComparer.Ordinal).ToList();
        var owner = new[] { Prop(c.Json, "meta"), Prop(config, "meta") }
            .Select(meta => NonBlank(Str(meta, "owner")))
            .FirstOrDefault(o => o is not null && o.Contains('@', StringComparison.Ordinal));
        var fields = new List<SnapshotField>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (Prop(c.Json, "columns") is { ValueKind: JsonValueKind.Object } columns)
            foreach (var column in columns.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Object))
            {
                var name = NonBlank(Str(column.Value, "name")) ?? column.Name;
                if (!seen.Add(name)) continue;
                var known = facts?.GetValueOrDefault(name);
                fields.Add(new SnapshotField(name, NonBlank(Str(column.Value, "data_type")), known is not { NotNull: true },
                    NonBlank(Str(column.Value, "description")), fields.Count + 1, known is { NotNull: true, Unique: true },
                    known?.ForeignKey, DefaultValue: null));
            }
        return new SnapshotProduct(c.Id, c.Name, c.Kind == "source" ? "dbt_source" : "dbt_model", c.Schema,
            NonBlank(Str(c.Json, "description")), c.Location, "dbt", RowCountEstimate: null, tags, owner, fields);
    }

    /// <summary>A property of an object; null when the parent is not an object or the value is missing or JSON null.</summary>
    private static JsonElement? Prop(JsonElement? parent, string name)
        => parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value : null;

    private static string? Str(JsonElement? parent, string name)
        => Prop(parent, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    private static IEnumerable<string> Strings(JsonElement? parent, string name)
        => Prop(parent, name) is { ValueKind: JsonValueKind.Array } array
            ? array.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!)
            : [];

    private static string? NonBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    [GeneratedRegex(@"/(?<kind>[A-Za-z_-]+)/v(?<version>[0-9]+)\.json$", RegexOptions.CultureInvariant)]
    private static partial Regex SchemaUrl();
}
