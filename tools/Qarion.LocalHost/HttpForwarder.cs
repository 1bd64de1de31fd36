using Microsoft.AspNetCore.Http.Extensions;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Qarion.LocalHost;

/// <summary>
/// ASP.NET Core integration as the Functions host does it: an InvocationRequest on the event stream plus the
/// proxied HTTP request to the worker's HttpUri carrying the header x-ms-invocation-id; the HTTP response comes
/// back on the proxied request, the InvocationResponse on the stream.
/// </summary>
internal sealed class HttpForwarder(WorkerSession session) : IDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase) { "Transfer-Encoding", "Connection", "Keep-Alive", "Host" };
    private readonly HttpClient client = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = Timeout.InfiniteTimeSpan };

    public void Dispose() => client.Dispose();

    /// <summary>Route parameters as trigger metadata (binding data), e.g. {"space":{"string":"finance"}}.</summary>
    private static JsonObject RouteValues(HttpRoute route, string path)
    {
        var parts = path.Split('/');
        var values = new JsonObject();
        for (var i = 0; i < route.Segments.Length && i < parts.Length; i++)
        {
            var segment = route.Segments[i];
            if (segment.StartsWith('{') && segment.EndsWith('}'))
            {
                var name = segment.Trim('{', '}', '*').Split(':', '=')[0].TrimEnd('?');
                var value = segment.StartsWith("{*", StringComparison.Ordinal) ? string.Join('/', parts[i..]) : parts[i];
                values[name] = new JsonObject { ["string"] = Uri.UnescapeDataString(value) };
            }
        }

        return values;
    }

    public async Task ForwardAsync(HttpContext context)
    {
        var path = context.Request.Path.Value!["/api".Length..].Trim('/');
        var match = session.Routes.FirstOrDefault(r => r.Matches(context.Request.Method, path));
        if (match is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var invocationId = Guid.NewGuid().ToString();
        var http = new JsonObject { ["method"] = context.Request.Method, ["url"] = context.Request.GetDisplayUrl() };
        var completion = session.Invoke(invocationId, match.Function, [new JsonObject { ["name"] = match.BindingName, ["data"] = new JsonObject { ["http"] = http } }], RouteValues(match, path));

        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(new Uri(session.HttpUri!), context.Request.Path + context.Request.QueryString));
        if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(context.Request.Body);
        }

        foreach (var header in context.Request.Headers.Where(h => !HopByHop.Contains(h.Key)))
        {
            if (!request.Headers.TryAddWithoutValidation(header.Key, header.Value.ToArray()))
            {
                request.Content?.Headers.TryAddWithoutValidation(header.Key, header.Value.ToArray());
            }
        }

        request.Headers.TryAddWithoutValidation("x-ms-invocation-id", invocationId);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var header in response.Headers.Concat(response.Content.Headers).Where(h => !HopByHop.Contains(h.Key)))
        {
            context.Response.Headers[header.Key] = header.Value.ToArray();
        }

        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        var result = await completion.WaitAsync(TimeSpan.FromSeconds(30), context.RequestAborted);
        session.Record(new InvocationRecord(match.Function.Name, "httpTrigger", null, null, null, WorkerSession.Succeeded(result) ? "Succeeded" : "Failed", WorkerSession.Error(result), DateTimeOffset.UtcNow));
        Console.WriteLine($"host: {context.Request.Method} {context.Request.Path} -> {match.Function.Name} {(int)response.StatusCode}");
    }
}

/// <summary>An HTTP trigger's route template, matched segment by segment ({param}, {param?}, {*rest}).</summary>
internal sealed record HttpRoute(FunctionInfo Function, string BindingName, string[] Methods, string[] Segments)
{
    public bool Matches(string method, string path)
    {
        if (Methods.Length > 0 && !Methods.Contains(method, StringComparer.OrdinalIgnoreCase))
        {
            return false;
        }

        var parts = path.Length == 0 ? [] : path.Split('/');
        for (var i = 0; i < Segments.Length; i++)
        {
            var segment = Segments[i];
            var parameter = segment.StartsWith('{') && segment.EndsWith('}');
            if (parameter && segment.StartsWith("{*", StringComparison.Ordinal))
            {
                return true;
            }

            if (i >= parts.Length)
            {
                return parameter && segment.EndsWith("?}", StringComparison.Ordinal);
            }

            if (!parameter && !string.Equals(segment, parts[i], StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return parts.Length == Segments.Length;
    }

    public static HttpRoute? From(FunctionInfo function)
    {
        if (function.Trigger is not { } b || !string.Equals(function.TriggerType, "httpTrigger", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var route = b.TryGetProperty("route", out var r) ? r.GetString() ?? function.Name : function.Name;
        var methods = b.TryGetProperty("methods", out var m) ? m.EnumerateArray().Select(x => x.GetString()!).ToArray() : [];
        return new HttpRoute(function, function.TriggerName, methods, route.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries));
    }
}
