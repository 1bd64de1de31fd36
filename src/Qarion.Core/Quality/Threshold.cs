namespace Qarion.Core.Quality;

public enum ThresholdOperator
{
    Between,
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
    Ne,
}

/// <summary>
/// What a metric must satisfy: <c>{operator, value}</c>, or <c>{operator: between, min, max}</c> (inclusive).
/// A threshold is a pass condition — critical <c>lte 10</c> fails a check with 11 nulls — so a warning
/// threshold is the stricter one (warning <c>eq 0</c> next to critical <c>lte 10</c> warns on 1 to 10).
/// With <see cref="Percent"/> it applies to the metric as a percentage of the rows checked.
/// </summary>
public sealed record Threshold(ThresholdOperator Operator, double? Value = null, double? Min = null, double? Max = null, bool Percent = false)
{
    public static Threshold Gt(double value) => new(ThresholdOperator.Gt, value);
    public static Threshold Gte(double value) => new(ThresholdOperator.Gte, value);
    public static Threshold Lt(double value) => new(ThresholdOperator.Lt, value);
    public static Threshold Lte(double value) => new(ThresholdOperator.Lte, value);
    public static Threshold Eq(double value) => new(ThresholdOperator.Eq, value);
    public static Threshold Ne(double value) => new(ThresholdOperator.Ne, value);
    public static Threshold Between(double min, double max) => new(ThresholdOperator.Between, Min: min, Max: max);

    /// <summary>The key that is missing or inconsistent (for a 422 naming it), or null when the threshold is usable.</summary>
    public (string Key, string Message)? Problem() => Operator switch
    {
        ThresholdOperator.Between when Min is null => ("min", "between needs min"),
        ThresholdOperator.Between when Max is null => ("max", "between needs max"),
        ThresholdOperator.Between when Min > Max => ("min", "min must not exceed max"),
        ThresholdOperator.Between => null,
        _ when Value is null => ("value", $"{Operator.ToString().ToLowerInvariant()} needs value"),
        _ => null,
    };

    public bool IsMetBy(double metric)
    {
        if (Problem() is { } problem) throw new InvalidOperationException($"Threshold is incomplete: {problem.Message}");
        return Operator switch
        {
            ThresholdOperator.Between => metric >= Min!.Value && metric <= Max!.Value,
            ThresholdOperator.Gt => metric > Value!.Value,
            ThresholdOperator.Gte => metric >= Value!.Value,
            ThresholdOperator.Lt => metric < Value!.Value,
            ThresholdOperator.Lte => metric <= Value!.Value,
            ThresholdOperator.Eq => metric == Value!.Value,
            ThresholdOperator.Ne => metric != Value!.Value,
            _ => throw new ArgumentOutOfRangeException(nameof(metric), Operator, "Unknown operator"),
        };
    }
}

public enum CheckStatus
{
    Pass,
    Warning,
    Fail,
    Error,
}

/// <summary>The result of one rule of a field_checks check (same evaluation as a whole check).</summary>
public sealed record RuleOutcome(string Name, CheckStatus Status, double? Metric, string? Message);

/// <summary>
/// A check's result: its status, the metric (null on ERROR), the rows it was measured over when it counts
/// failing rows, the SQL that ran (parameters are not inlined), a readable message and, for field_checks,
/// one outcome per rule, and how long the run took.
/// </summary>
public sealed record CheckOutcome(
    CheckStatus Status, double? Metric, double? Total, string? Sql, string? Message, IReadOnlyList<RuleOutcome> Rules)
{
    /// <summary>Connection, query and evaluation, as the runner measured them.</summary>
    public TimeSpan Duration { get; init; }

    public static CheckOutcome Error(string message, string? sql) => new(CheckStatus.Error, null, null, sql, message, []);
}

public static class ThresholdEvaluation
{
    /// <summary>
    /// Critical not met → FAIL, else warning not met → WARNING, else PASS. A NULL metric (an aggregate of no
    /// rows) or a percentage without a row total is an ERROR: there is nothing to compare.
    /// </summary>
    public static (CheckStatus Status, string? Message) Evaluate(double? metric, double? total, Threshold? warning, Threshold? critical)
    {
        if (metric is null) return (CheckStatus.Error, "The check measured no value (NULL), e.g. an aggregate over no rows");
        foreach (var (threshold, status) in new[] { (critical, CheckStatus.Fail), (warning, CheckStatus.Warning) })
        {
            if (threshold is null) continue;
            if (threshold.Problem() is { } problem) return (CheckStatus.Error, $"Invalid threshold: {problem.Message}");
            double compared;
            if (!threshold.Percent) compared = metric.Value;
            else if (total is null) return (CheckStatus.Error, "A percentage threshold needs a check that counts rows");
            // An empty table has no failing rows: 0 %, not a division by zero.
            else compared = total.Value == 0 ? 0 : metric.Value / total.Value * 100;
            if (!threshold.IsMetBy(compared)) return (status, null);
        }
        return (CheckStatus.Pass, null);
    }
}
