using System.Text.Json;
using System.Text.RegularExpressions;
using FluentValidation;
using Qarion.Core.Common;
using Qarion.Core.Outbox;
using Qarion.Core.Quality;

namespace Qarion.Core.AlertConnectors;

public sealed record CreateAlertConnectorRequest
{
    public required string Name { get; init; }
    /// <summary><c>slack</c>, <c>teams</c> or <c>email</c>.</summary>
    public required string Kind { get; init; }
    /// <summary>The incoming-webhook URL (Slack, Teams; required for them, refused for e-mail). Stored encrypted, never returned.</summary>
    public string? Url { get; init; }
    /// <summary>E-mail: <c>{"recipients": ["ops@example.com"]}</c> (1–50 addresses). Slack and Teams take none.</summary>
    public JsonElement? Config { get; init; }
    /// <summary>Events whose severity is below this are not sent (default low: all).</summary>
    public CheckSeverity? MinSeverity { get; init; }
    /// <summary>Event types, exact or with wildcards (<c>quality.*</c>, <c>*</c>); default <c>["quality.alert.*"]</c>.</summary>
    public IReadOnlyList<string>? EventTypes { get; init; }
    public bool? IsEnabled { get; init; }
}

public sealed record UpdateAlertConnectorRequest
{
    public Optional<string> Name { get; init; }
    /// <summary>A new webhook URL (Slack, Teams).</summary>
    public Optional<string> Url { get; init; }
    public Optional<JsonElement> Config { get; init; }
    public Optional<CheckSeverity> MinSeverity { get; init; }
    public Optional<IReadOnlyList<string>> EventTypes { get; init; }
    public Optional<bool> IsEnabled { get; init; }
    public uint? Version { get; init; }
}

public sealed record AlertDeliverySummary(Guid EventId, string EventType, AlertDeliveryStatus Status, int? StatusCode, DateTimeOffset UpdatedAt);

/// <summary>A connector as the API shows it: whether a secret (webhook URL) is set and a hint of it, never the URL.</summary>
public sealed record AlertConnectorResponse(
    Guid Id, Guid SpaceId, string Name, string Kind, JsonElement Config, bool HasSecret, string? SecretHint, CheckSeverity MinSeverity,
    IReadOnlyList<string> EventTypes, bool IsEnabled, AlertDeliverySummary? LastDelivery, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, uint Version);

public sealed record AlertDeliveryResponse(
    Guid Id, Guid ConnectorId, Guid EventId, string EventType, AlertDeliveryStatus Status, int Attempts, int? StatusCode, string? Error,
    int? LatencyMs, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? SentAt);

/// <summary>The outcome of a test send: always answered with 200; <c>success</c> says whether the channel took it.</summary>
public sealed record AlertConnectorTestResult(bool Success, int? StatusCode, string? Error, int LatencyMs);

public static partial class AlertConnectorRules
{
    public const int EventTypesMax = 50;
    public const int PatternMax = 100;
    public const int RecipientsMax = 50;
    /// <summary>Largest <c>config</c> accepted, as compact JSON (UTF-8 bytes).</summary>
    public const int ConfigMaxBytes = 16 * 1024;
    public static readonly IReadOnlyList<string> DefaultEventTypes = ["quality.alert.*"];
    public static readonly IReadOnlyList<string> Kinds = ["slack", "teams", "email"];

    public static AlertChannelKind? ParseKind(string? kind) => kind switch
    {
        "slack" => AlertChannelKind.Slack,
        "teams" => AlertChannelKind.Teams,
        "email" => AlertChannelKind.Email,
        _ => null,
    };

    public static string KindName(AlertChannelKind kind) => Persistence.SnakeCaseEnums.Name(kind);

    [GeneratedRegex(@"\A[a-z][a-z_]*(\.[a-z][a-z_]*)*(\.\*)?\z|\A\*\z", RegexOptions.CultureInvariant)]
    private static partial Regex PatternShape();

    /// <summary>
    /// True when <paramref name="pattern"/> names at least one known event type: <c>*</c>, an exact name of
    /// <see cref="OutboxEventTypes.All"/>, or <c>prefix.*</c> where some known type starts with <c>prefix.</c>.
    /// </summary>
    public static bool IsKnownPattern(string? pattern)
        => pattern is { Length: > 0 and <= PatternMax } && PatternShape().IsMatch(pattern) && OutboxEventTypes.All.Any(t => AlertRouting.Matches(pattern, t));
}

