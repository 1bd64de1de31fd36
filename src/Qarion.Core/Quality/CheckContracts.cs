using System.Text.Json;
using FluentValidation;
using Qarion.Core.Catalog;
using Qarion.Core.Common;
using Qarion.Core.Ingestion;

namespace Qarion.Core.Quality;

public enum ThresholdUnit { Count, Percent }

/// <summary>
/// A threshold as the API speaks it: <c>{operator, value}</c> or <c>{operator: between, min, max}</c>, on a
/// count (default) or a percentage of the rows checked. A pass condition (see decision 0004).
/// </summary>
public sealed record ThresholdBody
{
    public required ThresholdOperator Operator { get; init; }
    public double? Value { get; init; }
    public double? Min { get; init; }
    public double? Max { get; init; }
    /// <summary><c>count</c> (default) or <c>percent</c> (of the rows checked; only for checks that count rows).</summary>
    public ThresholdUnit? Unit { get; init; }

    public Threshold ToThreshold() => new(Operator, Value, Min, Max, Unit == ThresholdUnit.Percent);

    public static ThresholdBody? From(Threshold? t) => t is null ? null : new ThresholdBody
    {
        Operator = t.Operator, Value = t.Value, Min = t.Min, Max = t.Max, Unit = t.Percent ? ThresholdUnit.Percent : ThresholdUnit.Count,
    };
}

public sealed record CreateCheckRequest
{
    public required string Name { get; init; }
    /// <summary>Unique in the space; derived from the name when absent.</summary>
    public string? Slug { get; init; }
    public string? Description { get; init; }
    /// <summary>One of row_count, null_check, uniqueness, range_check, pattern_check, accepted_values, freshness, field_checks, sql_metric, sql_condition, schema, reconciliation, anomaly, custom, manual.</summary>
    public required string CheckType { get; init; }
    /// <summary>Product ids or slugs of this space (at least one); the first is the primary product.</summary>
    public required IReadOnlyList<string> Products { get; init; }
    /// <summary>A field of the primary product the check is about; the default <c>column</c> of the config.</summary>
    public string? Field { get; init; }
    /// <summary>The type's config (snake_case keys, see decision 0005); <c>table</c> defaults to the primary product's table.</summary>
    public JsonElement? Config { get; init; }
    public ThresholdBody? Warning { get; init; }
    public ThresholdBody? Critical { get; init; }
    public CheckSeverity? Severity { get; init; }
    /// <summary>Six-field cron (seconds first, UTC); null = on demand only. Not for custom and manual checks.</summary>
    public string? Schedule { get; init; }
    /// <summary>The postgresql connector the SQL runs on (required for SQL types and anomaly; not for custom and manual).</summary>
    public Guid? ConnectorId { get; init; }
    public bool? IsActive { get; init; }
}

public sealed record UpdateCheckRequest
{
    public Optional<string> Name { get; init; }
    public Optional<string?> Description { get; init; }
    public Optional<IReadOnlyList<string>> Products { get; init; }
    public Optional<string?> Field { get; init; }
    public Optional<JsonElement> Config { get; init; }
    /// <summary><c>null</c> clears the threshold.</summary>
    public Optional<ThresholdBody?> Warning { get; init; }
    public Optional<ThresholdBody?> Critical { get; init; }
    public Optional<CheckSeverity> Severity { get; init; }
    public Optional<string?> Schedule { get; init; }
    public Optional<Guid?> ConnectorId { get; init; }
    public Optional<bool> IsActive { get; init; }
    public uint? Version { get; init; }
}

public sealed record CheckProductRef(Guid Id, string Slug, string Name);

public sealed record CheckResponse(
    Guid Id, string Slug, string Name, string? Description, string CheckType, JsonElement Config, string? Field,
    ThresholdBody? Warning, ThresholdBody? Critical, CheckSeverity Severity, Guid? ConnectorId, string? Schedule,
    DateTimeOffset? NextRunAt, bool IsActive, bool IsArchived, ExecutionStatus? LastStatus, DateTimeOffset? LastRunAt,
    IReadOnlyList<CheckProductRef> Products, Guid? SourceTestId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, uint Version);

