using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Qarion.Core.Identity;

namespace Qarion.Functions.Http;

/// <summary>
/// The one worker middleware. For every invocation it opens a log scope (invocation id, function, space,
/// user). For HTTP invocations it authenticates the caller (unless the function is
/// <see cref="AllowAnonymousAttribute">anonymous</see>), fills the scoped <see cref="CurrentUser"/>, and turns
/// domain exceptions into problem responses, so no function handles errors itself.
/// </summary>
public sealed class QarionMiddleware : IFunctionsWorkerMiddleware
{
    private static readonly ConcurrentDictionary<string, bool> AnonymousByEntryPoint = new(StringComparer.Ordinal);

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        var logger = context.GetLogger<QarionMiddleware>();
        var scope = new Dictionary<string, object?>
        {
            ["InvocationId"] = context.InvocationId,
            ["FunctionName"] = context.FunctionDefinition.Name,
        };
        if (context.BindingContext.BindingData.TryGetValue("space", out var space) && space is not null) scope["Space"] = space.ToString();
        using var invocationScope = logger.BeginScope(scope);

        var http = context.GetHttpContext();
        if (http is null)
        {
            await next(context);
            return;
        }

        try
        {
            if (!IsAnonymous(context.FunctionDefinition.EntryPoint))
            {
                var user = await context.InstanceServices.GetRequiredService<Authenticator>()
                    .AuthenticateAsync(http.Request.Headers.Authorization.ToString(), http.RequestAborted);
                context.InstanceServices.GetRequiredService<CurrentUser>().SignIn(user);
                using var userScope = logger.BeginScope(new Dictionary<string, object?> { ["UserId"] = user.UserId });
                await next(context);
            }
            else
            {
                await next(context);
            }
        }
        catch (Exception ex) when (!http.RequestAborted.IsCancellationRequested)
        {
            var problem = Problems.FromException(ex, http.Request.Path, context.InvocationId);
            if (problem is null)
            {
                logger.LogError(ex, "Unhandled error in {Function}", context.FunctionDefinition.Name);
                problem = Problems.Internal(http.Request.Path, context.InvocationId);
            }
            else
            {
                logger.LogInformation("{Function} answered {Status} {Code}: {Detail}", context.FunctionDefinition.Name, problem.Status, problem.Code, problem.Detail);
            }
            await Problems.WriteAsync(http.Response, problem, ex);
        }
    }

    /// <summary>Reads <see cref="AllowAnonymousAttribute"/> from the function's method (entry point <c>Namespace.Type.Method</c>).</summary>
    internal static bool IsAnonymous(string entryPoint) => AnonymousByEntryPoint.GetOrAdd(entryPoint, static ep =>
    {
        var dot = ep.LastIndexOf('.');
        var type = typeof(QarionMiddleware).Assembly.GetType(ep[..dot], throwOnError: false);
        var method = type?.GetMethod(ep[(dot + 1)..], BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static);
        return method?.GetCustomAttribute<AllowAnonymousAttribute>() is not null;
    });
}
