using System.Text.Json;
using FluentValidation;

namespace Qarion.Core.Quality;

/// <summary>The answer to a run request: the execution to follow.</summary>
public sealed record RunCheckResponse(Guid ExecutionId, Guid CheckId, ExecutionStatus Status, string StatusUrl);

public sealed record ExecutionResponse(
    Guid Id, Guid CheckId, string CheckSlug, string CheckName, string CheckType, ExecutionStatus Status, ExecutionTrigger Trigger,
    Guid? TriggeredById, double? Metric, double? Total, string? Sql, string? Message, JsonElement? Details, int? DurationMs,
    int Attempts, bool IsIgnored, Guid? IgnoredById, DateTimeOffset? IgnoredAt, string? IgnoreReason,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt);

/// <summary>
/// A result for a <c>custom</c> check (pushed by a tool) or a <c>manual</c> one (entered by a person): a metric
/// judged by the check's thresholds, or, for custom checks, a status decided by the tool.
/// </summary>
public sealed record PushResultRequest
{
    public double? Metric { get; init; }
    /// <summary>The rows the metric was measured over (the base of percentage thresholds).</summary>
    public double? Total { get; init; }
    /// <summary>custom checks only: the tool's own verdict (pass, warning, fail, error), used instead of the thresholds.</summary>
    public ExecutionStatus? Status { get; init; }
    public string? Message { get; init; }
    /// <summary>A key of the caller's; the same key again returns the first result instead of recording a second.</summary>
    public string? IdempotencyKey { get; init; }
}

public sealed class PushResultRequestValidator : AbstractValidator<PushResultRequest>
{
    public PushResultRequestValidator()
    {
        RuleFor(x => x.Metric).Must(m => m is null || double.IsFinite(m.Value)).WithMessage("metric must be a finite number");
        RuleFor(x => x.Total).Must(t => t is null || (double.IsFinite(t.Value) && t.Value >= 0)).WithMessage("total must be a finite number ≥ 0");
        RuleFor(x => x.Status).Must(s => s is null or ExecutionStatus.Pass or ExecutionStatus.Warning or ExecutionStatus.Fail or ExecutionStatus.Error)
            .WithMessage("status must be pass, warning, fail or error");
        RuleFor(x => x.Metric).NotNull().When(x => x.Status is null).WithMessage("metric is required unless a status is given");
        RuleFor(x => x.Message).MaximumLength(4000);
        RuleFor(x => x.IdempotencyKey).MaximumLength(120).Matches("^[A-Za-z0-9._:-]+$").When(x => x.IdempotencyKey is not null)
            .WithMessage("idempotency_key must be 1–120 characters of letters, digits, '.', '_', ':' or '-'");
    }
}

public sealed record IgnoreExecutionRequest
{
    public string? Reason { get; init; }
}

public sealed class IgnoreExecutionRequestValidator : AbstractValidator<IgnoreExecutionRequest>
{
    public IgnoreExecutionRequestValidator() => RuleFor(x => x.Reason).MaximumLength(1000);
}

/// <summary>Filters of an executions list; a null value does not filter.</summary>
public sealed record ExecutionFilter(
    ExecutionStatus? Status = null, DateTimeOffset? From = null, DateTimeOffset? To = null, string? Product = null,
    ExecutionTrigger? Trigger = null, bool? Ignored = null);

public sealed record StatusCounts(int Pass, int Warning, int Fail, int Error, int Queued, int Running)
{
    public int Completed => Pass + Warning + Fail + Error;
    /// <summary>PASS and WARNING of the completed runs, in percent (null without completed runs).</summary>
    public double? PassRate => Completed == 0 ? null : Math.Round(100.0 * (Pass + Warning) / Completed, 2);
}

/// <summary>A check's statistics over a window; ignored executions are left out.</summary>
public sealed record CheckStatsResponse(
    Guid CheckId, int Days, DateTimeOffset From, StatusCounts Executions, double? PassRate, double? AverageDurationMs,
    double? P95DurationMs, double? LastMetric, ExecutionStatus? LastStatus, DateTimeOffset? LastRunAt, int Ignored);

public sealed record SpaceQualityStatsResponse(
    int Days, DateTimeOffset From, int Checks, int ActiveChecks, IReadOnlyDictionary<string, int> ChecksByLastStatus,
    StatusCounts Executions, double? PassRate, IReadOnlyDictionary<string, int> OpenAlertsBySeverity,
    double? AverageProductScore, IReadOnlyDictionary<string, int> ProductsByHealth);

public sealed record TrendPoint(DateOnly Date, int Pass, int Warning, int Fail, int Error, double? PassRate);

public sealed record TrendResponse(int Days, Guid? ProductId, IReadOnlyList<TrendPoint> Points);

public sealed record ProductQualityCheck(
    Guid Id, string Slug, string Name, string CheckType, CheckSeverity Severity, bool IsActive, ExecutionStatus? LastStatus, DateTimeOffset? LastRunAt);

/// <summary>A product's score (see <see cref="QualityScore"/>) and the checks that make it.</summary>
public sealed record ProductQualityResponse(
    Guid ProductId, double? Score, string Health, int Passing, int Warning, int Failing, int Errored, DateTimeOffset? ComputedAt,
    int OpenAlerts, IReadOnlyList<ProductQualityCheck> Checks);

/// <summary>The score as a product response carries it.</summary>
public sealed record QualitySummary(double? Score, string Health, DateTimeOffset? ComputedAt);
