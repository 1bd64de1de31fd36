using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Qarion.Core.Common;
using Qarion.Core.Outbox;
using Qarion.Core.Persistence;
using Qarion.Core.Quality;

namespace Qarion.Core.Contracts;

/// <summary>The outcome of evaluating one contract.</summary>
/// <param name="Expired">True when the evaluation found the contract past its expiry and expired it instead.</param>
public sealed record ContractEvaluationOutcome(Guid ContractId, bool Expired, SlaEvaluation? Evaluation, int EventsWritten);

/// <summary>
/// Loads what a contract's terms are measured on, applies <see cref="SlaEvaluator"/>, and writes the result, the
/// violations and the <c>contract.violated</c> events — one contract per transaction, its row locked meanwhile.
/// </summary>
public sealed class ContractSlaService(QarionDbContext db, TimeProvider clock, ILogger<ContractSlaService> log)
{
    public const int BatchSize = 50;

    /// <summary>
    /// The timer's work: every active contract not yet evaluated in this run (and every active or deprecated one
    /// past its expiry), in batches, each in its own transaction. Rows are claimed with <c>FOR UPDATE SKIP LOCKED</c>
    /// and re-checked under the lock, so concurrent runs never evaluate the same contract twice.
    /// </summary>
    public async Task<int> EvaluateDueAsync(CancellationToken ct)
    {
        var runStart = clock.GetUtcNow();
        var seen = new List<Guid>();
        var evaluated = 0;
        while (true)
        {
            var batch = await db.DataContracts.AsNoTracking()
                .Where(c => (c.Status == ContractStatus.Active && (c.LastEvaluatedAt == null || c.LastEvaluatedAt < runStart))
                            || ((c.Status == ContractStatus.Active || c.Status == ContractStatus.Deprecated) && c.ExpiresAt != null && c.ExpiresAt <= runStart))
                .Where(c => !seen.Contains(c.Id))
                // Never evaluated first, then the longest waiting.
                .OrderBy(c => c.LastEvaluatedAt != null).ThenBy(c => c.LastEvaluatedAt).ThenBy(c => c.Id)
                .Select(c => c.Id).Take(BatchSize).ToListAsync(ct);
            if (batch.Count == 0) break;
            foreach (var id in batch)
            {
                seen.Add(id);
                try
                {
                    if (await EvaluateAsync(id, runStart, ct) is not null) evaluated++;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // One contract's failure must not stop the others; the next run retries it.
                    log.LogError(ex, "Evaluating contract {ContractId} failed", id);
                    db.ChangeTracker.Clear();
                }
            }
        }
        return evaluated;
    }

    /// <summary>
    /// Evaluates one contract now. With <paramref name="dueBefore"/> (the timer) a contract locked by someone else
    /// or already evaluated since then is skipped (null); without it (the API) the call waits for the lock.
    /// Returns null when there was nothing to do (not active, or skipped).
    /// </summary>
    public async Task<ContractEvaluationOutcome?> EvaluateAsync(Guid id, DateTimeOffset? dueBefore, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var rows = dueBefore is { } due
            ? await db.DataContracts.FromSql($"""
                SELECT c.*, c.xmin FROM data_contracts c
                WHERE c.id = {id}
                  AND ((c.status = 'active' AND (c.last_evaluated_at IS NULL OR c.last_evaluated_at < {due}))
                       OR (c.status IN ('active', 'deprecated') AND c.expires_at <= {due}))
                FOR UPDATE SKIP LOCKED
                """).ToListAsync(ct)
            : await db.DataContracts.FromSql($"SELECT c.*, c.xmin FROM data_contracts c WHERE c.id = {id} FOR UPDATE").ToListAsync(ct);
        if (rows.Count == 0) return null;
        var contract = rows[0];
        var now = clock.GetUtcNow();
        var open = await db.ContractViolations.Where(v => v.ContractId == id && v.ResolvedAt == null).ToListAsync(ct);

        if (contract.Status is ContractStatus.Active or ContractStatus.Deprecated && contract.ExpiresAt <= now)
        {
            contract.Status = ContractStatus.Expired;
            foreach (var v in open) v.ResolvedAt = now;
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            db.ChangeTracker.Clear();
            return new ContractEvaluationOutcome(id, true, null, 0);
        }
        if (contract.Status != ContractStatus.Active) return null;

        var terms = new SlaTerms(contract.FreshnessHours, contract.MinQualityScore, contract.AvailabilityPercent, contract.WindowDays);
        var evaluation = SlaEvaluator.Evaluate(terms, await LoadInputsAsync(contract, terms, now, ct), now);
        var inForce = contract.EffectiveFrom is null || contract.EffectiveFrom <= now;
        var events = 0;
        IReadOnlyList<Guid>? consumers = null;
        foreach (var name in ContractTerms.All)
        {
            var result = evaluation.Terms.FirstOrDefault(t => t.Term == name);
            var existing = open.FirstOrDefault(v => v.Term == name);
            var decision = SlaEvaluator.Decide(result, existing?.Severity, inForce);
            switch (decision.Action)
            {
                case ViolationAction.Open:
                    existing = new ContractViolation
                    {
                        ContractId = id, SpaceId = contract.SpaceId, Term = name, Severity = result!.Status,
                        Expected = result.Expected, Actual = result.Actual, Message = result.Message, OccurredAt = now,
                    };
                    db.ContractViolations.Add(existing);
                    break;
                case ViolationAction.Update or ViolationAction.Escalate:
                    existing!.Severity = result!.Status;
                    existing.Expected = result.Expected;
                    existing.Actual = result.Actual;
                    existing.Message = result.Message;
                    break;
                case ViolationAction.Close:
                    existing!.ResolvedAt = now;
                    break;
            }
            if (decision.EmitViolated)
            {
                consumers ??= await db.ContractConsumers.AsNoTracking().Where(c => c.ContractId == id).OrderBy(c => c.ProductId).Select(c => c.ProductId).ToListAsync(ct);
                db.AddOutboxEvent(contract.SpaceId, OutboxEventTypes.ContractViolated, new ContractViolatedEvent(
                    id, contract.Name, contract.Slug, contract.SpaceId, contract.ProducerProductId, consumers, existing!.Id,
                    name, result!.Expected, result.Actual, result.Status, result.Message, now));
                events++;
            }
        }
        await db.SaveChangesAsync(ct);
        // The evaluation's own columns are written below the change tracker: they change every few minutes and
        // are not an edit of the contract, so they stay out of the audit log and leave updated_at alone.
        var details = JsonSerializer.Serialize(evaluation.Terms, JsonNames.SerializerOptions);
        await db.DataContracts.Where(c => c.Id == id).ExecuteUpdateAsync(s => s
            .SetProperty(c => c.SlaStatus, evaluation.Overall)
            .SetProperty(c => c.SlaDetails, details)
            .SetProperty(c => c.LastEvaluatedAt, now), ct);
        await tx.CommitAsync(ct);
        db.ChangeTracker.Clear();
        return new ContractEvaluationOutcome(id, false, evaluation, events);
    }

