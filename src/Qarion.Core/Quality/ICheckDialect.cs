namespace Qarion.Core.Quality;

/// <summary>How the first row of a compiled query is read into a metric.</summary>
public enum ResultShape
{
    /// <summary>One row, one numeric column: the metric (sql_metric insists on exactly that).</summary>
    Scalar,
    /// <summary>One row: failing rows, then all rows (so thresholds may be percentages).</summary>
    FailuresOfTotal,
    /// <summary>One row: all rows, then the failing rows of each rule, in rule order.</summary>
    FieldRules,
    /// <summary>Rows of (column name, formatted type) from the catalog, compared with the expected columns.</summary>
    Columns,
}

/// <summary>One statement and its positional parameters (<c>$1</c>, <c>$2</c>…), never inlined into the text.</summary>
public sealed record CompiledQuery(string Sql, IReadOnlyList<object> Parameters, ResultShape Shape);

/// <summary>A check compiled for one dialect: one query, or two for a reconciliation (left, then right).</summary>
public sealed record CompiledCheck(CheckDefinition Definition, IReadOnlyList<CompiledQuery> Queries)
{
    /// <summary>The SQL recorded on the execution: the statements that ran, separated by blank lines.</summary>
    public string Sql => string.Join("\n\n", Queries.Select(q => q.Sql));
}

/// <summary>
/// Builds a source's SQL for a check config. Implementations quote every identifier with the dialect's own
/// quoting, bind every value as a parameter, and accept user SQL only as one statement wrapped in a subquery.
/// </summary>
public interface ICheckDialect
{
    /// <summary>The connector platform this dialect speaks for (<c>postgresql</c>).</summary>
    string Platform { get; }

    string QuoteIdentifier(string identifier);

    /// <exception cref="CheckConfigException">The config cannot be compiled (names the key).</exception>
    CompiledCheck Compile(CheckDefinition check);
}
