using System.Text.Json;
using System.Text.Json.Serialization;

namespace Qarion.Core.Ingestion.OpenLineage;

/// <summary>
/// An OpenLineage RunEvent (https://openlineage.io/spec). Property names are the spec's camelCase; facets
/// other than <c>schema</c> are accepted and ignored.
/// </summary>
public sealed record RunEvent
{
    /// <summary>START, RUNNING, COMPLETE, ABORT, FAIL or OTHER. Lineage is recorded from COMPLETE events.</summary>
    [JsonPropertyName("eventType")] public string? EventType { get; init; }
    [JsonPropertyName("eventTime")] public required DateTimeOffset EventTime { get; init; }
    [JsonPropertyName("run")] public required RunRef Run { get; init; }
    [JsonPropertyName("job")] public required JobRef Job { get; init; }
    [JsonPropertyName("inputs")] public IReadOnlyList<DatasetRef>? Inputs { get; init; }
    [JsonPropertyName("outputs")] public IReadOnlyList<DatasetRef>? Outputs { get; init; }
    [JsonPropertyName("producer")] public required string Producer { get; init; }
    [JsonPropertyName("schemaURL")] public string? SchemaUrl { get; init; }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record RunRef
{
    [JsonPropertyName("runId")] public string? RunId { get; init; }
    [JsonPropertyName("facets")] public JsonElement? Facets { get; init; }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record JobRef
{
    [JsonPropertyName("namespace")] public string? Namespace { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("facets")] public JsonElement? Facets { get; init; }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record DatasetRef
{
    [JsonPropertyName("namespace")] public string? Namespace { get; init; }
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("facets")] public DatasetFacets? Facets { get; init; }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record DatasetFacets
{
    [JsonPropertyName("schema")] public SchemaFacet? Schema { get; init; }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record SchemaFacet
{
    [JsonPropertyName("fields")] public IReadOnlyList<SchemaFacetField>? Fields { get; init; }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record SchemaFacetField
{
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("type")] public string? Type { get; init; }
    [JsonPropertyName("description")] public string? Description { get; init; }
}

public sealed record LineageDatasetResult(string Namespace, string Name, Guid ProductId, string Slug, bool Created);

public sealed record OpenLineageResult(bool Recorded, string EventType, IReadOnlyList<LineageDatasetResult> Inputs, IReadOnlyList<LineageDatasetResult> Outputs, int EdgesAdded, int FieldsAdded);

/// <summary>Checks a RunEvent, naming each bad value by its JSON path in the spec's own property names.</summary>
public static class RunEventRules
{
    public static readonly string[] EventTypes = ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"];
    public const int MaxDatasets = 500;

    public static void Validate(RunEvent e)
    {
        var errors = new List<Common.FieldError>();
        void Require(bool ok, string msg, string type, params object[] path) { if (!ok) errors.Add(new Common.FieldError(["body", .. path], msg, type)); }
        Require(e.EventType is null || EventTypes.Contains(e.EventType, StringComparer.Ordinal), $"must be one of {string.Join(", ", EventTypes)}", "enum", "eventType");
        Require(Guid.TryParse(e.Run.RunId, out _), "must be a UUID", "uuid_parsing", "run", "runId");
        Require(NonBlank(e.Job.Namespace), "required", "missing", "job", "namespace");
        Require(NonBlank(e.Job.Name), "required", "missing", "job", "name");
        Require(NonBlank(e.Producer), "required", "missing", "producer");
        foreach (var (list, name) in new[] { (e.Inputs, "inputs"), (e.Outputs, "outputs") })
        {
            if (list is null) continue;
            Require(list.Count <= MaxDatasets, $"at most {MaxDatasets} datasets", "too_long", name);
            for (var i = 0; i < list.Count && i < MaxDatasets; i++)
            {
                var d = list[i];
                if (d is null) { Require(false, "must be an object", "model_attributes_type", name, i); continue; }
                Require(NonBlank(d.Namespace) && d.Namespace!.Length <= 500, "required, at most 500 characters", "missing", name, i, "namespace");
                Require(NonBlank(d.Name) && d.Name!.Length <= 900, "required, at most 900 characters", "missing", name, i, "name");
            }
        }
        if (errors.Count > 0) throw new Common.RequestValidationException(errors);
    }

    private static bool NonBlank(string? s) => !string.IsNullOrWhiteSpace(s);
}
