namespace Qarion.Core.Persistence.Migrations;

/// <summary>What the Ingestion migration needs beyond the model: an expression index EF cannot describe.</summary>
internal static class IngestionSql
{
    /// <summary>OpenLineage matches a dataset to the product whose hosting location equals its name, ignoring case.</summary>
    public const string Up = """
        CREATE INDEX ix_data_products_space_id_lower_hosting_location
            ON data_products (space_id, lower(hosting_location)) WHERE hosting_location IS NOT NULL;
        """;

    public const string Down = """
        DROP INDEX IF EXISTS ix_data_products_space_id_lower_hosting_location;
        """;
}
