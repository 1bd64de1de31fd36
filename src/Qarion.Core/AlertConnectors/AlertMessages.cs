using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Qarion.Core.Notifications;

namespace Qarion.Core.AlertConnectors;

/// <summary>Renders an <see cref="AlertNotice"/> for each channel: Slack Block Kit, a Teams Adaptive Card, an e-mail.</summary>
public static class AlertMessages
{
    /// <summary>
    /// A Slack incoming-webhook body: <c>text</c> (the notification fallback) and blocks — a header, the summary, the
    /// facts as section fields (at most 10), and a context line. Text in mrkdwn is escaped (&amp;, &lt;, &gt;).
    /// </summary>
    public static string Slack(AlertNotice notice)
    {
        ArgumentNullException.ThrowIfNull(notice);
        var blocks = new JsonArray
        {
            new JsonObject
            {
                ["type"] = "header",
                ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = Clip(notice.Title, 150), ["emoji"] = false },
            },
            new JsonObject
            {
                ["type"] = "section",
                ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = Clip(SlackEscape(notice.Summary), 3000) },
            },
        };
        if (notice.Facts.Count > 0)
        {
            var fields = new JsonArray();
            foreach (var fact in notice.Facts.Take(10))
                fields.Add(new JsonObject { ["type"] = "mrkdwn", ["text"] = Clip($"*{SlackEscape(fact.Label)}*\n{SlackEscape(fact.Value)}", 2000) });
            blocks.Add(new JsonObject { ["type"] = "section", ["fields"] = fields });
        }
        blocks.Add(new JsonObject
        {
            ["type"] = "context",
            ["elements"] = new JsonArray { new JsonObject { ["type"] = "mrkdwn", ["text"] = SlackEscape(notice.Footer) } },
        });
        return new JsonObject { ["text"] = Clip(notice.Title, 3000), ["blocks"] = blocks }.ToJsonString();
    }

    /// <summary>
    /// A Teams workflow / incoming-webhook body: a message with one Adaptive Card 1.4 attachment — the title (coloured
    /// by tone), the summary, a FactSet and a subtle footer.
    /// </summary>
    public static string Teams(AlertNotice notice)
    {
        ArgumentNullException.ThrowIfNull(notice);
        var body = new JsonArray
        {
            new JsonObject
            {
                ["type"] = "TextBlock", ["text"] = notice.Title, ["size"] = "Large", ["weight"] = "Bolder", ["wrap"] = true,
                ["color"] = notice.Tone switch { NoticeTone.Bad => "Attention", NoticeTone.Warning => "Warning", NoticeTone.Good => "Good", _ => "Default" },
            },
            new JsonObject { ["type"] = "TextBlock", ["text"] = notice.Summary, ["wrap"] = true },
        };
        if (notice.Facts.Count > 0)
        {
            var facts = new JsonArray();
            foreach (var fact in notice.Facts) facts.Add(new JsonObject { ["title"] = fact.Label, ["value"] = fact.Value });
            body.Add(new JsonObject { ["type"] = "FactSet", ["facts"] = facts });
        }
        body.Add(new JsonObject { ["type"] = "TextBlock", ["text"] = notice.Footer, ["isSubtle"] = true, ["size"] = "Small", ["wrap"] = true });
        var card = new JsonObject
        {
            ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
            ["type"] = "AdaptiveCard",
            ["version"] = "1.4",
            ["body"] = body,
        };
        return new JsonObject
        {
            ["type"] = "message",
            ["attachments"] = new JsonArray { new JsonObject { ["contentType"] = "application/vnd.microsoft.card.adaptive", ["content"] = card } },
        }.ToJsonString();
    }

    /// <summary>An e-mail with the same content: subject <c>[Qarion] title</c>, a plain-text body and an HTML body (values encoded).</summary>
    public static EmailMessage Email(AlertNotice notice, IReadOnlyList<string> recipients)
    {
        ArgumentNullException.ThrowIfNull(notice);
        var text = new StringBuilder();
        text.Append(notice.Title).Append("\n\n").Append(notice.Summary).Append("\n\n");
        foreach (var fact in notice.Facts) text.Append(fact.Label).Append(": ").Append(fact.Value).Append('\n');
        text.Append("\n--\n").Append(notice.Footer).Append('\n');

        var colour = notice.Tone switch { NoticeTone.Bad => "#cf222e", NoticeTone.Warning => "#9a6700", NoticeTone.Good => "#1a7f37", _ => "#1f2328" };
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html><body style=\"font-family:Arial,Helvetica,sans-serif;color:#1f2328\">");
        html.Append("<h2 style=\"color:").Append(colour).Append("\">").Append(Html(notice.Title)).Append("</h2>");
        html.Append("<p>").Append(Html(notice.Summary).Replace("\n", "<br>", StringComparison.Ordinal)).Append("</p>");
        if (notice.Facts.Count > 0)
        {
            html.Append("<table cellpadding=\"4\" cellspacing=\"0\">");
            foreach (var fact in notice.Facts)
                html.Append("<tr><th align=\"left\">").Append(Html(fact.Label)).Append("</th><td>").Append(Html(fact.Value)).Append("</td></tr>");
            html.Append("</table>");
        }
        html.Append("<p style=\"color:#656d76;font-size:12px\">").Append(Html(notice.Footer)).Append("</p></body></html>");
        return new EmailMessage(recipients, Clip("[Qarion] " + notice.Title, 250), text.ToString(), html.ToString());
    }

    private static string Html(string text) => WebUtility.HtmlEncode(text);

    private static string SlackEscape(string text)
        => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
