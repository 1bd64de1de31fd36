using System.Reflection;
using System.Text.Json;
using Cronos;
using Microsoft.Azure.Functions.Worker;
using Qarion.Core.Common;
using Qarion.Tests.Infrastructure;

namespace Qarion.Tests.Contract;

/// <summary>The rules every function's bindings must follow; each returns the violations it finds.</summary>
public static class FunctionMetadataContract
{
    public static readonly IReadOnlySet<string> AnonymousFunctions = new HashSet<string>(StringComparer.Ordinal) { "Health", "Bootstrap", "OpenApi" };
    /// <summary>The only functions outside <c>v1/</c>, each at exactly this route: they are not part of a versioned API.</summary>
    public static readonly IReadOnlyDictionary<string, string> UnversionedRoutes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Health"] = "health",
        ["OpenApi"] = "openapi.json",
    };
    private static readonly HashSet<string> AllowedMethods = new(StringComparer.Ordinal) { "get", "post", "put", "patch", "delete" };

    public static IEnumerable<string> Check(IReadOnlyList<FunctionMetadataEntry> functions)
    {
        var seenRoutes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var f in functions)
        {
            if (f.Trigger is not { } trigger)
            {
                yield return $"{f.Name}: no trigger binding";
                continue;
            }
            switch (trigger.GetProperty("type").GetString())
            {
                case "httpTrigger":
                    var route = trigger.TryGetProperty("route", out var r) ? r.GetString() : null;
                    if (string.IsNullOrEmpty(route)) yield return $"{f.Name}: HTTP function without an explicit route";
                    else if (UnversionedRoutes.TryGetValue(f.Name, out var unversioned))
                    {
                        if (route != unversioned) yield return $"{f.Name}: route '{route}' must be '{unversioned}'";
                    }
                    else if (!route.StartsWith("v1/", StringComparison.Ordinal))
                        yield return $"{f.Name}: route '{route}' is not under v1/";
                    if (!trigger.TryGetProperty("methods", out var methods) || methods.GetArrayLength() == 0)
                    {
                        yield return $"{f.Name}: HTTP function without explicit methods";
                        break;
                    }
                    foreach (var m in methods.EnumerateArray())
                    {
                        var method = m.GetString()!;
                        if (!AllowedMethods.Contains(method)) yield return $"{f.Name}: method '{method}' is not allowed";
                        if (!seenRoutes.Add($"{method} {route}")) yield return $"{f.Name}: {method} {route} is bound twice";
                    }
                    if (trigger.TryGetProperty("authLevel", out var auth) && auth.GetString() != "Anonymous")
                        yield return $"{f.Name}: authLevel must be Anonymous (the worker middleware authenticates)";
                    break;
                case "queueTrigger":
                    var queue = trigger.TryGetProperty("queueName", out var q) ? q.GetString() : null;
                    var poisonOf = QueueNames.All.FirstOrDefault(n => QueueNames.Poison(n) == queue);
                    if (queue is null || (!QueueNames.All.Contains(queue) && poisonOf is null))
                        yield return $"{f.Name}: queue '{queue}' is not defined in {nameof(QueueNames)}";
                    break;
                case "timerTrigger":
                    var schedule = trigger.TryGetProperty("schedule", out var s) ? s.GetString() : null;
                    if (!IsSixFieldCron(schedule)) yield return $"{f.Name}: schedule '{schedule}' is not a valid six-field cron";
                    break;
                case "orchestrationTrigger" or "activityTrigger" or "entityTrigger" or "durableClient":
                    break;
                case var other:
                    yield return $"{f.Name}: unexpected trigger type '{other}'";
                    break;
            }
        }
    }

    public static bool IsSixFieldCron(string? expression)
    {
        if (string.IsNullOrWhiteSpace(expression) || expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length != 6) return false;
        try
        {
            CronExpression.Parse(expression, CronFormat.IncludeSeconds);
            return true;
        }
        catch (CronFormatException)
        {
            return false;
        }
    }

    /// <summary>Parses a metadata fragment written inline by a test.</summary>
    public static FunctionMetadataEntry Entry(string name, string bindingJson)
    {
        using var doc = JsonDocument.Parse($"[{bindingJson}]");
        return new FunctionMetadataEntry(name, "X." + name, "Qarion.Functions.dll", doc.RootElement.EnumerateArray().Select(b => b.Clone()).ToList());
    }
}

