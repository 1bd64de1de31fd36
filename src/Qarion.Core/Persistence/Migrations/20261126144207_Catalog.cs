using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Qarion.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class Catalog : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "audit_log",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    occurred_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: true),
                    actor_user_id = table.Column<Guid>(type: "uuid", nullable: true),
                    actor_api_key_id = table.Column<Guid>(type: "uuid", nullable: true),
                    action = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    resource_type = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    resource_id = table.Column<Guid>(type: "uuid", nullable: false),
                    resource_name = table.Column<string>(type: "character varying(400)", maxLength: 400, nullable: true),
                    changes = table.Column<string>(type: "jsonb", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_audit_log", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "custom_product_types",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    description = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_custom_product_types", x => x.id);
                    table.ForeignKey(
                        name: "fk_custom_product_types_spaces_space_id",
                        column: x => x.space_id,
                        principalTable: "spaces",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "data_products",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: false),
                    slug = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    description = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    documentation = table.Column<string>(type: "character varying(200000)", maxLength: 200000, nullable: true),
                    product_type = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    provider = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    hosting_location = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    environment = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: true),
                    criticality = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    sensitivity = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    owner_id = table.Column<Guid>(type: "uuid", nullable: true),
                    steward_id = table.Column<Guid>(type: "uuid", nullable: true),
                    custodian_id = table.Column<Guid>(type: "uuid", nullable: true),
                    data_architect_id = table.Column<Guid>(type: "uuid", nullable: true),
                    is_archived = table.Column<bool>(type: "boolean", nullable: false),
                    archived_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    is_stale = table.Column<bool>(type: "boolean", nullable: false),
                    stale_since = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    is_discovered = table.Column<bool>(type: "boolean", nullable: false),
                    manual_attributes = table.Column<List<string>>(type: "text[]", nullable: false),
                    created_by_id = table.Column<Guid>(type: "uuid", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_data_products", x => x.id);
                    table.ForeignKey(
                        name: "fk_data_products_spaces_space_id",
                        column: x => x.space_id,
                        principalTable: "spaces",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_data_products_users_custodian_id",
                        column: x => x.custodian_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "fk_data_products_users_data_architect_id",
                        column: x => x.data_architect_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "fk_data_products_users_owner_id",
                        column: x => x.owner_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "fk_data_products_users_steward_id",
                        column: x => x.steward_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "tags",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    description = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    color = table.Column<string>(type: "character varying(7)", maxLength: 7, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_tags", x => x.id);
                    table.ForeignKey(
                        name: "fk_tags_spaces_space_id",
                        column: x => x.space_id,
                        principalTable: "spaces",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "lineage_edges",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    upstream_id = table.Column<Guid>(type: "uuid", nullable: false),
                    downstream_id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: false),
                    relationship = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    created_by_id = table.Column<Guid>(type: "uuid", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_lineage_edges", x => x.id);
                    table.CheckConstraint("ck_lineage_edges_not_self", "upstream_id <> downstream_id");
                    table.ForeignKey(
                        name: "fk_lineage_edges_products_downstream_id",
                        column: x => x.downstream_id,
                        principalTable: "data_products",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_lineage_edges_products_upstream_id",
                        column: x => x.upstream_id,
                        principalTable: "data_products",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "product_fields",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    product_id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    data_type = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    is_nullable = table.Column<bool>(type: "boolean", nullable: false),
                    description = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    ordinal = table.Column<int>(type: "integer", nullable: false),
                    is_primary_key = table.Column<bool>(type: "boolean", nullable: false),
                    foreign_key_target = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    manual_attributes = table.Column<List<string>>(type: "text[]", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_product_fields", x => x.id);
                    table.ForeignKey(
                        name: "fk_product_fields_products_product_id",
                        column: x => x.product_id,
                        principalTable: "data_products",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "product_tags",
                columns: table => new
                {
                    product_id = table.Column<Guid>(type: "uuid", nullable: false),
                    tag_id = table.Column<Guid>(type: "uuid", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_product_tags", x => new { x.product_id, x.tag_id });
                    table.ForeignKey(
                        name: "fk_product_tags_products_product_id",
                        column: x => x.product_id,
                        principalTable: "data_products",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_product_tags_tags_tag_id",
                        column: x => x.tag_id,
                        principalTable: "tags",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_audit_log_actor_user_id_occurred_at",
                table: "audit_log",
                columns: new[] { "actor_user_id", "occurred_at" });

            migrationBuilder.CreateIndex(
                name: "ix_audit_log_resource_id_occurred_at",
                table: "audit_log",
                columns: new[] { "resource_id", "occurred_at" });

            migrationBuilder.CreateIndex(
                name: "ix_audit_log_space_id_occurred_at",
                table: "audit_log",
                columns: new[] { "space_id", "occurred_at" });

            migrationBuilder.CreateIndex(
                name: "ix_custom_product_types_space_id_name",
                table: "custom_product_types",
                columns: new[] { "space_id", "name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_data_products_custodian_id",
                table: "data_products",
                column: "custodian_id");

            migrationBuilder.CreateIndex(
                name: "ix_data_products_data_architect_id",
                table: "data_products",
                column: "data_architect_id");

            migrationBuilder.CreateIndex(
                name: "ix_data_products_owner_id",
                table: "data_products",
                column: "owner_id");

            migrationBuilder.CreateIndex(
                name: "ix_data_products_space_id_name_id",
                table: "data_products",
                columns: new[] { "space_id", "name", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_data_products_space_id_slug",
                table: "data_products",
                columns: new[] { "space_id", "slug" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_data_products_space_id_updated_at_id",
                table: "data_products",
                columns: new[] { "space_id", "updated_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_data_products_steward_id",
                table: "data_products",
                column: "steward_id");

            migrationBuilder.CreateIndex(
                name: "ix_lineage_edges_downstream_id_upstream_id",
                table: "lineage_edges",
                columns: new[] { "downstream_id", "upstream_id" });

            migrationBuilder.CreateIndex(
                name: "ix_lineage_edges_space_id",
                table: "lineage_edges",
                column: "space_id");

            migrationBuilder.CreateIndex(
                name: "ix_lineage_edges_upstream_id_downstream_id",
                table: "lineage_edges",
                columns: new[] { "upstream_id", "downstream_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_product_fields_product_id_name",
                table: "product_fields",
                columns: new[] { "product_id", "name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_product_fields_space_id",
                table: "product_fields",
                column: "space_id");

            migrationBuilder.CreateIndex(
                name: "ix_product_tags_tag_id",
                table: "product_tags",
                column: "tag_id");

            migrationBuilder.CreateIndex(
                name: "ix_tags_space_id_name",
                table: "tags",
                columns: new[] { "space_id", "name" },
                unique: true);
            // Hand-written: what the EF model does not describe (see CatalogSql).
            migrationBuilder.Sql(CatalogSql.Up);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(CatalogSql.Down);
            migrationBuilder.DropTable(
                name: "audit_log");

            migrationBuilder.DropTable(
                name: "custom_product_types");

            migrationBuilder.DropTable(
                name: "lineage_edges");

            migrationBuilder.DropTable(
                name: "product_fields");

            migrationBuilder.DropTable(
                name: "product_tags");

            migrationBuilder.DropTable(
                name: "data_products");

            migrationBuilder.DropTable(
                name: "tags");
        }
    }
}
