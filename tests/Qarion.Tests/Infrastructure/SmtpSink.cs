using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MimeKit;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.ComponentModel;
using SmtpServer.IO;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Qarion.Tests.Infrastructure;

/// <summary>One message an <see cref="SmtpSink"/> accepted: the envelope, how the session was secured, and the parsed MIME message.</summary>
public sealed record ReceivedMail(string EnvelopeFrom, IReadOnlyList<string> EnvelopeTo, bool Secure, string? AuthenticatedUser, MimeMessage Message)
{
    public string? Subject => Message.Subject;
    public IReadOnlyList<string> To => Message.To.Mailboxes.Select(m => m.Address).ToList();
    public string? TextBody => Message.TextBody;
    public string? HtmlBody => Message.HtmlBody;
}

/// <summary>
/// A real SMTP server (the SmtpServer package) on 127.0.0.1 and an ephemeral port, offering STARTTLS with a
/// self-signed certificate made for the test run, requiring a user name and password (over TLS only), and
/// recording every message it accepts (parsed with MimeKit). <see cref="Reply"/> scripts refusals.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    public const string User = "qarion-mailer";
    public const string Password = "smtp-test-password";

    private readonly SmtpServer.SmtpServer _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<ReceivedMail> _received = new();
    private readonly ConcurrentQueue<int> _scripted = new();
    private Task _running = Task.CompletedTask;

    private SmtpSink(X509Certificate2 certificate, EndpointListenerFactory listeners, Action<ServiceProvider> register, ISmtpServerOptions options)
    {
        Certificate = certificate;
        var services = new ServiceProvider();
        services.Add(listeners);
        register(services);
        _server = new SmtpServer.SmtpServer(options, services);
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>SHA-256 of the certificate, as <c>Qarion:Smtp:TrustedCertificateSha256</c> takes it.</summary>
    public string CertificateSha256 => Convert.ToHexString(SHA256.HashData(Certificate.RawData));

    public int Port { get; private set; }

    public IReadOnlyList<ReceivedMail> Received => [.. _received];

    /// <summary>The next messages are answered with these SMTP reply codes (e.g. 451 transient, 550 permanent) instead of 250.</summary>
    public void Reply(params int[] codes)
    {
        foreach (var code in codes) _scripted.Enqueue(code);
    }

    /// <summary>Settings that point the app's SMTP sender at this server (STARTTLS, the certificate pinned, credentials).</summary>
    public IDictionary<string, string?> Settings(string from = "alerts@qarion.test") => new Dictionary<string, string?>
    {
        ["Qarion:Smtp:Host"] = "127.0.0.1",
        ["Qarion:Smtp:Port"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Qarion:Smtp:Security"] = "StartTls",
        ["Qarion:Smtp:Username"] = User,
        ["Qarion:Smtp:Password"] = Password,
        ["Qarion:Smtp:FromAddress"] = from,
        ["Qarion:Smtp:TrustedCertificateSha256"] = CertificateSha256,
        ["Qarion:Smtp:TimeoutSeconds"] = "10",
    };

    public static async Task<SmtpSink> StartAsync()
    {
        var certificate = SelfSigned();
        var listeners = new EndpointListenerFactory();
        var started = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        listeners.EndpointStarted += (_, e) => started.TrySetResult(((IPEndPoint)e.LocalEndPoint).Port);
        var options = new SmtpServerOptionsBuilder()
            .ServerName("smtp.qarion.test")
            .Endpoint(b => b.Endpoint(new IPEndPoint(IPAddress.Loopback, 0)).Certificate(certificate).IsSecure(false)
                .AuthenticationRequired(true).AllowUnsecureAuthentication(false))
            .Build();
        SmtpSink? sink = null;
        sink = new SmtpSink(certificate, listeners, services =>
        {
            services.Add(new Store(() => sink!));
            services.Add(new DelegatingUserAuthenticator((user, password) => user == User && password == Password));
        }, options);
        sink._running = sink._server.StartAsync(sink._stop.Token);
        var port = await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        sink.Port = port;
        return sink;
    }

    /// <summary>A certificate for 127.0.0.1 and localhost, valid for a day, with its private key usable by SslStream.</summary>
    private static X509Certificate2 SelfSigned()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=smtp.qarion.test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    private sealed class Store(Func<SmtpSink> sink) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            var owner = sink();
            if (owner._scripted.TryDequeue(out var code)) return new SmtpResponse((SmtpReplyCode)code, $"scripted refusal {code}");
            using var stream = new MemoryStream(buffer.ToArray());
            var message = await MimeMessage.LoadAsync(stream, cancellationToken);
            owner._received.Enqueue(new ReceivedMail(
                $"{transaction.From.User}@{transaction.From.Host}",
                transaction.To.Select(t => $"{t.User}@{t.Host}").ToList(),
                context.Pipe is ISecurableDuplexPipe { IsSecure: true },
                context.Authentication.IsAuthenticated ? context.Authentication.User : null,
                message));
            return SmtpResponse.Ok;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _server.Shutdown();
        await _stop.CancelAsync();
        try { await _running.WaitAsync(TimeSpan.FromSeconds(5)); }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException) { }
        _stop.Dispose();
        Certificate.Dispose();
    }
}