    private async Task<SlaInputs> LoadInputsAsync(DataContract contract, SlaTerms terms, DateTimeOffset now, CancellationToken ct)
    {
        var producer = contract.ProducerProductId;
        // The producer's checks: those covering it (at any position), not archived.
        var checks = db.CheckProducts.Where(cp => cp.ProductId == producer)
            .Join(db.QualityChecks.Where(q => !q.IsArchived), cp => cp.CheckId, q => q.Id, (cp, q) => q);

        FreshnessObservation? freshness = null;
        if (terms.FreshnessHours is not null)
        {
            var freshnessChecks = checks.Where(q => q.CheckType == CheckTypes.Freshness).Select(q => q.Id);
            var latest = await db.CheckExecutions.AsNoTracking()
                .Where(e => freshnessChecks.Contains(e.CheckId) && !e.IsIgnored && e.CompletedAt != null && e.Metric != null
                            && (e.Status == ExecutionStatus.Pass || e.Status == ExecutionStatus.Warning || e.Status == ExecutionStatus.Fail))
                .OrderByDescending(e => e.CompletedAt).ThenByDescending(e => e.Id)
                .Select(e => new { CompletedAt = e.CompletedAt!.Value, Metric = e.Metric!.Value })
                .FirstOrDefaultAsync(ct);
            if (latest is not null) freshness = new FreshnessObservation(latest.CompletedAt, latest.Metric);
        }

        double? score = null;
        if (terms.MinQualityScore is not null)
            score = await db.ProductQualityScores.AsNoTracking().Where(s => s.ProductId == producer).Select(s => s.Score).FirstOrDefaultAsync(ct);

        int runs = 0, good = 0;
        if (terms.AvailabilityPercent is not null)
        {
            var since = now.AddDays(-terms.WindowDays);
            var checkIds = checks.Select(q => q.Id);
            var counts = await db.CheckExecutions.AsNoTracking()
                .Where(e => checkIds.Contains(e.CheckId) && !e.IsIgnored && e.CompletedAt != null && e.CompletedAt > since && e.CompletedAt <= now
                            && (e.Status == ExecutionStatus.Pass || e.Status == ExecutionStatus.Warning
                                || e.Status == ExecutionStatus.Fail || e.Status == ExecutionStatus.Error))
                .GroupBy(e => e.Status).Select(g => new { Status = g.Key, Count = g.Count() })
                .ToListAsync(ct);
            runs = counts.Sum(c => c.Count);
            good = counts.Where(c => c.Status is ExecutionStatus.Pass or ExecutionStatus.Warning).Sum(c => c.Count);
        }
        return new SlaInputs(freshness, score, runs, good);
    }
}
