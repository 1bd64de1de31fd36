using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Qarion.Core.Outbox;
using Qarion.Core.Persistence;
using Qarion.Core.Quality;

namespace Qarion.Core.AlertConnectors;

/// <summary>How an alert should look: bad news, a warning, good news (resolved, passing again) or plain information.</summary>
public enum NoticeTone { Info = 1, Good = 2, Warning = 3, Bad = 4 }

public sealed record NoticeFact(string Label, string Value);

/// <summary>An event made readable, independent of the channel: every channel renders the same title, summary and facts.</summary>
public sealed record AlertNotice(
    Guid EventId, string EventType, string Title, string Summary, CheckSeverity? Severity, NoticeTone Tone,
    IReadOnlyList<NoticeFact> Facts, string SpaceName, DateTimeOffset OccurredAt)
{
    /// <summary>The line under every message: where and when it comes from.</summary>
    public string Footer => $"Qarion · {SpaceName} · {EventType} · {OccurredAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC";
}

/// <summary>
/// Turns an outbox event (its payload as written by ExecutionRecorder, AlertService, IssueService, ContractSlaService…)
/// into an <see cref="AlertNotice"/>, resolving product and user ids to names. Types without a dedicated layout get a
/// generic one: a title from the type and the payload's scalar values as facts.
/// </summary>
public sealed class AlertFormatter(QarionDbContext db)
{
    private const int MaxFacts = 10;

    public async Task<AlertNotice> NoticeAsync(OutboxMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        var p = message.Payload;
        var productIds = Ids(p, "product_id").Concat(Ids(p, "product_ids")).Concat(Ids(p, "producer_product_id")).Distinct().ToList();
        var userIds = Ids(p, "assignee_id").Concat(Ids(p, "resolved_by_id")).Distinct().ToList();
        var products = productIds.Count == 0 ? [] : await db.Products.AsNoTracking().Where(x => productIds.Contains(x.Id)).ToDictionaryAsync(x => x.Id, x => x.Name, ct);
        var users = userIds.Count == 0 ? [] : await db.Users.AsNoTracking().Where(x => userIds.Contains(x.Id)).ToDictionaryAsync(x => x.Id, x => x.DisplayName, ct);
        var spaceName = message.SpaceId is { } spaceId
            ? await db.Spaces.AsNoTracking().Where(s => s.Id == spaceId).Select(s => s.Name).SingleOrDefaultAsync(ct) ?? "(deleted space)"
            : "Qarion";
        string Product(Guid? id) => id is { } v ? products.GetValueOrDefault(v, v.ToString()) : "—";
        string ProductList() => Ids(p, "product_ids") is { Count: > 0 } ids ? string.Join(", ", ids.Select(i => Product(i))) : "—";
        string User(Guid? id) => id is { } v ? users.GetValueOrDefault(v, v.ToString()) : "nobody";

        var severity = AlertRouting.SeverityOf(p);
        var facts = new List<NoticeFact>();
        void Fact(string label, string? value)
        {
            if (!string.IsNullOrEmpty(value)) facts.Add(new NoticeFact(label, value));
        }
        string title, summary;
        NoticeTone tone;
        switch (message.EventType)
        {
            case OutboxEventTypes.AlertRaised:
                title = $"Alert raised: {Str(p, "title")}";
                summary = Str(p, "message") ?? "A quality check failed.";
                tone = severity >= CheckSeverity.High ? NoticeTone.Bad : NoticeTone.Warning;
                Fact("Severity", Label(severity));
                Fact("Product", Product(Id(p, "product_id")));
                Fact("Check", Str(p, "check_name"));
                Fact("Check type", Str(p, "check_type"));
                Fact("Result", Str(p, "status")?.ToUpperInvariant());
                Fact("Metric", Num(p, "metric"));
                break;
            case OutboxEventTypes.AlertResolved:
                title = $"Alert resolved: {Str(p, "title")}";
                summary = Str(p, "note") ?? (Bool(p, "auto_resolved") ? "Resolved automatically: the check passes again." : "The alert was resolved.");
                tone = NoticeTone.Good;
                Fact("Severity", Label(severity));
                Fact("Product", Product(Id(p, "product_id")));
                Fact("Resolved by", Bool(p, "auto_resolved") ? "Qarion (automatically)" : User(Id(p, "resolved_by_id")));
                break;
            case OutboxEventTypes.CheckFailed or OutboxEventTypes.CheckPassed:
                var failed = message.EventType == OutboxEventTypes.CheckFailed;
                title = failed ? $"Check failed: {Str(p, "check_name")}" : $"Check passing again: {Str(p, "check_name")}";
                summary = Str(p, "message") ?? (failed ? $"The check returned {Str(p, "status")?.ToUpperInvariant()}." : "The check passes again.");
                tone = !failed ? NoticeTone.Good : severity >= CheckSeverity.High ? NoticeTone.Bad : NoticeTone.Warning;
                Fact("Severity", Label(severity));
                Fact("Products", ProductList());
                Fact("Check type", Str(p, "check_type"));
                Fact("Result", Str(p, "status")?.ToUpperInvariant());
                Fact("Metric", Num(p, "metric"));
                break;
            case OutboxEventTypes.ContractViolated:
                var breached = Str(p, "severity") == "breached";
                title = $"Contract violated: {Str(p, "contract_name")}";
                summary = Str(p, "message") ?? "A term of the contract is not met.";
                tone = breached ? NoticeTone.Bad : NoticeTone.Warning;
                Fact("SLA status", breached ? "Breached" : Humanise(Str(p, "severity") ?? "unknown"));
                Fact("Term", Str(p, "term"));
                Fact("Expected", Num(p, "expected"));
                Fact("Actual", Num(p, "actual") ?? "—");
                Fact("Producer", Product(Id(p, "producer_product_id")));
                break;
            case OutboxEventTypes.IssueCreated or OutboxEventTypes.IssueAssigned or OutboxEventTypes.IssueResolved:
                var verb = message.EventType[(message.EventType.LastIndexOf('.') + 1)..];
                title = $"Issue #{Num(p, "number")} {verb}: {Str(p, "title")}";
                summary = message.EventType switch
                {
                    OutboxEventTypes.IssueAssigned => $"Assigned to {User(Id(p, "assignee_id"))}.",
                    OutboxEventTypes.IssueResolved => "The issue was resolved.",
                    _ => "A new issue was opened.",
                };
                tone = message.EventType == OutboxEventTypes.IssueResolved ? NoticeTone.Good : NoticeTone.Info;
                Fact("Priority", Label(severity));
                Fact("Status", Humanise(Str(p, "status") ?? ""));
                Fact("Assignee", User(Id(p, "assignee_id")));
                Fact("Products", ProductList());
                break;
            default:
                title = Humanise(message.EventType.Replace('.', ' '));
                summary = Str(p, "message") ?? Str(p, "comment") ?? Str(p, "justification") ?? $"Event {message.EventType}.";
                tone = message.EventType.EndsWith(".approved", StringComparison.Ordinal) ? NoticeTone.Good
                    : message.EventType.EndsWith(".rejected", StringComparison.Ordinal) || message.EventType.EndsWith(".failed", StringComparison.Ordinal) ? NoticeTone.Warning
                    : NoticeTone.Info;
                if (Id(p, "product_id") is { } product) Fact("Product", Product(product));
                if (p.ValueKind == JsonValueKind.Object)
                {
                    foreach (var property in p.EnumerateObject())
                    {
                        if (facts.Count >= MaxFacts) break;
                        if (property.Name is "id" or "message" or "comment" or "justification" || property.Name.EndsWith("_id", StringComparison.Ordinal)) continue;
                        Fact(Humanise(property.Name), Scalar(property.Value));
                    }
                }
                break;
        }
        return new AlertNotice(message.EventId, message.EventType, OneLine(title), summary, severity, tone, facts.Take(MaxFacts).ToList(), spaceName, message.OccurredAt);
    }

