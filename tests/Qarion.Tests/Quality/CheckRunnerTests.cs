using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using Qarion.Core.Quality;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Quality;

public sealed class CheckRunnerTests(CheckRunnerFixture fixture) : IClassFixture<CheckRunnerFixture>
{
    private static readonly TableRef Track = new("public", "track");
    private static readonly TableRef Customer = new("public", "customer");
    private static readonly TableRef Odd = new("Edge Cases", "Odd \"Table\"");

    private string Chinook => fixture.Chinook;
    private string Edges => fixture.Edges.Name;

    /// <summary>An independent answer from the source itself, to compare a check's metric with.</summary>
    private async Task<double> ChinookScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(TestEnvironment.ConnectionStringFor(Chinook));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToDouble(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    // ---------------------------------------------------------------- Chinook ----

    [Fact]
    public async Task Row_count_of_track_is_3503()
    {
        var outcome = await fixture.RunAsync(Chinook, new RowCountConfig(Track), critical: Threshold.Between(3000, 4000));

        Assert.Equal(CheckStatus.Pass, outcome.Status);
        Assert.Equal(3503, outcome.Metric);
        Assert.Equal("SELECT count(*) FROM \"public\".\"track\"", outcome.Sql);
        Assert.True(outcome.Duration > TimeSpan.Zero);
    }

    [Fact]
    public async Task Row_count_below_the_critical_threshold_fails_and_below_the_warning_warns()
    {
        Assert.Equal(CheckStatus.Fail, (await fixture.RunAsync(Chinook, new RowCountConfig(Track), critical: Threshold.Gte(5000))).Status);
        Assert.Equal(CheckStatus.Warning,
            (await fixture.RunAsync(Chinook, new RowCountConfig(Track), warning: Threshold.Gte(5000), critical: Threshold.Gte(1000))).Status);
    }

    [Fact]
    public async Task Null_check_counts_the_customers_without_a_company()
    {
        var outcome = await fixture.RunAsync(Chinook, new NullCheckConfig(Customer, "company"));

        Assert.Equal(CheckStatus.Fail, outcome.Status); // the default for a failing-row count is eq 0
        Assert.Equal(49, outcome.Metric);
        Assert.Equal(59, outcome.Total);
        // 49 of 59 is 83 %: a percentage threshold of at most 90 % passes, at most 80 % fails.
        Assert.Equal(CheckStatus.Pass, (await fixture.RunAsync(Chinook, new NullCheckConfig(Customer, "company"),
            critical: new Threshold(ThresholdOperator.Lte, 90, Percent: true))).Status);
        Assert.Equal(CheckStatus.Fail, (await fixture.RunAsync(Chinook, new NullCheckConfig(Customer, "company"),
            critical: new Threshold(ThresholdOperator.Lte, 80, Percent: true))).Status);
    }

    [Fact]
    public async Task Uniqueness_of_invoice_line_pairs_passes_and_of_track_names_counts_the_repeats()
    {
        var pairs = await fixture.RunAsync(Chinook, new UniquenessConfig(new("public", "invoice_line"), ["invoice_id", "track_id"]));
        Assert.Equal(CheckStatus.Pass, pairs.Status);
        Assert.Equal(0, pairs.Metric);
        Assert.Equal(2240, pairs.Total);

        var names = await fixture.RunAsync(Chinook, new UniquenessConfig(Track, ["name"]));
        Assert.Equal(CheckStatus.Fail, names.Status);
        // name is NOT NULL, so the rows beyond the first of each name are all rows minus distinct names.
        Assert.Equal(await ChinookScalarAsync("SELECT count(*) - count(DISTINCT name) FROM track"), names.Metric);
        Assert.True(names.Metric > 0);
    }

    [Fact]
    public async Task Range_check_of_unit_price_values_and_aggregates()
    {
        var inside = await fixture.RunAsync(Chinook, new RangeCheckConfig(Track, "unit_price", 0.99m, 1.99m));
        Assert.Equal((CheckStatus.Pass, 0d, 3503d), (inside.Status, inside.Metric!.Value, inside.Total!.Value));

        var cheapOnly = await fixture.RunAsync(Chinook, new RangeCheckConfig(Track, "unit_price", Max: 1m));
        Assert.Equal(CheckStatus.Fail, cheapOnly.Status);
        Assert.Equal(await ChinookScalarAsync("SELECT count(*) FROM track WHERE unit_price > 1"), cheapOnly.Metric);

        var max = await fixture.RunAsync(Chinook, new RangeCheckConfig(Track, "unit_price", Aggregate: RangeAggregate.Max), critical: Threshold.Lte(2));
        Assert.Equal((CheckStatus.Pass, 1.99), (max.Status, max.Metric!.Value));
        var min = await fixture.RunAsync(Chinook, new RangeCheckConfig(Track, "unit_price", Aggregate: RangeAggregate.Min));
        Assert.Equal((CheckStatus.Pass, 0.99), (min.Status, min.Metric!.Value)); // no threshold: measured, not judged
        var mean = await fixture.RunAsync(Chinook, new RangeCheckConfig(Track, "unit_price", Aggregate: RangeAggregate.Mean), critical: Threshold.Between(1.5, 2));
        Assert.Equal(CheckStatus.Fail, mean.Status);
        Assert.Equal(await ChinookScalarAsync("SELECT avg(unit_price) FROM track"), mean.Metric!.Value, 9);
        var sum = await fixture.RunAsync(Chinook, new RangeCheckConfig(Track, "milliseconds", Aggregate: RangeAggregate.Sum));
        Assert.Equal(await ChinookScalarAsync("SELECT sum(milliseconds) FROM track"), sum.Metric);
        var stddev = await fixture.RunAsync(Chinook, new RangeCheckConfig(Track, "unit_price", Aggregate: RangeAggregate.Stddev));
        Assert.Equal(await ChinookScalarAsync("SELECT stddev_samp(unit_price) FROM track"), stddev.Metric!.Value, 9);
    }

    [Fact]
    public async Task Accepted_values_of_media_type_names()
    {
        string[] all = ["MPEG audio file", "Protected AAC audio file", "Protected MPEG-4 video file", "Purchased AAC audio file", "AAC audio file"];
        var media = new TableRef("public", "media_type");

        var every = await fixture.RunAsync(Chinook, new AcceptedValuesConfig(media, "name", all));
        Assert.Equal((CheckStatus.Pass, 0d, 5d), (every.Status, every.Metric!.Value, every.Total!.Value));
        var allButOne = await fixture.RunAsync(Chinook, new AcceptedValuesConfig(media, "name", all[..4]));
        Assert.Equal((CheckStatus.Fail, 1d), (allButOne.Status, allButOne.Metric!.Value));
    }

    [Fact]
    public async Task Pattern_check_of_customer_emails()
    {
        var emails = await fixture.RunAsync(Chinook, new PatternCheckConfig(Customer, "email", @"^[^@\s]+@[^@\s]+\.[a-z]+$"));
        Assert.Equal((CheckStatus.Pass, 0d), (emails.Status, emails.Metric!.Value));
        var gmail = await fixture.RunAsync(Chinook, new PatternCheckConfig(Customer, "email", "@gmail\\.com$"));
        Assert.Equal(await ChinookScalarAsync("SELECT count(*) FROM customer WHERE email !~ '@gmail\\.com$'"), gmail.Metric);
    }

    [Fact]
    public async Task Freshness_of_invoice_date_is_its_age_against_the_database_clock()
    {
        var expected = await ChinookScalarAsync("SELECT extract(epoch FROM now() - max(invoice_date) AT TIME ZONE 'UTC') FROM invoice");
        var outcome = await fixture.RunAsync(Chinook, new FreshnessConfig(new("public", "invoice"), "invoice_date"), critical: Threshold.Lte(86_400));

        Assert.Equal(CheckStatus.Fail, outcome.Status); // the sample's newest invoice is years old
        Assert.InRange(outcome.Metric!.Value, expected - 5, expected + 5);
    }

    [Fact]
    public async Task Freshness_of_a_timestamptz_column_in_seconds()
    {
        var outcome = await fixture.RunAsync(Edges, new FreshnessConfig(new("public", "events"), "happened_at"),
            warning: Threshold.Lte(86_400), critical: Threshold.Lte(3 * 86_400));

        // The newest row was inserted two days before the fixture's now(); the test's now() is a little later.
        Assert.Equal(CheckStatus.Warning, outcome.Status);
        Assert.InRange(outcome.Metric!.Value, 2 * 86_400, 2 * 86_400 + 600);
    }

    [Fact]
    public async Task Field_checks_run_three_rules_on_customer_in_one_statement()
    {
        var statements = new ConcurrentQueue<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = a =>
            {
                if (a.GetTagItem("db.namespace") as string == Chinook) statements.Enqueue(a.GetTagItem("db.query.text") as string ?? a.DisplayName);
            },
        };
        ActivitySource.AddActivityListener(listener);

        var outcome = await fixture.RunAsync(Chinook, new FieldChecksConfig(Customer,
        [
            new FieldRule("company present", "company", FieldRuleKind.NotNull, Critical: new Threshold(ThresholdOperator.Lte, 90, Percent: true)),
            new FieldRule("email shape", "email", FieldRuleKind.Pattern, Pattern: "^[^@]+@[^@]+$"),
            new FieldRule("support rep", "support_rep_id", FieldRuleKind.Range, Min: 3, Max: 4),
        ]));

        Assert.Equal(["company present", "email shape", "support rep"], outcome.Rules.Select(r => r.Name));
        Assert.Equal([49d, 0d, await ChinookScalarAsync("SELECT count(*) FROM customer WHERE support_rep_id NOT BETWEEN 3 AND 4")],
            outcome.Rules.Select(r => r.Metric!.Value));
        Assert.Equal([CheckStatus.Pass, CheckStatus.Pass, CheckStatus.Fail], outcome.Rules.Select(r => r.Status));
        Assert.Equal(CheckStatus.Fail, outcome.Status); // the worst rule
        Assert.Equal(59, outcome.Total);
        // One statement on customer for all three rules (the only other one is the transaction's setup batch).
        var onCustomer = statements.Where(s => s.Contains("\"customer\"", StringComparison.Ordinal)).ToArray();
        Assert.Single(onCustomer);
        Assert.Equal(3, onCustomer[0].Split("FILTER (WHERE", StringSplitOptions.None).Length - 1);
    }

