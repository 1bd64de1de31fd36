namespace Qarion.Core.Quality;

/// <summary>
/// Every check type. <see cref="SqlPushdown"/> ones compute their metric by SQL pushed down to the source;
/// <c>anomaly</c> wraps one of those and judges it against its own history; <c>custom</c> and <c>manual</c>
/// take their metric from an API call or a person.
/// </summary>
public static class CheckTypes
{
    public const string Anomaly = "anomaly";
    public const string Custom = "custom";
    public const string Manual = "manual";

    public const string RowCount = "row_count";
    public const string NullCheck = "null_check";
    public const string Uniqueness = "uniqueness";
    public const string RangeCheck = "range_check";
    public const string PatternCheck = "pattern_check";
    public const string AcceptedValues = "accepted_values";
    public const string Freshness = "freshness";
    public const string FieldChecks = "field_checks";
    public const string SqlMetric = "sql_metric";
    public const string SqlCondition = "sql_condition";
    public const string Schema = "schema";
    public const string Reconciliation = "reconciliation";

    public static IReadOnlyList<string> SqlPushdown { get; } =
    [
        RowCount, NullCheck, Uniqueness, RangeCheck, PatternCheck, AcceptedValues, Freshness,
        FieldChecks, SqlMetric, SqlCondition, Schema, Reconciliation,
    ];

    public static IReadOnlyList<string> All { get; } = [.. SqlPushdown, Anomaly, Custom, Manual];

    /// <summary>Types whose result is pushed or entered through the API rather than run from the queue.</summary>
    public static bool IsExternal(string type) => type is Custom or Manual;
}

/// <summary>A table or view of the source, by its exact (case-sensitive) catalog names, never pre-quoted.</summary>
public sealed record TableRef(string Schema, string Name)
{
    public override string ToString() => $"{Schema}.{Name}";
}

/// <summary>
/// The typed config of a check. Each subtype knows its <see cref="Type"/>; the SQL is produced by an
/// <see cref="ICheckDialect"/>, so the configs stay free of any dialect's syntax. Stored as JSON with a
/// <c>type</c> discriminator (<see cref="CheckConfigJson"/>), so a reconciliation's sides nest naturally.
/// </summary>
[System.Text.Json.Serialization.JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(RowCountConfig), CheckTypes.RowCount)]
[System.Text.Json.Serialization.JsonDerivedType(typeof(NullCheckConfig), CheckTypes.NullCheck)]
[System.Text.Json.Serialization.JsonDerivedType(typeof(UniquenessConfig), CheckTypes.Uniqueness)]
[System.Text.Json.Serialization.JsonDerivedType(typeof(RangeCheckConfig), CheckTypes.RangeCheck)]
[System.Text.Json.Serialization.JsonDerivedType(typeof(PatternCheckConfig), CheckTypes.PatternCheck)]
[System.Text.Json.Serialization.JsonDerivedType(typeof(AcceptedValuesConfig), CheckTypes.AcceptedValues)]
[System.Text.Json.Serialization.JsonDerivedType(typeof(FreshnessConfig), CheckTypes.Freshness)]
[System.Text.Json.Serialization.JsonDerivedType(typeof(FieldChecksConfig), CheckTypes.FieldChecks)]
[System.Text.Json.Serialization.JsonDerivedType(typeof(SqlMetricConfig), CheckTypes.SqlMetric)]
[System.Text.Json.Serialization.JsonDerivedType(typeof(SqlConditionConfig), CheckTypes.SqlCondition)]
[System.Text.Json.Serialization.JsonDerivedType(typeof(SchemaConfig), CheckTypes.Schema)]
[System.Text.Json.Serialization.JsonDerivedType(typeof(ReconciliationConfig), CheckTypes.Reconciliation)]
[System.Text.Json.Serialization.JsonDerivedType(typeof(AnomalyConfig), CheckTypes.Anomaly)]
[System.Text.Json.Serialization.JsonDerivedType(typeof(CustomConfig), CheckTypes.Custom)]
[System.Text.Json.Serialization.JsonDerivedType(typeof(ManualConfig), CheckTypes.Manual)]
public abstract record CheckConfig
{
    [System.Text.Json.Serialization.JsonIgnore]
    public abstract string Type { get; }
}

public sealed record RowCountConfig(TableRef Table) : CheckConfig
{
    [System.Text.Json.Serialization.JsonIgnore] public override string Type => CheckTypes.RowCount;
}

