using System.Globalization;
using System.Net.Sockets;
using System.Security.Authentication;
using Npgsql;
using Qarion.Core.Ingestion.Postgres;

namespace Qarion.Core.Quality;

/// <summary>
/// Runs a compiled check against a PostgreSQL source and turns the result into a <see cref="CheckOutcome"/>.
/// Every run opens its own unpooled connection (checks run rarely; nothing may linger in a customer's database),
/// and works inside a READ ONLY transaction with a local statement timeout: a user query cannot write — not
/// with a writable CTE, not through a function with side effects, not with nextval — whatever the role could
/// do. Source failures and timeouts become ERROR outcomes with a message that never holds the password.
/// </summary>
public sealed class CheckRunner(TimeProvider clock)
{
    public Task<CheckOutcome> RunAsync(CompiledCheck check, PostgresSourceConfig source, PostgresCredentials creds, CancellationToken ct)
        => RunAsync(check, source, creds, right: null, ct);

    /// <summary>
    /// Runs <paramref name="check"/>; a reconciliation given a <paramref name="right"/> source reads its right
    /// side there (two connectors), each side in its own read-only transaction.
    /// </summary>
    public async Task<CheckOutcome> RunAsync(
        CompiledCheck check, PostgresSourceConfig source, PostgresCredentials creds,
        (PostgresSourceConfig Source, PostgresCredentials Credentials)? right, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(check);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(creds);
        if (right is not null && check.Queries.Count != 2)
            throw new ArgumentException("Only a reconciliation reads a second source", nameof(right));
        var started = clock.GetTimestamp();
        CheckOutcome outcome;
        // Which source is being read, so a failure names the right host and scrubs the right password.
        var (current, currentCreds) = (source, creds);
        try
        {
            List<List<object?[]>> rows;
            if (right is { } other)
            {
                rows = await QueryAsync(check.Queries.Take(1).ToList(), source, creds, ct);
                (current, currentCreds) = other;
                rows.AddRange(await QueryAsync(check.Queries.Skip(1).ToList(), other.Source, other.Credentials, ct));
            }
            else rows = await QueryAsync(check.Queries, source, creds, ct);
            outcome = Evaluate(check, rows);
        }
        catch (Exception ex) when (IsSourceFailure(ex, ct))
        {
            outcome = CheckOutcome.Error(SourceErrors.Scrub(Describe(ex, current), currentCreds.Password), check.Sql);
        }
        return outcome with { Duration = clock.GetElapsedTime(started) };
    }

    /// <summary>The rows of each query, as objects (at most a catalog's columns or two rows of a user query).</summary>
    private static async Task<List<List<object?[]>>> QueryAsync(
        IReadOnlyList<CompiledQuery> queries, PostgresSourceConfig source, PostgresCredentials creds, CancellationToken ct)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(PostgresScraper.ConnectionString(source, creds))
        {
            ApplicationName = "qarion-quality",
        }.ConnectionString;
        // Type loading off: the checks read built-in types only, and a fresh data source would otherwise first
        // run Npgsql's type-loading query on every run.
        await using var dataSource = new NpgsqlDataSourceBuilder(connectionString)
            .ConfigureTypeLoading(types => types.EnableTypeLoading(false))
            .Build();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await ReadOnlyTransaction.BeginAsync(connection, source.StatementTimeoutSeconds, ct);