    [Fact]
    public async Task Sql_metric_and_sql_condition_wrap_the_user_query()
    {
        var metric = await fixture.RunAsync(Chinook, new SqlMetricConfig("SELECT sum(total) FROM invoice -- all sales"), critical: Threshold.Gt(0));
        Assert.Equal(CheckStatus.Pass, metric.Status);
        Assert.Equal(await ChinookScalarAsync("SELECT sum(total) FROM invoice"), metric.Metric!.Value, 6);
        Assert.StartsWith("SELECT * FROM (SELECT sum(total) FROM invoice -- all sales\n) AS q", metric.Sql, StringComparison.Ordinal);

        var condition = await fixture.RunAsync(Chinook, new SqlConditionConfig("SELECT * FROM invoice WHERE total < 0;"));
        Assert.Equal((CheckStatus.Pass, 0d), (condition.Status, condition.Metric!.Value));
        var bigInvoices = await fixture.RunAsync(Chinook, new SqlConditionConfig("SELECT * FROM invoice WHERE total > 20"), critical: Threshold.Lte(10));
        Assert.Equal(await ChinookScalarAsync("SELECT count(*) FROM invoice WHERE total > 20"), bigInvoices.Metric);
    }

    [Fact]
    public async Task Sql_metric_must_return_one_number()
    {
        var rows = await fixture.RunAsync(Chinook, new SqlMetricConfig("SELECT invoice_id FROM invoice"));
        Assert.Equal(CheckStatus.Error, rows.Status);
        Assert.Contains("more than one row", rows.Message, StringComparison.Ordinal);
        var text = await fixture.RunAsync(Chinook, new SqlMetricConfig("SELECT 'many'"));
        Assert.Equal(CheckStatus.Error, text.Status);
        Assert.Contains("not a number", text.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Schema_compares_expected_columns_with_the_catalog()
    {
        var matching = await fixture.RunAsync(Chinook, new SchemaConfig(Customer,
            [new("customer_id", "int"), new("first_name", "varchar(40)"), new("company", "varchar"), new("email", "character varying(60)")]));
        Assert.Equal((CheckStatus.Pass, 0d), (matching.Status, matching.Metric!.Value));

        var drifted = await fixture.RunAsync(Chinook, new SchemaConfig(Customer,
            [new("customer_id", "bigint"), new("loyalty_tier", "text"), new("email", "varchar")], AllowExtraColumns: true));
        Assert.Equal((CheckStatus.Fail, 2d), (drifted.Status, drifted.Metric!.Value));
        Assert.Equal("customer_id: integer, expected bigint; loyalty_tier: missing", drifted.Message);

        var missingTable = await fixture.RunAsync(Chinook, new SchemaConfig(new("public", "no_such_table"), [new("id", "int")]));
        Assert.Equal(CheckStatus.Fail, missingTable.Status);
        Assert.Contains("not found", missingTable.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconciliation_compares_two_metrics_with_a_tolerance()
    {
        // Every invoice line has quantity 1 in the sample, so the two counts agree exactly.
        var lines = new ReconciliationConfig(new RowCountConfig(new("public", "invoice_line")),
            new SqlMetricConfig("SELECT sum(quantity) FROM invoice_line"), ToleranceKind.Absolute, 0);
        Assert.Equal((CheckStatus.Pass, 0d), Of(await fixture.RunAsync(Chinook, lines)));

        // 3503 against 3500 differ by 3 / 3503 = 0.0856 %.
        var relative = new ReconciliationConfig(new RowCountConfig(Track), new SqlMetricConfig("SELECT 3500"), ToleranceKind.Relative, 0.1m);
        var within = await fixture.RunAsync(Chinook, relative);
        Assert.Equal(CheckStatus.Pass, within.Status);
        Assert.Equal(3d / 3503 * 100, within.Metric!.Value, 9);
        Assert.Equal(CheckStatus.Fail, (await fixture.RunAsync(Chinook, relative with { Tolerance = 0.05m })).Status);
        Assert.Equal(CheckStatus.Fail, (await fixture.RunAsync(Chinook, relative with { Kind = ToleranceKind.Absolute, Tolerance = 2 })).Status);
    }

    [Fact]
    public async Task Reconciliation_can_read_its_sides_from_two_sources()
    {
        // Chinook's 2240 invoice lines against a scratch table's 5 rows: a difference of 2235.
        var config = new ReconciliationConfig(new RowCountConfig(new("public", "invoice_line")),
            new RowCountConfig(new("public", "all_nulls")), ToleranceKind.Absolute, 0);
        var compiled = PostgresCheckDialect.Instance.Compile(new CheckDefinition(config));
        var (left, leftCreds) = Ingestion.PostgresScraperFixture.Source(Chinook);
        var right = Ingestion.PostgresScraperFixture.Source(Edges);

        var outcome = await fixture.Runner.RunAsync(compiled, left, leftCreds, right, default);
        Assert.Equal((CheckStatus.Fail, 2235d), Of(outcome));
        Assert.Equal("left 2240, right 5", outcome.Message);

        // A failing right side names its own source.
        var unreachable = await fixture.Runner.RunAsync(compiled, left, leftCreds,
            (right.Config with { Host = "127.0.0.1", Port = 1, ConnectTimeoutSeconds = 2 }, right.Credentials), default);
        Assert.Equal(CheckStatus.Error, unreachable.Status);
        Assert.Contains("127.0.0.1:1", unreachable.Message, StringComparison.Ordinal);
    }

    // ------------------------------------------------------------ edge cases ----

    [Fact]
    public async Task An_empty_table_has_no_rows_no_failures_and_no_aggregates()
    {
        var empty = new TableRef("public", "empty");
        Assert.Equal((CheckStatus.Fail, 0d), Of(await fixture.RunAsync(Edges, new RowCountConfig(empty))));
        var nulls = await fixture.RunAsync(Edges, new NullCheckConfig(empty, "label"), critical: new Threshold(ThresholdOperator.Eq, 0, Percent: true));
        Assert.Equal((CheckStatus.Pass, 0d, 0d), (nulls.Status, nulls.Metric!.Value, nulls.Total!.Value));
        Assert.Equal((CheckStatus.Pass, 0d), Of(await fixture.RunAsync(Edges, new UniquenessConfig(empty, ["id"]))));

        var mean = await fixture.RunAsync(Edges, new RangeCheckConfig(empty, "amount", Aggregate: RangeAggregate.Mean), critical: Threshold.Gt(0));
        Assert.Equal(CheckStatus.Error, mean.Status);
        Assert.Contains("NULL", mean.Message, StringComparison.Ordinal);
        Assert.Equal(CheckStatus.Error, (await fixture.RunAsync(Edges, new FreshnessConfig(empty, "seen_at"), critical: Threshold.Lte(60))).Status);
    }

    [Fact]
    public async Task A_column_of_nulls_is_all_failures_for_null_checks_and_none_for_value_rules()
    {
        var allNulls = new TableRef("public", "all_nulls");
        var nulls = await fixture.RunAsync(Edges, new NullCheckConfig(allNulls, "label"), critical: new Threshold(ThresholdOperator.Lte, 50, Percent: true));
        Assert.Equal((CheckStatus.Fail, 5d, 5d), (nulls.Status, nulls.Metric!.Value, nulls.Total!.Value));
        Assert.Equal((CheckStatus.Pass, 0d), Of(await fixture.RunAsync(Edges, new PatternCheckConfig(allNulls, "label", "^x$"))));
        Assert.Equal((CheckStatus.Pass, 0d), Of(await fixture.RunAsync(Edges, new AcceptedValuesConfig(allNulls, "label", ["x"]))));
        Assert.Equal((CheckStatus.Pass, 0d), Of(await fixture.RunAsync(Edges, new RangeCheckConfig(allNulls, "amount", 0, 1))));
        Assert.Equal((CheckStatus.Pass, 0d), Of(await fixture.RunAsync(Edges, new UniquenessConfig(allNulls, ["label"]))));
    }

    [Theory]
    // Integral bounds (sent as bigint) and fractional ones (sent as numeric) give the same exact answer on every numeric type.
    [InlineData("s", 0, 10, 2)]
    [InlineData("i", 0, 10, 2)]
    [InlineData("b", 0, 10, 2)]
    [InlineData("n", 0, 10, 2)]
    [InlineData("r", 0, 10, 2)]
    [InlineData("d", 0, 10, 2)]
    [InlineData("i", -0.5, 10.5, 2)]
    [InlineData("i", 0.5, 9.5, 4)]
    [InlineData("b", 0.5, 9000000000.5, 2)]
    [InlineData("n", -0.01, 10.005, 1)]
    [InlineData("d", 0.1, 10, 3)]
    public async Task Range_bounds_compare_exactly_on_every_numeric_column_type(string column, double min, double max, double outside)
    {
        var typed = new TableRef("public", "typed");
        var outcome = await fixture.RunAsync(Edges, new RangeCheckConfig(typed, column, (decimal)min, (decimal)max));
        Assert.Equal((CheckStatus.Fail, outside), Of(outcome));
        var rule = new FieldRule("r", column, FieldRuleKind.Range, Min: (decimal)min, Max: (decimal)max);
        Assert.Equal(outside, (await fixture.RunAsync(Edges, new FieldChecksConfig(typed, [rule]))).Metric);
    }

    [Fact]
    public async Task A_range_on_a_text_column_is_an_error_not_a_string_comparison()
    {
        var outcome = await fixture.RunAsync(Edges, new RangeCheckConfig(new TableRef("public", "typed"), "t", 0, 10));
        Assert.Equal(CheckStatus.Error, outcome.Status);
        Assert.Contains("operator does not exist", outcome.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Identifiers_that_need_quoting_are_only_ever_names()
    {
        Assert.Equal(1d, (await fixture.RunAsync(Edges, new NullCheckConfig(Odd, "select"))).Metric);
        Assert.Equal(1d, (await fixture.RunAsync(Edges, new NullCheckConfig(Odd, "Mixed Case"))).Metric);
        Assert.Equal(1d, (await fixture.RunAsync(Edges, new UniquenessConfig(Odd, ["select"]))).Metric);
        // A column really named x" OR 1=1 -- is found and counted, not executed.
        Assert.Equal(1d, (await fixture.RunAsync(Edges, new NullCheckConfig(Odd, "x\" OR 1=1 --"))).Metric);

        // An injection attempt that is not a column is an unknown column, not a widened query.
        var injected = await fixture.RunAsync(Edges, new NullCheckConfig(Odd, "select\" IS NULL OR true OR \"select"));
        Assert.Equal(CheckStatus.Error, injected.Status);
        Assert.Contains("does not exist", injected.Message, StringComparison.Ordinal);
        Assert.Contains("(42703)", injected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Values_are_bound_never_spliced()
    {
        const string Hostile = "a'); DELETE FROM public.victims; --";
        var config = new AcceptedValuesConfig(Odd, "Mixed Case", [Hostile, "it's"]);
        var compiled = PostgresCheckDialect.Instance.Compile(new CheckDefinition(config));
        Assert.DoesNotContain("victims", compiled.Sql, StringComparison.Ordinal);
        Assert.Contains(compiled.Queries[0].Parameters, p => p is string[] values && values.Contains(Hostile));

        // 'a' and 'b' are not accepted; "it's" is, quote and all; NULL is not judged.
        Assert.Equal((CheckStatus.Fail, 2d), Of(await fixture.RunAsync(Edges, config)));
        var quoteRegex = await fixture.RunAsync(Edges, new PatternCheckConfig(Odd, "Mixed Case", "^[a-z]+('[a-z]+)?$"));
        Assert.Equal((CheckStatus.Pass, 0d), Of(quoteRegex));
    }

    [Fact]
    public async Task A_pathological_regex_ends_within_the_statement_timeout()
    {
        var started = Stopwatch.StartNew();
        var outcome = await fixture.RunAsync(Edges, new PatternCheckConfig(new("public", "long_text"), "s", "^(a+)+$"), timeoutSeconds: 1);

        // PostgreSQL's regex engine does not backtrack exponentially; if it ever did, the timeout would stop it.
        Assert.Equal((CheckStatus.Fail, 1d), Of(outcome));
        Assert.InRange(started.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));

        var invalid = await fixture.RunAsync(Edges, new PatternCheckConfig(new("public", "long_text"), "s", "(unclosed"));
        Assert.Equal(CheckStatus.Error, invalid.Status);
        Assert.Contains("invalid regular expression", invalid.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_slow_query_is_stopped_by_the_statement_timeout()
    {
        var started = Stopwatch.StartNew();
        var outcome = await fixture.RunAsync(Edges, new SqlMetricConfig("SELECT 1 FROM pg_sleep(10)"), timeoutSeconds: 1);

        Assert.Equal(CheckStatus.Error, outcome.Status);
        Assert.Equal("The check was stopped by the statement timeout (1 s)", outcome.Message);
        Assert.Null(outcome.Metric);
        Assert.Contains("pg_sleep", outcome.Sql, StringComparison.Ordinal);
        Assert.InRange(started.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(8));
    }

    [Theory]
    // PostgreSQL refuses a data-modifying WITH inside the wrapping subquery; READ ONLY would stop it regardless.
    [InlineData("WITH w AS (INSERT INTO public.victims VALUES (1) RETURNING id) SELECT count(*) FROM w", "must be at the top level")]
    [InlineData("DELETE FROM public.victims RETURNING id", "syntax error")]
    [InlineData("DROP TABLE public.victims", "syntax error")]
    // Legal inside a subquery: only the read-only transaction stops these.
    [InlineData("SELECT public.side_effect()", "read-only transaction")]
    [InlineData("SELECT nextval('public.counter')", "read-only transaction")]
    [InlineData("SELECT id FROM public.victims FOR UPDATE", "read-only transaction")]
    [InlineData("SELECT pg_catalog.set_config('transaction_read_only', 'off', true)", "read-write")]
    public async Task A_query_that_tries_to_write_is_an_error_and_writes_nothing(string sql, string reason)
    {
        foreach (var config in new CheckConfig[] { new SqlMetricConfig(sql), new SqlConditionConfig(sql) })
        {
            var outcome = await fixture.RunAsync(Edges, config);
            Assert.Equal(CheckStatus.Error, outcome.Status);
            Assert.Contains(reason, outcome.Message, StringComparison.Ordinal);
        }
        // The table is still there, still empty, and the sequence was never advanced.
        Assert.Equal(0L, await fixture.Edges.ScalarAsync<long>("SELECT count(*) FROM public.victims"));
        Assert.False(await fixture.Edges.ScalarAsync<bool>("SELECT is_called FROM public.counter"));
    }

    [Fact]
    public void Several_statements_are_refused_before_reaching_the_source()
    {
        var ex = Assert.Throws<CheckConfigException>(() => PostgresCheckDialect.Instance.Compile(
            new CheckDefinition(new SqlMetricConfig("SELECT 1; DELETE FROM public.victims"))));
        Assert.Equal("sql", ex.Key);
    }

    [Fact]
    public async Task A_source_error_never_carries_the_password()
    {
        const string Secret = "Pa55-never-in-a-message";
        var (source, _) = Ingestion.PostgresScraperFixture.Source(Edges);
        var outcome = await fixture.Runner.RunAsync(
            PostgresCheckDialect.Instance.Compile(new CheckDefinition(new RowCountConfig(new("public", "empty")))),
            source with { Host = "127.0.0.1", Port = 1, ConnectTimeoutSeconds = 2 }, new("nobody", Secret), default);

        Assert.Equal(CheckStatus.Error, outcome.Status);
        Assert.DoesNotContain(Secret, outcome.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:1", outcome.Message, StringComparison.Ordinal);
    }

    private static (CheckStatus, double) Of(CheckOutcome outcome) => (outcome.Status, outcome.Metric ?? double.NaN);
}
