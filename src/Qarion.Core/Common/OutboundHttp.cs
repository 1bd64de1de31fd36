using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Qarion.Core.Common;

/// <summary>Settings of calls to URLs that users configure (webhooks, Slack and Teams incoming webhooks).</summary>
public sealed class OutboundOptions
{
    public const string Section = "Qarion:Outbound";

    /// <summary>
    /// Allows targets in private, loopback and link-local ranges. Off in production (SSRF: a user-supplied URL must
    /// not reach the platform's own network); on for local runs and tests, whose receivers listen on 127.0.0.1.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Timeout of one outbound request.</summary>
    public int TimeoutSeconds { get; set; } = 10;
}

/// <summary>
/// Checks user-supplied URLs and sends requests to them. The check runs twice: when a URL is saved (a clear 422)
/// and again at connect time on the address actually dialled, so a DNS name that later resolves to a private
/// address (DNS rebinding) is still refused. Redirects are not followed.
/// </summary>
public sealed class OutboundHttp : IDisposable
{
    private readonly IOptions<OutboundOptions> options;
    private readonly HttpClient client;

    public OutboundHttp(IOptions<OutboundOptions> options)
    {
        this.options = options;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectCallback = ConnectAsync,
        };
        client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public bool AllowPrivateNetworks => options.Value.AllowPrivateNetworks;

    /// <summary>
    /// Null when <paramref name="url"/> may be called; otherwise an error code: <c>invalid_url</c> (not an absolute
    /// http(s) URL, credentials in it, longer than 2048), <c>unresolvable_host</c>, or <c>private_address</c>.
    /// </summary>
    public async Task<string?> CheckAsync(string? url, CancellationToken ct)
    {
        if (ParseUrl(url) is not { } uri) return "invalid_url";
        if (AllowPrivateNetworks) return null;
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(uri.IdnHost, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(uri.IdnHost, ct);
        }
        catch (SocketException) { return "unresolvable_host"; }
        if (addresses.Length == 0) return "unresolvable_host";
        return addresses.All(IsPublic) ? null : "private_address";
    }

    /// <summary>The URL when it is an absolute http(s) URL without credentials, at most 2048 characters.</summary>
    public static Uri? ParseUrl(string? url)
    {
        if (string.IsNullOrWhiteSpace(url) || url.Length > 2048) return null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return null;
        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) return null;
        if (!string.IsNullOrEmpty(uri.UserInfo) || string.IsNullOrEmpty(uri.Host)) return null;
        return uri;
    }

    /// <summary>Sends <paramref name="request"/> with the configured timeout (a timeout surfaces as <see cref="TaskCanceledException"/>).</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.TimeoutSeconds));
        return await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
    }

    /// <summary>True for addresses on the public internet: not loopback, private, link-local, CGNAT, multicast or reserved.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)
            || address.Equals(IPAddress.Broadcast) || address.Equals(IPAddress.IPv6None)) return false;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224
                     || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)      // 100.64/10 carrier-grade NAT
                     || (b[0] == 169 && b[1] == 254)                    // link-local, cloud metadata
                     || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
                     || (b[0] == 192 && b[1] == 168)
                     || (b[0] == 192 && b[1] == 0 && b[2] == 0)         // 192.0.0/24 protocol assignments
                     || (b[0] == 198 && (b[1] == 18 || b[1] == 19)));   // benchmarking
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                     || (b[0] & 0xFE) == 0xFC                            // fc00::/7 unique local
                     || address.IsIPv6Teredo);
        }
        return false;
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var allowed = AllowPrivateNetworks ? addresses : addresses.Where(IsPublic).ToArray();
        if (allowed.Length == 0)
            throw new HttpRequestException($"Refused to connect to {host}: it resolves only to private or loopback addresses.");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose() => client.Dispose();
}
