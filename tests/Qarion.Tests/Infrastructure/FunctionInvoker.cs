using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Qarion.Functions.Http;

namespace Qarion.Tests.Infrastructure;

/// <summary>One function as the host knows it, read from the built <c>functions.metadata</c>.</summary>
public sealed record FunctionMetadataEntry(string Name, string EntryPoint, string ScriptFile, IReadOnlyList<JsonElement> Bindings)
{
    public JsonElement? Trigger => Bindings.FirstOrDefault(b => b.GetProperty("direction").GetString() == "In"
        && b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));

    public static IReadOnlyList<FunctionMetadataEntry> Load(string? path = null)
    {
        path ??= Path.Combine(AppContext.BaseDirectory, "functions.metadata");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.EnumerateArray().Select(f => new FunctionMetadataEntry(
            f.GetProperty("name").GetString()!,
            f.GetProperty("entryPoint").GetString()!,
            f.GetProperty("scriptFile").GetString()!,
            f.GetProperty("bindings").EnumerateArray().Select(b => b.Clone()).ToList())).ToList();
    }
}

/// <summary>
/// Invokes HTTP functions the way the Functions host plus the worker's ASP.NET Core integration do,
/// without the Core Tools: routes come from the built <c>functions.metadata</c> (so a wrong route fails
/// here as it would in Azure), each invocation gets its own DI scope, the app's real worker middleware
/// runs around the function, and a returned <see cref="IActionResult"/> is executed against the response.
/// </summary>
public sealed class FunctionInvoker
{
    private const string RoutePrefix = "/api";
    private readonly IServiceProvider _root;
    private readonly List<HttpRoute> _routes;
    private readonly QarionMiddleware _middleware = new();

    /// <summary>What a <c>[DurableClient]</c> parameter receives (a Durable in-process test host's client), or null when the test has none.</summary>
    public DurableTaskClient? Durable { get; set; }

    private sealed record HttpRoute(FunctionMetadataEntry Function, string[] Methods, TemplateMatcher Matcher, int Literals, MethodInfo Method);

    public FunctionInvoker(IServiceProvider root)
    {
        _root = root;
        var assembly = typeof(QarionMiddleware).Assembly;
        _routes = FunctionMetadataEntry.Load()
            .Where(f => f.Trigger?.GetProperty("type").GetString() == "httpTrigger")
            .Select(f =>
            {
                var trigger = f.Trigger!.Value;
                var template = TemplateParser.Parse(trigger.GetProperty("route").GetString()!);
                var dot = f.EntryPoint.LastIndexOf('.');
                var method = assembly.GetType(f.EntryPoint[..dot], throwOnError: true)!.GetMethod(f.EntryPoint[(dot + 1)..])!;
                return new HttpRoute(
                    f,
                    trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()).ToArray(),
                    new TemplateMatcher(template, new RouteValueDictionary()),
                    template.Segments.Count(s => s.IsSimple && s.Parts[0].IsLiteral),
                    method);
            })
            .OrderByDescending(r => r.Literals)
            .ToList();
    }

    public async Task<ApiResponse> SendAsync(string method, string pathAndQuery, byte[]? body, string? contentType, IDictionary<string, string>? headers, CancellationToken ct = default)
    {
        var queryStart = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        var path = queryStart < 0 ? pathAndQuery : pathAndQuery[..queryStart];
        var query = queryStart < 0 ? string.Empty : pathAndQuery[queryStart..];
        if (!path.StartsWith(RoutePrefix + "/", StringComparison.Ordinal)) return ApiResponse.Empty(404);

        var routeValues = new RouteValueDictionary();
        var candidates = _routes.Where(r => r.Matcher.TryMatch(path[RoutePrefix.Length..], routeValues = new RouteValueDictionary())).ToList();
        if (candidates.Count == 0) return ApiResponse.Empty(404);
        // The Functions host matches method and route together: a known route with another method is 404.
        var route = candidates.FirstOrDefault(r => r.Methods.Contains(method.ToUpperInvariant()));
        if (route is null) return ApiResponse.Empty(404);
        routeValues = new RouteValueDictionary();
        route.Matcher.TryMatch(path[RoutePrefix.Length..], routeValues);

        await using var scope = _root.CreateAsyncScope();
        var http = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        http.Request.Method = method.ToUpperInvariant();
        http.Request.Scheme = "http";
        http.Request.Host = new HostString("127.0.0.1:7071");
        http.Request.Path = path;
        http.Request.QueryString = new QueryString(query);
        if (headers is not null)
            foreach (var (name, value) in headers) http.Request.Headers[name] = value;
        if (body is not null)
        {
            http.Request.Body = new MemoryStream(body);
            http.Request.ContentLength = body.Length;
            http.Request.ContentType = contentType;
        }
        var responseBody = new MemoryStream();
        http.Response.Body = responseBody;

        var bindingData = routeValues.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.OrdinalIgnoreCase);
        var context = new TestFunctionContext(scope.ServiceProvider,
            new TestFunctionDefinition(route.Function.Name, route.Function.EntryPoint, route.Function.ScriptFile), bindingData, ct);
        context.Items["HttpRequestContext"] = http;

        object? result = null;
        await _middleware.Invoke(context, async ctx => result = await InvokeFunctionAsync(route.Method, ctx, http, bindingData, Durable, ct));
        if (result is IActionResult actionResult)
            await actionResult.ExecuteResultAsync(new ActionContext(http, new RouteData(), new ActionDescriptor()));

        return new ApiResponse(
            http.Response.StatusCode,
            http.Response.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            Encoding.UTF8.GetString(responseBody.ToArray()));
    }

    private static async Task<object?> InvokeFunctionAsync(MethodInfo method, FunctionContext context, HttpContext http, Dictionary<string, object?> routeValues, DurableTaskClient? durable, CancellationToken ct)
    {
        var instance = method.IsStatic ? null : ActivatorUtilities.CreateInstance(context.InstanceServices, method.DeclaringType!);
        var args = method.GetParameters().Select(object? (p) => p.ParameterType switch
        {
            var t when t == typeof(HttpRequest) => http.Request,
            var t when t == typeof(FunctionContext) => context,
            var t when t == typeof(CancellationToken) => ct,
            var t when t == typeof(DurableTaskClient) => durable ?? throw new NotSupportedException($"{method.Name} needs a Durable client; give the invoker one."),
            var t when t == typeof(string) && routeValues.TryGetValue(p.Name!, out var v) => v?.ToString(),
            _ => throw new NotSupportedException($"Parameter {p.Name} of {method.Name} cannot be bound by the test invoker."),
        }).ToArray();
        try
        {
            var task = (Task)method.Invoke(instance, args)!;
            await task;
            return task.GetType().GetProperty("Result")?.GetValue(task);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }
    }
}

public sealed record ApiResponse(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public static ApiResponse Empty(int status) => new(status, new Dictionary<string, string>(), string.Empty);

    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;

    public T As<T>() => JsonSerializer.Deserialize<T>(Body, ApiJson.Options)!;

    public override string ToString() => $"{Status} {Body}";
}
