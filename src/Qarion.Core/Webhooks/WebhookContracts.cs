using System.Text.Json.Serialization;
using FluentValidation;
using Qarion.Core.Common;

namespace Qarion.Core.Webhooks;

public sealed record CreateWebhookRequest
{
    public required string Name { get; init; }
    /// <summary>An absolute http(s) URL on the public internet (private and loopback addresses are refused unless configured).</summary>
    public required string Url { get; init; }
    /// <summary>Event types: exact names, <c>prefix.*</c> or <c>*</c>; 1 to 30.</summary>
    public required IReadOnlyList<string> EventTypes { get; init; }
    /// <summary>A <c>whsec_</c> secret (base64 of 24 to 64 bytes); when absent the server generates one. Returned once.</summary>
    public string? Secret { get; init; }
    public bool? IsEnabled { get; init; }
    public string? Description { get; init; }
}

public sealed record UpdateWebhookRequest
{
    public Optional<string> Name { get; init; }
    public Optional<string> Url { get; init; }
    public Optional<IReadOnlyList<string>> EventTypes { get; init; }
    public Optional<string?> Description { get; init; }
    public Optional<bool> IsEnabled { get; init; }
    public uint? Version { get; init; }
}

public sealed record RotateWebhookSecretRequest
{
    /// <summary>The new <c>whsec_</c> secret; when absent the server generates one.</summary>
    public string? Secret { get; init; }
}

/// <summary>A subscription as the API shows it: never its secret, except once in the answer to create and rotate.</summary>
public sealed record WebhookResponse(
    Guid Id, Guid SpaceId, string Name, string Url, IReadOnlyList<string> EventTypes, string? Description, bool IsEnabled,
    string? DisabledReason, DateTimeOffset? DisabledAt, int ConsecutiveFailures, bool HasSecret, Guid? CreatedById,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, uint Version)
{
    /// <summary>Only in the answer to create and rotate-secret.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Secret { get; init; }
}

public sealed record WebhookAttemptResponse(int Attempt, int? StatusCode, long LatencyMs, string? Error, bool WillRetry, DateTimeOffset? NextAttemptAt, DateTimeOffset AttemptedAt);

public sealed record WebhookDeliveryResponse(
    Guid Id, Guid SubscriptionId, Guid? EventId, string EventType, WebhookDeliveryStatus Status, int Attempts, int? LastStatusCode,
    string? LastError, DateTimeOffset? NextAttemptAt, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt, IReadOnlyList<WebhookAttemptResponse> AttemptLog);

/// <summary>The outcome of a test delivery or a manual redelivery (always 200; <c>success</c> says whether the receiver took it).</summary>
public sealed record WebhookSendResult(Guid DeliveryId, bool Success, int Attempt, int? StatusCode, long LatencyMs, string? Error);

public sealed class CreateWebhookRequestValidator : AbstractValidator<CreateWebhookRequest>
{
    public CreateWebhookRequestValidator()
    {
        RuleFor(x => x.Name).Name();
        RuleFor(x => x.Url).WebhookUrl();
        RuleFor(x => x.EventTypes).EventTypes();
        RuleForEach(x => x.EventTypes).EventType();
        RuleFor(x => x.Secret).WebhookSecret();
        RuleFor(x => x.Description).MaximumLength(1000).WithMessage("must be at most 1000 characters");
    }
}

public sealed class UpdateWebhookRequestValidator : AbstractValidator<UpdateWebhookRequest>
{
    public UpdateWebhookRequestValidator()
    {
        RuleFor(x => x.Name.Value).Name().When(x => x.Name.IsSet).OverridePropertyName("name");
        RuleFor(x => x.Url.Value).WebhookUrl().When(x => x.Url.IsSet).OverridePropertyName("url");
        RuleFor(x => x.EventTypes.Value).EventTypes().When(x => x.EventTypes.IsSet).OverridePropertyName("event_types");
        RuleForEach(x => x.EventTypes.Value).EventType().When(x => x.EventTypes is { IsSet: true, Value: not null }).OverridePropertyName("event_types");
        RuleFor(x => x.Description.Value).MaximumLength(1000).WithMessage("must be at most 1000 characters")
            .When(x => x.Description.IsSet).OverridePropertyName("description");
    }
}

public sealed class RotateWebhookSecretRequestValidator : AbstractValidator<RotateWebhookSecretRequest>
{
    public RotateWebhookSecretRequestValidator() => RuleFor(x => x.Secret).WebhookSecret();
}

internal static class WebhookRules
{
    public static IRuleBuilderOptions<T, string> WebhookUrl<T>(this IRuleBuilder<T, string> rule)
        => rule.Must(u => OutboundHttp.ParseUrl(u) is not null)
            .WithMessage("must be an absolute http or https URL without credentials, at most 2048 characters").WithErrorCode("invalid_url");

    public static IRuleBuilderOptions<T, IReadOnlyList<string>> EventTypes<T>(this IRuleBuilderInitial<T, IReadOnlyList<string>> rule)
        => rule.Cascade(CascadeMode.Stop)
            .Must(l => l is { Count: > 0 }).WithMessage("must name at least one event type").WithErrorCode("too_short")
            .Must(l => l.Count <= EventTypePatterns.MaxPatterns).WithMessage($"must name at most {EventTypePatterns.MaxPatterns} event types").WithErrorCode("too_long");

    public static IRuleBuilderOptions<T, string> EventType<T>(this IRuleBuilder<T, string> rule)
        => rule.Must(EventTypePatterns.IsKnown)
            .WithMessage("must be a known event type, a prefix of known types followed by '.*', or '*'").WithErrorCode("unknown_event_type");

    public static IRuleBuilderOptions<T, string?> WebhookSecret<T>(this IRuleBuilder<T, string?> rule)
        => rule.Must(s => s is null || WebhookSigning.Key(s) is not null)
            .WithMessage($"must be '{WebhookSigning.SecretPrefix}' followed by base64 of {WebhookSigning.MinKeyBytes} to {WebhookSigning.MaxKeyBytes} bytes").WithErrorCode("invalid_secret");
}
