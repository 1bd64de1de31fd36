using System.Text.Json;
using Qarion.Core.Common;

namespace Qarion.Core.Quality;

/// <summary>A table a config names (and the columns it uses of it), to be checked against the connector's catalog.</summary>
public sealed record TableUse(Guid ConnectorId, TableRef Table, IReadOnlyList<object> Path, IReadOnlyList<ColumnUse> Columns);

public sealed record ColumnUse(string Column, IReadOnlyList<object> Path, bool FromField);

/// <summary>A regular expression a config holds, to be compiled by PostgreSQL itself.</summary>
public sealed record RegexUse(string Pattern, IReadOnlyList<object> Path);

/// <param name="ConnectorId">The check's connector (tables default to it).</param>
/// <param name="Field">The check's field: the default column.</param>
/// <param name="DefaultTable">The primary product's table when that product is maintained by the given connector, else null.</param>
public sealed record SpecContext(Guid ConnectorId, string? Field, Func<Guid, TableRef?> DefaultTable);

/// <summary>What parsing a config found: the typed config (null when there are errors), and what the service must still check.</summary>
public sealed class ParsedConfig
{
    public CheckConfig? Config { get; internal set; }
    public List<FieldError> Errors { get; } = [];
    public List<TableUse> Tables { get; } = [];
    public List<RegexUse> Regexes { get; } = [];
    /// <summary>A reconciliation's <c>right_connector_id</c>, to be checked as a postgresql connector of the space.</summary>
    public (Guid Id, IReadOnlyList<object> Path)? RightConnector { get; internal set; }
}

/// <summary>
/// Validation of check configs as the API receives them (and as they are stored: the stored JSON parses back to
/// the same config). Every problem is reported with its <c>loc</c> (<c>["body","config","rules",2,"pattern"]</c>)
/// and a machine-readable type; unknown keys are refused. Catalog, regex and connector checks need the database
/// and are done by <see cref="CheckService"/> on what <see cref="ParsedConfig"/> collects.
/// </summary>
public static class CheckSpecs
{
    /// <summary>Types whose metric counts failing rows out of a total, so percentage thresholds make sense.</summary>
    public static bool CountsRows(CheckConfig config) => config is NullCheckConfig or UniquenessConfig or PatternCheckConfig
        or AcceptedValuesConfig or RangeCheckConfig { Aggregate: RangeAggregate.None };

    /// <summary>Types a reconciliation side or an anomaly metric may be: one query, one number.</summary>
    public static readonly IReadOnlyList<string> ScalarTypes =
        [CheckTypes.RowCount, CheckTypes.RangeCheck, CheckTypes.Freshness, CheckTypes.SqlMetric, CheckTypes.SqlCondition];

    public const int MaxRules = 100, MaxValues = 1000, MaxColumns = 500, MaxSqlLength = 100_000, MaxPatternLength = 1000;

