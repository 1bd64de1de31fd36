using Qarion.Core.Quality;

namespace Qarion.Tests.Quality;

public sealed class ThresholdTests
{
    [Theory]
    // operator, value-or-min, max, metric, met
    [InlineData(ThresholdOperator.Gt, 10, null, 11, true)]
    [InlineData(ThresholdOperator.Gt, 10, null, 10, false)]
    [InlineData(ThresholdOperator.Gte, 10, null, 10, true)]
    [InlineData(ThresholdOperator.Gte, 10, null, 9.999, false)]
    [InlineData(ThresholdOperator.Lt, 10, null, 9, true)]
    [InlineData(ThresholdOperator.Lt, 10, null, 10, false)]
    [InlineData(ThresholdOperator.Lte, 10, null, 10, true)]
    [InlineData(ThresholdOperator.Lte, 10, null, 10.5, false)]
    [InlineData(ThresholdOperator.Eq, 0, null, 0, true)]
    [InlineData(ThresholdOperator.Eq, 0, null, 1, false)]
    [InlineData(ThresholdOperator.Ne, 0, null, 1, true)]
    [InlineData(ThresholdOperator.Ne, 0, null, 0, false)]
    [InlineData(ThresholdOperator.Between, 5, 10d, 5, true)]
    [InlineData(ThresholdOperator.Between, 5, 10d, 10, true)]
    [InlineData(ThresholdOperator.Between, 5, 10d, 7.5, true)]
    [InlineData(ThresholdOperator.Between, 5, 10d, 4.99, false)]
    [InlineData(ThresholdOperator.Between, 5, 10d, 10.01, false)]
    public void Every_operator(ThresholdOperator op, double first, double? max, double metric, bool met)
    {
        var threshold = op == ThresholdOperator.Between ? Threshold.Between(first, max!.Value) : new Threshold(op, first);
        Assert.Equal(met, threshold.IsMetBy(metric));
    }

    [Theory]
    [InlineData(0, CheckStatus.Pass)]
    [InlineData(3, CheckStatus.Warning)]
    [InlineData(10, CheckStatus.Warning)]
    [InlineData(11, CheckStatus.Fail)]
    public void Critical_fails_warning_warns(double metric, CheckStatus expected)
        => Assert.Equal(expected, ThresholdEvaluation.Evaluate(metric, null, warning: Threshold.Eq(0), critical: Threshold.Lte(10)).Status);

    [Theory]
    [InlineData(5, 100, CheckStatus.Pass)]     // 5 %
    [InlineData(6, 100, CheckStatus.Warning)]  // 6 %
    [InlineData(21, 100, CheckStatus.Fail)]    // 21 %
    [InlineData(0, 0, CheckStatus.Pass)]       // no rows: 0 %, not a division by zero
    public void Percentages_are_of_the_rows_checked(double failing, double total, CheckStatus expected)
    {
        var warning = new Threshold(ThresholdOperator.Lte, 5, Percent: true);
        var critical = new Threshold(ThresholdOperator.Lte, 20, Percent: true);
        Assert.Equal(expected, ThresholdEvaluation.Evaluate(failing, total, warning, critical).Status);
    }

    [Fact]
    public void Counts_and_percentages_mix()
    {
        // At most 20 % failing (critical) and, to stay quiet, at most 3 rows (warning).
        var warning = Threshold.Lte(3);
        var critical = new Threshold(ThresholdOperator.Lte, 20, Percent: true);
        Assert.Equal(CheckStatus.Warning, ThresholdEvaluation.Evaluate(4, 100, warning, critical).Status);
        Assert.Equal(CheckStatus.Fail, ThresholdEvaluation.Evaluate(4, 10, warning, critical).Status);
    }

    [Fact]
    public void No_thresholds_pass_and_nothing_to_compare_is_an_error()
    {
        Assert.Equal(CheckStatus.Pass, ThresholdEvaluation.Evaluate(42, null, null, null).Status);
        Assert.Equal(CheckStatus.Error, ThresholdEvaluation.Evaluate(null, null, null, Threshold.Gt(0)).Status);
        Assert.Equal(CheckStatus.Error, ThresholdEvaluation.Evaluate(1, null, null, new Threshold(ThresholdOperator.Lte, 5, Percent: true)).Status);
    }

    [Theory]
    [InlineData(ThresholdOperator.Between, null, null, 10d, "min")]
    [InlineData(ThresholdOperator.Between, null, 1d, null, "max")]
    [InlineData(ThresholdOperator.Between, null, 10d, 1d, "min")]
    [InlineData(ThresholdOperator.Gt, null, null, null, "value")]
    public void An_incomplete_threshold_names_the_key(ThresholdOperator op, double? value, double? min, double? max, string key)
    {
        var threshold = new Threshold(op, value, min, max);
        Assert.Equal(key, threshold.Problem()?.Key);
        Assert.Equal(CheckStatus.Error, ThresholdEvaluation.Evaluate(1, null, null, threshold).Status);
    }
}

public sealed class PostgresCheckDialectTests
{
    private static readonly PostgresCheckDialect Dialect = PostgresCheckDialect.Instance;

    [Theory]
    [InlineData("track", "\"track\"")]
    [InlineData("select", "\"select\"")]
    [InlineData("Mixed Case", "\"Mixed Case\"")]
    [InlineData("x\" OR 1=1 --", "\"x\"\" OR 1=1 --\"")]
    public void Identifiers_are_quoted_with_inner_quotes_doubled(string name, string quoted)
        => Assert.Equal(quoted, Dialect.QuoteIdentifier(name));

