using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Qarion.Core;
using Qarion.Functions.Http;

namespace Qarion.Functions;

/// <summary>
/// The app's one registration entry point, called by <c>Program.cs</c> and by the tests, so the tests
/// run the same container and middleware as production.
/// </summary>
public static class QarionApp
{
    public static FunctionsApplicationBuilder Configure(FunctionsApplicationBuilder builder)
    {
        builder.ConfigureFunctionsWebApplication();
        builder.UseMiddleware<QarionMiddleware>();
        builder.Services.AddQarionFunctions(builder.Configuration);
        return builder;
    }

    public static IServiceCollection AddQarionFunctions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddQarionCore(configuration);
        services.AddOptions<HttpOptions>().Bind(configuration.GetSection(HttpOptions.Section));
        services.AddScoped<RequestReader>();
        AddTelemetry(services, configuration);
        return services;
    }

    /// <summary>
    /// OpenTelemetry traces (worker invocations, outgoing HTTP, Npgsql) exported to Application Insights
    /// when <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set, and/or to an OTLP collector when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. <c>Qarion:Telemetry:Enabled=false</c> switches it off.
    /// </summary>
    private static void AddTelemetry(IServiceCollection services, IConfiguration configuration)
    {
        var appInsights = configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"];
        var otlp = configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        var enabled = configuration.GetValue("Qarion:Telemetry:Enabled", true);
        if (!enabled || (string.IsNullOrWhiteSpace(appInsights) && string.IsNullOrWhiteSpace(otlp))) return;

        var telemetry = services.AddOpenTelemetry()
            .UseFunctionsWorkerDefaults()
            .WithTracing(tracing => tracing.AddNpgsql());
        if (!string.IsNullOrWhiteSpace(appInsights))
            telemetry.UseAzureMonitorExporter(o => o.ConnectionString = appInsights);
        if (!string.IsNullOrWhiteSpace(otlp))
            telemetry.UseOtlpExporter();
    }
}
