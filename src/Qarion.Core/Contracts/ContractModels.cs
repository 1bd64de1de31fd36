using FluentValidation;
using Qarion.Core.Common;

namespace Qarion.Core.Contracts;

/// <summary>The SLA terms a contract can carry, as they are named in violations, events and <c>sla_details</c>.</summary>
public static class ContractTerms
{
    public const string Freshness = "freshness";
    public const string QualityScore = "quality_score";
    public const string Availability = "availability";

    public static IReadOnlyList<string> All { get; } = [Freshness, QualityScore, Availability];
}

public sealed record ContractProductRef(Guid Id, string Slug, string Name);

/// <summary>One term's result at the last evaluation: expected is the term, actual what was measured (null when unknown).</summary>
public sealed record ContractTermResult(string Term, SlaStatus Status, double Expected, double? Actual, string Message);

public sealed record ContractResponse(
    Guid Id, Guid SpaceId, string Slug, string Name, string? Description, ContractStatus Status,
    ContractProductRef Producer, IReadOnlyList<ContractProductRef> Consumers,
    double? FreshnessHours, double? MinQualityScore, double? AvailabilityPercent, int WindowDays,
    DateTimeOffset? EffectiveFrom, DateTimeOffset? ExpiresAt,
    SlaStatus SlaStatus, IReadOnlyList<ContractTermResult> SlaDetails, DateTimeOffset? LastEvaluatedAt, int OpenViolations,
    Guid? CreatedById, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, uint Version);

public sealed record ContractViolationResponse(
    Guid Id, Guid ContractId, string Term, SlaStatus Severity, double? Expected, double? Actual, string? Message,
    DateTimeOffset OccurredAt, DateTimeOffset? ResolvedAt);

/// <summary>The body of a <c>contract.violated</c> outbox event (snake_case).</summary>
public sealed record ContractViolatedEvent(
    Guid ContractId, string ContractName, string ContractSlug, Guid SpaceId, Guid ProducerProductId,
    IReadOnlyList<Guid> ConsumerProductIds, Guid ViolationId, string Term, double Expected, double? Actual,
    SlaStatus Severity, string Message, DateTimeOffset OccurredAt);

public sealed record CreateContractRequest
{
    public required string Name { get; init; }
    /// <summary>Unique in the space; derived from the name when absent.</summary>
    public string? Slug { get; init; }
    public string? Description { get; init; }
    /// <summary>The producer product, by id or slug, in this space.</summary>
    public required string Producer { get; init; }
    /// <summary>Consumer products, by id or slug, in this space; never the producer.</summary>
    public IReadOnlyList<string>? Consumers { get; init; }
    /// <summary>The producer's data must be at most this many hours old (&gt; 0).</summary>
    public double? FreshnessHours { get; init; }
    /// <summary>The producer's quality score must stay at or above this (0–100).</summary>
    public double? MinQualityScore { get; init; }
    /// <summary>Percent of the producer's check runs in the window that must pass or warn (0–100).</summary>
    public double? AvailabilityPercent { get; init; }
    /// <summary>The availability window in days, 1 to 365 (default 30).</summary>
    public int? WindowDays { get; init; }
    public DateTimeOffset? EffectiveFrom { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    /// <summary><c>draft</c> (default) or <c>active</c>.</summary>
    public ContractStatus? Status { get; init; }
}

public sealed record UpdateContractRequest
{
    public Optional<string> Name { get; init; }
    public Optional<string> Slug { get; init; }
    public Optional<string?> Description { get; init; }
    /// <summary>Only while the contract is a draft.</summary>
    public Optional<string> Producer { get; init; }
    /// <summary>Replaces the consumer list.</summary>
    public Optional<IReadOnlyList<string>> Consumers { get; init; }
    public Optional<double?> FreshnessHours { get; init; }
    public Optional<double?> MinQualityScore { get; init; }
    public Optional<double?> AvailabilityPercent { get; init; }
    public Optional<int> WindowDays { get; init; }
    public Optional<DateTimeOffset?> EffectiveFrom { get; init; }
    public Optional<DateTimeOffset?> ExpiresAt { get; init; }
    /// <summary>draft → active → deprecated → expired (see docs/decisions/0005-contracts.md).</summary>
    public Optional<ContractStatus> Status { get; init; }
    public uint? Version { get; init; }
}

internal static class ContractRules
{
    public const int MaxConsumers = 100;
    public const double MaxFreshnessHours = 87_600; // ten years

