using System.Collections;
using System.Collections.Immutable;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Context.Features;

namespace Qarion.Tests.Infrastructure;

/// <summary>
/// A <see cref="FunctionContext"/> as the worker builds one for an HTTP invocation with ASP.NET Core
/// integration: the HttpContext under <c>Items["HttpRequestContext"]</c> (the key the integration's
/// <c>GetHttpContext()</c> reads), route values in the binding data, the invocation's DI scope.
/// </summary>
internal sealed class TestFunctionContext(IServiceProvider services, TestFunctionDefinition definition, IReadOnlyDictionary<string, object?> bindingData, CancellationToken ct) : FunctionContext
{
    public override string InvocationId { get; } = Guid.NewGuid().ToString();
    public override string FunctionId => definition.Id;
    public override TraceContext TraceContext { get; } = new Trace();
    public override BindingContext BindingContext { get; } = new Bindings(bindingData);
    public override RetryContext RetryContext => throw new NotSupportedException("HTTP invocations have no retry context.");
    public override IServiceProvider InstanceServices { get; set; } = services;
    public override FunctionDefinition FunctionDefinition => definition;
    public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object>();
    public override IInvocationFeatures Features { get; } = new FeatureCollection();
    public override CancellationToken CancellationToken => ct;

    private sealed class Trace : TraceContext
    {
        public override string TraceParent => "00-" + Guid.NewGuid().ToString("N") + "-" + Guid.NewGuid().ToString("N")[..16] + "-01";
        public override string TraceState => string.Empty;
    }

    private sealed class Bindings(IReadOnlyDictionary<string, object?> data) : BindingContext
    {
        public override IReadOnlyDictionary<string, object?> BindingData => data;
    }

    private sealed class FeatureCollection : IInvocationFeatures
    {
        private readonly Dictionary<Type, object> _features = [];
        public T? Get<T>() => _features.TryGetValue(typeof(T), out var f) ? (T)f : default;
        public void Set<T>(T instance) => _features[typeof(T)] = instance!;
        public IEnumerator<KeyValuePair<Type, object>> GetEnumerator() => _features.GetEnumerator();
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

internal sealed class TestFunctionDefinition(string name, string entryPoint, string pathToAssembly) : FunctionDefinition
{
    public override ImmutableArray<FunctionParameter> Parameters => [];
    public override string PathToAssembly => pathToAssembly;
    public override string EntryPoint => entryPoint;
    public override string Id { get; } = name.ToLowerInvariant();
    public override string Name => name;
    public override IImmutableDictionary<string, BindingMetadata> InputBindings => ImmutableDictionary<string, BindingMetadata>.Empty;
    public override IImmutableDictionary<string, BindingMetadata> OutputBindings => ImmutableDictionary<string, BindingMetadata>.Empty;
}
