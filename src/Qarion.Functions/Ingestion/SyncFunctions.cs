using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Qarion.Core.Ingestion;

namespace Qarion.Functions.Ingestion;

/// <summary>
/// The Functions bindings of <see cref="SyncOrchestration"/> (its logic lives in Core, where the Durable
/// in-process test host runs it too): the orchestrator, one thin wrapper per activity, and the scheduler timer.
/// </summary>
public sealed class SyncFunctions(SyncRunner runner, SyncService syncs, ILogger<SyncFunctions> log)
{
    [Function(SyncOrchestration.Name)]
    public static Task<string> Orchestrate([OrchestrationTrigger] TaskOrchestrationContext context)
        => SyncOrchestration.RunAsync(context, context.GetInput<SyncInput>()!);

    [Function(SyncOrchestration.ListSchemas)]
    public Task<List<string>> ListSchemas([ActivityTrigger] Guid jobId, CancellationToken ct) => runner.ListSchemasAsync(jobId, ct);

    [Function(SyncOrchestration.ExtractSchema)]
    public Task<int> ExtractSchema([ActivityTrigger] ExtractInput input, CancellationToken ct) => runner.ExtractSchemaAsync(input.JobId, input.Schema, ct);

    [Function(SyncOrchestration.Merge)]
    public async Task Merge([ActivityTrigger] Guid jobId, CancellationToken ct) => await runner.MergeAsync(jobId, ct);

    [Function(SyncOrchestration.FailJob)]
    public Task FailJob([ActivityTrigger] FailInput input, CancellationToken ct) => runner.FailJobAsync(input.JobId, input.Error, ct);

    /// <summary>Every minute: start the syncs whose cron is due (one job per connector at a time).</summary>
    [Function("ConnectorSync_Scheduler")]
    public async Task Schedule([TimerTrigger("0 * * * * *")] TimerInfo timer, [DurableClient] DurableTaskClient durable, CancellationToken ct)
    {
        var started = await syncs.RunDueAsync(durable, ct);
        if (started > 0) log.LogInformation("Started {Count} scheduled connector sync(s)", started);
    }
}
