using System.Text.Json;
using Cronos;
using FluentValidation;
using Qarion.Core.Common;

namespace Qarion.Core.Ingestion;

public sealed record FiltersInput
{
    /// <summary>Only these schemas (exact names); empty or absent means all.</summary>
    public IReadOnlyList<string>? SchemaInclude { get; init; }
    /// <summary>Schemas to skip, as globs (<c>tmp_*</c>).</summary>
    public IReadOnlyList<string>? SchemaExclude { get; init; }
    /// <summary>Only tables whose name matches this regular expression.</summary>
    public string? TableRegex { get; init; }
}

public sealed record FiltersResponse(IReadOnlyList<string> SchemaInclude, IReadOnlyList<string> SchemaExclude, string? TableRegex);

public sealed record CreateConnectorRequest
{
    public required string Name { get; init; }
    /// <summary><c>postgresql</c> or <c>dbt_manifest</c>.</summary>
    public required string Platform { get; init; }
    /// <summary>Platform settings (no secrets). postgresql: host, port, database, ssl_mode, connect_timeout_seconds, statement_timeout_seconds. dbt_manifest: resource_types.</summary>
    public JsonElement? Config { get; init; }
    /// <summary>Six-field cron, seconds first (<c>0 0 2 * * *</c> = 02:00 UTC daily); null for manual syncs only.</summary>
    public string? Schedule { get; init; }
    public FiltersInput? Filters { get; init; }
    public MergeStrategy? MergeStrategy { get; init; }
    public bool? IsActive { get; init; }
}

public sealed record UpdateConnectorRequest
{
    public Optional<string> Name { get; init; }
    public Optional<JsonElement> Config { get; init; }
    public Optional<string?> Schedule { get; init; }
    public Optional<FiltersInput> Filters { get; init; }
    public Optional<MergeStrategy> MergeStrategy { get; init; }
    public Optional<bool> IsActive { get; init; }
    public uint? Version { get; init; }
}

public sealed record SyncJobSummary(Guid Id, SyncStatus Status, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt);

/// <summary>A connector as the API shows it: whether credentials are set, never what they are.</summary>
public sealed record ConnectorResponse(
    Guid Id, Guid SpaceId, string Name, string Platform, JsonElement Config, string? Schedule, DateTimeOffset? NextRunAt,
    FiltersResponse Filters, MergeStrategy MergeStrategy, bool IsActive, bool HasCredentials, SyncJobSummary? LastSync,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, uint Version);

public sealed record SyncJobResponse(
    Guid Id, Guid ConnectorId, SyncStatus Status, SyncTrigger Trigger, MergeStrategy MergeStrategy, Guid? TriggeredById,
    int Added, int Updated, int MarkedStale, int Unchanged, int SchemaChanges, IReadOnlyList<string> Warnings, string? Error,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, long? DurationMs);

/// <summary>The answer to a sync request: where to follow it.</summary>
public sealed record SyncStarted(Guid JobId, string StatusUrl, SyncStatus Status);

/// <summary>A test the source declares (dbt generic tests), waiting to become a quality check.</summary>
public sealed record SourceTestResponse(Guid Id, string ExternalId, string Name, string TestType, Guid ProductId, string ProductSlug, string? Column, JsonElement Config, DateTimeOffset UpdatedAt);

public sealed record SchemaChangeResponse(Guid Id, Guid ProductId, Guid JobId, SchemaChangeKind Kind, string Column, string? OldType, string? NewType, DateTimeOffset OccurredAt);

public sealed class CreateConnectorRequestValidator : AbstractValidator<CreateConnectorRequest>
{
    public CreateConnectorRequestValidator()
    {
        RuleFor(x => x.Name).Name();
        RuleFor(x => x.Platform).Must(p => ConnectorPlatforms.All.Contains(p, StringComparer.Ordinal))
            .WithMessage($"must be one of {string.Join(", ", ConnectorPlatforms.All)}").WithErrorCode("enum");
        RuleFor(x => x.Schedule).Must(Schedules.IsValid!).When(x => x.Schedule is not null)
            .WithMessage(Schedules.Hint).WithErrorCode("cron_invalid");
        RuleFor(x => x.MergeStrategy).IsInEnum();
    }
}

public sealed class UpdateConnectorRequestValidator : AbstractValidator<UpdateConnectorRequest>
{
    public UpdateConnectorRequestValidator()
    {
        RuleFor(x => x.Name.Value).Name().When(x => x.Name.IsSet).OverridePropertyName("name");
        RuleFor(x => x.Schedule.Value).Must(Schedules.IsValid!).When(x => x.Schedule is { IsSet: true, Value: not null })
            .WithMessage(Schedules.Hint).WithErrorCode("cron_invalid").OverridePropertyName("schedule");
        RuleFor(x => x.MergeStrategy.Value).IsInEnum().When(x => x.MergeStrategy.IsSet).OverridePropertyName("merge_strategy");
    }
}

/// <summary>Six-field cron expressions (seconds first, as the Functions timer trigger writes them), evaluated in UTC.</summary>
public static class Schedules
{
    public const string Hint = "must be a six-field cron expression, seconds first (e.g. '0 0 2 * * *')";

    public static bool IsValid(string expression) => TryParse(expression, out _);

    public static bool TryParse(string expression, out CronExpression cron)
    {
        cron = null!;
        if (string.IsNullOrWhiteSpace(expression) || expression.Length > 120) return false;
        try
        {
            cron = CronExpression.Parse(expression, CronFormat.IncludeSeconds);
            return true;
        }
        catch (CronFormatException) { return false; }
    }

    /// <summary>The next occurrence strictly after <paramref name="after"/>, or null when there is none.</summary>
    public static DateTimeOffset? Next(string? expression, DateTimeOffset after)
        => expression is not null && TryParse(expression, out var cron) ? cron.GetNextOccurrence(after, TimeZoneInfo.Utc) : null;
}