    public static IRuleBuilderOptions<T, double?> FreshnessHours<T>(this IRuleBuilder<T, double?> rule)
        => rule.Must(v => v is null || (v > 0 && v <= MaxFreshnessHours))
            .WithMessage($"must be greater than 0 and at most {MaxFreshnessHours} hours").WithErrorCode("out_of_range");

    public static IRuleBuilderOptions<T, double?> Percent<T>(this IRuleBuilder<T, double?> rule)
        => rule.Must(v => v is null || (v >= 0 && v <= 100)).WithMessage("must be between 0 and 100").WithErrorCode("out_of_range");

    public static IRuleBuilderOptions<T, int?> WindowDays<T>(this IRuleBuilder<T, int?> rule)
        => rule.Must(v => v is null || (v >= 1 && v <= 365)).WithMessage("must be between 1 and 365 days").WithErrorCode("out_of_range");

    public static IRuleBuilderOptions<T, string?> Description<T>(this IRuleBuilder<T, string?> rule)
        => rule.Must(v => v is null || v.Length <= Validation.DescriptionMaxLength)
            .WithMessage($"must be at most {Validation.DescriptionMaxLength} characters").WithErrorCode("string_too_long");

    public static IRuleBuilderOptions<T, string> ProductKey<T>(this IRuleBuilder<T, string> rule)
        => rule.Must(v => !string.IsNullOrWhiteSpace(v) && v.Length <= 200)
            .WithMessage("must be a product id or slug").WithErrorCode("missing");

    public static IRuleBuilderOptions<T, IReadOnlyList<string>?> ConsumerList<T>(this IRuleBuilder<T, IReadOnlyList<string>?> rule)
        => rule.Must(v => v is null || v.Count <= MaxConsumers).WithMessage($"at most {MaxConsumers} consumers").WithErrorCode("too_long");

    public static bool DatesInOrder(DateTimeOffset? effectiveFrom, DateTimeOffset? expiresAt)
        => effectiveFrom is null || expiresAt is null || expiresAt > effectiveFrom;
}

public sealed class CreateContractRequestValidator : AbstractValidator<CreateContractRequest>
{
    public CreateContractRequestValidator()
    {
        RuleFor(x => x.Name).Name();
        RuleFor(x => x.Slug!).Slug().When(x => x.Slug is not null);
        RuleFor(x => x.Description).Description();
        RuleFor(x => x.Producer).ProductKey();
        RuleFor(x => x.Consumers).ConsumerList();
        RuleForEach(x => x.Consumers).ProductKey();
        RuleFor(x => x.FreshnessHours).FreshnessHours();
        RuleFor(x => x.MinQualityScore).Percent();
        RuleFor(x => x.AvailabilityPercent).Percent();
        RuleFor(x => x.WindowDays).WindowDays();
        RuleFor(x => x.ExpiresAt).Must((x, v) => ContractRules.DatesInOrder(x.EffectiveFrom, v))
            .WithMessage("must be later than effective_from").WithErrorCode("date_order");
        RuleFor(x => x.Status).Must(s => s is null or ContractStatus.Draft or ContractStatus.Active)
            .WithMessage("a contract is created as draft or active").WithErrorCode("status_not_allowed");
    }
}

public sealed class UpdateContractRequestValidator : AbstractValidator<UpdateContractRequest>
{
    public UpdateContractRequestValidator()
    {
        When(x => x.Name.IsSet, () => RuleFor(x => x.Name.Value).Name().OverridePropertyName("Name"));
        When(x => x.Slug.IsSet, () => RuleFor(x => x.Slug.Value).Slug().OverridePropertyName("Slug"));
        RuleFor(x => x.Description.Value).Description().OverridePropertyName("Description");
        When(x => x.Producer.IsSet, () => RuleFor(x => x.Producer.Value).ProductKey().OverridePropertyName("Producer"));
        When(x => x.Consumers.IsSet, () =>
        {
            RuleFor(x => x.Consumers.Value).ConsumerList().OverridePropertyName("Consumers");
            RuleForEach(x => x.Consumers.Value).ProductKey().OverridePropertyName("Consumers");
        });
        RuleFor(x => x.FreshnessHours.Value).FreshnessHours().OverridePropertyName("FreshnessHours");
        RuleFor(x => x.MinQualityScore.Value).Percent().OverridePropertyName("MinQualityScore");
        RuleFor(x => x.AvailabilityPercent.Value).Percent().OverridePropertyName("AvailabilityPercent");
        When(x => x.WindowDays.IsSet, () => RuleFor(x => (int?)x.WindowDays.Value).WindowDays().OverridePropertyName("WindowDays"));
    }
}
