using System.Reflection;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;

namespace Qarion.LocalHost;

/// <summary>
/// The Functions host protocol, taken at run time from the worker's own gRPC assembly: the message types
/// are internal there but implement Google.Protobuf's public IMessage, so nothing is copied into this repo.
/// </summary>
internal sealed class Protocol
{
    public const string ServiceName = "AzureFunctionsRpcMessages.FunctionRpc";
    public const string MethodName = "EventStream";

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));

    public Protocol(string workerDirectory)
    {
        var path = Path.Combine(workerDirectory, "Microsoft.Azure.Functions.Worker.Grpc.dll");
        var assembly = Assembly.LoadFrom(path);
        var type = assembly.GetTypes().Single(t => t.Name == "StreamingMessage");
        StreamingMessage = (MessageDescriptor)type.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        Service = StreamingMessage.File.Services.Single(s => s.FullName == ServiceName);
        var marshaller = Marshallers.Create<IMessage>(m => m.ToByteArray(), bytes => StreamingMessage.Parser.ParseFrom(bytes));
        EventStream = new Method<IMessage, IMessage>(MethodType.DuplexStreaming, ServiceName, MethodName, marshaller, marshaller);
    }

    public MessageDescriptor StreamingMessage { get; }

    public Google.Protobuf.Reflection.ServiceDescriptor Service { get; }

    public Method<IMessage, IMessage> EventStream { get; }

    /// <summary>Builds a StreamingMessage from its proto3 JSON form.</summary>
    public IMessage Parse(string json) => JsonParser.Default.Parse(json, StreamingMessage);

    public static string Format(IMessage message) => Formatter.Format(message);

    /// <summary>The JSON name of the set case of StreamingMessage's oneof "content" (e.g. "startStream").</summary>
    public static string ContentCase(IMessage message)
    {
        var oneof = message.Descriptor.Oneofs.Single(o => o.Name == "content");
        return oneof.Accessor.GetCaseFieldDescriptor(message)?.JsonName ?? "";
    }

    /// <summary>The message inside the oneof "content".</summary>
    public static IMessage? Content(IMessage message)
    {
        var field = message.Descriptor.Oneofs.Single(o => o.Name == "content").Accessor.GetCaseFieldDescriptor(message);
        return field?.Accessor.GetValue(message) as IMessage;
    }
}
