using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Qarion.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class CatalogPerformance : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Measured by bench/Qarion.Benchmarks on 100,000 products and 2,000,000 fields (README, Performance).
            migrationBuilder.Sql("""
                CREATE INDEX ix_data_products_active_name ON data_products (space_id, name, id) WHERE NOT is_archived;
                CREATE INDEX ix_data_products_active_updated ON data_products (space_id, updated_at, id) WHERE NOT is_archived;
                CREATE INDEX ix_data_products_active_created ON data_products (space_id, created_at, id) WHERE NOT is_archived;
                CREATE INDEX ix_data_products_space_lower_name ON data_products (space_id, lower(name));
                CREATE INDEX ix_data_products_slug_trgm ON data_products USING gin (slug gin_trgm_ops);
                CREATE INDEX ix_data_products_description_trgm ON data_products USING gin (description gin_trgm_ops);
                CREATE INDEX ix_product_fields_description_fts ON product_fields USING gin (to_tsvector('english', coalesce(description, '')));
                CREATE INDEX ix_product_fields_space_lower_name ON product_fields (space_id, lower(name));
                """);

        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP INDEX IF EXISTS ix_product_fields_space_lower_name;
                DROP INDEX IF EXISTS ix_product_fields_description_fts;
                DROP INDEX IF EXISTS ix_data_products_description_trgm;
                DROP INDEX IF EXISTS ix_data_products_slug_trgm;
                DROP INDEX IF EXISTS ix_data_products_space_lower_name;
                DROP INDEX IF EXISTS ix_data_products_active_created;
                DROP INDEX IF EXISTS ix_data_products_active_updated;
                DROP INDEX IF EXISTS ix_data_products_active_name;
                """);

        }
    }
}
