using Qarion.Core.Quality;

namespace Qarion.Tests.Quality;

/// <summary>Stored configs read back as the same typed records (the runner relies on it).</summary>
public sealed class CheckConfigJsonTests
{
    public static TheoryData<CheckConfig> Configs => new()
    {
        new RowCountConfig(new TableRef("public", "Album")),
        new RangeCheckConfig(new TableRef("s", "t"), "price", Min: 0.5m, Max: 10m, Aggregate: RangeAggregate.Stddev),
        new FieldChecksConfig(new TableRef("s", "t"),
        [
            new FieldRule("email_present", "email", FieldRuleKind.NotNull, Critical: Threshold.Lte(3)),
            new FieldRule("status", "status", FieldRuleKind.AcceptedValues, Values: ["a", "b"], Warning: new Threshold(ThresholdOperator.Lte, 1, Percent: true)),
        ]),
        new ReconciliationConfig(new RowCountConfig(new TableRef("a", "b")), new SqlMetricConfig("select 1"), ToleranceKind.Relative, 2.5m),
        new ReconciliationConfig(new RowCountConfig(new TableRef("a", "b")), new SqlMetricConfig("select 1"), ToleranceKind.Absolute, 10, Guid.Parse("019ca8bb-c178-7be2-be1c-72127cc400ec")),
        new AnomalyConfig(new RowCountConfig(new TableRef("a", "b")), MinHistory: 5, Sensitivity: 2.5, Window: 20),
        new ManualConfig("rows", "Count the rows in the monthly report"),
        new CustomConfig(),
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void Configs_round_trip_through_their_stored_json(CheckConfig config)
    {
        var json = CheckConfigJson.Write(config);
        Assert.Contains($"\"type\":\"{config.Type}\"", json, StringComparison.Ordinal);
        var read = CheckConfigJson.Read(json);
        // Records compare lists by reference, so compare the canonical JSON of both.
        Assert.Equal(json, CheckConfigJson.Write(read));
        Assert.Equal(config.GetType(), read.GetType());
    }

    [Fact]
    public void A_config_reads_back_whatever_order_jsonb_gives_its_keys()
    {
        var read = CheckConfigJson.Read("""{"kind": "absolute", "left": {"table": {"name": "b", "schema": "a"}, "type": "row_count"}, "type": "reconciliation", "right": {"sql": "select 1", "type": "sql_metric"}, "tolerance": 1}""");
        var reconciliation = Assert.IsType<ReconciliationConfig>(read);
        Assert.Equal(new TableRef("a", "b"), Assert.IsType<RowCountConfig>(reconciliation.Left).Table);
    }

    [Fact]
    public void Thresholds_round_trip_and_use_snake_case_operators()
    {
        var threshold = new Threshold(ThresholdOperator.Between, Min: 1, Max: 5, Percent: true);
        var json = CheckConfigJson.Write(threshold)!;
        Assert.Contains("\"operator\":\"between\"", json, StringComparison.Ordinal);
        Assert.Equal(threshold, CheckConfigJson.ReadThreshold(json));
        Assert.Null(CheckConfigJson.ReadThreshold(null));
    }
}