/// <summary>List filters; <see cref="Status"/> is a last status (pass, warning, fail, error, queued, running) or <c>never</c>.</summary>
public sealed record CheckListQuery(
    string? Product = null, string? CheckType = null, string? Status = null, Guid? ConnectorId = null,
    bool IncludeArchived = false, bool ArchivedOnly = false, string? Search = null);

/// <summary>Turns a dbt connector's tests into checks that run on <see cref="RunConnectorId"/>.</summary>
public sealed record ImportTestsRequest
{
    /// <summary>The postgresql connector of the space where the dbt models are materialised.</summary>
    public required Guid RunConnectorId { get; init; }
    /// <summary>The schedule of created checks (six-field cron); null = on demand.</summary>
    public string? Schedule { get; init; }
    public CheckSeverity? Severity { get; init; }
}

public sealed record SkippedTest(string Test, string Reason);

public sealed record ImportTestsResponse(int Created, int Updated, int Unchanged, IReadOnlyList<SkippedTest> Skipped);

public sealed class CreateCheckRequestValidator : AbstractValidator<CreateCheckRequest>
{
    public CreateCheckRequestValidator()
    {
        RuleFor(x => x.Name).Name();
        RuleFor(x => x.Slug!).Slug().When(x => x.Slug is not null);
        RuleFor(x => x.Description).OptionalText(Validation.DescriptionMaxLength);
        RuleFor(x => x.CheckType).Must(t => CheckTypes.All.Contains(t, StringComparer.Ordinal))
            .WithMessage($"must be one of {string.Join(", ", CheckTypes.All)}").WithErrorCode("enum");
        RuleFor(x => x.Products).Must(p => p.Count >= 1).WithMessage("at least one product").WithErrorCode("too_short")
            .Must(p => p.Count <= CheckRules.MaxProducts).WithMessage($"at most {CheckRules.MaxProducts} products").WithErrorCode("too_long");
        RuleFor(x => x.Field).OptionalText(300);
        RuleFor(x => x.Severity).IsInEnum();
        RuleFor(x => x.Schedule).Must(Schedules.IsValid!).When(x => x.Schedule is not null)
            .WithMessage(Schedules.Hint).WithErrorCode("cron_invalid");
    }
}

public sealed class UpdateCheckRequestValidator : AbstractValidator<UpdateCheckRequest>
{
    public UpdateCheckRequestValidator()
    {
        RuleFor(x => x.Name.Value).Name().When(x => x.Name.IsSet).OverridePropertyName("name");
        RuleFor(x => x.Description.Value).OptionalText(Validation.DescriptionMaxLength).When(x => x.Description.IsSet).OverridePropertyName("description");
        RuleFor(x => x.Products.Value).Must(p => p.Count is >= 1 and <= CheckRules.MaxProducts)
            .WithMessage($"1 to {CheckRules.MaxProducts} products").WithErrorCode("too_short").When(x => x.Products.IsSet).OverridePropertyName("products");
        RuleFor(x => x.Field.Value).OptionalText(300).When(x => x.Field.IsSet).OverridePropertyName("field");
        RuleFor(x => x.Severity.Value).IsInEnum().When(x => x.Severity.IsSet).OverridePropertyName("severity");
        RuleFor(x => x.Schedule.Value).Must(Schedules.IsValid!).When(x => x.Schedule is { IsSet: true, Value: not null })
            .WithMessage(Schedules.Hint).WithErrorCode("cron_invalid").OverridePropertyName("schedule");
    }
}

public sealed class ImportTestsRequestValidator : AbstractValidator<ImportTestsRequest>
{
    public ImportTestsRequestValidator()
    {
        RuleFor(x => x.Schedule).Must(Schedules.IsValid!).When(x => x.Schedule is not null)
            .WithMessage(Schedules.Hint).WithErrorCode("cron_invalid");
        RuleFor(x => x.Severity).IsInEnum();
    }
}

public static class CheckRules
{
    public const int MaxProducts = 50;
}
