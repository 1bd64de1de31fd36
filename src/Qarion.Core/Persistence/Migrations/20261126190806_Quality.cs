using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Qarion.Core.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class Quality : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "data_contracts",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: false),
                    slug = table.Column<string>(type: "character varying(120)", maxLength: 120, nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    description = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    producer_product_id = table.Column<Guid>(type: "uuid", nullable: false),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    freshness_hours = table.Column<double>(type: "double precision", nullable: true),
                    min_quality_score = table.Column<double>(type: "double precision", nullable: true),
                    availability_percent = table.Column<double>(type: "double precision", nullable: true),
                    window_days = table.Column<int>(type: "integer", nullable: false),
                    effective_from = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    sla_status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    sla_details = table.Column<string>(type: "jsonb", nullable: true),
                    last_evaluated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    created_by_id = table.Column<Guid>(type: "uuid", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_data_contracts", x => x.id);
                    table.ForeignKey(
                        name: "fk_data_contracts_data_products_producer_product_id",
                        column: x => x.producer_product_id,
                        principalTable: "data_products",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_data_contracts_spaces_space_id",
                        column: x => x.space_id,
                        principalTable: "spaces",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "outbox_events",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: true),
                    event_type = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    payload = table.Column<string>(type: "jsonb", nullable: false),
                    occurred_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    dispatched_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    attempts = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_outbox_events", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "product_quality_scores",
                columns: table => new
                {
                    product_id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: false),
                    score = table.Column<double>(type: "double precision", nullable: true),
                    health = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    passing = table.Column<int>(type: "integer", nullable: false),
                    warning = table.Column<int>(type: "integer", nullable: false),
                    failing = table.Column<int>(type: "integer", nullable: false),
                    errored = table.Column<int>(type: "integer", nullable: false),
                    computed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_product_quality_scores", x => x.product_id);
                    table.ForeignKey(
                        name: "fk_product_quality_scores_data_products_product_id",
                        column: x => x.product_id,
                        principalTable: "data_products",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "quality_checks",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: false),
                    slug = table.Column<string>(type: "character varying(120)", maxLength: 120, nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    description = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    check_type = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    config = table.Column<string>(type: "jsonb", nullable: false),
                    field_name = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    warning_threshold = table.Column<string>(type: "jsonb", nullable: true),
                    critical_threshold = table.Column<string>(type: "jsonb", nullable: true),
                    severity = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    connector_id = table.Column<Guid>(type: "uuid", nullable: true),
                    schedule = table.Column<string>(type: "character varying(120)", maxLength: 120, nullable: true),
                    next_run_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    is_active = table.Column<bool>(type: "boolean", nullable: false),
                    is_archived = table.Column<bool>(type: "boolean", nullable: false),
                    archived_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    last_status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    last_run_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    source_test_id = table.Column<Guid>(type: "uuid", nullable: true),
                    created_by_id = table.Column<Guid>(type: "uuid", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_quality_checks", x => x.id);
                    table.ForeignKey(
                        name: "fk_quality_checks_connectors_connector_id",
                        column: x => x.connector_id,
                        principalTable: "connectors",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_quality_checks_source_tests_source_test_id",
                        column: x => x.source_test_id,
                        principalTable: "source_tests",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "fk_quality_checks_spaces_space_id",
                        column: x => x.space_id,
                        principalTable: "spaces",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "contract_consumers",
                columns: table => new
                {
                    contract_id = table.Column<Guid>(type: "uuid", nullable: false),
                    product_id = table.Column<Guid>(type: "uuid", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_contract_consumers", x => new { x.contract_id, x.product_id });
                    table.ForeignKey(
                        name: "fk_contract_consumers_data_contracts_contract_id",
                        column: x => x.contract_id,
                        principalTable: "data_contracts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_contract_consumers_data_products_product_id",
                        column: x => x.product_id,
                        principalTable: "data_products",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "contract_violations",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    contract_id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: false),
                    term = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    severity = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    expected = table.Column<double>(type: "double precision", nullable: true),
                    actual = table.Column<double>(type: "double precision", nullable: true),
                    message = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    occurred_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    resolved_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_contract_violations", x => x.id);
                    table.ForeignKey(
                        name: "fk_contract_violations_data_contracts_contract_id",
                        column: x => x.contract_id,
                        principalTable: "data_contracts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "check_executions",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: false),
                    check_id = table.Column<Guid>(type: "uuid", nullable: false),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    trigger = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    triggered_by_id = table.Column<Guid>(type: "uuid", nullable: true),
                    idempotency_key = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    metric = table.Column<double>(type: "double precision", nullable: true),
                    total = table.Column<double>(type: "double precision", nullable: true),
                    sql = table.Column<string>(type: "text", nullable: true),
                    message = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    details = table.Column<string>(type: "jsonb", nullable: true),
                    duration_ms = table.Column<int>(type: "integer", nullable: true),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    is_ignored = table.Column<bool>(type: "boolean", nullable: false),
                    ignored_by_id = table.Column<Guid>(type: "uuid", nullable: true),
                    ignored_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    ignore_reason = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    completed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_check_executions", x => x.id);
                    table.ForeignKey(
                        name: "fk_check_executions_quality_checks_check_id",
                        column: x => x.check_id,
                        principalTable: "quality_checks",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "check_products",
                columns: table => new
                {
                    check_id = table.Column<Guid>(type: "uuid", nullable: false),
                    product_id = table.Column<Guid>(type: "uuid", nullable: false),
                    position = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_check_products", x => new { x.check_id, x.product_id });
                    table.ForeignKey(
                        name: "fk_check_products_data_products_product_id",
                        column: x => x.product_id,
                        principalTable: "data_products",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_check_products_quality_checks_check_id",
                        column: x => x.check_id,
                        principalTable: "quality_checks",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "quality_alerts",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: false),
                    check_id = table.Column<Guid>(type: "uuid", nullable: false),
                    product_id = table.Column<Guid>(type: "uuid", nullable: false),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    severity = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    title = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    message = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    raised_status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    raised_by_execution_id = table.Column<Guid>(type: "uuid", nullable: false),
                    last_execution_id = table.Column<Guid>(type: "uuid", nullable: false),
                    occurrences = table.Column<int>(type: "integer", nullable: false),
                    raised_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    last_seen_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    acknowledged_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    acknowledged_by_id = table.Column<Guid>(type: "uuid", nullable: true),
                    resolved_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    resolved_by_id = table.Column<Guid>(type: "uuid", nullable: true),
                    auto_resolved = table.Column<bool>(type: "boolean", nullable: false),
                    resolution_note = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    issue_id = table.Column<Guid>(type: "uuid", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_quality_alerts", x => x.id);
                    table.ForeignKey(
                        name: "fk_quality_alerts_data_products_product_id",
                        column: x => x.product_id,
                        principalTable: "data_products",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_quality_alerts_quality_checks_check_id",
                        column: x => x.check_id,
                        principalTable: "quality_checks",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "alert_annotations",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    alert_id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: false),
                    author_id = table.Column<Guid>(type: "uuid", nullable: true),
                    body = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_alert_annotations", x => x.id);
                    table.ForeignKey(
                        name: "fk_alert_annotations_quality_alerts_alert_id",
                        column: x => x.alert_id,
                        principalTable: "quality_alerts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "issues",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: false),
                    number = table.Column<int>(type: "integer", nullable: false),
                    title = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    description = table.Column<string>(type: "character varying(20000)", maxLength: 20000, nullable: true),
                    status = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    priority = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    assignee_id = table.Column<Guid>(type: "uuid", nullable: true),
                    reporter_id = table.Column<Guid>(type: "uuid", nullable: true),
                    alert_id = table.Column<Guid>(type: "uuid", nullable: true),
                    check_id = table.Column<Guid>(type: "uuid", nullable: true),
                    resolved_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    xmin = table.Column<uint>(type: "xid", rowVersion: true, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_issues", x => x.id);
                    table.ForeignKey(
                        name: "fk_issues_quality_alerts_alert_id",
                        column: x => x.alert_id,
                        principalTable: "quality_alerts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "fk_issues_quality_checks_check_id",
                        column: x => x.check_id,
                        principalTable: "quality_checks",
                        principalColumn: "id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "fk_issues_spaces_space_id",
                        column: x => x.space_id,
                        principalTable: "spaces",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "issue_comments",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    issue_id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: false),
                    author_id = table.Column<Guid>(type: "uuid", nullable: true),
                    body = table.Column<string>(type: "character varying(20000)", maxLength: 20000, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_issue_comments", x => x.id);
                    table.ForeignKey(
                        name: "fk_issue_comments_issues_issue_id",
                        column: x => x.issue_id,
                        principalTable: "issues",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "issue_events",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    issue_id = table.Column<Guid>(type: "uuid", nullable: false),
                    space_id = table.Column<Guid>(type: "uuid", nullable: false),
                    actor_id = table.Column<Guid>(type: "uuid", nullable: true),
                    kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    old_value = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    new_value = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    occurred_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_issue_events", x => x.id);
                    table.ForeignKey(
                        name: "fk_issue_events_issues_issue_id",
                        column: x => x.issue_id,
                        principalTable: "issues",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "issue_products",
                columns: table => new
                {
                    issue_id = table.Column<Guid>(type: "uuid", nullable: false),
                    product_id = table.Column<Guid>(type: "uuid", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_issue_products", x => new { x.issue_id, x.product_id });
                    table.ForeignKey(
                        name: "fk_issue_products_data_products_product_id",
                        column: x => x.product_id,
                        principalTable: "data_products",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_issue_products_issues_issue_id",
                        column: x => x.issue_id,
                        principalTable: "issues",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_alert_annotations_alert_id_created_at",
                table: "alert_annotations",
                columns: new[] { "alert_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_check_executions_check_id_created_at",
                table: "check_executions",
                columns: new[] { "check_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_check_executions_pending",
                table: "check_executions",
                column: "created_at",
                filter: "status IN ('queued', 'running')");

            migrationBuilder.CreateIndex(
                name: "ix_check_executions_space_id_created_at",
                table: "check_executions",
                columns: new[] { "space_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_check_executions_space_id_idempotency_key",
                table: "check_executions",
                columns: new[] { "space_id", "idempotency_key" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_check_products_product_id",
                table: "check_products",
                column: "product_id");

            migrationBuilder.CreateIndex(
                name: "ix_contract_consumers_product_id",
                table: "contract_consumers",
                column: "product_id");

            migrationBuilder.CreateIndex(
                name: "ix_contract_violations_contract_id_occurred_at",
                table: "contract_violations",
                columns: new[] { "contract_id", "occurred_at" });

            migrationBuilder.CreateIndex(
                name: "ux_contract_violations_open",
                table: "contract_violations",
                columns: new[] { "contract_id", "term" },
                unique: true,
                filter: "resolved_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_data_contracts_active",
                table: "data_contracts",
                column: "last_evaluated_at",
                filter: "status = 'active'");

            migrationBuilder.CreateIndex(
                name: "ix_data_contracts_producer_product_id",
                table: "data_contracts",
                column: "producer_product_id");

            migrationBuilder.CreateIndex(
                name: "ix_data_contracts_space_id_slug",
                table: "data_contracts",
                columns: new[] { "space_id", "slug" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_issue_comments_issue_id_created_at",
                table: "issue_comments",
                columns: new[] { "issue_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_issue_events_issue_id_occurred_at",
                table: "issue_events",
                columns: new[] { "issue_id", "occurred_at" });

            migrationBuilder.CreateIndex(
                name: "ix_issue_products_product_id",
                table: "issue_products",
                column: "product_id");

            migrationBuilder.CreateIndex(
                name: "ix_issues_alert_id",
                table: "issues",
                column: "alert_id");

            migrationBuilder.CreateIndex(
                name: "ix_issues_assignee_id",
                table: "issues",
                column: "assignee_id");

            migrationBuilder.CreateIndex(
                name: "ix_issues_check_id",
                table: "issues",
                column: "check_id");

            migrationBuilder.CreateIndex(
                name: "ix_issues_space_id_number",
                table: "issues",
                columns: new[] { "space_id", "number" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_issues_space_id_status_created_at",
                table: "issues",
                columns: new[] { "space_id", "status", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_outbox_events_pending",
                table: "outbox_events",
                column: "occurred_at",
                filter: "dispatched_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_product_quality_scores_space_id",
                table: "product_quality_scores",
                column: "space_id");

            migrationBuilder.CreateIndex(
                name: "ix_quality_alerts_product_id",
                table: "quality_alerts",
                column: "product_id");

            migrationBuilder.CreateIndex(
                name: "ix_quality_alerts_space_id_status_raised_at",
                table: "quality_alerts",
                columns: new[] { "space_id", "status", "raised_at" });

            migrationBuilder.CreateIndex(
                name: "ux_quality_alerts_one_open",
                table: "quality_alerts",
                columns: new[] { "check_id", "product_id" },
                unique: true,
                filter: "status <> 'resolved'");

            migrationBuilder.CreateIndex(
                name: "ix_quality_checks_connector_id",
                table: "quality_checks",
                column: "connector_id");

            migrationBuilder.CreateIndex(
                name: "ix_quality_checks_next_run_at",
                table: "quality_checks",
                column: "next_run_at",
                filter: "is_active AND NOT is_archived AND next_run_at IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_quality_checks_source_test_id",
                table: "quality_checks",
                column: "source_test_id",
                unique: true,
                filter: "source_test_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_quality_checks_space_id_created_at",
                table: "quality_checks",
                columns: new[] { "space_id", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_quality_checks_space_id_slug",
                table: "quality_checks",
                columns: new[] { "space_id", "slug" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "alert_annotations");

            migrationBuilder.DropTable(
                name: "check_executions");

            migrationBuilder.DropTable(
                name: "check_products");

            migrationBuilder.DropTable(
                name: "contract_consumers");

            migrationBuilder.DropTable(
                name: "contract_violations");

            migrationBuilder.DropTable(
                name: "issue_comments");

            migrationBuilder.DropTable(
                name: "issue_events");

            migrationBuilder.DropTable(
                name: "issue_products");

            migrationBuilder.DropTable(
                name: "outbox_events");

            migrationBuilder.DropTable(
                name: "product_quality_scores");

            migrationBuilder.DropTable(
                name: "data_contracts");

            migrationBuilder.DropTable(
                name: "issues");

            migrationBuilder.DropTable(
                name: "quality_alerts");

            migrationBuilder.DropTable(
                name: "quality_checks");
        }
    }
}
