namespace Qarion.Core.Ingestion;

/// <summary>
/// What a connector saw in its source, independent of the platform: the products it describes, their
/// fields, and lineage between them. Scrapers and parsers produce it; the merge compares it with the
/// catalog. Products are identified by <see cref="SnapshotProduct.ExternalId"/>, unique per connector.
/// </summary>
public sealed record CatalogSnapshot(
    IReadOnlyList<SnapshotProduct> Products,
    IReadOnlyList<SnapshotEdge> Edges,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<ImportedTest> Tests)
{
    public static CatalogSnapshot Empty { get; } = new([], [], [], []);
}

/// <param name="ExternalId">Stable identity in the source: <c>schema.table</c> for a database, the node's <c>unique_id</c> for dbt.</param>
/// <param name="Name">Display name (the table or model name).</param>
/// <param name="ProductType">A built-in product type: <c>table</c>, <c>view</c>, <c>materialized_view</c>, <c>dbt_model</c>, <c>dbt_source</c>, <c>dataset</c>.</param>
/// <param name="Schema">The source schema (used by the schema filters).</param>
/// <param name="HostingLocation">Where it lives, e.g. <c>chinook.public.album</c>.</param>
/// <param name="Provider">The platform, e.g. <c>postgresql</c>, <c>dbt</c>.</param>
/// <param name="OwnerEmail">An owner named by the source (dbt <c>meta.owner</c>), matched to a space member by e-mail.</param>
public sealed record SnapshotProduct(
    string ExternalId,
    string Name,
    string ProductType,
    string? Schema,
    string? Description,
    string? HostingLocation,
    string? Provider,
    long? RowCountEstimate,
    IReadOnlyList<string> Tags,
    string? OwnerEmail,
    IReadOnlyList<SnapshotField> Fields);

/// <param name="Ordinal">1-based position in the source.</param>
/// <param name="ForeignKeyTarget">The referenced column as <c>schema.table.column</c>.</param>
public sealed record SnapshotField(
    string Name,
    string? DataType,
    bool IsNullable,
    string? Description,
    int Ordinal,
    bool IsPrimaryKey,
    string? ForeignKeyTarget,
    string? DefaultValue);

/// <summary>Data flows from the upstream to the downstream product (both by external id).</summary>
public sealed record SnapshotEdge(string UpstreamExternalId, string DownstreamExternalId);

/// <summary>
/// A test the source declares (a dbt generic test), kept so the quality feature can turn it into a check.
/// </summary>
/// <param name="ExternalId">The test's own id in the source (dbt <c>unique_id</c>).</param>
/// <param name="TestType"><c>not_null</c>, <c>unique</c>, <c>accepted_values</c>, <c>relationships</c>.</param>
/// <param name="ProductExternalId">The product it tests.</param>
/// <param name="Column">The column it tests, when it tests one.</param>
/// <param name="Config">The test's arguments as JSON (e.g. <c>{"values": ["a","b"]}</c> or <c>{"to": "…", "field": "id"}</c>).</param>
public sealed record ImportedTest(string ExternalId, string Name, string TestType, string ProductExternalId, string? Column, string Config);
