using Microsoft.EntityFrameworkCore;
using Qarion.Core.Outbox;
using Qarion.Core.Persistence;

namespace Qarion.Core.Quality;

/// <summary>What a run produced, ready to be recorded.</summary>
public sealed record ExecutionResult(
    ExecutionStatus Status, double? Metric, double? Total, string? Sql, string? Message, string? Details, int? DurationMs)
{
    public static ExecutionResult Error(string message, string? sql = null, int? durationMs = null)
        => new(ExecutionStatus.Error, null, null, sql, message, null, durationMs);
}

/// <summary>
/// Records an execution's result and everything that follows from it — the check's last status, the quality
/// scores of its products, alerts raised or resolved, outbox events — in ONE transaction, and only once: the
/// execution row is locked and a completed execution is left as it is, so a redelivered message, a retried
/// request or the poison handler racing a late success all end with a single result.
/// </summary>
public sealed class ExecutionRecorder(QarionDbContext db)
{
    /// <summary>Completes a pending execution; false when it was already complete (nothing changed).</summary>
    public async Task<bool> CompleteAsync(Guid executionId, ExecutionResult result, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Status is ExecutionStatus.Queued or ExecutionStatus.Running)
            throw new ArgumentException("A result must be PASS, WARNING, FAIL or ERROR", nameof(result));
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var locked = await LockAsync(
            $"SELECT c.*, c.xmin FROM quality_checks c WHERE c.id = (SELECT check_id FROM check_executions WHERE id = {executionId}) FOR UPDATE",
            executionId, ct);
        if (locked?.Execution is not { CompletedAt: null } execution) return false;
        var now = db.Clock.GetUtcNow();
        execution.Status = result.Status;
        execution.Metric = Finite(result.Metric);
        execution.Total = Finite(result.Total);
        execution.Sql = result.Sql;
        execution.Message = Clip(result.Message, 4000);
        execution.Details = result.Details;
        execution.DurationMs = result.DurationMs;
        execution.StartedAt ??= now;
        execution.CompletedAt = now;
        await ApplyAsync(locked with { Execution = execution }, ct);
        await tx.CommitAsync(ct);
        return true;
    }

    /// <summary>
    /// Adds an execution that is complete on arrival (a pushed or entered result) and applies it, in one
    /// transaction with the same effects as <see cref="CompleteAsync"/>.
    /// </summary>
    public async Task AddCompletedAsync(CheckExecution execution, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(execution);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var locked = await LockAsync($"SELECT c.*, c.xmin FROM quality_checks c WHERE c.id = {execution.CheckId} FOR UPDATE", Guid.Empty, ct)
                     ?? throw new InvalidOperationException($"Check {execution.CheckId} does not exist.");
        execution.Metric = Finite(execution.Metric);
        execution.Total = Finite(execution.Total);
        execution.StartedAt ??= db.Clock.GetUtcNow();
        execution.CompletedAt ??= execution.StartedAt;
        db.CheckExecutions.Add(execution);
        await ApplyAsync(locked with { Execution = execution }, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>
    /// After an execution is ignored or un-ignored: the check's last status becomes that of its latest
    /// non-ignored result, and its products' scores follow. Alerts are left as they are (a person decides).
    /// </summary>
    public async Task RefreshCheckAsync(Guid checkId, CancellationToken ct)
    {
        var check = await LockCheckAsync(checkId, ct);
        var latest = await db.CheckExecutions.AsNoTracking()
            .Where(e => e.CheckId == checkId && e.CompletedAt != null && !e.IsIgnored)
            .OrderByDescending(e => e.CompletedAt).ThenByDescending(e => e.Id)
            .Select(e => new { e.Status, e.CompletedAt })
            .FirstOrDefaultAsync(ct);
        check.LastStatus = latest?.Status;
        check.LastRunAt = latest?.CompletedAt;
        await db.SaveChangesAsync(ct);
        await RecomputeScoresAsync(await ProductsOfAsync(checkId, ct), ct);
    }

    /// <summary>Recomputes and stores the quality score of each product (see <see cref="QualityScore"/>).</summary>
    public async Task RecomputeScoresAsync(IReadOnlyCollection<Guid> productIds, CancellationToken ct)
    {
        if (productIds.Count == 0) return;
        var rows = await (
                from cp in db.CheckProducts.AsNoTracking()
                join c in db.QualityChecks.AsNoTracking() on cp.CheckId equals c.Id
                where productIds.Contains(cp.ProductId) && c.IsActive && !c.IsArchived && c.LastStatus != null
                select new { cp.ProductId, c.Severity, Status = c.LastStatus!.Value })
            .ToListAsync(ct);
        var products = await db.Products.AsNoTracking().Where(p => productIds.Contains(p.Id))
            .Select(p => new { p.Id, p.SpaceId }).ToListAsync(ct);
        var existing = await db.ProductQualityScores.Where(s => productIds.Contains(s.ProductId)).ToDictionaryAsync(s => s.ProductId, ct);
        var now = db.Clock.GetUtcNow();
        foreach (var product in products)
        {
            var result = QualityScore.Compute(rows.Where(r => r.ProductId == product.Id).Select(r => (r.Severity, r.Status)));
            if (!existing.TryGetValue(product.Id, out var score))
            {
                score = new ProductQualityScore { ProductId = product.Id, SpaceId = product.SpaceId, Health = result.Health };
                db.ProductQualityScores.Add(score);
            }
            score.Score = result.Score;
            score.Health = result.Health;
            score.Passing = result.Passing;
            score.Warning = result.Warning;
            score.Failing = result.Failing;
            score.Errored = result.Errored;
            score.ComputedAt = now;
        }
        await db.SaveChangesAsync(ct);
    }

    private async Task<QualityCheck> LockCheckAsync(Guid checkId, CancellationToken ct)
        => await db.QualityChecks.FromSql($"SELECT c.*, c.xmin FROM quality_checks c WHERE id = {checkId} FOR UPDATE").SingleAsync(ct);

    private async Task<List<Guid>> ProductsOfAsync(Guid checkId, CancellationToken ct)
        => await db.CheckProducts.AsNoTracking().Where(cp => cp.CheckId == checkId).OrderBy(cp => cp.Position).Select(cp => cp.ProductId).ToListAsync(ct);

    /// <summary>A locked check with what recording an execution of it reads (the execution when one was asked for).</summary>
    private sealed record LockedCheck(QualityCheck Check, CheckExecution? Execution, List<Guid> Products, List<QualityAlert> OpenAlerts);

    /// <summary>
    /// One round trip: <paramref name="lockSql"/> locks a check row (every completion of its executions takes this
    /// lock first, so they are serialized and a completed execution is seen as such), and the same statement loads
    /// execution <paramref name="executionId"/>, the check's products and its open alerts, all tracked.
    /// </summary>
    private async Task<LockedCheck?> LockAsync(FormattableString lockSql, Guid executionId, CancellationToken ct)
        => await db.QualityChecks.FromSql(lockSql)
            .Prepared()
            .Select(c => new LockedCheck(
                c,
                db.CheckExecutions.FirstOrDefault(e => e.Id == executionId),
                db.CheckProducts.Where(cp => cp.CheckId == c.Id).OrderBy(cp => cp.Position).Select(cp => cp.ProductId).ToList(),
                db.QualityAlerts.Where(a => a.CheckId == c.Id && a.Status != AlertStatus.Resolved).ToList()))
            .SingleOrDefaultAsync(ct);

    private async Task ApplyAsync(LockedCheck state, CancellationToken ct)
    {
        // The transaction is all or nothing (a failure rolls it back whole), so EF's savepoint around each
        // SaveChanges would only cost two more round trips.
        db.Database.AutoSavepointsEnabled = false;
        var (check, execution, products, openAlerts) = state;
        ArgumentNullException.ThrowIfNull(execution);
        var previous = check.LastStatus;
        check.LastStatus = execution.Status;
        check.LastRunAt = execution.CompletedAt;
        await ApplyAlertsAsync(check, execution, products, openAlerts, ct);
        var failing = IsFailure(execution.Status);
        var wasFailing = previous is { } p && IsFailure(p);
        if (failing && !wasFailing)
            db.AddOutboxEvent(check.SpaceId, OutboxEventTypes.CheckFailed, EventBody(check, execution, products));
        else if (!failing && wasFailing)
            db.AddOutboxEvent(check.SpaceId, OutboxEventTypes.CheckPassed, EventBody(check, execution, products));
        await db.SaveChangesAsync(ct);
        // A score is a function of its products' checks' last statuses (and severities): when this check's status
        // stays what it was, every score it feeds stays too, and recomputing would only rewrite the same values.
        if (previous != execution.Status) await RecomputeScoresAsync(products, ct);
    }

    /// <summary>
    /// FAIL or ERROR: raise an alert per product unless one is open (then count the occurrence). PASS or WARNING
    /// (the critical threshold holds again): resolve the open alerts automatically.
    /// </summary>
    private async Task ApplyAlertsAsync(
        QualityCheck check, CheckExecution execution, IReadOnlyList<Guid> products, List<QualityAlert> openAlerts, CancellationToken ct)
    {
        var open = openAlerts.ToDictionary(a => a.ProductId);
        var now = execution.CompletedAt!.Value;
        if (IsFailure(execution.Status))
        {
            var names = await db.Products.AsNoTracking().Where(p => products.Contains(p.Id))
                .ToDictionaryAsync(p => p.Id, p => p.Name, ct);
            foreach (var productId in products)
            {
                if (open.TryGetValue(productId, out var alert))
                {
                    alert.Occurrences++;
                    alert.LastExecutionId = execution.Id;
                    alert.LastSeenAt = now;
                    alert.Message = Clip(execution.Message, 4000) ?? alert.Message;
                    continue;
                }
                var verb = execution.Status == ExecutionStatus.Fail ? "failed" : "could not run";
                alert = new QualityAlert
                {
                    SpaceId = check.SpaceId,
                    CheckId = check.Id,
                    ProductId = productId,
                    Severity = check.Severity,
                    Title = Clip($"{check.Name} {verb} on {names.GetValueOrDefault(productId, "a product")}", 500)!,
                    Message = Clip(execution.Message, 4000),
                    RaisedStatus = execution.Status,
                    RaisedByExecutionId = execution.Id,
                    LastExecutionId = execution.Id,
                    RaisedAt = now,
                    LastSeenAt = now,
                };
                db.QualityAlerts.Add(alert);
                db.AddOutboxEvent(check.SpaceId, OutboxEventTypes.AlertRaised, new
                {
                    AlertId = alert.Id,
                    alert.Title,
                    Severity = alert.Severity,
                    Status = execution.Status,
                    CheckId = check.Id,
                    CheckName = check.Name,
                    CheckType = check.CheckType,
                    ProductId = productId,
                    ExecutionId = execution.Id,
                    execution.Metric,
                    execution.Message,
                    RaisedAt = now,
                });
            }
        }
        else
        {
            foreach (var alert in open.Values)
            {
                alert.Status = AlertStatus.Resolved;
                alert.ResolvedAt = now;
                alert.AutoResolved = true;
                alert.LastExecutionId = execution.Id;
                alert.ResolutionNote = $"Resolved automatically: the check returned {execution.Status.ToString().ToUpperInvariant()}.";
                // The same payload as a resolution by a person (AlertService), so consumers read one shape.
                db.AddOutboxEvent(check.SpaceId, OutboxEventTypes.AlertResolved, new AlertResolvedPayload(
                    alert.Id, alert.SpaceId, alert.CheckId, alert.ProductId, alert.Severity, alert.Title, true, null, alert.ResolutionNote, alert.IssueId, now));
            }
        }
    }

    private static object EventBody(QualityCheck check, CheckExecution execution, IReadOnlyList<Guid> products) => new
    {
        CheckId = check.Id,
        CheckName = check.Name,
        CheckSlug = check.Slug,
        CheckType = check.CheckType,
        Severity = check.Severity,
        ExecutionId = execution.Id,
        Status = execution.Status,
        execution.Metric,
        execution.Message,
        ProductIds = products,
        CompletedAt = execution.CompletedAt,
    };

    public static bool IsFailure(ExecutionStatus status) => status is ExecutionStatus.Fail or ExecutionStatus.Error;

    /// <summary>PostgreSQL stores NaN and infinities in double precision, but JSON cannot carry them: keep them out.</summary>
    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;

    private static string? Clip(string? text, int max) => text is null || text.Length <= max ? text : text[..(max - 1)] + "…";
}
