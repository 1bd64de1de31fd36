using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Qarion.Core.Common;
using Qarion.Core.Ingestion;
using Qarion.Core.Notifications;

namespace Qarion.Core.AlertConnectors;

/// <summary>What one send did: <see cref="AlertDeliveryStatus.Sent"/>, <c>Failed</c> (worth a retry) or <c>Rejected</c> (not).</summary>
public sealed record SendOutcome(AlertDeliveryStatus Status, int? StatusCode, string? Error, int LatencyMs)
{
    public bool Success => Status == AlertDeliveryStatus.Sent;
}

/// <summary>
/// Sends a notice through a connector's channel. Never throws for a channel failure (only for cancellation): the
/// outcome says what happened. Slack and Teams: POST through <see cref="OutboundHttp"/> (SSRF checks, timeout, no
/// redirects); 2xx sent, 408 / 429 / 5xx / timeout / network error failed, any other status rejected. E-mail: through
/// <see cref="IEmailSender"/>; <see cref="EmailRejectedException"/> rejected, anything else failed.
/// </summary>
public sealed class AlertChannels(OutboundHttp http, IEmailSender email, CredentialProtector protector)
{
    public async Task<SendOutcome> SendAsync(AlertConnector connector, AlertNotice notice, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(connector);
        var started = Stopwatch.GetTimestamp();
        int Elapsed() => (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return connector.Kind switch
        {
            AlertChannelKind.Email => await SendEmailAsync(connector, notice, Elapsed, ct),
            AlertChannelKind.Slack => await PostAsync(connector, AlertMessages.Slack(notice), Elapsed, ct),
            AlertChannelKind.Teams => await PostAsync(connector, AlertMessages.Teams(notice), Elapsed, ct),
            _ => new SendOutcome(AlertDeliveryStatus.Rejected, null, $"unsupported channel '{connector.Kind}'", 0),
        };
    }

    private async Task<SendOutcome> PostAsync(AlertConnector connector, string json, Func<int> elapsed, CancellationToken ct)
    {
        string url;
        try
        {
            url = connector.EncryptedCredentials is { } sealedUrl ? protector.Unprotect(connector.Id, sealedUrl) : throw new CryptographicException("no webhook URL is set");
        }
        catch (Exception ex) when (ex is CryptographicException or CredentialKeyMissingException)
        {
            return new SendOutcome(AlertDeliveryStatus.Rejected, null, $"The webhook URL cannot be read ({ex.Message}); set it again.", elapsed());
        }
        // Checked again at send time: a name that resolves to a private address now is refused, not retried.
        switch (await http.CheckAsync(url, ct))
        {
            case null: break;
            case "unresolvable_host": return new SendOutcome(AlertDeliveryStatus.Failed, null, "unresolvable_host: the webhook's host name does not resolve", elapsed());
            case var code: return new SendOutcome(AlertDeliveryStatus.Rejected, null, $"{code}: the webhook URL may not be called", elapsed());
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.UserAgent.ParseAdd("Qarion-Alerts/1.0");
        try
        {
            using var response = await http.SendAsync(request, ct);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode) return new SendOutcome(AlertDeliveryStatus.Sent, status, null, elapsed());
            var body = await response.Content.ReadAsStringAsync(ct);
            var error = $"HTTP {status}{(body.Length > 0 ? ": " + Clip(body, 200) : "")}";
            var retry = status is 408 or 429 || status >= 500;
            return new SendOutcome(retry ? AlertDeliveryStatus.Failed : AlertDeliveryStatus.Rejected, status, error, elapsed());
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return new SendOutcome(AlertDeliveryStatus.Failed, null, "timeout: the webhook did not answer in time", elapsed());
        }
        catch (HttpRequestException ex)
        {
            return new SendOutcome(AlertDeliveryStatus.Failed, null, "network error: " + Clip(ex.Message, 300), elapsed());
        }
    }

    private async Task<SendOutcome> SendEmailAsync(AlertConnector connector, AlertNotice notice, Func<int> elapsed, CancellationToken ct)
    {
        var recipients = Recipients(connector.Config);
        if (recipients.Count == 0) return new SendOutcome(AlertDeliveryStatus.Rejected, null, "The connector has no recipients.", elapsed());
        try
        {
            await email.SendAsync(AlertMessages.Email(notice, recipients), ct);
            return new SendOutcome(AlertDeliveryStatus.Sent, null, null, elapsed());
        }
        catch (EmailRejectedException ex)
        {
            return new SendOutcome(AlertDeliveryStatus.Rejected, ex.StatusCode, Clip(ex.Message, 500), elapsed());
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            var code = ex is MailKit.Net.Smtp.SmtpCommandException command ? (int)command.StatusCode : (int?)null;
            return new SendOutcome(AlertDeliveryStatus.Failed, code, Clip($"{ex.GetType().Name}: {ex.Message}", 500), elapsed());
        }
    }

    /// <summary>The recipients of an e-mail connector's config (<c>{"recipients": [...]}</c>).</summary>
    public static List<string> Recipients(string config)
    {
        using var doc = JsonDocument.Parse(config);
        return doc.RootElement.TryGetProperty("recipients", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList()
            : [];
    }

    /// <summary>What the API shows of a webhook URL: <c>https://hooks.slack.com/…AbCd</c>.</summary>
    public static string Hint(string url)
    {
        var uri = new Uri(url);
        var tail = url.Length >= 4 ? url[^4..] : url;
        return $"{uri.Scheme}://{uri.Authority}/…{tail}";
    }

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
