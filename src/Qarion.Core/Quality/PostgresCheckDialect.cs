using System.Text;

namespace Qarion.Core.Quality;

/// <summary>
/// PostgreSQL SQL for every pushdown check type. Identifiers are always double-quoted (inner quotes doubled), so
/// a column named <c>select</c>, <c>Mixed Case</c> or <c>x" OR 1=1 --</c> is only ever a name; every value
/// (bounds, regex, accepted values, catalog names) is a positional parameter. Counts come back as bigint and
/// aggregates as whatever type they have; the runner converts both to a double.
/// </summary>
public sealed class PostgresCheckDialect : ICheckDialect
{
    public static PostgresCheckDialect Instance { get; } = new();

    public string Platform => "postgresql";

    public string QuoteIdentifier(string identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        // PostgreSQL cannot store a NUL in a name, and an empty quoted identifier is a syntax error: refuse both here.
        if (identifier.Length == 0 || identifier.Contains('\0', StringComparison.Ordinal))
            throw new CheckConfigException("column", "An identifier must be non-empty and contain no NUL character");
        return "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    private string Table(TableRef table)
    {
        if (table is null) throw new CheckConfigException("table", "table is required");
        return QuoteIdentifier(table.Schema) + "." + QuoteIdentifier(table.Name);
    }

    public CompiledCheck Compile(CheckDefinition check)
    {
        ArgumentNullException.ThrowIfNull(check);
        IReadOnlyList<CompiledQuery> queries = check.Config is ReconciliationConfig r
            ? [Side(r.Left, "left"), Side(r.Right, "right")]
            : [Compile(check.Config)];
        return new CompiledCheck(check, queries);
    }

    /// <summary>A side of a reconciliation must produce one number; a count of failing rows is one too.</summary>
    private CompiledQuery Side(CheckConfig config, string key)
    {
        if (config is ReconciliationConfig or FieldChecksConfig or SchemaConfig)
            throw new CheckConfigException(key, $"A reconciliation side must produce one number, not a {config.Type} check");
        return Compile(config);
    }

    private CompiledQuery Compile(CheckConfig config) => config switch
    {
        RowCountConfig c => new($"SELECT count(*) FROM {Table(c.Table)}", [], ResultShape.Scalar),
        NullCheckConfig c => FailuresOf(c.Table, $"{QuoteIdentifier(c.Column)} IS NULL", []),
        UniquenessConfig c => Uniqueness(c),
        RangeCheckConfig c => Range(c),
        PatternCheckConfig c => FailuresOf(c.Table, PatternFails(c.Column, "$1"), [Required(c.Pattern, "pattern")]),
        AcceptedValuesConfig c => FailuresOf(c.Table, NotAcceptedFails(c.Column, "$1"), [AcceptedList(c.Values)]),
        // timestamp (without zone) columns are read in the session's zone, which the runner pins to UTC.
        FreshnessConfig c => new(
            $"SELECT extract(epoch FROM (now() - max({QuoteIdentifier(c.Column)})::timestamptz)) FROM {Table(c.Table)}", [], ResultShape.Scalar),
        FieldChecksConfig c => FieldChecks(c),
        // LIMIT 2: enough to tell "one row" from "several" without reading a large result.
        SqlMetricConfig c => new($"SELECT * FROM ({UserSql.SingleStatement(c.Sql)}\n) AS q LIMIT 2", [], ResultShape.Scalar),
        SqlConditionConfig c => new($"SELECT count(*) FROM ({UserSql.SingleStatement(c.Sql)}\n) AS q", [], ResultShape.Scalar),
        SchemaConfig c => Schema(c),
        null => throw new CheckConfigException("config", "config is required"),
        _ => throw new CheckConfigException("type", $"{config.Type} is not a check this dialect compiles on its own"),
    };

    private CompiledQuery FailuresOf(TableRef table, string failing, IReadOnlyList<object> parameters)
        => new($"SELECT count(*) FILTER (WHERE {failing}), count(*) FROM {Table(table)}", parameters, ResultShape.FailuresOfTotal);

    private CompiledQuery Uniqueness(UniquenessConfig c)
    {
        if (c.Columns is not { Count: > 0 }) throw new CheckConfigException("columns", "uniqueness needs at least one column");
        var keys = string.Join(", ", c.Columns.Select(QuoteIdentifier));
        var anyNull = string.Join(" OR ", c.Columns.Select(col => $"{QuoteIdentifier(col)} IS NULL"));
        // One scan: group every row by its key; NULL keys form groups of their own that never count as duplicates.
        return new(
            $"SELECT coalesce(sum(n - 1) FILTER (WHERE n > 1 AND NOT has_null), 0), coalesce(sum(n), 0) " +
            $"FROM (SELECT count(*) AS n, ({anyNull}) AS has_null FROM {Table(c.Table)} GROUP BY {keys}) AS g",
            [], ResultShape.FailuresOfTotal);
    }

    private CompiledQuery Range(RangeCheckConfig c)
    {
        var column = QuoteIdentifier(c.Column);
        if (c.Aggregate != RangeAggregate.None)
        {
            var aggregate = c.Aggregate switch
            {
                RangeAggregate.Min => $"min({column})",
                RangeAggregate.Max => $"max({column})",
                RangeAggregate.Mean => $"avg({column})",
                RangeAggregate.Sum => $"sum({column})",
                RangeAggregate.Stddev => $"stddev_samp({column})",
                _ => throw new CheckConfigException("aggregate", $"Unknown aggregate {c.Aggregate}"),
            };
            return new($"SELECT {aggregate} FROM {Table(c.Table)}", [], ResultShape.Scalar);
        }
        var parameters = new List<object>();
        return FailuresOf(c.Table, RangeFails(c.Column, c.Min, c.Max, parameters), parameters);
    }

    /// <summary>Adds the bounds to <paramref name="parameters"/> and returns the condition a failing row meets.</summary>
    private string RangeFails(string columnName, decimal? min, decimal? max, List<object> parameters)
    {
        if (min is null && max is null) throw new CheckConfigException("min", "A range needs min, max or both");
        if (min > max) throw new CheckConfigException("min", "min must not exceed max");
        var column = QuoteIdentifier(columnName);
        var outside = new List<string>();
        if (min is { } lo)
        {
            parameters.Add(Bound(lo));
            outside.Add($"{column} < ${parameters.Count}");
        }
        if (max is { } hi)
        {
            parameters.Add(Bound(hi));
            outside.Add($"{column} > ${parameters.Count}");
        }
        return string.Join(" OR ", outside);
    }

    /// <summary>
    /// A range bound as a parameter. An integral bound goes as <c>bigint</c>: PostgreSQL then compares an integer
    /// column with its own cross-type operators and folds the bound into a numeric or double column's type once,
    /// instead of casting every row's value to <c>numeric</c> (which costs about half a scan on a large table). A
    /// fractional bound stays <c>numeric</c>, exact for every numeric column type.
    /// </summary>
    private static object Bound(decimal value)
    {
        object bound = value;
        if (decimal.Truncate(value) == value && value >= long.MinValue && value <= long.MaxValue) bound = (long)value;
        return bound;
    }

    // NULLs are the business of null checks; pattern and accepted-values rules judge present values only.
    private string PatternFails(string column, string parameter) => $"NOT ({QuoteIdentifier(column)}::text ~ {parameter})";

    private string NotAcceptedFails(string column, string parameter) => $"{QuoteIdentifier(column)}::text <> ALL ({parameter})";

    private static string Required(string? value, string key)
        => string.IsNullOrEmpty(value) ? throw new CheckConfigException(key, $"{key} is required") : value;

    private static string[] AcceptedList(IReadOnlyList<string>? values)
        => values is { Count: > 0 } ? [.. values] : throw new CheckConfigException("values", "accepted_values needs at least one value");

    private CompiledQuery FieldChecks(FieldChecksConfig c)
    {
        if (c.Rules is not { Count: > 0 }) throw new CheckConfigException("rules", "field_checks needs at least one rule");
        var parameters = new List<object>();
        var sql = new StringBuilder("SELECT count(*)");
        foreach (var rule in c.Rules)
        {
            string failing;
            switch (rule.Kind)
            {
                case FieldRuleKind.NotNull:
                    failing = $"{QuoteIdentifier(rule.Column)} IS NULL";
                    break;
                case FieldRuleKind.Range:
                    failing = RangeFails(rule.Column, rule.Min, rule.Max, parameters);
                    break;
                case FieldRuleKind.Pattern:
                    parameters.Add(Required(rule.Pattern, "pattern"));
                    failing = PatternFails(rule.Column, $"${parameters.Count}");
                    break;
                case FieldRuleKind.AcceptedValues:
                    parameters.Add(AcceptedList(rule.Values));
                    failing = NotAcceptedFails(rule.Column, $"${parameters.Count}");
                    break;
                default:
                    throw new CheckConfigException("kind", $"Unknown field rule {rule.Kind}");
            }
            sql.Append(",\n       count(*) FILTER (WHERE ").Append(failing).Append(')');
        }
        sql.Append("\nFROM ").Append(Table(c.Table));
        return new(sql.ToString(), parameters, ResultShape.FieldRules);
    }

    private static CompiledQuery Schema(SchemaConfig c)
    {
        if (c.Table is null) throw new CheckConfigException("table", "table is required");
        if (c.Columns is not { Count: > 0 }) throw new CheckConfigException("columns", "schema needs at least one expected column");
        // Catalog names are compared as values, so no quoting is involved at all.
        const string sql = """
            SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)
            FROM pg_catalog.pg_attribute AS a
            JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
            JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """;
        return new(sql, [c.Table.Schema, c.Table.Name], ResultShape.Columns);
    }
}