public sealed class FunctionMetadataTests
{
    private static readonly IReadOnlyList<FunctionMetadataEntry> Built = FunctionMetadataEntry.Load();

    [Fact]
    public void The_built_metadata_follows_the_binding_contract()
    {
        Assert.NotEmpty(Built);
        var violations = FunctionMetadataContract.Check(Built).ToList();
        Assert.True(violations.Count == 0, string.Join('\n', violations));
    }

    [Fact]
    public void Every_function_in_code_is_in_the_metadata_and_nothing_else()
    {
        var inCode = typeof(Qarion.Functions.QarionApp).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            .Select(m => m.GetCustomAttribute<FunctionAttribute>()?.Name)
            .OfType<string>()
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(inCode, Built.Select(f => f.Name).Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void Only_the_allow_listed_functions_run_without_authentication()
    {
        var anonymous = Built.Where(f => Qarion.Functions.Http.QarionMiddleware.IsAnonymous(f.EntryPoint)).Select(f => f.Name).ToHashSet();
        Assert.Equal(FunctionMetadataContract.AnonymousFunctions.Order(), anonymous.Order());
    }

    [Fact]
    public void The_host_settings_name_a_dequeue_limit_and_the_api_route_prefix()
    {
        using var host = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestEnvironment.RepoRoot, "host.json")));
        var extensions = host.RootElement.GetProperty("extensions");
        Assert.Equal("api", extensions.GetProperty("http").GetProperty("routePrefix").GetString());
        Assert.InRange(extensions.GetProperty("queues").GetProperty("maxDequeueCount").GetInt32(), 1, 10);
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "host.json")), "host.json is not copied into the build output");
    }

    // The checker itself must be able to fail: each broken fragment below is caught.
    [Theory]
    [InlineData("""{"name":"req","direction":"In","type":"httpTrigger","authLevel":"Anonymous","methods":["get"]}""", "without an explicit route")]
    [InlineData("""{"name":"req","direction":"In","type":"httpTrigger","authLevel":"Anonymous","methods":["get"],"route":"spaces"}""", "not under v1/")]
    [InlineData("""{"name":"req","direction":"In","type":"httpTrigger","authLevel":"Anonymous","methods":["get"],"route":"openapi.json"}""", "not under v1/")]
    [InlineData("""{"name":"req","direction":"In","type":"httpTrigger","authLevel":"Anonymous","route":"v1/x"}""", "without explicit methods")]
    [InlineData("""{"name":"req","direction":"In","type":"httpTrigger","authLevel":"Function","methods":["get"],"route":"v1/x"}""", "authLevel")]
    [InlineData("""{"name":"msg","direction":"In","type":"queueTrigger","queueName":"quality-check"}""", "not defined in QueueNames")]
    [InlineData("""{"name":"t","direction":"In","type":"timerTrigger","schedule":"*/5 * * * *"}""", "six-field cron")]
    [InlineData("""{"name":"t","direction":"In","type":"timerTrigger","schedule":"0 61 * * * *"}""", "six-field cron")]
    public void The_contract_catches_broken_bindings(string binding, string expected)
    {
        var violations = FunctionMetadataContract.Check([FunctionMetadataContract.Entry("Broken", binding)]).ToList();
        Assert.Contains(violations, v => v.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Health", "v1/health")]
    [InlineData("OpenApi", "v1/openapi.json")]
    [InlineData("OpenApi", "openapi")]
    public void The_unversioned_functions_stay_at_their_own_routes(string name, string route)
    {
        var binding = $$"""{"name":"req","direction":"In","type":"httpTrigger","authLevel":"Anonymous","methods":["get"],"route":"{{route}}"}""";
        var violations = FunctionMetadataContract.Check([FunctionMetadataContract.Entry(name, binding)]).ToList();
        Assert.Contains(violations, v => v.Contains("must be '", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"name":"msg","direction":"In","type":"queueTrigger","queueName":"quality-checks"}""")]
    [InlineData("""{"name":"msg","direction":"In","type":"queueTrigger","queueName":"quality-checks-poison"}""")]
    [InlineData("""{"name":"t","direction":"In","type":"timerTrigger","schedule":"0 */1 * * * *"}""")]
    public void The_contract_accepts_good_bindings(string binding)
        => Assert.Empty(FunctionMetadataContract.Check([FunctionMetadataContract.Entry("Good", binding)]));
}
