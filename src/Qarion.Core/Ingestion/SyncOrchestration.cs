using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;

namespace Qarion.Core.Ingestion;

public sealed record SyncInput(Guid JobId);

public sealed record ExtractInput(Guid JobId, string Schema);

public sealed record FailInput(Guid JobId, string Error);

/// <summary>
/// The connector sync as a Durable orchestration: list schemas (marking the job running) → extract each schema in
/// parallel activities (results staged in the database, not in the orchestration history) → merge everything
/// in one transaction → the job records the outcome. Activities are retried with back-off, except for source
/// errors a retry cannot fix (wrong password, unknown database); any failure ends as a failed job with a
/// readable error. Deterministic: no I/O and no clock here, only activity calls.
/// </summary>
public static class SyncOrchestration
{
    public const string Name = "ConnectorSync";
    public const string ListSchemas = "ConnectorSync_ListSchemas";
    public const string ExtractSchema = "ConnectorSync_ExtractSchema";
    public const string Merge = "ConnectorSync_Merge";
    public const string FailJob = "ConnectorSync_FailJob";

    /// <summary>
    /// Extractions running at once: enough to overlap source round trips and to need few orchestration
    /// steps (each costs a history round trip), few enough to be polite to the source.
    /// </summary>
    public const int Parallelism = 8;

    /// <summary>One instance per connector, so a second start while one runs is refused by the orchestration store too.</summary>
    public static string InstanceId(Guid connectorId) => $"connector-sync-{connectorId:N}";

    public static TaskOptions Retry { get; } = TaskOptions.FromRetryPolicy(new RetryPolicy(
        maxNumberOfAttempts: 4, firstRetryInterval: TimeSpan.FromSeconds(2), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromMinutes(1))
    {
        HandleFailure = failure => !failure.IsCausedBy<SourceException>(),
    });

    public static async Task<string> RunAsync(TaskOrchestrationContext context, SyncInput input)
    {
        try
        {
            var schemas = await context.CallActivityAsync<List<string>>(ListSchemas, input.JobId, Retry);
            for (var i = 0; i < schemas.Count; i += Parallelism)
            {
                var batch = schemas.Skip(i).Take(Parallelism)
                    .Select(s => context.CallActivityAsync<int>(ExtractSchema, new ExtractInput(input.JobId, s), Retry));
                await Task.WhenAll(batch);
            }
            await context.CallActivityAsync(Merge, input.JobId, Retry);
            return "succeeded";
        }
        catch (TaskFailedException ex)
        {
            await context.CallActivityAsync(FailJob, new FailInput(input.JobId, Describe(ex)), Retry);
            return "failed";
        }
    }

    /// <summary>
    /// Registers the orchestration and its activities with a Durable Task worker outside the Functions host
    /// (the in-process test host, a local host), each activity in its own DI scope of <paramref name="services"/>,
    /// exactly as the Functions wrappers call them. <paramref name="hook"/> (activity name, after?) lets a test
    /// fail an activity before or after its work.
    /// </summary>
    public static void Register(DurableTaskRegistry registry, IServiceProvider services, Func<string, bool, Task>? hook = null)
    {
        registry.AddOrchestratorFunc<SyncInput, string>(Name, RunAsync);
        Activity<Guid, List<string>>(ListSchemas, (r, id) => r.ListSchemasAsync(id, CancellationToken.None));
        Activity<ExtractInput, int>(ExtractSchema, (r, i) => r.ExtractSchemaAsync(i.JobId, i.Schema, CancellationToken.None));
        Activity<Guid, bool>(Merge, async (r, id) => { await r.MergeAsync(id, CancellationToken.None); return true; });
        Activity<FailInput, bool>(FailJob, async (r, i) => { await r.FailJobAsync(i.JobId, i.Error, CancellationToken.None); return true; });

        void Activity<TIn, TOut>(string name, Func<SyncRunner, TIn, Task<TOut>> work)
            => registry.AddActivityFunc<TIn, TOut>(name, async (_, input) =>
            {
                if (hook is not null) await hook(name, false);
                TOut result;
                await using (var scope = services.CreateAsyncScope())
                    result = await work(scope.ServiceProvider.GetRequiredService<SyncRunner>(), input);
                if (hook is not null) await hook(name, true);
                return result;
            });
    }

    private static string Describe(TaskFailedException ex)
    {
        var details = ex.FailureDetails;
        while (details.InnerFailure is not null && !details.IsCausedBy<SourceException>()) details = details.InnerFailure;
        return details.IsCausedBy<SourceException>() ? details.ErrorMessage : $"{ex.TaskName} failed: {details.ErrorMessage}";
    }
}
