using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Qarion.Core.Notifications;

public enum SmtpSecurity { StartTls = 1, SslOnConnect = 2, None = 3 }

/// <summary>Settings under <c>Qarion:Smtp</c> (the password from Key Vault in Azure).</summary>
public sealed class SmtpOptions
{
    public const string Section = "Qarion:Smtp";

    public string? Host { get; set; }
    public int Port { get; set; } = 587;
    /// <summary>
    /// StartTls (default: STARTTLS required, the session fails if the server does not offer it), SslOnConnect (implicit
    /// TLS, port 465), or None — refused unless the host is a loopback address (a local relay or test server).
    /// </summary>
    public SmtpSecurity Security { get; set; } = SmtpSecurity.StartTls;
    public string? Username { get; set; }
    public string? Password { get; set; }
    public string? FromAddress { get; set; }
    public string FromName { get; set; } = "Qarion";
    public int TimeoutSeconds { get; set; } = 30;
    /// <summary>
    /// SHA-256 fingerprint (hex, colons optional) of one server certificate to accept although it does not chain to a
    /// trusted root (a self-signed certificate of a private relay or a test server). Every other certificate is
    /// validated normally; there is no switch that turns validation off.
    /// </summary>
    public string? TrustedCertificateSha256 { get; set; }
}

/// <summary>The SMTP server refused the message for good (a 5xx reply, bad credentials, SMTP not configured): retrying cannot help.</summary>
public sealed class EmailRejectedException(string message, int? statusCode = null, Exception? inner = null) : Exception(message, inner)
{
    public int? StatusCode { get; } = statusCode;
}

/// <summary>
/// <see cref="IEmailSender"/> over SMTP with MailKit: one connection per message, TLS by default, multipart/alternative
/// bodies (text and HTML). Throws <see cref="EmailRejectedException"/> for permanent refusals and other exceptions
/// (connection failures, timeouts, 4xx replies) for failures worth a retry.
/// </summary>
public sealed class SmtpEmailSender(IOptions<SmtpOptions> options) : IEmailSender
{
    public bool IsConfigured => !string.IsNullOrWhiteSpace(options.Value.Host) && !string.IsNullOrWhiteSpace(options.Value.FromAddress);

    public async Task SendAsync(EmailMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        var o = options.Value;
        if (string.IsNullOrWhiteSpace(o.Host) || string.IsNullOrWhiteSpace(o.FromAddress))
            throw new EmailRejectedException($"E-mail is not configured: set {SmtpOptions.Section}:Host and {SmtpOptions.Section}:FromAddress.");
        if (o.Security == SmtpSecurity.None && !IsLoopback(o.Host))
            throw new EmailRejectedException($"{SmtpOptions.Section}:Security None (no TLS) is allowed only for a loopback host, not '{o.Host}'.");
        if (message.To.Count == 0) throw new EmailRejectedException("The message has no recipients.");

        using var mime = Build(o, message);
        using var client = new SmtpClient { Timeout = Math.Max(1, o.TimeoutSeconds) * 1000 };
        client.ServerCertificateValidationCallback = (_, certificate, _, errors) => Accept(o.TrustedCertificateSha256, certificate, errors);
        try
        {
            var security = o.Security switch
            {
                SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
                SmtpSecurity.None => SecureSocketOptions.None,
                _ => SecureSocketOptions.StartTls,
            };
            await client.ConnectAsync(o.Host, o.Port, security, ct);
            if (!string.IsNullOrEmpty(o.Username)) await client.AuthenticateAsync(o.Username, o.Password ?? "", ct);
            await client.SendAsync(mime, ct);
            await client.DisconnectAsync(true, ct);
        }
        catch (SmtpCommandException ex) when ((int)ex.StatusCode >= 500)
        {
            throw new EmailRejectedException($"The SMTP server refused the message: {(int)ex.StatusCode} {ex.Message}", (int)ex.StatusCode, ex);
        }
        catch (MailKit.Security.AuthenticationException ex)
        {
            throw new EmailRejectedException($"The SMTP server refused the credentials: {ex.Message}", null, ex);
        }
    }

    private static MimeMessage Build(SmtpOptions o, EmailMessage message)
    {
        var mime = new MimeMessage();
        mime.From.Add(new MailboxAddress(o.FromName, o.FromAddress!));
        foreach (var to in message.To)
        {
            if (!MailboxAddress.TryParse(to, out var address)) throw new EmailRejectedException($"'{to}' is not an e-mail address.");
            mime.To.Add(address);
        }
        mime.Subject = message.Subject;
        mime.Body = new BodyBuilder { TextBody = message.TextBody, HtmlBody = message.HtmlBody }.ToMessageBody();
        return mime;
    }

    /// <summary>A certificate that validates, or exactly the pinned one.</summary>
    public static bool Accept(string? pinnedSha256, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None) return true;
        if (string.IsNullOrWhiteSpace(pinnedSha256) || certificate is null) return false;
        var expected = pinnedSha256.Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal);
        var actual = Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData()));
        return string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsLoopback(string host)
        => string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
}
