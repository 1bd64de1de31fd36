using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Qarion.Core.Common;
using Qarion.Core.Ingestion;
using Qarion.Core.Persistence;

namespace Qarion.Core.Quality;

/// <summary>
/// The worker side of check execution: runs the check a <c>quality-checks</c> message names, records what a
/// message that exhausted its retries could not, and enqueues the checks that are due (the scheduler).
/// </summary>
public sealed class CheckExecutor(
    QarionDbContext db, ExecutionRecorder recorder, CheckRunner runner, CredentialProtector protector, CheckMessages queue,
    ILogger<CheckExecutor> log)
{
    private static readonly PostgresCheckDialect Dialect = new();

    /// <summary>How long a queued execution may wait before the scheduler sends its message again.</summary>
    public static readonly TimeSpan ResendAfter = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Runs the execution of <paramref name="message"/> unless it is complete already (a redelivery). Source
    /// failures, timeouts, missing credentials and configs that no longer compile are ERROR results; only
    /// failures of our own (the database, the queue) throw, so the queue retries them.
    /// </summary>
    public async Task HandleAsync(CheckQueueMessage message, long dequeueCount, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        // The hot path is three statements on Qarion's database before the source is queried: mark the pending
        // execution running (a completed or deleted one matches nothing: a redelivery), then load the check with its
        // connector in one query. Recording is one more transaction (ExecutionRecorder). Both statements are prepared
        // on the server once per pooled connection (PreparedQueries): a worker runs them for every check.
        var now = db.Clock.GetUtcNow();
        var attempts = (int)Math.Min(dequeueCount, int.MaxValue);
        var marked = await db.Database.ExecuteSqlRawAsync(
            PreparedQueries.Marker + """

            UPDATE check_executions SET status = {0}, started_at = {1}, attempts = {2}, updated_at = {1}
            WHERE id = {3} AND check_id = {4} AND completed_at IS NULL
            """,
            [SnakeCaseEnums.Name(ExecutionStatus.Running), now, attempts, message.ExecutionId, message.CheckId], ct);
        if (marked == 0)
        {
            log.LogInformation("Quality message for execution {ExecutionId}: no pending execution (complete already, or its check was deleted); ignored", message.ExecutionId);
            return;
        }
        var loaded = await (
                from c in db.QualityChecks.AsNoTracking()
                where c.Id == message.CheckId
                join k in db.Connectors.AsNoTracking() on c.ConnectorId equals (Guid?)k.Id into connectors
                from k in connectors.DefaultIfEmpty()
                select new { Check = c, Connector = k })
            .Prepared()
            .SingleAsync(ct);
        var result = await MeasureAsync(loaded.Check, loaded.Connector, message.ExecutionId, ct);
        await recorder.CompleteAsync(message.ExecutionId, result, ct);
    }

    /// <summary>
    /// A message moved to <c>quality-checks-poison</c>: its execution becomes ERROR (if nothing completed it
    /// meanwhile), so a run is never silently lost.
    /// </summary>
    public async Task HandlePoisonAsync(string? text, CancellationToken ct)
    {
        var message = CheckQueueMessage.TryParse(text);
        if (message is null)
        {
            log.LogError("Unreadable message in the quality poison queue dropped: {Text}", text is null ? "(null)" : text[..Math.Min(text.Length, 500)]);
            return;
        }
        var execution = await db.CheckExecutions.AsNoTracking()
            .Where(e => e.Id == message.ExecutionId).Select(e => new { e.Attempts }).SingleOrDefaultAsync(ct);
        if (execution is null) return;
        var completed = await recorder.CompleteAsync(message.ExecutionId, ExecutionResult.Error(
            $"The run failed {Math.Max(execution.Attempts, 1)} time(s) with an internal error and was given up (poison queue); run the check again."), ct);
        if (completed) log.LogWarning("Execution {ExecutionId} recorded as ERROR from the poison queue", message.ExecutionId);
    }

    /// <summary>
    /// Enqueues every due check once: the due rows are locked with <c>FOR UPDATE SKIP LOCKED</c>, each gets an
    /// execution whose idempotency key is the check and its due instant (unique), and its next run advances in
    /// the same transaction. Executions still queued after <see cref="ResendAfter"/> (a send that failed after
    /// the commit) get their message again. Returns how many checks were enqueued.
    /// </summary>
    public async Task<int> EnqueueDueAsync(CancellationToken ct)
    {
        var now = db.Clock.GetUtcNow();
        var messages = new List<CheckQueueMessage>();
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            var due = await db.QualityChecks
                .FromSql($"""
                    SELECT c.*, c.xmin FROM quality_checks c
                    WHERE is_active AND NOT is_archived AND next_run_at IS NOT NULL AND next_run_at <= {now}
                    ORDER BY next_run_at LIMIT 200 FOR UPDATE SKIP LOCKED
                    """)
                .ToListAsync(ct);
            foreach (var check in due)
            {
                var key = $"schedule:{check.NextRunAt!.Value.UtcDateTime:yyyyMMddTHHmmss}";
                check.NextRunAt = Schedules.Next(check.Schedule, now);
                if (CheckTypes.IsExternal(check.CheckType)) continue;
                var execution = NewExecution(check, ExecutionTrigger.Schedule, null, key);
                db.CheckExecutions.Add(execution);
                messages.Add(MessageFor(execution));
            }
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        foreach (var message in messages) await queue.SendAsync(message, ct);
        await ResendStuckAsync(now, ct);
        return messages.Count;
    }

    private async Task ResendStuckAsync(DateTimeOffset now, CancellationToken ct)
    {
        var cutoff = now - ResendAfter;
        var stuck = await db.CheckExecutions
            .Where(e => e.Status == ExecutionStatus.Queued && e.CreatedAt < cutoff && e.UpdatedAt < cutoff)
            .OrderBy(e => e.CreatedAt).Take(100).ToListAsync(ct);
        foreach (var execution in stuck)
        {
            // Touch first: a second scheduler instance skips it for another ResendAfter.
            var touched = await db.CheckExecutions
                .Where(e => e.Id == execution.Id && e.Status == ExecutionStatus.Queued && e.UpdatedAt == execution.UpdatedAt)
                .ExecuteUpdateAsync(s => s.SetProperty(e => e.UpdatedAt, now), ct);
            if (touched == 0) continue;
            log.LogWarning("Execution {ExecutionId} was still queued after {Minutes} min; its message is sent again", execution.Id, ResendAfter.TotalMinutes);
            await queue.SendAsync(MessageFor(execution), ct);
        }
    }

    public static CheckExecution NewExecution(QualityCheck check, ExecutionTrigger trigger, Guid? by, string idempotencyKey) => new()
    {
        SpaceId = check.SpaceId,
        CheckId = check.Id,
        Status = ExecutionStatus.Queued,
        Trigger = trigger,
        TriggeredById = by,
        IdempotencyKey = $"{check.Id:N}:{idempotencyKey}",
    };

    public static CheckQueueMessage MessageFor(CheckExecution execution)
        => new(execution.Id, execution.SpaceId, execution.CheckId, execution.IdempotencyKey);

    /// <summary>Compiles and runs the check against its connector's source; every failure the user can fix is an ERROR result.</summary>
    private async Task<ExecutionResult> MeasureAsync(QualityCheck check, Connector? connector, Guid executionId, CancellationToken ct)
    {
        CheckConfig config;
        try { config = CheckConfigJson.Read(check.Config); }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            return ExecutionResult.Error($"The check's stored config cannot be read: {ex.Message}");
        }
        if (CheckTypes.IsExternal(config.Type))
            return ExecutionResult.Error($"A {config.Type} check takes its results through POST …/checks/{{check}}/results; it cannot be run.");
        var anomaly = config as AnomalyConfig;
        var definition = anomaly is null
            ? new CheckDefinition(config, CheckConfigJson.ReadThreshold(check.WarningThreshold), CheckConfigJson.ReadThreshold(check.CriticalThreshold))
            : new CheckDefinition(anomaly.Metric);
        CompiledCheck compiled;
        try { compiled = Dialect.Compile(definition); }
        catch (CheckConfigException ex) { return ExecutionResult.Error($"The check's config is no longer valid ({ex.Key}): {ex.Message}"); }

        var source = SourceOf(connector, check.ConnectorId);
        if (source.Error is not null) return ExecutionResult.Error(source.Error, compiled.Sql);
        (Ingestion.Postgres.PostgresSourceConfig, Ingestion.Postgres.PostgresCredentials)? right = null;
        if (config is ReconciliationConfig { RightConnectorId: { } rightId } && rightId != check.ConnectorId)
        {
            var other = SourceOf(await db.Connectors.AsNoTracking().SingleOrDefaultAsync(k => k.Id == rightId, ct), rightId);
            if (other.Error is not null) return ExecutionResult.Error($"Right side: {other.Error}", compiled.Sql);
            right = (other.Config!, other.Credentials!);
        }
        var outcome = await runner.RunAsync(compiled, source.Config!, source.Credentials!, right, ct);
        var durationMs = (int)Math.Ceiling(outcome.Duration.TotalMilliseconds);
        var details = outcome.Rules.Count > 0 ? JsonSerializer.Serialize(new { rules = outcome.Rules }, JsonNames.SerializerOptions) : null;
        if (outcome.Status == CheckStatus.Error || anomaly is null)
            return new ExecutionResult(ToExecution(outcome.Status), outcome.Metric, outcome.Total, outcome.Sql, outcome.Message, details, durationMs);
        if (outcome.Metric is not { } metric)
            return ExecutionResult.Error("The anomaly's metric measured no value (NULL).", outcome.Sql, durationMs);
        var history = await db.CheckExecutions.AsNoTracking()
            .Where(e => e.CheckId == check.Id && e.Id != executionId && e.CompletedAt != null && !e.IsIgnored
                        && e.Metric != null && e.Status != ExecutionStatus.Error)
            .OrderByDescending(e => e.CompletedAt).Take(anomaly.Window)
            .Select(e => e.Metric!.Value).ToListAsync(ct);
        // An anomaly has no thresholds (its definition refuses them): the baseline is the judge.
        var verdict = Anomaly.Judge(metric, history, anomaly);
        var anomalyDetails = JsonSerializer.Serialize(new { verdict.Deviations, verdict.Baseline, Sensitivity = anomaly.Sensitivity }, JsonNames.SerializerOptions);
        return new ExecutionResult(ToExecution(verdict.Status), metric, outcome.Total, outcome.Sql, verdict.Message, anomalyDetails, durationMs);
    }

    private sealed record Source(Ingestion.Postgres.PostgresSourceConfig? Config, Ingestion.Postgres.PostgresCredentials? Credentials, string? Error);

    private Source SourceOf(Connector? connector, Guid? connectorId)
    {
        if (connectorId is null) return new Source(null, null, "The check has no connector to run through.");
        if (connector is null) return new Source(null, null, "The check's connector no longer exists.");
        if (connector.Platform != ConnectorPlatforms.PostgreSql)
            return new Source(null, null, $"Checks run on PostgreSQL connectors; '{connector.Name}' is {connector.Platform}.");
        try
        {
            return new Source(ConnectorConfigs.Postgres(connector.Config), ConnectorConfigs.PostgresCredentials(protector.Open(connector)), null);
        }
        catch (SourceException ex) { return new Source(null, null, ex.Message); }
    }

    public static ExecutionStatus ToExecution(CheckStatus status) => status switch
    {
        CheckStatus.Pass => ExecutionStatus.Pass,
        CheckStatus.Warning => ExecutionStatus.Warning,
        CheckStatus.Fail => ExecutionStatus.Fail,
        _ => ExecutionStatus.Error,
    };
}