    [Fact]
    public void Empty_and_nul_identifiers_are_refused()
    {
        Assert.Throws<CheckConfigException>(() => Dialect.QuoteIdentifier(""));
        Assert.Throws<CheckConfigException>(() => Dialect.QuoteIdentifier("a\0b"));
    }

    [Fact]
    public void Range_bounds_are_parameters()
    {
        var query = Dialect.Compile(new CheckDefinition(new RangeCheckConfig(new("s", "t"), "c", 1.5m, 9m))).Queries.Single();
        Assert.Equal("SELECT count(*) FILTER (WHERE \"c\" < $1 OR \"c\" > $2), count(*) FROM \"s\".\"t\"", query.Sql);
        // A fractional bound stays numeric; an integral one goes as bigint, so an integer column is not cast row by row.
        Assert.Equal<object>([1.5m, 9L], query.Parameters);
    }

    [Fact]
    public void Field_check_parameters_are_numbered_across_rules()
    {
        var query = Dialect.Compile(new CheckDefinition(new FieldChecksConfig(new("s", "t"),
        [
            new FieldRule("a", "a", FieldRuleKind.Range, Min: 0),
            new FieldRule("b", "b", FieldRuleKind.Pattern, Pattern: "^x"),
            new FieldRule("c", "c", FieldRuleKind.AcceptedValues, Values: ["p", "q"]),
            new FieldRule("d", "d", FieldRuleKind.NotNull),
        ]))).Queries.Single();
        Assert.Contains("\"a\" < $1", query.Sql, StringComparison.Ordinal);
        Assert.Contains("\"b\"::text ~ $2", query.Sql, StringComparison.Ordinal);
        Assert.Contains("\"c\"::text <> ALL ($3)", query.Sql, StringComparison.Ordinal);
        Assert.Equal(3, query.Parameters.Count);
    }

    [Theory]
    [InlineData("columns")]
    [InlineData("values")]
    [InlineData("min")]
    [InlineData("pattern")]
    [InlineData("rules")]
    public void Incomplete_configs_name_the_key(string key)
    {
        var table = new TableRef("s", "t");
        CheckConfig config = key switch
        {
            "columns" => new UniquenessConfig(table, []),
            "values" => new AcceptedValuesConfig(table, "c", []),
            "min" => new RangeCheckConfig(table, "c"),
            "pattern" => new PatternCheckConfig(table, "c", ""),
            _ => new FieldChecksConfig(table, []),
        };
        Assert.Equal(key, Assert.Throws<CheckConfigException>(() => Dialect.Compile(new CheckDefinition(config))).Key);
    }

    [Fact]
    public void A_reconciliation_side_must_be_one_number()
        => Assert.Equal("right", Assert.Throws<CheckConfigException>(() => Dialect.Compile(new CheckDefinition(new ReconciliationConfig(
            new RowCountConfig(new("s", "t")), new SchemaConfig(new("s", "t"), [new("c", "int")]), ToleranceKind.Absolute, 0)))).Key);
}

public sealed class UserSqlTests
{
    [Theory]
    [InlineData("SELECT 1", "SELECT 1")]
    [InlineData("  SELECT 1 ;  ", "SELECT 1")]
    [InlineData("SELECT 1; -- done\n/* really */", "SELECT 1")]
    [InlineData("SELECT ';' AS semi", "SELECT ';' AS semi")]
    [InlineData("SELECT 'it''s; fine'", "SELECT 'it''s; fine'")]
    [InlineData("SELECT E'\\'; still a string'", "SELECT E'\\'; still a string'")]
    [InlineData("SELECT 1 AS \"a;b\"", "SELECT 1 AS \"a;b\"")]
    [InlineData("SELECT $$;$$", "SELECT $$;$$")]
    [InlineData("SELECT $fn$ ; ) $fn$", "SELECT $fn$ ; ) $fn$")]
    [InlineData("SELECT 1 -- ; )", "SELECT 1 -- ; )")]
    [InlineData("SELECT /* ; /* nested ; */ ) */ 1", "SELECT /* ; /* nested ; */ ) */ 1")]
    [InlineData("SELECT count(*) FROM (SELECT 1) AS x", "SELECT count(*) FROM (SELECT 1) AS x")]
    public void One_statement_is_accepted(string sql, string statement)
        => Assert.Equal(statement, UserSql.SingleStatement(sql));

    [Theory]
    [InlineData("")]
    [InlineData("  ;  ")]
    [InlineData("SELECT 1; SELECT 2")]
    [InlineData("SELECT 1; DROP TABLE t")]
    [InlineData("SELECT 'a'; DELETE FROM t; --'")]
    [InlineData("SELECT 1) AS q; DELETE FROM t; SELECT (1")]
    [InlineData("SELECT 1) AS q, (SELECT 2")]
    [InlineData("SELECT (1")]
    [InlineData("SELECT 'unterminated")]
    [InlineData("SELECT \"unterminated")]
    [InlineData("SELECT $$unterminated")]
    [InlineData("SELECT 1 /* unterminated")]
    public void Anything_else_is_refused(string sql)
        => Assert.Equal("sql", Assert.Throws<CheckConfigException>(() => UserSql.SingleStatement(sql)).Key);
}
