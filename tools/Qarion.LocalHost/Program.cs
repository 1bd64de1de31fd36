using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Qarion.LocalHost;

// Usage:
//   dotnet run --project tools/Qarion.LocalHost -- probe  <worker bin dir>   (step 1: protocol by reflection)
//   dotnet run --project tools/Qarion.LocalHost -- <worker bin dir>          (host: start the worker, handshake)
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: Qarion.LocalHost [probe] <worker bin dir>");
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
    var bytes = message.ToByteArray();
    var back = protocol.StreamingMessage.Parser.ParseFrom(bytes);
    Console.WriteLine($"round trip ({bytes.Length} bytes, case {Protocol.ContentCase(back)}): {Protocol.Format(back)}");
    return 0;
}

var workerDirectory = Path.GetFullPath(args[0]);
var rpc = new Protocol(workerDirectory);
const int GrpcPort = 50071;
const int HttpPort = 7071;

var builder = WebApplication.CreateBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(k =>
{
    k.ListenLocalhost(GrpcPort, o => o.Protocols = HttpProtocols.Http2);
    k.Listen(System.Net.IPAddress.Loopback, HttpPort, o => o.Protocols = HttpProtocols.Http1);
});
builder.Services.AddGrpc(o => { o.MaxReceiveMessageSize = null; o.MaxSendMessageSize = null; });
var session = new WorkerSession(rpc, workerDirectory);
builder.Services.AddSingleton(session);
builder.Services.AddSingleton<IServiceMethodProvider<FunctionRpcService>>(new FunctionRpcMethodProvider(rpc));

var app = builder.Build();
app.MapGrpcService<FunctionRpcService>();
using var forwarder = new HttpForwarder(session);
app.Map("/api/{**path}", forwarder.ForwardAsync);
app.MapGet("/admin/host/status", () => Results.Json(new { session.State, session.HttpUri, functions = session.Functions.Count }));
await app.StartAsync();

var workerId = Guid.NewGuid().ToString();
var start = new ProcessStartInfo("dotnet", [Path.Combine(workerDirectory, "Qarion.Functions.dll"),
    "--host", "127.0.0.1", "--port", GrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
    "--workerId", workerId, "--requestId", workerId, "--grpcMaxMessageLength", int.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture)])
{
    WorkingDirectory = workerDirectory,
    UseShellExecute = false,
};
start.Environment["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
start.Environment["FUNCTIONS_APPLICATION_DIRECTORY"] = workerDirectory;
start.Environment["FUNCTIONS_WORKER_DIRECTORY"] = workerDirectory;
start.Environment["Functions__Worker__HostEndpoint"] = $"http://127.0.0.1:{GrpcPort}";
start.Environment["Functions__Worker__WorkerId"] = workerId;
start.Environment["Functions__Worker__RequestId"] = workerId;
start.Environment["Functions__Worker__GrpcMaxMessageLength"] = int.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture);
var stopwatch = Stopwatch.StartNew();
using var worker = Process.Start(start)!;
Console.WriteLine($"host: worker pid {worker.Id} started, worker id {workerId}");

using var lifetime = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; lifetime.Cancel(); };
app.Lifetime.ApplicationStopping.Register(lifetime.Cancel); // SIGTERM goes through the generic host's console lifetime
var ready = await Task.WhenAny(session.Ready.Task, worker.WaitForExitAsync(lifetime.Token), Task.Delay(TimeSpan.FromSeconds(60), lifetime.Token));
Console.WriteLine(ready == session.Ready.Task
    ? $"host: ready after {stopwatch.ElapsedMilliseconds} ms, {session.Functions.Count} functions loaded, worker HTTP URI {session.HttpUri}"
    : $"host: NOT ready (state {session.State}, worker exited: {worker.HasExited})");
if (args.Contains("--exit-when-ready"))
{
    lifetime.Cancel();
}

try
{
    await Task.Delay(Timeout.Infinite, lifetime.Token);
}
catch (OperationCanceledException)
{
}

session.Terminate();
if (!worker.WaitForExit(TimeSpan.FromSeconds(5)))
{
    worker.Kill(entireProcessTree: true);
}

Console.WriteLine($"host: worker exited with {worker.ExitCode}");
await app.StopAsync();
return ready == session.Ready.Task ? 0 : 1;

namespace Qarion.LocalHost
{
    internal sealed class FunctionRpcService;

    /// <summary>Binds FunctionRpc/EventStream with byte-level marshallers instead of generated stubs.</summary>
    internal sealed class FunctionRpcMethodProvider(Protocol protocol) : IServiceMethodProvider<FunctionRpcService>
    {
        public void OnServiceMethodDiscovery(ServiceMethodProviderContext<FunctionRpcService> context) =>
            context.AddDuplexStreamingMethod<IMessage, IMessage>(protocol.EventStream, [],
                (_, requests, responses, call) => call.GetHttpContext().RequestServices.GetRequiredService<WorkerSession>().RunAsync(requests, responses, call.CancellationToken));
    }

