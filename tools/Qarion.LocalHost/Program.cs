using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Qarion.LocalHost;

// Usage:
//   Qarion.LocalHost probe <worker bin dir>      (the protocol, by reflection only)
//   Qarion.LocalHost <worker bin dir> [--port N] [--queue-prefix P] [--timers on|manual] [--retry-visibility S] [--exit-when-ready]
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: Qarion.LocalHost [probe] <worker bin dir> [options]");
    return 2;
}

if (args[0] == "probe")
{
    var protocol = new Protocol(Path.GetFullPath(args[1]));
    Console.WriteLine($"file: {protocol.StreamingMessage.File.Name} ({protocol.StreamingMessage.File.MessageTypes.Count} messages)");
    foreach (var method in protocol.Service.Methods)
    {
        Console.WriteLine($"service {protocol.Service.FullName} method {method.Name} client-streaming={method.IsClientStreaming} server-streaming={method.IsServerStreaming} {method.InputType.FullName} -> {method.OutputType.FullName}");
    }

    var message = protocol.Parse("""{"requestId":"r1","workerInitRequest":{"hostVersion":"4.0.0","capabilities":{"RpcHttpBodyOnly":"true"},"functionAppDirectory":"/app"}}""");
    var back = protocol.StreamingMessage.Parser.ParseFrom(message.ToByteArray());
    Console.WriteLine($"round trip (case {Protocol.ContentCase(back)}): {Protocol.Format(back)}");
    return 0;
}

var options = LocalHostOptions.Parse(args);
var workerDirectory = options.WorkerDirectory;
var rpc = new Protocol(workerDirectory);
var invariant = CultureInfo.InvariantCulture;

var builder = WebApplication.CreateBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(k =>
{
    k.Listen(System.Net.IPAddress.Loopback, options.GrpcPort, o => o.Protocols = HttpProtocols.Http2);
    k.Listen(System.Net.IPAddress.Loopback, options.HttpPort, o => o.Protocols = HttpProtocols.Http1);
});
builder.Services.AddGrpc(o => { o.MaxReceiveMessageSize = null; o.MaxSendMessageSize = null; });
var session = new WorkerSession(rpc, workerDirectory);
builder.Services.AddSingleton(session);
builder.Services.AddSingleton<IServiceMethodProvider<FunctionRpcService>>(new FunctionRpcMethodProvider(rpc));

var app = builder.Build();
var queues = new QueueListener(session, options);
var timers = new TimerScheduler(session, options);
using var lifetime = new CancellationTokenSource();
app.MapGrpcService<FunctionRpcService>();
using var forwarder = new HttpForwarder(session);
app.Map("/api/{**path}", forwarder.ForwardAsync);
app.MapGet("/admin/host/status", () => Results.Json(new { state = session.State, http_uri = session.HttpUri, functions = session.Functions.Count, worker_pid = WorkerPid.Value }));
app.MapGet("/admin/host/invocations", () => Results.Json(session.History.ToList()));
app.MapGet("/admin/functions", () => Results.Json(session.Functions.Select(f => new { name = f.Name, trigger = f.TriggerType })));
// Like the Functions host's admin API: fire a non-HTTP function now. Timer functions get a TimerInfo; queue
// functions get the body's "input" as the message text (no queue message involved). 202, the run is not awaited.
app.MapPost("/admin/functions/{name}", async (string name, HttpRequest request) =>
{
    var function = session.Functions.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));
    if (function is null)
    {
        return Results.NotFound();
    }

    if (string.Equals(function.TriggerType, "timerTrigger", StringComparison.OrdinalIgnoreCase))
    {
        _ = Task.Run(() => timers.FireAsync(function, lifetime.Token));
        return Results.Accepted();
    }

    if (string.Equals(function.TriggerType, "queueTrigger", StringComparison.OrdinalIgnoreCase))
    {
        var body = request.ContentLength > 0 ? await JsonNode.ParseAsync(request.Body) : null;
        var text = body?["input"]?.GetValue<string>() ?? "";
        var input = new JsonArray(new JsonObject { ["name"] = function.TriggerName, ["data"] = new JsonObject { ["string"] = text } });
        _ = session.Invoke(Guid.NewGuid().ToString(), function, input, new JsonObject { [function.TriggerName] = new JsonObject { ["string"] = text } });
        return Results.Accepted();
    }

    return Results.BadRequest(new { error = $"{function.Name} has a {function.TriggerType}, which this host does not run." });
});
await app.StartAsync();
Console.WriteLine($"host: listening on http://127.0.0.1:{options.HttpPort} (worker gRPC on 127.0.0.1:{options.GrpcPort})");

