namespace Qarion.Core.Notifications;

/// <summary>An e-mail with HTML and plain-text bodies.</summary>
public sealed record EmailMessage(IReadOnlyList<string> To, string Subject, string TextBody, string HtmlBody);

/// <summary>Sends e-mail (SMTP in production and tests). Throws on failures worth a retry.</summary>
public interface IEmailSender
{
    /// <summary>False when no server is configured: nothing can be sent, and that is not a failure worth a retry.</summary>
    bool IsConfigured { get; }


    Task SendAsync(EmailMessage message, CancellationToken ct);
}
