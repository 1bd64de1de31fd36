using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace Qarion.LocalHost;

internal sealed class FunctionRpcService;

/// <summary>Binds FunctionRpc/EventStream with byte-level marshallers instead of generated stubs.</summary>
internal sealed class FunctionRpcMethodProvider(Protocol protocol) : IServiceMethodProvider<FunctionRpcService>
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<FunctionRpcService> context) =>
        context.AddDuplexStreamingMethod<IMessage, IMessage>(protocol.EventStream, [],
            (_, requests, responses, call) => call.GetHttpContext().RequestServices.GetRequiredService<WorkerSession>().RunAsync(requests, responses, call.CancellationToken));
}

/// <summary>A function as the worker indexed it: name, id and its bindings (the <c>rawBindings</c> JSON).</summary>
internal sealed record FunctionInfo(string Name, string FunctionId, IReadOnlyList<JsonElement> Bindings)
{
    public JsonElement? Trigger => Bindings.Cast<JsonElement?>().FirstOrDefault(b =>
        b!.Value.TryGetProperty("type", out var t) && t.GetString()!.EndsWith("Trigger", StringComparison.OrdinalIgnoreCase));

    public string TriggerType => Trigger is { } t ? t.GetProperty("type").GetString()! : "";

    public string TriggerName => Trigger is { } t ? t.GetProperty("name").GetString()! : "";

    public static FunctionInfo From(JsonElement metadata) => new(
        metadata.GetProperty("name").GetString()!,
        metadata.GetProperty("functionId").GetString()!,
        (metadata.TryGetProperty("rawBindings", out var rb) ? rb.EnumerateArray() : default)
            .Select(raw => { using var d = JsonDocument.Parse(raw.GetString()!); return d.RootElement.Clone(); }).ToList());
}

/// <summary>What the host did with one invocation (GET /admin/host/invocations; the end-to-end tests read it).</summary>
internal sealed record InvocationRecord(string Function, string Trigger, string? Queue, string? MessageId, long? DequeueCount, string Status, string? Error, DateTimeOffset At, string? Body = null, bool MovedToPoison = false);

/// <summary>One worker's event stream: the start-up handshake, invocations and their responses, worker logs.</summary>
internal sealed class WorkerSession(Protocol protocol, string workerDirectory)
{
    private readonly Channel<IMessage> outbox = Channel.CreateUnbounded<IMessage>();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> invocations = new();
    private readonly ConcurrentQueue<InvocationRecord> history = new();
    private int pendingLoads;

    public string State { get; private set; } = "waiting for StartStream";

    public string? HttpUri { get; private set; }

    public List<FunctionInfo> Functions { get; } = [];

    public List<HttpRoute> Routes { get; } = [];

    public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IEnumerable<InvocationRecord> History => history;

    public void Record(InvocationRecord record)
    {
        history.Enqueue(record);
        while (history.Count > 1000 && history.TryDequeue(out _))
        {
        }
    }

    public void Send(string json) => outbox.Writer.TryWrite(protocol.Parse(json));

    public void Terminate()
    {
        State = "terminating";
        Send("""{"workerTerminate":{"gracePeriod":"5s"}}""");
    }

    /// <summary>The worker dereferences InvocationRequest.TraceContext unconditionally (NullReferenceException without it).</summary>
    private static string TraceParent() =>
        $"00-{System.Diagnostics.ActivityTraceId.CreateRandom()}-{System.Diagnostics.ActivitySpanId.CreateRandom()}-00";

    /// <summary>Sends an InvocationRequest; the task completes with the InvocationResponse's <c>result</c> (<c>{"status":"Success"}</c> or Failure with <c>exception</c>).</summary>
    public Task<JsonElement> Invoke(string invocationId, FunctionInfo function, JsonArray inputData, JsonObject triggerMetadata)
    {
        var completion = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        invocations[invocationId] = completion;
        var message = new JsonObject
        {
            ["requestId"] = invocationId,
            ["invocationRequest"] = new JsonObject
            {
                ["invocationId"] = invocationId,
                ["functionId"] = function.FunctionId,
                ["inputData"] = inputData,
                ["triggerMetadata"] = triggerMetadata,
                ["traceContext"] = new JsonObject { ["traceParent"] = TraceParent(), ["traceState"] = "", ["attributes"] = new JsonObject() },
            },
        };
        Send(message.ToJsonString());
        return completion.Task;
    }

    public static bool Succeeded(JsonElement result) => result.TryGetProperty("status", out var s) && s.GetString() == "Success";

    public static string? Error(JsonElement result) =>
        result.TryGetProperty("exception", out var e) && e.TryGetProperty("message", out var m) ? m.GetString() : Succeeded(result) ? null : result.ToString();

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
                var dir = JsonSerializer.Serialize(workerDirectory);
                Send($$$"""{"requestId":"init","workerInitRequest":{"hostVersion":"4.1040.0","capabilities":{},"logCategories":{},"workerDirectory":{{{dir}}},"functionAppDirectory":{{{dir}}}}}""");
                break;
            case "workerInitResponse":
                if (content.TryGetProperty("capabilities", out var caps) && caps.TryGetProperty(nameof(HttpUri), out var uri))
                {
                    HttpUri = uri.GetString();
                }

                State = "indexing";
                Send($$$"""{"requestId":"meta","functionsMetadataRequest":{"functionAppDirectory":{{{JsonSerializer.Serialize(workerDirectory)}}}}}""");
                break;
            case "functionMetadataResponse":
                var results = content.TryGetProperty("functionMetadataResults", out var r) ? r.EnumerateArray().ToList() : [];
                Functions.AddRange(results.Select(FunctionInfo.From));
                Routes.AddRange(Functions.Select(HttpRoute.From).OfType<HttpRoute>().OrderByDescending(x => x.Segments.Count(s => !s.StartsWith('{'))));
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
                    Console.WriteLine($"host: functionLoadResponse NOT successful: {content}");
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
                    pending.TrySetResult(content.TryGetProperty("result", out var ir) ? ir.Clone() : default);
                }

                break;
            case "rpcLog":
                var level = content.TryGetProperty("level", out var lv) ? lv.GetString() : "";
                if (level is "Warning" or "Error" or "Critical")
                {
                    var text = content.TryGetProperty("message", out var m) ? m.GetString() : content.ToString();
                    if (content.TryGetProperty("exception", out var ex) && ex.TryGetProperty("message", out var em))
                    {
                        text += " | " + em.GetString();
                    }

                    Console.WriteLine($"worker [{level}] {text}");
                }

                break;
            case "":
                // The worker sends one empty StreamingMessage just before it exits after WorkerTerminate.
                break;
            default:
                Console.WriteLine($"host: <- {kind} {content}");
                break;
        }
    }
}