    /// <summary>What <c>POST …/test</c> sends.</summary>
    public static AlertNotice Sample(AlertConnector connector, string spaceName, DateTimeOffset now) => new(
        Guid.Empty, "test", $"Test message from Qarion: {connector.Name}",
        "This connector is set up correctly: alerts of this space that match its routing will arrive here.",
        null, NoticeTone.Info,
        [
            new NoticeFact("Connector", connector.Name),
            new NoticeFact("Minimum severity", Label(connector.MinSeverity)!),
            new NoticeFact("Event types", string.Join(", ", connector.EventTypes)),
        ],
        spaceName, now);

    public static string? Label(CheckSeverity? severity) => severity?.ToString();

    private static string? Str(JsonElement p, string name)
        => p.ValueKind == JsonValueKind.Object && p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool Bool(JsonElement p, string name)
        => p.ValueKind == JsonValueKind.Object && p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    private static string? Num(JsonElement p, string name)
        => p.ValueKind == JsonValueKind.Object && p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? Number(v) : null;

    private static string Number(JsonElement v)
        => v.TryGetInt64(out var l) ? l.ToString(CultureInfo.InvariantCulture) : v.GetDouble().ToString("0.######", CultureInfo.InvariantCulture);

    private static Guid? Id(JsonElement p, string name)
        => p.ValueKind == JsonValueKind.Object && p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.TryGetGuid(out var g) ? g : null;

    private static List<Guid> Ids(JsonElement p, string name)
    {
        if (p.ValueKind != JsonValueKind.Object || !p.TryGetProperty(name, out var v)) return [];
        if (v.ValueKind == JsonValueKind.String) return v.TryGetGuid(out var one) ? [one] : [];
        if (v.ValueKind != JsonValueKind.Array) return [];
        return v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String && e.TryGetGuid(out _)).Select(e => e.GetGuid()).ToList();
    }

    private static string? Scalar(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString() is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && s.Contains('T', StringComparison.Ordinal)
            ? at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC"
            : Humanise(v.GetString()!, capitalise: false),
        JsonValueKind.Number => Number(v),
        JsonValueKind.True => "yes",
        JsonValueKind.False => "no",
        _ => null,
    };

    /// <summary><c>at_risk</c> → <c>At risk</c>; <c>access request submitted</c> → <c>Access request submitted</c>.</summary>
    public static string Humanise(string text, bool capitalise = true)
    {
        if (text.Length == 0) return text;
        var spaced = IsIdentifier(text) ? text.Replace('_', ' ') : text;
        return capitalise ? char.ToUpperInvariant(spaced[0]) + spaced[1..] : spaced;
    }

    private static bool IsIdentifier(string text) => text.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or ' ');

    private static string OneLine(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text) builder.Append(char.IsControl(c) ? ' ' : c);
        return builder.ToString().Trim();
    }
}