    public static ParsedConfig Parse(string type, JsonElement? config, SpecContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var result = new ParsedConfig();
        var element = config is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } c ? c : EmptyObject;
        var parsed = new Parser(result, context).Top(type, element);
        result.Config = result.Errors.Count == 0 ? parsed : null;
        return result;
    }

    /// <summary>
    /// Threshold problems: incomplete ones (<see cref="Threshold.Problem"/>), keys the operator does not use, percentages
    /// on checks that do not count rows, and thresholds a type does not use at all.
    /// </summary>
    public static List<FieldError> ThresholdErrors(string type, CheckConfig? config, ThresholdBody? warning, ThresholdBody? critical)
    {
        var errors = new List<FieldError>();
        foreach (var (name, body) in new[] { ("warning", warning), ("critical", critical) })
        {
            if (body is null) continue;
            object[] path = ["body", name];
            var notUsed = type switch
            {
                CheckTypes.FieldChecks => "field_checks rules carry their own thresholds",
                CheckTypes.Anomaly => "an anomaly check is judged against its own history (sensitivity)",
                CheckTypes.Reconciliation when name == "critical" => "a reconciliation's critical threshold is its tolerance",
                _ => null,
            };
            if (notUsed is not null)
            {
                errors.Add(new FieldError(path, $"not used: {notUsed}", "not_applicable"));
                continue;
            }
            errors.AddRange(ThresholdShapeErrors(body.ToThreshold(), path));
            if (body.Unit == ThresholdUnit.Percent && config is not null && !CountsRows(config))
                errors.Add(new FieldError([.. path, "unit"], $"a {type} check does not count rows, so its thresholds cannot be percentages", "percent_not_applicable"));
        }
        return errors;
    }

    private static IEnumerable<FieldError> ThresholdShapeErrors(Threshold t, object[] path)
    {
        // JSON numbers beyond double's range read as infinity: no metric compares with it, and it cannot be stored.
        var infinite = new[] { ("value", t.Value), ("min", t.Min), ("max", t.Max) }.Where(x => x.Item2 is { } v && !double.IsFinite(v)).ToList();
        foreach (var (key, _) in infinite) yield return new FieldError([.. path, key], "must be a finite number", "value_error");
        if (infinite.Count > 0) yield break;
        if (t.Problem() is { } problem)
        {
            var absent = problem.Key switch { "min" => t.Min is null, "max" => t.Max is null, _ => t.Value is null };
            yield return new FieldError([.. path, problem.Key], problem.Message, absent ? "missing" : "value_error");
        }
        if (t.Operator == ThresholdOperator.Between && t.Value is not null)
            yield return new FieldError([.. path, "value"], "between uses min and max, not value", "not_applicable");
        if (t.Operator != ThresholdOperator.Between)
            foreach (var (key, v) in new[] { ("min", t.Min), ("max", t.Max) })
                if (v is not null) yield return new FieldError([.. path, key], $"{JsonNames.ToSnakeCase(t.Operator.ToString())} uses value, not {key}", "not_applicable");
    }

    /// <summary>Runs the dialect over a parsed config to catch whatever the parser let through (a 422 naming the key).</summary>
    public static FieldError? CompileError(CheckConfig config, Threshold? warning, Threshold? critical)
    {
        ArgumentNullException.ThrowIfNull(config);
        try
        {
            switch (config)
            {
                case CustomConfig or ManualConfig: return null;
                case AnomalyConfig a: PostgresCheckDialect.Instance.Compile(new CheckDefinition(a.Metric)); return null;
                default: PostgresCheckDialect.Instance.Compile(new CheckDefinition(config, warning, critical)); return null;
            }
        }
        catch (CheckConfigException ex)
        {
            return new FieldError(["body", "config", ex.Key], ex.Message, "invalid_config");
        }
    }

    /// <summary>The type of a <see cref="UserSql"/> refusal.</summary>
    public static string SqlErrorType(CheckConfigException ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return ex.Message switch
        {
            var m when m.StartsWith("Only one SQL statement", StringComparison.Ordinal) => "sql_multiple_statements",
            var m when m.StartsWith("Unbalanced", StringComparison.Ordinal) => "sql_unbalanced_parentheses",
            var m when m.StartsWith("Unterminated", StringComparison.Ordinal) => "sql_unterminated",
            var m when m.EndsWith("is required", StringComparison.Ordinal) => "missing",
            _ => "sql_invalid",
        };
    }

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    private sealed class Parser(ParsedConfig result, SpecContext context)
    {
        private void Error(IEnumerable<object> path, string msg, string type) => result.Errors.Add(new FieldError([.. path], msg, type));

        public CheckConfig? Top(string type, JsonElement element)
        {
            object[] path = ["body", "config"];
            if (element.ValueKind != JsonValueKind.Object)
            {
                Error(path, "expected an object", "type_error");
                return null;
            }
            if (element.TryGetProperty("type", out var t) && t.ValueKind != JsonValueKind.Null
                && (t.ValueKind != JsonValueKind.String || t.GetString() != type))
            {
                Error([.. path, "type"], $"must be '{type}' (the check_type) or absent", "type_mismatch");
                return null;
            }
            return Config(type, element, path, context.ConnectorId, topLevel: true);
        }

        private CheckConfig? Config(string type, JsonElement element, object[] path, Guid connector, bool topLevel)
        {
            var o = new Obj(this, element, path);
            switch (type)
            {
                case CheckTypes.RowCount:
                {
                    o.Keys("type", "table");
                    var table = Table(o, connector, []);
                    return table is null ? null : new RowCountConfig(table);
                }
                case CheckTypes.NullCheck:
                {
                    o.Keys("type", "table", "column");
                    var columns = new List<ColumnUse>();
                    var column = Column(o, columns);
                    var table = Table(o, connector, columns);
                    return table is null || column is null ? null : new NullCheckConfig(table, column);
                }
                case CheckTypes.Uniqueness:
                {
                    o.Keys("type", "table", "columns");
                    var columns = new List<ColumnUse>();
                    var names = o.Strings("columns", required: context.Field is null, max: MaxColumns);
                    if (names is not null)
                    {
                        for (var i = 0; i < names.Count; i++)
                        {
                            if (names.IndexOf(names[i]) < i) Error([.. o.At("columns"), i], $"'{names[i]}' appears twice", "duplicate");
                            columns.Add(new ColumnUse(names[i], [.. o.At("columns"), i], false));
                        }
                    }
                    else if (context.Field is { } field && !o.Has("columns"))
                    {
                        names = [field];
                        columns.Add(new ColumnUse(field, o.At("columns"), true));
                    }
                    var table = Table(o, connector, columns);
                    return table is null || names is null ? null : new UniquenessConfig(table, names);
                }
                case CheckTypes.RangeCheck:
                {
                    o.Keys("type", "table", "column", "min", "max", "aggregate");
                    var columns = new List<ColumnUse>();
                    var column = Column(o, columns);
                    var (min, max) = (o.Decimal("min"), o.Decimal("max"));
                    var aggregate = o.Enum<RangeAggregate>("aggregate", RangeAggregate.None);
                    if (aggregate is not RangeAggregate.None and not null)
                    {
                        foreach (var key in new[] { "min", "max" })
                            if (o.Has(key)) Error(o.At(key), "an aggregate range_check measures one number; put the range in the thresholds", "not_applicable");
                    }
                    else if (aggregate is RangeAggregate.None)
                    {
                        if (!o.Has("min") && !o.Has("max")) Error(o.At("min"), "a range needs min, max or both (or an aggregate)", "missing");
                        if (min > max) Error(o.At("min"), "min must not exceed max", "value_error");
                    }
                    var table = Table(o, connector, columns);
                    return table is null || column is null || aggregate is null ? null : new RangeCheckConfig(table, column, min, max, aggregate.Value);
                }
                case CheckTypes.PatternCheck:
                {
                    o.Keys("type", "table", "column", "pattern");
                    var columns = new List<ColumnUse>();
                    var column = Column(o, columns);
                    var pattern = Pattern(o, "pattern", required: true);
                    var table = Table(o, connector, columns);
                    return table is null || column is null || pattern is null ? null : new PatternCheckConfig(table, column, pattern);
                }
                case CheckTypes.AcceptedValues:
                {
                    o.Keys("type", "table", "column", "values");
                    var columns = new List<ColumnUse>();
                    var column = Column(o, columns);
                    var values = o.Strings("values", required: true, max: MaxValues, allowEmptyStrings: true);
                    var table = Table(o, connector, columns);
                    return table is null || column is null || values is null ? null : new AcceptedValuesConfig(table, column, values);
                }
                case CheckTypes.Freshness:
                {
                    o.Keys("type", "table", "column");
                    var columns = new List<ColumnUse>();
                    var column = Column(o, columns);
                    var table = Table(o, connector, columns);
                    return table is null || column is null ? null : new FreshnessConfig(table, column);
                }
                case CheckTypes.FieldChecks:
                {
                    o.Keys("type", "table", "rules");
                    var columns = new List<ColumnUse>();
                    var rules = Rules(o, columns);
                    var table = Table(o, connector, columns);
                    return table is null || rules is null ? null : new FieldChecksConfig(table, rules);
                }
                case CheckTypes.SqlMetric or CheckTypes.SqlCondition:
                {
                    o.Keys("type", "sql");
                    var sql = o.String("sql", required: true, max: MaxSqlLength);
                    if (sql is null) return null;
                    try
                    {
                        UserSql.SingleStatement(sql);
                    }
                    catch (CheckConfigException ex)
                    {
                        Error(o.At("sql"), ex.Message, SqlErrorType(ex));
                        return null;
                    }
                    return type == CheckTypes.SqlMetric ? new SqlMetricConfig(sql) : new SqlConditionConfig(sql);
                }
                case CheckTypes.Schema:
                {
                    o.Keys("type", "table", "columns", "allow_extra_columns");
                    var expected = ExpectedColumns(o);
                    var allowExtra = o.Bool("allow_extra_columns") ?? true;
                    // Expected columns are what the check verifies at run time, so they are not looked up in the catalog.
                    var table = Table(o, connector, []);
                    return table is null || expected is null ? null : new SchemaConfig(table, expected, allowExtra);
                }
                case CheckTypes.Reconciliation when topLevel:
                {
                    o.Keys("type", "left", "right", "right_connector_id", "kind", "tolerance");
                    var right = connector;
                    if (o.Guid("right_connector_id") is { } rightId)
                    {
                        result.RightConnector = (rightId, o.At("right_connector_id"));
                        right = rightId;
                    }
                    var leftConfig = Side(o, "left", connector);
                    var rightConfig = Side(o, "right", right);
                    var kind = o.Enum<ToleranceKind>("kind", ToleranceKind.Absolute);
                    var tolerance = o.Decimal("tolerance", required: true);
                    if (tolerance < 0) Error(o.At("tolerance"), "must be 0 or more", "greater_than_equal");
                    if (leftConfig is null || rightConfig is null || kind is null || tolerance is null) return null;
                    // The right side's connector is recorded only when it is not the check's own.
                    var rightConnector = result.RightConnector is { } r && r.Id != context.ConnectorId ? r.Id : (Guid?)null;
                    return new ReconciliationConfig(leftConfig, rightConfig, kind.Value, tolerance.Value, rightConnector);
                }
                case CheckTypes.Anomaly when topLevel:
                {
                    o.Keys("type", "metric", "min_history", "sensitivity", "window");
                    var metric = Side(o, "metric", connector);
                    var minHistory = o.Int("min_history") ?? 7;
                    var window = o.Int("window") ?? 30;
                    var sensitivity = o.Double("sensitivity") ?? 3.0;
                    if (minHistory is < 1 or > 1000) Error(o.At("min_history"), "must be between 1 and 1000", "value_error");
                    if (window is < 2 or > 1000) Error(o.At("window"), "must be between 2 and 1000", "value_error");
                    else if (minHistory > window) Error(o.At("min_history"), "must not exceed window", "value_error");
                    if (sensitivity is <= 0 or > 100) Error(o.At("sensitivity"), "must be greater than 0 and at most 100", "value_error");
                    return metric is null ? null : new AnomalyConfig(metric, minHistory, sensitivity, window);
                }
                case CheckTypes.Custom when topLevel:
                {
                    o.Keys("type", "unit");
                    return new CustomConfig(o.String("unit", max: 50));
                }
                case CheckTypes.Manual when topLevel:
                {
                    o.Keys("type", "unit", "instructions");
                    return new ManualConfig(o.String("unit", max: 50), o.String("instructions", max: 4000));
                }
                default:
                    Error([.. path, "type"], $"'{type}' is not a check type here", "enum");
                    return null;
            }
        }

        /// <summary>A reconciliation side or an anomaly metric: a nested config with its own <c>type</c>, measuring one number.</summary>
        private CheckConfig? Side(Obj parent, string key, Guid connector)
        {
            var path = parent.At(key);
            if (parent.Raw(key) is not { } element)
            {
                Error(path, $"{key} is required", "missing");
                return null;
            }
            if (element.ValueKind != JsonValueKind.Object)
            {
                Error(path, "expected an object with a type", "type_error");
                return null;
            }
            if (!element.TryGetProperty("type", out var t) || t.ValueKind != JsonValueKind.String)
            {
                Error([.. path, "type"], "type is required (one of " + string.Join(", ", ScalarTypes) + ")", "missing");
                return null;
            }
            var type = t.GetString()!;
            if (!ScalarTypes.Contains(type, StringComparer.Ordinal))
            {
                Error([.. path, "type"], $"must measure one number: one of {string.Join(", ", ScalarTypes)}", "not_scalar");
                return null;
            }
            var config = Config(type, element, path, connector, topLevel: false);
            if (config is RangeCheckConfig { Aggregate: RangeAggregate.None })
            {
                Error([.. path, "aggregate"], "a range_check side must use an aggregate (min, max, mean, sum, stddev)", "not_scalar");
                return null;
            }
            return config;
        }

        private string? Column(Obj o, List<ColumnUse> uses)
        {
            var explicitColumn = o.String("column", max: 300);
            if (explicitColumn is not null)
            {
                uses.Add(new ColumnUse(explicitColumn, o.At("column"), false));
                return explicitColumn;
            }
            if (o.Has("column")) return null; // present but invalid: already reported
            if (context.Field is { } field)
            {
                uses.Add(new ColumnUse(field, o.At("column"), true));
                return field;
            }
            Error(o.At("column"), "column is required (or give the check a field)", "missing");
            return null;
        }

        private TableRef? Table(Obj o, Guid connector, List<ColumnUse> columns)
        {
            var path = o.At("table");
            TableRef? table;
            switch (o.Raw("table"))
            {
                case null:
                    table = context.DefaultTable(connector);
                    if (table is null)
                        Error(path, "table is required: the primary product is not a table of this connector's catalog", "missing");
                    break;
                case { ValueKind: JsonValueKind.String } s:
                    var text = s.GetString()!;
                    var parts = text.Split('.');
                    if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                    {
                        Error(path, "give the table as 'schema.name' (one dot) or as {\"schema\": …, \"name\": …}", "value_error");
                        table = null;
                    }
                    else table = new TableRef(parts[0], parts[1]);
                    break;
                case { ValueKind: JsonValueKind.Object } obj:
                    var t = new Obj(this, obj, path);
                    t.Keys("schema", "name");
                    var (schema, name) = (t.String("schema", required: true, max: 300), t.String("name", required: true, max: 300));
                    table = schema is null || name is null ? null : new TableRef(schema, name);
                    break;
                default:
                    Error(path, "expected 'schema.name' or {\"schema\": …, \"name\": …}", "type_error");
                    table = null;
                    break;
            }
            if (table is not null) result.Tables.Add(new TableUse(connector, table, path, columns));
            return table;
        }

        private string? Pattern(Obj o, string key, bool required)
        {
            var pattern = o.String(key, required, MaxPatternLength);
            if (pattern is not null) result.Regexes.Add(new RegexUse(pattern, o.At(key)));
            return pattern;
        }

        private static readonly string[] KindKeys = ["min", "max", "pattern", "values"];

        private static readonly string[] RuleKeys = ["name", "column", "kind", "min", "max", "pattern", "values", "warning", "critical"];

        private List<FieldRule>? Rules(Obj o, List<ColumnUse> columns)
        {
            var path = o.At("rules");
            if (o.Raw("rules") is not { } array)
            {
                Error(path, "rules is required", "missing");
                return null;
            }
            if (array.ValueKind != JsonValueKind.Array)
            {
                Error(path, "expected a list of rules", "type_error");
                return null;
            }
            var count = array.GetArrayLength();
            if (count is 0 or > MaxRules)
            {
                Error(path, $"1 to {MaxRules} rules", count == 0 ? "too_short" : "too_long");
                return null;
            }
            var rules = new List<FieldRule>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            var ok = true;
            var i = 0;
            foreach (var element in array.EnumerateArray())
            {
                object[] rulePath = [.. path, i++];
                if (element.ValueKind != JsonValueKind.Object)
                {
                    Error(rulePath, "expected a rule object", "type_error");
                    ok = false;
                    continue;
                }
                var r = new Obj(this, element, rulePath);
                var before = result.Errors.Count;
                r.Keys(RuleKeys);
                var name = r.String("name", required: true, max: 200);
                if (name is not null && !names.Add(name)) Error(r.At("name"), $"another rule is named '{name}'", "duplicate");
                var column = r.String("column", required: true, max: 300);
                if (column is not null) columns.Add(new ColumnUse(column, r.At("column"), false));
                var kind = r.Enum<FieldRuleKind>("kind", null, required: true);
                string[] used = kind switch
                {
                    FieldRuleKind.Range => ["min", "max"],
                    FieldRuleKind.Pattern => ["pattern"],
                    FieldRuleKind.AcceptedValues => ["values"],
                    _ => [],
                };
                if (kind is not null)
                    foreach (var key in KindKeys.Where(k => !used.Contains(k) && r.Has(k)))
                        Error(r.At(key), $"not used by a {JsonNames.ToSnakeCase(kind.Value.ToString())} rule", "not_applicable");
                decimal? min = null, max = null;
                string? pattern = null;
                List<string>? values = null;
                switch (kind)
                {
                    case FieldRuleKind.Range:
                        (min, max) = (r.Decimal("min"), r.Decimal("max"));
                        if (!r.Has("min") && !r.Has("max")) Error(r.At("min"), "a range rule needs min, max or both", "missing");
                        if (min > max) Error(r.At("min"), "min must not exceed max", "value_error");
                        break;
                    case FieldRuleKind.Pattern:
                        pattern = Pattern(r, "pattern", required: true);
                        break;
                    case FieldRuleKind.AcceptedValues:
                        values = r.Strings("values", required: true, max: MaxValues, allowEmptyStrings: true);
                        break;
                }
                var warning = RuleThreshold(r, "warning");
                var critical = RuleThreshold(r, "critical");
                if (result.Errors.Count > before || name is null || column is null || kind is null)
                {
                    ok = false;
                    continue;
                }
                rules.Add(new FieldRule(name, column, kind.Value, min, max, pattern, values, warning, critical));
            }
            return ok ? rules : null;
        }

        /// <summary>A rule's threshold: the API shape (<c>unit</c>) or the stored one (<c>percent</c>).</summary>
        private Threshold? RuleThreshold(Obj rule, string key)
        {
            if (rule.Raw(key) is not { } element) return null;
            var path = rule.At(key);
            if (element.ValueKind != JsonValueKind.Object)
            {
                Error(path, "expected a threshold object", "type_error");
                return null;
            }
            var o = new Obj(this, element, path);
            var before = result.Errors.Count;
            o.Keys("operator", "value", "min", "max", "unit", "percent");
            var op = o.Enum<ThresholdOperator>("operator", null, required: true);
            var (value, min, max) = (o.Double("value"), o.Double("min"), o.Double("max"));
            var unit = o.Enum<ThresholdUnit>("unit", null);
            var percentFlag = o.Bool("percent");
            if (unit is not null && percentFlag is not null && (unit == ThresholdUnit.Percent) != percentFlag)
                Error(o.At("percent"), "contradicts unit", "value_error");
            if (op is null || result.Errors.Count > before) return null;
            var threshold = new Threshold(op.Value, value, min, max, unit == ThresholdUnit.Percent || percentFlag == true);
            var problems = ThresholdShapeErrors(threshold, path).ToList();
            result.Errors.AddRange(problems);
            return problems.Count == 0 ? threshold : null;
        }

        private List<ExpectedColumn>? ExpectedColumns(Obj o)
        {
            var path = o.At("columns");
            if (o.Raw("columns") is not { } array)
            {
                Error(path, "columns is required", "missing");
                return null;
            }
            if (array.ValueKind != JsonValueKind.Array)
            {
                Error(path, "expected a list of {name, data_type}", "type_error");
                return null;
            }
            var count = array.GetArrayLength();
            if (count is 0 or > MaxColumns)
            {
                Error(path, $"1 to {MaxColumns} columns", count == 0 ? "too_short" : "too_long");
                return null;
            }
            var columns = new List<ExpectedColumn>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            var i = 0;
            var before = result.Errors.Count;
            foreach (var element in array.EnumerateArray())
            {
                object[] itemPath = [.. path, i++];
                if (element.ValueKind != JsonValueKind.Object)
                {
                    Error(itemPath, "expected {name, data_type}", "type_error");
                    continue;
                }
                var c = new Obj(this, element, itemPath);
                c.Keys("name", "data_type");
                var name = c.String("name", required: true, max: 300);
                var dataType = c.String("data_type", required: true, max: 200);
                if (name is not null && !names.Add(name)) Error(c.At("name"), $"'{name}' appears twice", "duplicate");
                if (name is not null && dataType is not null) columns.Add(new ExpectedColumn(name, dataType));
            }
            return result.Errors.Count > before ? null : columns;
        }

        public void Report(IEnumerable<object> path, string msg, string type) => Error(path, msg, type);
    }

    /// <summary>One JSON object of a config: typed reads that report problems at their path. JSON null counts as absent.</summary>
    private sealed class Obj(Parser parser, JsonElement element, object[] path)
    {
        public object[] At(string key) => [.. path, key];

        public bool Has(string key) => Raw(key) is not null;

        public JsonElement? Raw(string key)
            => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

        /// <summary>Refuses keys outside <paramref name="allowed"/> and repeated keys.</summary>
        public void Keys(params string[] allowed)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in element.EnumerateObject())
            {
                if (!seen.Add(property.Name)) parser.Report(At(property.Name), "the key appears more than once", "duplicate_key");
                else if (!allowed.Contains(property.Name, StringComparer.Ordinal))
                    parser.Report(At(property.Name), $"unknown key; expected {string.Join(", ", allowed)}", "unknown_key");
            }
        }

        public string? String(string key, bool required = false, int max = 1000)
        {
            if (Raw(key) is not { } v)
            {
                if (required) parser.Report(At(key), $"{key} is required", "missing");
                return null;
            }
            if (v.ValueKind != JsonValueKind.String)
            {
                parser.Report(At(key), "expected a string", "type_error");
                return null;
            }
            var s = v.GetString()!;
            if (s.Trim().Length == 0)
            {
                parser.Report(At(key), "must not be blank", "string_too_short");
                return null;
            }
            if (s.Length > max)
            {
                parser.Report(At(key), $"must be at most {max} characters", "string_too_long");
                return null;
            }
            return s;
        }

        public List<string>? Strings(string key, bool required, int max, bool allowEmptyStrings = false)
        {
            if (Raw(key) is not { } v)
            {
                if (required) parser.Report(At(key), $"{key} is required", "missing");
                return null;
            }
            if (v.ValueKind != JsonValueKind.Array)
            {
                parser.Report(At(key), "expected a list of strings", "type_error");
                return null;
            }
            var count = v.GetArrayLength();
            if (count == 0 || count > max)
            {
                parser.Report(At(key), $"1 to {max} items", count == 0 ? "too_short" : "too_long");
                return null;
            }
            var list = new List<string>();
            var i = 0;
            var ok = true;
            foreach (var item in v.EnumerateArray())
            {
                object[] itemPath = [.. At(key), i++];
                if (item.ValueKind != JsonValueKind.String)
                {
                    parser.Report(itemPath, "expected a string", "type_error");
                    ok = false;
                    continue;
                }
                var s = item.GetString()!;
                if (!allowEmptyStrings && s.Trim().Length == 0)
                {
                    parser.Report(itemPath, "must not be blank", "string_too_short");
                    ok = false;
                    continue;
                }
                if (s.Length > 1000)
                {
                    parser.Report(itemPath, "must be at most 1000 characters", "string_too_long");
                    ok = false;
                    continue;
                }
                list.Add(s);
            }
            return ok ? list : null;
        }

        public decimal? Decimal(string key, bool required = false)
        {
            if (Raw(key) is not { } v)
            {
                if (required) parser.Report(At(key), $"{key} is required", "missing");
                return null;
            }
            if (v.ValueKind == JsonValueKind.Number && v.TryGetDecimal(out var d)) return d;
            parser.Report(At(key), "expected a number", "type_error");
            return null;
        }

        public double? Double(string key)
        {
            if (Raw(key) is not { } v) return null;
            if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d)) return d;
            parser.Report(At(key), "expected a number", "type_error");
            return null;
        }

        public int? Int(string key)
        {
            if (Raw(key) is not { } v) return null;
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i)) return i;
            parser.Report(At(key), "expected an integer", "type_error");
            return null;
        }

        public bool? Bool(string key)
        {
            if (Raw(key) is not { } v) return null;
            if (v.ValueKind is JsonValueKind.True or JsonValueKind.False) return v.GetBoolean();
            parser.Report(At(key), "expected true or false", "type_error");
            return null;
        }

        public Guid? Guid(string key)
        {
            if (Raw(key) is not { } v) return null;
            if (v.ValueKind == JsonValueKind.String && System.Guid.TryParse(v.GetString(), out var g)) return g;
            parser.Report(At(key), "expected a UUID string", "type_error");
            return null;
        }

        /// <summary>A snake_case enum name; <paramref name="fallback"/> when absent (null and not required: absent is null).</summary>
        public T? Enum<T>(string key, T? fallback, bool required = false) where T : struct, System.Enum
        {
            if (Raw(key) is not { } v)
            {
                if (required) parser.Report(At(key), $"{key} is required ({Names<T>()})", "missing");
                return fallback;
            }
            if (v.ValueKind == JsonValueKind.String)
                foreach (var value in System.Enum.GetValues<T>())
                    if (JsonNames.ToSnakeCase(value.ToString()) == v.GetString()) return value;
            parser.Report(At(key), $"must be one of: {Names<T>()}", "enum");
            return null;
        }

        private static string Names<T>() where T : struct, System.Enum
            => string.Join(", ", System.Enum.GetNames<T>().Select(JsonNames.ToSnakeCase));
    }
}

/// <summary>Stored JSON compared by content: jsonb returns keys in its own order and spacing.</summary>
internal static class StoredJson
{
    public static bool Same(string? a, string? b)
        => a is null || b is null ? a == b : System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(a), System.Text.Json.Nodes.JsonNode.Parse(b));
}