/// <summary>Which connector receives which event.</summary>
public static class AlertRouting
{
    /// <summary><c>*</c> matches everything; <c>quality.*</c> every type under <c>quality.</c>; otherwise the exact type.</summary>
    public static bool Matches(string pattern, string eventType)
        => pattern == "*" || string.Equals(pattern, eventType, StringComparison.Ordinal)
           || (pattern.EndsWith(".*", StringComparison.Ordinal) && eventType.StartsWith(pattern[..^1], StringComparison.Ordinal));

    /// <summary>
    /// The event's severity, when it has one: <c>severity</c> (alerts and checks: low…critical; contract violations:
    /// at_risk → medium, breached → high) or an issue's <c>priority</c> (low…critical).
    /// </summary>
    public static CheckSeverity? SeverityOf(JsonElement payload)
    {
        if (payload.ValueKind != JsonValueKind.Object) return null;
        foreach (var name in new[] { "severity", "priority" })
        {
            if (!payload.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String) continue;
            return value.GetString() switch
            {
                "low" => CheckSeverity.Low,
                "medium" or "at_risk" => CheckSeverity.Medium,
                "high" or "breached" => CheckSeverity.High,
                "critical" => CheckSeverity.Critical,
                _ => null,
            };
        }
        return null;
    }

    /// <summary>An enabled connector of the event's space, matching its type, at or above its minimum severity.</summary>
    public static bool Accepts(AlertConnector connector, OutboxMessage message, CheckSeverity? severity)
        => connector.IsEnabled && message.SpaceId == connector.SpaceId
           && connector.EventTypes.Any(p => Matches(p, message.EventType))
           && (severity is null || severity >= connector.MinSeverity);
}

public sealed class CreateAlertConnectorRequestValidator : AbstractValidator<CreateAlertConnectorRequest>
{
    public CreateAlertConnectorRequestValidator()
    {
        RuleFor(x => x.Name).Name();
        RuleFor(x => x.Kind).Must(k => AlertConnectorRules.ParseKind(k) is not null)
            .WithMessage(x => $"unsupported channel '{x.Kind}': must be one of {string.Join(", ", AlertConnectorRules.Kinds)}").WithErrorCode("unsupported_channel");
        RuleFor(x => x.MinSeverity).IsInEnum();
        RuleFor(x => x.EventTypes).Must(AlertConnectorValidation.CountOk).When(x => x.EventTypes is not null)
            .WithMessage(AlertConnectorValidation.CountMessage).WithErrorCode("value_error");
        RuleForEach(x => x.EventTypes).Must(AlertConnectorRules.IsKnownPattern).When(x => x.EventTypes is not null)
            .WithMessage(AlertConnectorValidation.UnknownMessage).WithErrorCode("unknown_event_type");
    }
}

public sealed class UpdateAlertConnectorRequestValidator : AbstractValidator<UpdateAlertConnectorRequest>
{
    public UpdateAlertConnectorRequestValidator()
    {
        RuleFor(x => x.Name.Value).Name().When(x => x.Name.IsSet).OverridePropertyName("name");
        RuleFor(x => x.MinSeverity.Value).IsInEnum().When(x => x.MinSeverity.IsSet).OverridePropertyName("min_severity");
        RuleFor(x => x.EventTypes.Value).Must(AlertConnectorValidation.CountOk).When(x => x.EventTypes.IsSet)
            .WithMessage(AlertConnectorValidation.CountMessage).WithErrorCode("value_error").OverridePropertyName("event_types");
        RuleForEach(x => x.EventTypes.Value).Must(AlertConnectorRules.IsKnownPattern).When(x => x.EventTypes is { IsSet: true, Value: not null })
            .WithMessage(AlertConnectorValidation.UnknownMessage).WithErrorCode("unknown_event_type").OverridePropertyName("event_types");
    }
}

internal static class AlertConnectorValidation
{
    public const string CountMessage = "must name 1 to 50 event types";
    public const string UnknownMessage = "unknown event type '{PropertyValue}': use a known type (e.g. quality.alert.raised), a prefix with .* (quality.*) or *";

    public static bool CountOk(IReadOnlyList<string>? list) => list is { Count: > 0 and <= AlertConnectorRules.EventTypesMax };
}
