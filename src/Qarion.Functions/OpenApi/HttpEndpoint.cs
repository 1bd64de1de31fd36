using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Azure.Functions.Worker;
using Qarion.Functions.Http;

namespace Qarion.Functions.OpenApi;

/// <summary>
/// One HTTP function as the code declares it: <c>[Function]</c> + <c>[HttpTrigger]</c> give the name,
/// methods and route (the same attributes the build turns into <c>functions.metadata</c>),
/// <see cref="AllowAnonymousAttribute"/> and <see cref="ApiOperationAttribute"/> the rest.
/// </summary>
public sealed partial record HttpEndpoint(
    string Name, MethodInfo Method, IReadOnlyList<string> HttpMethods, string Route, bool Anonymous, ApiOperationAttribute? Operation)
{
    /// <summary>The host's route prefix (<c>extensions.http.routePrefix</c> in host.json).</summary>
    public const string RoutePrefix = "api";

    /// <summary>The OpenAPI path: <c>/api/</c> + the route, with constraints and optional markers dropped (<c>{id:guid}</c> → <c>{id}</c>).</summary>
    public string Path => $"/{RoutePrefix}/" + RouteParameter().Replace(Route, m => "{" + m.Groups["name"].Value + "}");

    /// <summary>The route's parameter names, in order.</summary>
    public IReadOnlyList<string> PathParameters => RouteParameter().Matches(Route).Select(m => m.Groups["name"].Value).ToList();

    /// <summary>True when the route constrains the parameter to a GUID (<c>{id:guid}</c>).</summary>
    public bool IsGuidParameter(string name) => RouteParameter().Matches(Route)
        .Any(m => m.Groups["name"].Value == name && m.Groups["rest"].Value.Contains(":guid", StringComparison.OrdinalIgnoreCase));

    /// <summary>Every HTTP function in the assembly, ordered by route then name.</summary>
    public static IReadOnlyList<HttpEndpoint> Discover(Assembly assembly) =>
        assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Function: m.GetCustomAttribute<FunctionAttribute>(),
                Trigger: m.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).FirstOrDefault(a => a is not null)))
            .Where(x => x.Function is not null && x.Trigger is not null)
            .Select(x => new HttpEndpoint(
                x.Function!.Name,
                x.Method,
                x.Trigger!.Methods is { Length: > 0 } methods
                    ? methods.Select(v => v.ToLowerInvariant()).ToList()
                    : throw new InvalidOperationException($"Function {x.Function.Name} must name its HTTP methods."),
                x.Trigger.Route ?? throw new InvalidOperationException($"Function {x.Function.Name} must name its route."),
                x.Method.GetCustomAttribute<AllowAnonymousAttribute>() is not null,
                x.Method.GetCustomAttribute<ApiOperationAttribute>()))
            .OrderBy(e => e.Route, StringComparer.Ordinal).ThenBy(e => e.Name, StringComparer.Ordinal)
            .ToList();

    // {name}, {name?}, {name:constraint(...)}, {*name}, {name=default}
    [GeneratedRegex(@"\{\*{0,2}(?<name>[A-Za-z_][A-Za-z0-9_]*)(?<rest>[^}]*)\}")]
    private static partial Regex RouteParameter();
}