        var results = new List<List<object?[]>>(queries.Count);
        foreach (var query in queries)
        {
            await using var command = new NpgsqlCommand(query.Sql, connection, transaction);
            foreach (var value in query.Parameters) command.Parameters.Add(new NpgsqlParameter { Value = value });
            await using var reader = await command.ExecuteReaderAsync(ct);
            var rows = new List<object?[]>();
            while (await reader.ReadAsync(ct))
            {
                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                rows.Add(row);
            }
            results.Add(rows);
        }
        // Nothing to keep: rolling back is the honest end of a read-only transaction.
        await transaction.RollbackAsync(ct);
        return results;
    }

    private static CheckOutcome Evaluate(CompiledCheck check, List<List<object?[]>> results)
    {
        var definition = check.Definition;
        var sql = check.Sql;
        try
        {
            switch (definition.Config)
            {
                case ReconciliationConfig r:
                {
                    var left = Scalar(results[0], "left");
                    var right = Scalar(results[1], "right");
                    if (left is null || right is null) return CheckOutcome.Error("A reconciliation side measured no value (NULL)", sql);
                    var difference = Math.Abs(left.Value - right.Value);
                    var scale = Math.Max(Math.Abs(left.Value), Math.Abs(right.Value));
                    var metric = r.Kind == ToleranceKind.Absolute ? difference : scale == 0 ? 0 : difference / scale * 100;
                    // The tolerance is the critical threshold; a warning threshold may narrow it further.
                    var (status, message) = ThresholdEvaluation.Evaluate(metric, null, definition.Warning, Threshold.Lte((double)r.Tolerance));
                    return new(status, metric, null, sql,
                        message ?? string.Create(CultureInfo.InvariantCulture, $"left {left}, right {right}"), []);
                }
                case FieldChecksConfig f:
                    return FieldRules(f, results[0], sql);
                case SchemaConfig s:
                    return Schema(s, definition, results[0], sql);
            }
            var query = check.Queries[0];
            var rows = results[0];
            double? value, total = null;
            if (query.Shape == ResultShape.FailuresOfTotal)
            {
                value = Number(rows[0][0]);
                total = Number(rows[0][1]);
            }
            else value = Scalar(rows, "sql");
            var critical = definition.Critical ?? DefaultCritical(definition);
            var evaluated = ThresholdEvaluation.Evaluate(value, total, definition.Warning, critical);
            return new(evaluated.Status, value, total, sql, evaluated.Message, []);
        }
        catch (CheckResultException ex)
        {
            return CheckOutcome.Error(ex.Message, sql);
        }
    }

    /// <summary>
    /// Types that count failing rows pass at 0 unless told otherwise; row_count passes when the table is not
    /// empty; a check measuring a free-form number (aggregate, freshness, sql_metric) needs thresholds to fail.
    /// </summary>
    private static Threshold? DefaultCritical(CheckDefinition definition) => definition.Warning is not null ? null : definition.Config switch
    {
        RowCountConfig => Threshold.Gt(0),
        NullCheckConfig or UniquenessConfig or PatternCheckConfig or AcceptedValuesConfig or SqlConditionConfig => Threshold.Eq(0),
        RangeCheckConfig { Aggregate: RangeAggregate.None } => Threshold.Eq(0),
        _ => null,
    };

    private static CheckOutcome FieldRules(FieldChecksConfig config, List<object?[]> rows, string sql)
    {
        var row = rows[0];
        var total = Number(row[0]);
        var outcomes = new List<RuleOutcome>(config.Rules.Count);
        for (var i = 0; i < config.Rules.Count; i++)
        {
            var rule = config.Rules[i];
            var failing = Number(row[i + 1]);
            var critical = rule.Critical ?? (rule.Warning is null ? Threshold.Eq(0) : null);
            var (status, message) = ThresholdEvaluation.Evaluate(failing, total, rule.Warning, critical);
            outcomes.Add(new RuleOutcome(rule.Name, status, failing, message));
        }
        // The check is as bad as its worst rule; its metric is the rows failing any rule, counted per rule.
        var worst = outcomes.Max(o => o.Status);
        return new(worst, outcomes.Sum(o => o.Metric ?? 0), total, sql, null, outcomes);
    }

    private static CheckOutcome Schema(SchemaConfig config, CheckDefinition definition, List<object?[]> rows, string sql)
    {
        if (rows.Count == 0)
            return new(CheckStatus.Fail, config.Columns.Count, null, sql, $"Table {config.Table} was not found", []);
        var actual = rows.ToDictionary(r => (string)r[0]!, r => (string)r[1]!, StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var expected in config.Columns)
        {
            if (!actual.TryGetValue(expected.Name, out var type)) problems.Add($"{expected.Name}: missing");
            else if (!SameType(expected.DataType, type)) problems.Add($"{expected.Name}: {type}, expected {expected.DataType}");
        }
        if (!config.AllowExtraColumns)
        {
            var expectedNames = config.Columns.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            problems.AddRange(actual.Keys.Where(name => !expectedNames.Contains(name)).Select(name => $"{name}: not expected"));
        }
        var critical = definition.Critical ?? (definition.Warning is null ? Threshold.Eq(0) : null);
        var (status, message) = ThresholdEvaluation.Evaluate(problems.Count, null, definition.Warning, critical);
        return new(status, problems.Count, null, sql, message ?? (problems.Count == 0 ? null : string.Join("; ", problems)), []);
    }

    /// <summary>Case-insensitive; an expected type without a modifier accepts any (<c>numeric</c> ~ <c>numeric(10,2)</c>).</summary>
    private static bool SameType(string expected, string actual)
    {
        var e = Normalise(expected);
        var a = Normalise(actual);
        if (e == a) return true;
        var paren = a.IndexOf('(', StringComparison.Ordinal);
        return !e.Contains('(', StringComparison.Ordinal) && paren > 0 && e == Normalise(a[..paren]);
    }

    /// <summary>The short spellings users write, mapped to format_type's names.</summary>
    private static string Normalise(string type)
    {
        var t = type.Trim().ToLowerInvariant();
        var paren = t.IndexOf('(', StringComparison.Ordinal);
        var (name, modifier) = paren < 0 ? (t, "") : (t[..paren].Trim(), t[paren..].Replace(" ", "", StringComparison.Ordinal));
        name = name switch
        {
            "int" or "int4" => "integer",
            "int8" => "bigint",
            "int2" => "smallint",
            "varchar" => "character varying",
            "char" or "bpchar" => "character",
            "float8" or "double" => "double precision",
            "float4" => "real",
            "bool" => "boolean",
            "decimal" => "numeric",
            "timestamp" => "timestamp without time zone",
            "timestamptz" => "timestamp with time zone",
            _ => name,
        };
        return name + modifier;
    }

    /// <summary>sql_metric must return exactly one row of one numeric column; the built-in queries always do.</summary>
    private static double? Scalar(List<object?[]> rows, string side)
    {
        if (rows.Count != 1) throw new CheckResultException($"The {side} query returned {(rows.Count == 0 ? "no rows" : "more than one row")}; it must return exactly one");
        if (rows[0].Length != 1) throw new CheckResultException($"The {side} query returned {rows[0].Length} columns; it must return exactly one");
        return Number(rows[0][0]);
    }

    private static double? Number(object? value) => value switch
    {
        null => null,
        long l => l,
        int i => i,
        short s => s,
        decimal d => (double)d,
        double d => d,
        float f => f,
        _ => throw new CheckResultException($"The query returned a {value.GetType().Name}, not a number"),
    };

    private sealed class CheckResultException(string message) : Exception(message);

    /// <summary>A cancellation the caller asked for propagates; everything the source or the network did is an ERROR.</summary>
    private static bool IsSourceFailure(Exception ex, CancellationToken ct) => ex switch
    {
        OperationCanceledException => !ct.IsCancellationRequested,
        NpgsqlException or SocketException or TimeoutException or IOException or AuthenticationException => true,
        _ => false,
    };

    private static string Describe(Exception ex, PostgresSourceConfig source)
    {
        if (SourceErrors.Find<PostgresException>(ex) is { } pg)
        {
            return pg.SqlState switch
            {
                PostgresErrorCodes.QueryCanceled when pg.MessageText.Contains("statement timeout", StringComparison.Ordinal) =>
                    $"The check was stopped by the statement timeout ({source.StatementTimeoutSeconds} s)",
                PostgresErrorCodes.ReadOnlySqlTransaction => $"The check tried to write to the source, which is never allowed: {pg.MessageText} ({pg.SqlState})",
                _ => $"The source reported an error: {pg.MessageText} ({pg.SqlState})",
            };
        }
        return ex is OperationCanceledException or TimeoutException
            ? $"Timed out talking to {source.Host}:{source.Port}"
            : $"Could not run the check on {source.Host}:{source.Port}: {ex.Message}";
    }
}
