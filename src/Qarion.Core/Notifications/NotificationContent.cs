using System.Globalization;
using System.Net;
using System.Text.Json;
using Qarion.Core.Outbox;

namespace Qarion.Core.Notifications;

/// <summary>What a notification says: a title, a body and a link path, composed from the event's payload.</summary>
public sealed record NotificationContent(string Title, string? Body, string? Link)
{
    public static NotificationContent Describe(OutboxMessage message, string? spaceSlug)
    {
        var p = message.Payload;
        string? S(string name) => p.ValueKind == JsonValueKind.Object && p.TryGetProperty(name, out var v)
            ? v.ValueKind switch { JsonValueKind.String => v.GetString(), JsonValueKind.Number => v.GetRawText(), _ => null }
            : null;
        var issue = S("number") is { } n ? $"#{n} {S("title")}" : S("title");
        var title = message.EventType switch
        {
            OutboxEventTypes.AlertRaised => $"Alert raised: {S("title")}",
            OutboxEventTypes.AlertResolved => $"Alert resolved: {S("title")}",
            OutboxEventTypes.CheckFailed => $"Check failed: {S("check_name")}",
            OutboxEventTypes.CheckPassed => $"Check passing again: {S("check_name")}",
            OutboxEventTypes.IssueCreated => $"New issue {issue}",
            OutboxEventTypes.IssueAssigned => $"Issue assigned to you: {issue}",
            OutboxEventTypes.IssueResolved => $"Issue resolved: {issue}",
            OutboxEventTypes.IssueCommentMention => $"{S("author_name") ?? "Someone"} mentioned you on {issue}",
            OutboxEventTypes.ContractViolated => $"Contract violated: {S("contract_name")}",
            OutboxEventTypes.ProductCreated => $"New data product: {S("name")}",
            OutboxEventTypes.ProductUpdated => $"Data product updated: {S("name")}",
            OutboxEventTypes.SchemaChanged => $"Schema changed: {S("change_count")} change(s) in {S("product_names") ?? Names(p)}",
            OutboxEventTypes.SyncCompleted => $"Sync completed: {S("connector_name")}",
            OutboxEventTypes.SyncFailed => $"Sync failed: {S("connector_name")}",
            OutboxEventTypes.WebhookDisabled => $"Webhook disabled: {S("name") ?? S("url")}",
            _ => S("title") ?? message.EventType,
        };
        var body = S("message") ?? S("summary") ?? S("error") ?? S("excerpt") ?? S("note");
        return new NotificationContent(Clip(title, 500), body is null ? null : Clip(body, 4000), S("link") ?? LinkOf(message, spaceSlug, S));
    }

    private static string Names(JsonElement p)
        => p.TryGetProperty("product_names", out var names) && names.ValueKind == JsonValueKind.Array
            ? string.Join(", ", names.EnumerateArray().Select(n => n.GetString()))
            : "a data product";

    private static string? LinkOf(OutboxMessage message, string? space, Func<string, string?> s)
    {
        if (space is null) return null;
        var root = $"/spaces/{space}";
        return message.EventType.Split('.')[0] switch
        {
            "quality" when s("alert_id") is { } a => $"{root}/alerts/{a}",
            "quality" when s("check_id") is { } c => $"{root}/checks/{c}",
            "issue" => $"{root}/issues/{s("number") ?? s("issue_id")}",
            "contract" => $"{root}/contracts/{s("contract_id")}",
            "product" or "schema" when s("product_id") is { } pid => $"{root}/products/{pid}",
            "sync" when s("connector_id") is { } cid => $"{root}/connectors/{cid}",
            _ => root,
        };
    }

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    /// <summary>The e-mail of a notification: the same words, plain and HTML, with an absolute link when a base URL is set.</summary>
    public EmailMessage ToEmail(string to, string? baseUrl)
    {
        var url = Link is null ? null : (baseUrl?.TrimEnd('/') ?? "") + Link;
        var text = string.Join("\n\n", new[] { Title, Body, url is null ? null : "Open: " + url }.Where(x => x is not null));
        var html = string.Create(CultureInfo.InvariantCulture,
            $"<html><body><h2>{WebUtility.HtmlEncode(Title)}</h2>{(Body is null ? "" : $"<p>{WebUtility.HtmlEncode(Body)}</p>")}{(url is null ? "" : $"<p><a href=\"{WebUtility.HtmlEncode(url)}\">Open in Qarion</a></p>")}<p style=\"color:#888\">You receive this because of your Qarion notification preferences.</p></body></html>");
        return new EmailMessage([to], "[Qarion] " + Title, text, html);
    }
}