    /// <summary>One worker's event stream: the start-up handshake and the messages after it.</summary>
    internal sealed class WorkerSession(Protocol protocol, string workerDirectory)
    {
        private readonly Channel<IMessage> outbox = Channel.CreateUnbounded<IMessage>();
        private int pendingLoads;

        public string State { get; private set; } = "waiting for StartStream";

        public string? HttpUri { get; private set; }

        public List<JsonElement> Functions { get; } = [];

        public List<HttpRoute> Routes { get; } = [];

        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource<string>> invocations = new();

        public Task<string> ExpectInvocation(string invocationId) =>
            invocations.GetOrAdd(invocationId, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Send(string json) => outbox.Writer.TryWrite(protocol.Parse(json));

        public void Terminate()
        {
            State = "terminating";
            Send("""{"workerTerminate":{"gracePeriod":"5s"}}""");
        }

        public async Task RunAsync(IAsyncStreamReader<IMessage> requests, IServerStreamWriter<IMessage> responses, CancellationToken cancel)
        {
            var writer = Task.Run(async () =>
            {
                await foreach (var message in outbox.Reader.ReadAllAsync(cancel))
                {
                    await responses.WriteAsync(message, cancel);
                }
            }, cancel);
            try
            {
                while (await requests.MoveNext(cancel))
                {
                    Handle(requests.Current);
                }
            }
            catch (Exception e) when (State == "terminating" && e is IOException or OperationCanceledException)
            {
                // The worker closes its connection once it has handled WorkerTerminate.
            }

            outbox.Writer.TryComplete();
            try
            {
                await writer;
            }
            catch (OperationCanceledException) when (State == "terminating")
            {
            }
        }

        private void Handle(IMessage message)
        {
            var kind = Protocol.ContentCase(message);
            using var doc = JsonDocument.Parse(Protocol.Format(message));
            var content = doc.RootElement.TryGetProperty(kind, out var c) ? c.Clone() : default;
            switch (kind)
            {
                case "startStream":
                    State = "initialising";
                    Console.WriteLine($"host: <- startStream {content}");
                    var dir = JsonSerializer.Serialize(workerDirectory);
                    Send($$$"""{"requestId":"init","workerInitRequest":{"hostVersion":"4.1040.0","capabilities":{},"logCategories":{},"workerDirectory":{{{dir}}},"functionAppDirectory":{{{dir}}}}}""");
                    break;
                case "workerInitResponse":
                    Console.WriteLine($"host: <- workerInitResponse {content}");
                    if (content.TryGetProperty("capabilities", out var caps) && caps.TryGetProperty(nameof(HttpUri), out var uri))
                    {
                        HttpUri = uri.GetString();
                    }

                    State = "indexing";
                    Send($$$"""{"requestId":"meta","functionsMetadataRequest":{"functionAppDirectory":{{{JsonSerializer.Serialize(workerDirectory)}}}}}""");
                    break;
                case "functionMetadataResponse":
                    var results = content.TryGetProperty("functionMetadataResults", out var r) ? r.EnumerateArray().ToList() : [];
                    Console.WriteLine($"host: <- functionMetadataResponse: {results.Count} functions, result {(content.TryGetProperty("result", out var res) ? res : default)}");
                    Functions.AddRange(results);
                    Routes.AddRange(results.Select(HttpRoute.From).OfType<HttpRoute>().OrderByDescending(r => r.Segments.Count(x => !x.StartsWith('{'))));
                    pendingLoads = results.Count;
                    State = "loading";
                    foreach (var f in results)
                    {
                        var id = f.TryGetProperty("functionId", out var fid) ? fid.GetString() : Guid.NewGuid().ToString();
                        Send($$$"""{"requestId":"load","functionLoadRequest":{"functionId":{{{JsonSerializer.Serialize(id)}}},"metadata":{{{f.GetRawText()}}}}}""");
                    }

                    break;
                case "functionLoadResponse":
                    var ok = content.TryGetProperty("result", out var lr) && lr.TryGetProperty("status", out var st) && st.GetString() == "Success";
                    if (!ok)
                    {
                        Console.WriteLine($"host: <- functionLoadResponse NOT successful: {content}");
                    }

                    if (Interlocked.Decrement(ref pendingLoads) == 0)
                    {
                        State = "ready";
                        Ready.TrySetResult();
                    }

                    break;
                case "invocationResponse":
                    var invocationId = content.GetProperty("invocationId").GetString()!;
                    if (invocations.TryRemove(invocationId, out var pending))
                    {
                        pending.TrySetResult(content.TryGetProperty("result", out var ir) ? ir.ToString() : "");
                    }

                    break;
                case "rpcLog":
                    var level = content.TryGetProperty("level", out var lv) ? lv.GetString() : "";
                    if (level is "Warning" or "Error" or "Critical")
                    {
                        Console.WriteLine($"worker [{level}] {(content.TryGetProperty("message", out var m) ? m.GetString() : content.ToString())}");
                    }

                    break;
                default:
                    Console.WriteLine($"host: <- {(kind.Length == 0 ? "(no content) " + Protocol.Format(message) : kind + " " + content)}");
                    break;
            }
        }
    }
}
