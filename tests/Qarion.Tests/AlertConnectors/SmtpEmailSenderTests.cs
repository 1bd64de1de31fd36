using MailKit.Security;
using Microsoft.Extensions.Options;
using Qarion.Core.Notifications;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.AlertConnectors;

/// <summary>The MailKit sender against a real SMTP server: TLS is required and validated, with one pinned self-signed certificate as the only exception.</summary>
public sealed class SmtpEmailSenderTests : IAsyncLifetime
{
    private SmtpSink _smtp = null!;

    public async Task InitializeAsync() => _smtp = await SmtpSink.StartAsync();

    public async Task DisposeAsync() => await _smtp.DisposeAsync();

    private SmtpEmailSender Sender(Action<SmtpOptions>? change = null)
    {
        var options = new SmtpOptions
        {
            Host = "127.0.0.1", Port = _smtp.Port, Security = SmtpSecurity.StartTls, Username = SmtpSink.User, Password = SmtpSink.Password,
            FromAddress = "noreply@qarion.test", FromName = "Qarion Notifications", TimeoutSeconds = 10, TrustedCertificateSha256 = _smtp.CertificateSha256,
        };
        change?.Invoke(options);
        return new SmtpEmailSender(Options.Create(options));
    }

    private static EmailMessage Message(params string[] to) => new(to, "Grüße: the nightly check failed", "Plain text\nsecond line", "<p>HTML <b>body</b> — ünïcödé</p>");

    [Fact]
    public async Task Sends_text_and_html_over_starttls_with_the_pinned_certificate()
    {
        await Sender(o => o.TrustedCertificateSha256 = string.Join(':', Convert.FromHexString(_smtp.CertificateSha256).Select(b => b.ToString("x2")))).SendAsync(Message("a@example.com", "b@example.com"), default);
        var mail = Assert.Single(_smtp.Received);
        Assert.Equal(("Grüße: the nightly check failed", true, SmtpSink.User), (mail.Subject, mail.Secure, mail.AuthenticatedUser));
        Assert.Equal(["a@example.com", "b@example.com"], mail.To);
        Assert.Equal(("noreply@qarion.test", "Qarion Notifications"), (mail.EnvelopeFrom, mail.Message.From.Mailboxes.Single().Name));
        Assert.Equal("Plain text\nsecond line", AlertTestSupport.Lf(mail.TextBody).TrimEnd('\n'));
        Assert.Equal("<p>HTML <b>body</b> — ünïcödé</p>", AlertTestSupport.Lf(mail.HtmlBody).TrimEnd('\n'));
        Assert.Equal("multipart/alternative", mail.Message.Body!.ContentType.MimeType);
    }

    [Fact]
    public async Task An_unpinned_or_differently_pinned_self_signed_certificate_is_refused()
    {
        await Assert.ThrowsAsync<SslHandshakeException>(() => Sender(o => o.TrustedCertificateSha256 = null).SendAsync(Message("a@example.com"), default));
        await Assert.ThrowsAsync<SslHandshakeException>(() => Sender(o => o.TrustedCertificateSha256 = new string('A', 64)).SendAsync(Message("a@example.com"), default));
        Assert.Empty(_smtp.Received);
    }

    [Fact]
    public async Task Permanent_refusals_are_EmailRejectedException_and_transient_ones_are_not()
    {
        var wrongPassword = await Assert.ThrowsAsync<EmailRejectedException>(() => Sender(o => o.Password = "wrong").SendAsync(Message("a@example.com"), default));
        Assert.StartsWith("The SMTP server refused the credentials", wrongPassword.Message, StringComparison.Ordinal);
        _smtp.Reply(550);
        var permanent = await Assert.ThrowsAsync<EmailRejectedException>(() => Sender().SendAsync(Message("a@example.com"), default));
        Assert.Equal(550, permanent.StatusCode);
        _smtp.Reply(451);
        var transient = await Assert.ThrowsAsync<MailKit.Net.Smtp.SmtpCommandException>(() => Sender().SendAsync(Message("a@example.com"), default));
        Assert.Equal(451, (int)transient.StatusCode);
        var notConfigured = await Assert.ThrowsAsync<EmailRejectedException>(() => Sender(o => o.Host = null).SendAsync(Message("a@example.com"), default));
        Assert.Equal("E-mail is not configured: set Qarion:Smtp:Host and Qarion:Smtp:FromAddress.", notConfigured.Message);
        // No TLS is for a loopback relay only: refused before any connection to another host.
        var cleartext = await Assert.ThrowsAsync<EmailRejectedException>(() => Sender(o => { o.Security = SmtpSecurity.None; o.Host = "smtp.example.com"; }).SendAsync(Message("a@example.com"), default));
        Assert.Equal("Qarion:Smtp:Security None (no TLS) is allowed only for a loopback host, not 'smtp.example.com'.", cleartext.Message);
        Assert.Empty(_smtp.Received);
    }
}
