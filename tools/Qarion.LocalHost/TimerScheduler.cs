using System.Text.Json;
using System.Text.Json.Nodes;
using Cronos;

namespace Qarion.LocalHost;

/// <summary>
/// Timer triggers: each fires on its six-field cron schedule (seconds first, UTC, as the Functions host reads
/// NCRONTAB) unless the host runs with <c>--timers manual</c>; <c>POST /admin/functions/{name}</c> fires one now.
/// No schedule monitor: a missed occurrence while the host was down is not caught up (IsPastDue is always false).
/// </summary>
internal sealed class TimerScheduler(WorkerSession session, LocalHostOptions options)
{
    public IEnumerable<FunctionInfo> Timers => session.Functions.Where(f => string.Equals(f.TriggerType, "timerTrigger", StringComparison.OrdinalIgnoreCase));

    public CronExpression ScheduleOf(FunctionInfo function) =>
        CronExpression.Parse(options.Resolve(function.Trigger!.Value.GetProperty("schedule").GetString()!), CronFormat.IncludeSeconds);

    public IEnumerable<Task> Start(CancellationToken stop)
    {
        foreach (var timer in Timers)
        {
            var schedule = ScheduleOf(timer);
            Console.WriteLine($"host: timer trigger {timer.Name} '{options.Resolve(timer.Trigger!.Value.GetProperty("schedule").GetString()!)}'{(options.ScheduledTimers ? "" : " (manual: POST /admin/functions/" + timer.Name + ")")}");
            if (options.ScheduledTimers)
            {
                yield return Task.Run(() => RunAsync(timer, schedule, stop), stop);
            }
        }
    }

    private async Task RunAsync(FunctionInfo timer, CronExpression schedule, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var now = DateTimeOffset.UtcNow;
                var next = schedule.GetNextOccurrence(now, TimeZoneInfo.Utc);
                if (next is null)
                {
                    return;
                }

                await Task.Delay(next.Value - now, stop);
                await FireAsync(timer, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Invokes the timer function once with a TimerInfo like the host's; returns whether it succeeded.</summary>
    public async Task<bool> FireAsync(FunctionInfo timer, CancellationToken cancel)
    {
        var now = DateTimeOffset.UtcNow;
        var info = new JsonObject
        {
            ["Schedule"] = new JsonObject { ["AdjustForDST"] = true },
            ["ScheduleStatus"] = new JsonObject { ["Last"] = now, ["Next"] = ScheduleOf(timer).GetNextOccurrence(now, TimeZoneInfo.Utc), ["LastUpdated"] = now },
            ["IsPastDue"] = false,
        };
        var input = new JsonArray(new JsonObject { ["name"] = timer.TriggerName, ["data"] = new JsonObject { ["json"] = info.ToJsonString() } });
        var result = await session.Invoke(Guid.NewGuid().ToString(), timer, input, new JsonObject()).WaitAsync(TimeSpan.FromMinutes(10), cancel);
        var ok = WorkerSession.Succeeded(result);
        session.Record(new InvocationRecord(timer.Name, "timerTrigger", null, null, null, ok ? "Succeeded" : "Failed", WorkerSession.Error(result), DateTimeOffset.UtcNow));
        if (!ok)
        {
            Console.WriteLine($"host: timer {timer.Name} failed: {WorkerSession.Error(result)}");
        }

        return ok;
    }

    public static string Describe(JsonElement e) => JsonSerializer.Serialize(e);
}
