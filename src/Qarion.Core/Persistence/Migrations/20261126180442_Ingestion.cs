using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Qarion.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class Ingestion : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "default_value",
                table: "product_fields",
                type: "character varying(1000)",
                maxLength: 1000,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "source_connector_id",
                table: "lineage_edges",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "external_id",
                table: "data_products",
                type: "character varying(1000)",
                maxLength: 1000,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "row_count_estimate",
                table: "data_products",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "source_connector_id",
                table: "data_products",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "connectors",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    platform = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    config = table.Column<string>(type: "jsonb", nullable: false),
                    encrypted_credentials = table.Column<byte[]>(type: "bytea", nullable: true),
                    schedule = table.Column<string>(type: "character varying(120)", maxLength: 120, nullable: true),
                    next_run_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    schema_include = table.Column<List<string>>(type: "text[]", nullable: false),
                    schema_exclude = table.Column<List<string>>(type: "text[]", nullable: false),
                    table_regex = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    merge_strategy = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    is_active = table.Column<bool>(type: "boolean", nullable: false),
                    created_by_id = table.Column<Guid>(type: "uuid", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_connectors", x => x.id);
                    table.ForeignKey(
                        name: "fk_connectors_spaces_space_id",
                        column: x => x.space_id,
                        principalTable: "spaces",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "schema_changes",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: false),
                    product_id = table.Column<Guid>(type: "uuid", nullable: false),
                    job_id = table.Column<Guid>(type: "uuid", nullable: false),
                    kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    column = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    old_type = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    new_type = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    occurred_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_schema_changes", x => x.id);
                    table.ForeignKey(
                        name: "fk_schema_changes_data_products_product_id",
                        column: x => x.product_id,
                        principalTable: "data_products",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "source_tests",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: false),
                    connector_id = table.Column<Guid>(type: "uuid", nullable: false),
                    external_id = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    product_id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    test_type = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    column = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    config = table.Column<string>(type: "jsonb", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_source_tests", x => x.id);
                    table.ForeignKey(
                        name: "fk_source_tests_connectors_connector_id",
                        column: x => x.connector_id,
                        principalTable: "connectors",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_source_tests_data_products_product_id",
                        column: x => x.product_id,
                        principalTable: "data_products",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "sync_jobs",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: false),
                    connector_id = table.Column<Guid>(type: "uuid", nullable: false),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    trigger = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    merge_strategy = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    triggered_by_id = table.Column<Guid>(type: "uuid", nullable: true),
                    instance_id = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    added = table.Column<int>(type: "integer", nullable: false),
                    updated = table.Column<int>(type: "integer", nullable: false),
                    marked_stale = table.Column<int>(type: "integer", nullable: false),
                    unchanged = table.Column<int>(type: "integer", nullable: false),
                    schema_changes = table.Column<int>(type: "integer", nullable: false),
                    warnings = table.Column<List<string>>(type: "text[]", nullable: false),
                    error = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    merged_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_sync_jobs", x => x.id);
                    table.ForeignKey(
                        name: "fk_sync_jobs_connectors_connector_id",
                        column: x => x.connector_id,
                        principalTable: "connectors",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "sync_snapshots",
                columns: table => new
                {
                    job_id = table.Column<Guid>(type: "uuid", nullable: false),
                    part = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    payload = table.Column<byte[]>(type: "bytea", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_sync_snapshots", x => new { x.job_id, x.part });
                    table.ForeignKey(
                        name: "fk_sync_snapshots_sync_jobs_job_id",
                        column: x => x.job_id,
                        principalTable: "sync_jobs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_lineage_edges_source_connector_id",
                table: "lineage_edges",
                column: "source_connector_id",
                filter: "source_connector_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_data_products_source_connector_id_external_id",
                table: "data_products",
                columns: new[] { "source_connector_id", "external_id" },
                unique: true,
                filter: "source_connector_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_data_products_space_id_external_id",
                table: "data_products",
                columns: new[] { "space_id", "external_id" },
                unique: true,
                filter: "source_connector_id IS NULL AND external_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_connectors_next_run_at",
                table: "connectors",
                column: "next_run_at",
                filter: "is_active AND next_run_at IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_connectors_space_id_name",
                table: "connectors",
                columns: new[] { "space_id", "name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_schema_changes_job_id",
                table: "schema_changes",
                column: "job_id");

            migrationBuilder.CreateIndex(
                name: "ix_schema_changes_product_id_occurred_at",
                table: "schema_changes",
                columns: new[] { "product_id", "occurred_at" });

            migrationBuilder.CreateIndex(
                name: "ix_source_tests_connector_id_external_id",
                table: "source_tests",
                columns: new[] { "connector_id", "external_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_source_tests_product_id",
                table: "source_tests",
                column: "product_id");

            migrationBuilder.CreateIndex(
                name: "ix_sync_jobs_connector_id_created_at",
                table: "sync_jobs",
                columns: new[] { "connector_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ux_sync_jobs_one_active",
                table: "sync_jobs",
                column: "connector_id",
                unique: true,
                filter: "status IN ('queued', 'running')");

            migrationBuilder.AddForeignKey(
                name: "fk_data_products_connectors_source_connector_id",
                table: "data_products",
                column: "source_connector_id",
                principalTable: "connectors",
                principalColumn: "id",
                onDelete: ReferentialAction.SetNull);

            migrationBuilder.AddForeignKey(
                name: "fk_lineage_edges_connectors_source_connector_id",
                table: "lineage_edges",
                column: "source_connector_id",
                principalTable: "connectors",
                principalColumn: "id",
                onDelete: ReferentialAction.SetNull);
            migrationBuilder.Sql(IngestionSql.Up);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(IngestionSql.Down);

            migrationBuilder.DropForeignKey(
                name: "fk_data_products_connectors_source_connector_id",
                table: "data_products");

            migrationBuilder.DropForeignKey(
                name: "fk_lineage_edges_connectors_source_connector_id",
                table: "lineage_edges");

            migrationBuilder.DropTable(
                name: "schema_changes");

            migrationBuilder.DropTable(
                name: "source_tests");

            migrationBuilder.DropTable(
                name: "sync_snapshots");

            migrationBuilder.DropTable(
                name: "sync_jobs");

            migrationBuilder.DropTable(
                name: "connectors");

            migrationBuilder.DropIndex(
                name: "ix_lineage_edges_source_connector_id",
                table: "lineage_edges");

            migrationBuilder.DropIndex(
                name: "ix_data_products_source_connector_id_external_id",
                table: "data_products");

            migrationBuilder.DropIndex(
                name: "ix_data_products_space_id_external_id",
                table: "data_products");

            migrationBuilder.DropColumn(
                name: "default_value",
                table: "product_fields");

            migrationBuilder.DropColumn(
                name: "source_connector_id",
                table: "lineage_edges");

            migrationBuilder.DropColumn(
                name: "external_id",
                table: "data_products");

            migrationBuilder.DropColumn(
                name: "row_count_estimate",
                table: "data_products");

            migrationBuilder.DropColumn(
                name: "source_connector_id",
                table: "data_products");
        }
    }
}