var workerId = Guid.NewGuid().ToString();
var maxMessage = int.MaxValue.ToString(invariant);
var start = new ProcessStartInfo("dotnet", [Path.Combine(workerDirectory, "Qarion.Functions.dll"),
    "--host", "127.0.0.1", "--port", options.GrpcPort.ToString(invariant), "--workerId", workerId, "--requestId", workerId, "--grpcMaxMessageLength", maxMessage])
{
    WorkingDirectory = workerDirectory,
    UseShellExecute = false,
};
foreach (var (key, value) in options.AppSettings)
{
    start.Environment[key] = value;
}

start.Environment["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
start.Environment["FUNCTIONS_APPLICATION_DIRECTORY"] = workerDirectory;
start.Environment["FUNCTIONS_WORKER_DIRECTORY"] = workerDirectory;
start.Environment["Functions__Worker__HostEndpoint"] = $"http://127.0.0.1:{options.GrpcPort}";
start.Environment["Functions__Worker__WorkerId"] = workerId;
start.Environment["Functions__Worker__RequestId"] = workerId;
start.Environment["Functions__Worker__GrpcMaxMessageLength"] = maxMessage;
var stopwatch = Stopwatch.StartNew();
using var worker = Process.Start(start)!;
WorkerPid.Value = worker.Id;
Console.WriteLine($"host: worker pid {worker.Id} started");

Console.CancelKeyPress += (_, e) => { e.Cancel = true; lifetime.Cancel(); };
app.Lifetime.ApplicationStopping.Register(lifetime.Cancel); // SIGTERM goes through the generic host's console lifetime
var ready = await Task.WhenAny(session.Ready.Task, worker.WaitForExitAsync(lifetime.Token), Task.Delay(TimeSpan.FromSeconds(60), lifetime.Token));
var isReady = ready == session.Ready.Task;
var listeners = new List<Task>();
if (isReady)
{
    foreach (var f in session.Functions.Where(f => f.TriggerType is "orchestrationTrigger" or "activityTrigger" or "entityTrigger"))
    {
        Console.WriteLine($"host: {f.TriggerType} {f.Name} is not run by this host (no Durable Task extension)");
    }

    listeners.AddRange(queues.Start(lifetime.Token));
    listeners.AddRange(timers.Start(lifetime.Token));
    Console.WriteLine($"host: ready after {stopwatch.ElapsedMilliseconds} ms, {session.Functions.Count} functions loaded, worker HTTP URI {session.HttpUri}");
}
else
{
    Console.WriteLine($"host: NOT ready (state {session.State}, worker exited: {worker.HasExited})");
}

if (options.ExitWhenReady || !isReady)
{
    await lifetime.CancelAsync();
}

try
{
    await Task.WhenAny(Task.Delay(Timeout.Infinite, lifetime.Token), worker.WaitForExitAsync(lifetime.Token));
}
catch (OperationCanceledException)
{
}

await lifetime.CancelAsync();
try
{
    await Task.WhenAll(listeners).WaitAsync(TimeSpan.FromSeconds(5));
}
catch (Exception e) when (e is OperationCanceledException or TimeoutException)
{
}

if (!worker.HasExited)
{
    session.Terminate();
}

if (!worker.WaitForExit(TimeSpan.FromSeconds(10)))
{
    worker.Kill(entireProcessTree: true);
    worker.WaitForExit();
}

Console.WriteLine($"host: worker exited with {worker.ExitCode}");
await app.StopAsync();
return isReady ? 0 : 1;

namespace Qarion.LocalHost
{
    internal static class WorkerPid
    {
        public static int Value { get; set; }
    }
}
