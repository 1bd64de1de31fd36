using System.Text.Json;
using System.Text.Json.Nodes;
using Qarion.Core.Quality;

namespace Qarion.Tests.Quality;

/// <summary>
/// <see cref="CheckSpecs"/> without a database: what each type accepts, the defaults it fills in, the exact loc and type
/// of every refusal, and that a stored config (in jsonb's key order) parses back to itself.
/// </summary>
public sealed class CheckSpecsTests
{
    private static readonly Guid Connector = Guid.Parse("0190a000-0000-7000-8000-000000000001");
    private static readonly Guid Other = Guid.Parse("0190a000-0000-7000-8000-000000000002");
    private static readonly TableRef Primary = new("sales", "orders");

    private static SpecContext Context(string? field = null) => new(Connector, field, c => c == Connector ? Primary : null);

    private static ParsedConfig Parse(string type, string json, string? field = null)
        => CheckSpecs.Parse(type, JsonDocument.Parse(json).RootElement, Context(field));

    private static List<string> Errors(string type, string json, string? field = null)
        => Parse(type, json, field).Errors.Select(e => string.Join('.', e.Loc) + " " + e.Type).ToList();

    private static void Stored(string expected, CheckConfig? config)
    {
        Assert.NotNull(config);
        var actual = JsonNode.Parse(CheckConfigJson.Write(config));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), $"expected {expected}\n  actual {actual!.ToJsonString()}");
    }

    [Fact]
    public void Defaults_come_from_the_primary_products_table_and_the_field()
    {
        var parsed = Parse("null_check", "{}", field: "amount");
        Stored("""{"type":"null_check","table":{"schema":"sales","name":"orders"},"column":"amount"}""", parsed.Config);
        var use = Assert.Single(parsed.Tables);
        Assert.Equal((Connector, Primary), (use.ConnectorId, use.Table));
        Assert.Equal(("amount", true), (use.Columns[0].Column, use.Columns[0].FromField));
        Assert.Equal(["body", "config", "column"], use.Columns[0].Path);

        Stored("""{"type":"uniqueness","table":{"schema":"sales","name":"orders"},"columns":["amount"]}""", Parse("uniqueness", "{}", "amount").Config);
        Stored("""{"type":"freshness","table":{"schema":"x","name":"y"},"column":"at"}""", Parse("freshness", """{"table":"x.y","column":"at"}""", "amount").Config);
        Assert.Equal(["body.config.column missing"], Errors("null_check", "{}"));
        Assert.Equal(["body.config.columns missing"], Errors("uniqueness", "{}"));
        // No default table on another connector (the right side of a reconciliation).
        Assert.Equal(["body.config.right.table missing"], Errors("reconciliation",
            $$"""{"left":{"type":"row_count"},"right":{"type":"row_count"},"right_connector_id":"{{Other}}","tolerance":0}"""));
        var same = Parse("reconciliation", $$"""{"left":{"type":"row_count"},"right":{"type":"row_count"},"right_connector_id":"{{Connector}}","tolerance":0}""");
        // The check's own connector named as the right one is no second connector.
        Assert.Null(((ReconciliationConfig)same.Config!).RightConnectorId);
        Assert.Equal(Connector, same.RightConnector!.Value.Id);
        Assert.Equal(["body", "config", "right_connector_id"], same.RightConnector!.Value.Path);
    }

    [Fact]
    public void Every_bad_key_is_reported_at_its_path_with_its_type()
    {
        Assert.Equal(["body.config.colum unknown_key"], Errors("null_check", """{"colum":"a"}""", "amount"));
        Assert.Equal(["body.config.table.catalog unknown_key"], Errors("row_count", """{"table":{"schema":"a","name":"b","catalog":"c"}}"""));
        Assert.Equal(["body.config.type type_mismatch"], Errors("row_count", """{"type":"null_check"}"""));
        Assert.Equal(["body.config type_error"], Errors("row_count", "[]"));
        Assert.Equal(["body.config.min not_applicable", "body.config.max not_applicable"], Errors("range_check", """{"column":"a","aggregate":"sum","min":1,"max":2}"""));
        Assert.Equal(["body.config.min missing"], Errors("range_check", """{"column":"a"}"""));
        Assert.Equal(["body.config.min value_error"], Errors("range_check", """{"column":"a","min":5,"max":1}"""));
        Assert.Equal(["body.config.aggregate enum"], Errors("range_check", """{"column":"a","aggregate":"median"}"""));
        Assert.Equal(["body.config.pattern missing"], Errors("pattern_check", """{"column":"a"}"""));
        Assert.Equal(["body.config.values too_short"], Errors("accepted_values", """{"column":"a","values":[]}"""));
        Assert.Equal(["body.config.values.1 type_error"], Errors("accepted_values", """{"column":"a","values":["x",1]}"""));
        Assert.Equal(["body.config.columns.1 duplicate"], Errors("uniqueness", """{"columns":["a","a"]}"""));
        Assert.Equal(["body.config.rules too_short"], Errors("field_checks", """{"rules":[]}"""));
        Assert.Equal(
            ["body.config.rules.0.values not_applicable", "body.config.rules.1.name duplicate", "body.config.rules.1.pattern missing",
             "body.config.rules.2.min value_error", "body.config.rules.3.warning.percent value_error", "body.config.rules.3.critical.foo unknown_key"],
            Errors("field_checks", """
                {"rules":[
                  {"name":"a","column":"x","kind":"not_null","values":["1"]},
                  {"name":"a","column":"x","kind":"pattern"},
                  {"name":"b","column":"x","kind":"range","min":3,"max":1},
                  {"name":"c","column":"x","kind":"not_null","warning":{"operator":"eq","value":0,"unit":"percent","percent":false},"critical":{"operator":"eq","value":0,"foo":1}}
                ]}
                """));
        Assert.Equal(["body.config.sql sql_multiple_statements"], Errors("sql_metric", """{"sql":"SELECT 1; SELECT 2"}"""));
        Assert.Equal(["body.config.sql sql_unterminated"], Errors("sql_condition", """{"sql":"SELECT $$x"}"""));
        Assert.Equal(["body.config.sql missing"], Errors("sql_condition", """{"sql":null}"""));
        Assert.Equal(["body.config.sql string_too_short"], Errors("sql_condition", """{"sql":"   "}"""));
        Assert.Equal(["body.config.columns missing", "body.config.allow_extra_columns type_error"], Errors("schema", """{"allow_extra_columns":"no"}"""));
        Assert.Equal(["body.config.metric missing"], Errors("anomaly", "{}"));
        Assert.Equal(["body.config.metric.aggregate not_scalar"], Errors("anomaly", """{"metric":{"type":"range_check","column":"a","min":1}}"""));
        Assert.Equal(["body.config.left.sql sql_multiple_statements", "body.config.right.type missing", "body.config.tolerance missing"],
            Errors("reconciliation", """{"left":{"type":"sql_metric","sql":"SELECT 1;;"},"right":{}}"""));
        Assert.Equal(["body.config.unit string_too_long"], Errors("custom", $$"""{"unit":"{{new string('u', 51)}}"}"""));
        Assert.Equal(["body.config.table unknown_key"], Errors("manual", """{"table":"a.b"}"""));
        Assert.Equal(["body.config.type enum"], Errors("nope", "{}"));
    }

    [Fact]
    public void A_stored_config_parses_back_to_itself_whatever_order_jsonb_keeps_its_keys_in()
    {
        CheckConfig[] configs =
        [
            new RangeCheckConfig(Primary, "amount", 0, 10.5m),
            new FieldChecksConfig(Primary, [
                new FieldRule("a", "x", FieldRuleKind.Range, Min: 1, Warning: new Threshold(ThresholdOperator.Lte, 2, Percent: true)),
                new FieldRule("b", "y", FieldRuleKind.AcceptedValues, Values: ["p", ""], Critical: Threshold.Between(0, 3)),
            ]),
            new ReconciliationConfig(new SqlMetricConfig("SELECT 1"), new RowCountConfig(new TableRef("s", "t")), ToleranceKind.Relative, 2.5m, Other),
            new AnomalyConfig(new FreshnessConfig(Primary, "at"), 3, 1.5, 10),
            new SchemaConfig(Primary, [new ExpectedColumn("id", "int")], AllowExtraColumns: false),
            new ManualConfig("count", "Look"),
        ];
        foreach (var config in configs)
        {
            var written = CheckConfigJson.Write(config);
            // jsonb orders keys by length, then bytes: "sql", "left" and "kind" come before "type".
            var reordered = Reorder(JsonNode.Parse(written)!).ToJsonString();
            Assert.Equal(written.Length, reordered.Length);
            Stored(written, CheckConfigJson.Read(reordered));
            var parsed = CheckSpecs.Parse(config.Type, JsonDocument.Parse(reordered).RootElement, Context());
            Assert.Empty(parsed.Errors);
            Stored(written, parsed.Config);
        }
    }

    private static JsonNode Reorder(JsonNode node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key.Length).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, p.Value is null ? null : Reorder(p.Value.DeepClone())))),
        JsonArray a => new JsonArray(a.Select(x => x is null ? null : Reorder(x.DeepClone())).ToArray()),
        _ => node.DeepClone(),
    };

    [Fact]
    public void Thresholds_are_complete_use_only_their_keys_and_are_percentages_only_on_row_counts()
    {
        List<string> Of(string type, CheckConfig? config, ThresholdBody? warning, ThresholdBody? critical = null)
            => CheckSpecs.ThresholdErrors(type, config, warning, critical).Select(e => string.Join('.', e.Loc) + " " + e.Type).ToList();
        var nulls = new NullCheckConfig(Primary, "a");
        var count = new RowCountConfig(Primary);
        Assert.Empty(Of("null_check", nulls, new ThresholdBody { Operator = ThresholdOperator.Lte, Value = 5, Unit = ThresholdUnit.Percent }));
        Assert.Empty(Of("range_check", new RangeCheckConfig(Primary, "a", 0, 1), new ThresholdBody { Operator = ThresholdOperator.Eq, Value = 0, Unit = ThresholdUnit.Percent }));
        Assert.Equal(["body.warning.unit percent_not_applicable"], Of("row_count", count, new ThresholdBody { Operator = ThresholdOperator.Gt, Value = 0, Unit = ThresholdUnit.Percent }));
        Assert.Equal(["body.critical.unit percent_not_applicable"],
            Of("sql_condition", new SqlConditionConfig("SELECT 1"), null, new ThresholdBody { Operator = ThresholdOperator.Eq, Value = 0, Unit = ThresholdUnit.Percent }));
        Assert.Equal(["body.warning.min missing"], Of("row_count", count, new ThresholdBody { Operator = ThresholdOperator.Between, Max = 1 }));
        Assert.Equal(["body.warning.min value_error"], Of("row_count", count, new ThresholdBody { Operator = ThresholdOperator.Between, Min = 2, Max = 1 }));
        Assert.Equal(["body.critical.value missing", "body.critical.max not_applicable"], Of("row_count", count, null, new ThresholdBody { Operator = ThresholdOperator.Ne, Max = 1 }));
        Assert.Equal(["body.warning not_applicable", "body.critical not_applicable"],
            Of("anomaly", null, new ThresholdBody { Operator = ThresholdOperator.Eq, Value = 0 }, new ThresholdBody { Operator = ThresholdOperator.Eq, Value = 0 }));
        Assert.True(CheckSpecs.CountsRows(new UniquenessConfig(Primary, ["a"])));
        Assert.False(CheckSpecs.CountsRows(new RangeCheckConfig(Primary, "a", Aggregate: RangeAggregate.Max)));
    }

    [Fact]
    public void What_the_parser_lets_through_the_dialect_still_catches_by_key()
    {
        var error = CheckSpecs.CompileError(new RangeCheckConfig(Primary, "a"), null, null);
        Assert.Equal(["body", "config", "min"], error!.Loc);
        Assert.Equal("invalid_config", error.Type);
        var empty = CheckSpecs.CompileError(new UniquenessConfig(Primary, []), null, null);
        Assert.Equal(["body", "config", "columns"], empty!.Loc);
        Assert.Null(CheckSpecs.CompileError(new AnomalyConfig(new RowCountConfig(Primary)), null, null));
        Assert.Null(CheckSpecs.CompileError(new CustomConfig(), null, null));
        Assert.Equal("sql_invalid", CheckSpecs.SqlErrorType(new CheckConfigException("sql", "something else")));
    }
}
