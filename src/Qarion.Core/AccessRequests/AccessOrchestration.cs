using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;

namespace Qarion.Core.AccessRequests;

/// <param name="ReminderAfterSeconds">From the orchestration's start; a reminder at or after the deadline is not sent.</param>
public sealed record AccessInput(Guid RequestId, double ReminderAfterSeconds, double ExpireAfterSeconds);

/// <summary>
/// One access request's life as a Durable orchestration: notify the approvers → wait for the decision event,
/// reminding them once after the configured delay → expire at the deadline → on approval record the grant and,
/// when it is time-limited, sleep on a durable timer until its end and revoke it. The HTTP endpoints record
/// decisions in the database before raising <see cref="DecisionEvent"/>; the activities act on the database
/// state, so a lost or late event is caught at the deadline and a decision just before it still wins.
/// Deterministic: times come from <see cref="TaskOrchestrationContext.CurrentUtcDateTime"/> and activity results.
/// </summary>
public static class AccessOrchestration
{
    public const string Name = "AccessRequest";
    public const string NotifySubmitted = "AccessRequest_NotifySubmitted";
    public const string Remind = "AccessRequest_Remind";
    public const string Expire = "AccessRequest_Expire";
    public const string Complete = "AccessRequest_Complete";
    public const string EndGrant = "AccessRequest_EndGrant";
    /// <summary>Raised with the decision's name (approved, rejected, cancelled) after it is recorded.</summary>
    public const string DecisionEvent = "decision";

    public static string InstanceId(Guid requestId) => $"access-request-{requestId:N}";

    public static TaskOptions Retry { get; } = TaskOptions.FromRetryPolicy(new RetryPolicy(
        maxNumberOfAttempts: 5, firstRetryInterval: TimeSpan.FromSeconds(1), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromMinutes(1)));

    public static async Task<string> RunAsync(TaskOrchestrationContext context, AccessInput input)
    {
        var start = context.CurrentUtcDateTime;
        var reminderAt = start.AddSeconds(input.ReminderAfterSeconds);
        var deadline = start.AddSeconds(input.ExpireAfterSeconds);
        var reminded = input.ReminderAfterSeconds >= input.ExpireAfterSeconds;
        await context.CallActivityAsync(NotifySubmitted, input.RequestId, Retry);

        AccessOutcome outcome;
        while (true)
        {
            var next = reminded ? deadline : reminderAt;
            var wait = next - context.CurrentUtcDateTime;
            var decided = false;
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await context.WaitForExternalEvent<string>(DecisionEvent, wait);
                    decided = true;
                }
                catch (TaskCanceledException)
                {
                }
            }
            if (!decided)
            {
                if (!reminded)
                {
                    reminded = true;
                    await context.CallActivityAsync<bool>(Remind, input.RequestId, Retry);
                    continue;
                }
                var status = await context.CallActivityAsync<AccessRequestStatus>(Expire, input.RequestId, Retry);
                if (status is AccessRequestStatus.Expired or AccessRequestStatus.Pending) return "expired";
            }
            outcome = await context.CallActivityAsync<AccessOutcome>(Complete, input.RequestId, Retry);
            // An event that raced ahead of nothing (the request still pending) is ignored.
            if (outcome.Status != AccessRequestStatus.Pending) break;
        }

        if (outcome is { Status: AccessRequestStatus.Approved, GrantId: { } grantId, EndsInSeconds: { } seconds })
        {
            await context.CreateTimer(context.CurrentUtcDateTime.AddSeconds(seconds), CancellationToken.None);
            await context.CallActivityAsync<bool>(EndGrant, grantId, Retry);
            return "approved_then_ended";
        }
        return outcome.Status.ToString().ToLowerInvariant();
    }

    /// <summary>
    /// Registers the orchestration and its activities with a Durable Task worker outside the Functions host (the
    /// in-process test host), each activity in its own DI scope, exactly as the Functions wrappers call them.
    /// </summary>
    public static void Register(DurableTaskRegistry registry, IServiceProvider services)
    {
        registry.AddOrchestratorFunc<AccessInput, string>(Name, RunAsync);
        Activity<Guid, bool>(NotifySubmitted, async (r, id) => { await r.NotifySubmittedAsync(id, CancellationToken.None); return true; });
        Activity<Guid, bool>(Remind, (r, id) => r.RemindAsync(id, CancellationToken.None));
        Activity<Guid, AccessRequestStatus>(Expire, (r, id) => r.ExpireAsync(id, CancellationToken.None));
        Activity<Guid, AccessOutcome>(Complete, (r, id) => r.CompleteAsync(id, CancellationToken.None));
        Activity<Guid, bool>(EndGrant, (r, id) => r.EndGrantAsync(id, CancellationToken.None));

        void Activity<TIn, TOut>(string name, Func<AccessRequestRunner, TIn, Task<TOut>> work)
            => registry.AddActivityFunc<TIn, TOut>(name, async (_, input) =>
            {
                await using var scope = services.CreateAsyncScope();
                return await work(scope.ServiceProvider.GetRequiredService<AccessRequestRunner>(), input);
            });
    }
}