/// <summary>Metric: rows where <see cref="Column"/> is NULL (of all rows, for percentage thresholds).</summary>
public sealed record NullCheckConfig(TableRef Table, string Column) : CheckConfig
{
    [System.Text.Json.Serialization.JsonIgnore] public override string Type => CheckTypes.NullCheck;
}

/// <summary>
/// Metric: rows beyond the first of each duplicated key (3 rows sharing a key count 2). Rows with a NULL in
/// any key column are never duplicates, as for a SQL UNIQUE constraint.
/// </summary>
public sealed record UniquenessConfig(TableRef Table, IReadOnlyList<string> Columns) : CheckConfig
{
    [System.Text.Json.Serialization.JsonIgnore] public override string Type => CheckTypes.Uniqueness;
}

public enum RangeAggregate
{
    /// <summary>Check every value: the metric is the number of non-NULL values outside [Min, Max].</summary>
    None,
    Min,
    Max,
    Mean,
    Sum,
    Stddev,
}

/// <summary>
/// Either each value against [<see cref="Min"/>, <see cref="Max"/>] (either bound may be absent), or, with an
/// <see cref="Aggregate"/>, one aggregate of the column as the metric (the thresholds then hold the range).
/// </summary>
public sealed record RangeCheckConfig(TableRef Table, string Column, decimal? Min = null, decimal? Max = null, RangeAggregate Aggregate = RangeAggregate.None) : CheckConfig
{
    [System.Text.Json.Serialization.JsonIgnore] public override string Type => CheckTypes.RangeCheck;
}

/// <summary>Metric: non-NULL values whose text does not match <see cref="Pattern"/> (a PostgreSQL POSIX regex, <c>~</c>).</summary>
public sealed record PatternCheckConfig(TableRef Table, string Column, string Pattern) : CheckConfig
{
    [System.Text.Json.Serialization.JsonIgnore] public override string Type => CheckTypes.PatternCheck;
}

/// <summary>Metric: non-NULL values whose text is not one of <see cref="Values"/>.</summary>
public sealed record AcceptedValuesConfig(TableRef Table, string Column, IReadOnlyList<string> Values) : CheckConfig
{
    [System.Text.Json.Serialization.JsonIgnore] public override string Type => CheckTypes.AcceptedValues;
}

/// <summary>Metric: seconds between the database's <c>now()</c> and the newest value of <see cref="Column"/>.</summary>
public sealed record FreshnessConfig(TableRef Table, string Column) : CheckConfig
{
    [System.Text.Json.Serialization.JsonIgnore] public override string Type => CheckTypes.Freshness;
}

public enum FieldRuleKind
{
    NotNull,
    Range,
    Pattern,
    AcceptedValues,
}

/// <summary>
/// One column rule of a <see cref="FieldChecksConfig"/>: its metric is the number of failing rows. Only rules
/// that can be decided row by row belong here (uniqueness needs a GROUP BY and is a check of its own).
/// </summary>
public sealed record FieldRule(
    string Name, string Column, FieldRuleKind Kind,
    decimal? Min = null, decimal? Max = null, string? Pattern = null, IReadOnlyList<string>? Values = null,
    Threshold? Warning = null, Threshold? Critical = null);

/// <summary>Several column rules on one table, compiled into one query: one scan for all of them.</summary>
public sealed record FieldChecksConfig(TableRef Table, IReadOnlyList<FieldRule> Rules) : CheckConfig
{
    [System.Text.Json.Serialization.JsonIgnore] public override string Type => CheckTypes.FieldChecks;
}

/// <summary>A user query returning one row with one numeric column: the metric.</summary>
public sealed record SqlMetricConfig(string Sql) : CheckConfig
{
    [System.Text.Json.Serialization.JsonIgnore] public override string Type => CheckTypes.SqlMetric;
}

/// <summary>A user query selecting the offending rows: their count is the metric (0 by default to pass).</summary>
public sealed record SqlConditionConfig(string Sql) : CheckConfig
{
    [System.Text.Json.Serialization.JsonIgnore] public override string Type => CheckTypes.SqlCondition;
}

/// <summary>An expected column. <see cref="DataType"/> is compared with PostgreSQL's <c>format_type</c>, case-insensitively; without a modifier it matches any (<c>varchar</c> ~ <c>character varying(40)</c>).</summary>
public sealed record ExpectedColumn(string Name, string DataType);

