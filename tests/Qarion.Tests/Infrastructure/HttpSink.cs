using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Qarion.Tests.Infrastructure;

/// <summary>One request an <see cref="HttpSink"/> received, exactly as it arrived.</summary>
public sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, DateTimeOffset ReceivedAt)
{
    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);
    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var v) ? v : null;
}

/// <summary>
/// A real HTTP receiver on Kestrel (loopback, ephemeral port) standing in for Slack, Teams and webhook receivers:
/// it records every request and answers with the status a test scripts per path (default 200), optionally after a delay.
/// </summary>
public sealed class HttpSink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<int>> _scripted = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TimeSpan> _delays = new(StringComparer.Ordinal);

    private HttpSink(WebApplication app) { _app = app; Url = string.Empty; }

    /// <summary>Base URL without a trailing slash, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string Url { get; private set; }

    public IReadOnlyList<ReceivedRequest> Received => [.. _received];

    public IReadOnlyList<ReceivedRequest> ReceivedOn(string path) => [.. _received.Where(r => r.Path == path)];

    /// <summary>The next requests on <paramref name="path"/> get these statuses in order; after them, 200.</summary>
    public void Respond(string path, params int[] statuses)
    {
        var queue = _scripted.GetOrAdd(path, _ => new ConcurrentQueue<int>());
        foreach (var s in statuses) queue.Enqueue(s);
    }

    /// <summary>Requests on <paramref name="path"/> wait this long before answering (for timeouts).</summary>
    public void Delay(string path, TimeSpan delay) => _delays[path] = delay;

    public static async Task<HttpSink> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var sink = new HttpSink(app);
        app.Run(sink.HandleAsync);
        await app.StartAsync();
        sink.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single().TrimEnd('/');
        return sink;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var path = context.Request.Path.Value ?? "/";
        var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal);
        _received.Enqueue(new ReceivedRequest(context.Request.Method, path, headers, buffer.ToArray(), DateTimeOffset.UtcNow));
        if (_delays.TryGetValue(path, out var delay))
        {
            try { await Task.Delay(delay, context.RequestAborted); }
            catch (OperationCanceledException) { return; }
        }
        var status = _scripted.TryGetValue(path, out var queue) && queue.TryDequeue(out var s) ? s : 200;
        context.Response.StatusCode = status;
        await context.Response.WriteAsync(status < 300 ? "ok" : "error", context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