/// <summary>Metric: expected columns that are missing or of another type (plus unexpected columns when <see cref="AllowExtraColumns"/> is false).</summary>
public sealed record SchemaConfig(TableRef Table, IReadOnlyList<ExpectedColumn> Columns, bool AllowExtraColumns = true) : CheckConfig
{
    [System.Text.Json.Serialization.JsonIgnore] public override string Type => CheckTypes.Schema;
}

public enum ToleranceKind
{
    /// <summary>|left − right| ≤ tolerance.</summary>
    Absolute,
    /// <summary>|left − right| / max(|left|, |right|) × 100 ≤ tolerance (in percent; 0 when both are 0).</summary>
    Relative,
}

/// <summary>
/// Two scalar metrics (each any config producing one number: row_count, sql_metric, an aggregate range_check…)
/// compared with a tolerance. The metric is the difference (absolute or relative, per <see cref="Kind"/>).
/// <see cref="RightConnectorId"/> is the right side's connector when it is not the check's own (null: the same source).
/// </summary>
public sealed record ReconciliationConfig(CheckConfig Left, CheckConfig Right, ToleranceKind Kind, decimal Tolerance, Guid? RightConnectorId = null) : CheckConfig
{
    [System.Text.Json.Serialization.JsonIgnore] public override string Type => CheckTypes.Reconciliation;
}

/// <summary>
/// A scalar metric (<see cref="Metric"/>: row_count, sql_metric, an aggregate range_check, freshness…) judged
/// against its own history: the baseline is the median of the last <see cref="Window"/> non-ignored results and
/// the spread their median absolute deviation (MAD, scaled by 1.4826). The run fails when the metric lies more
/// than <see cref="Sensitivity"/> spreads from the median, and cannot fail before <see cref="MinHistory"/> results.
/// </summary>
public sealed record AnomalyConfig(CheckConfig Metric, int MinHistory = 7, double Sensitivity = 3.0, int Window = 30) : CheckConfig
{
    [System.Text.Json.Serialization.JsonIgnore] public override string Type => CheckTypes.Anomaly;
}

/// <summary>A result pushed by an external tool through the API (<c>POST …/checks/{id}/results</c>).</summary>
public sealed record CustomConfig(string? Unit = null) : CheckConfig
{
    [System.Text.Json.Serialization.JsonIgnore] public override string Type => CheckTypes.Custom;
}

/// <summary>A value a person enters (an attestation, a count from a report), judged by the thresholds.</summary>
public sealed record ManualConfig(string? Unit = null, string? Instructions = null) : CheckConfig
{
    [System.Text.Json.Serialization.JsonIgnore] public override string Type => CheckTypes.Manual;
}

/// <summary>How check configs and thresholds are stored: the records above as snake_case JSON.</summary>
public static class CheckConfigJson
{
    // jsonb stores keys shortest first, so a stored config reads back with "sql", "left" or "kind" before "type":
    // the discriminator must be found wherever it is.
    private static readonly System.Text.Json.JsonSerializerOptions ReadOptions = new(Common.JsonNames.SerializerOptions) { AllowOutOfOrderMetadataProperties = true };

    public static string Write(CheckConfig config) => System.Text.Json.JsonSerializer.Serialize(config, Common.JsonNames.SerializerOptions);

    public static CheckConfig Read(string json)
        => System.Text.Json.JsonSerializer.Deserialize<CheckConfig>(json, ReadOptions)
           ?? throw new InvalidOperationException("A stored check config is null");

    public static string? Write(Threshold? threshold)
        => threshold is null ? null : System.Text.Json.JsonSerializer.Serialize(threshold, Common.JsonNames.SerializerOptions);

    public static Threshold? ReadThreshold(string? json)
        => json is null ? null : System.Text.Json.JsonSerializer.Deserialize<Threshold>(json, Common.JsonNames.SerializerOptions);
}

/// <summary>A check as the runner needs it: what to measure and the two thresholds the metric must meet.</summary>
public sealed record CheckDefinition(CheckConfig Config, Threshold? Warning = null, Threshold? Critical = null);

/// <summary>A config that cannot be compiled; <see cref="Key"/> names the offending key for a 422.</summary>
public sealed class CheckConfigException(string key, string message) : Exception(message)
{
    public string Key { get; } = key;
}
